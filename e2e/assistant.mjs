// Browser end-to-end test of the demo shop's assistant (docs/autoreply.md) against the real
// server, `kefu serve --demo` (KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH: see
// e2e/harness.mjs). A signed-in buyer opens the widget: the assistant greets with the shop's quick
// questions; tapping 什么时候发货？ gets the keyword answer, stored as a bot message after the
// stored welcome; 查快递单号 is answered with the buyer's own order and tracking number. Then
// xiaowang signs in, is given the waiting conversation, types /kd, finds {order.no} and
// {order.tracking_no} filled from the buyer's order, edits and sends; the widget shows it.
import { STORE_URL, RUN, W, C, check, step, newPage, shot, run, login, restOK, recordWidgetEvents, storedRow, openWidget } from './harness.mjs';

const ORDER = '2026111100123';
const TRACKING = 'SF1234567890123';
const bot = `${W.message}[data-sender=bot]`;

async function scenario(browser, pages) {
  const buyer = await newPage(browser, pages, 'buyer', recordWidgetEvents);

  await step('a signed-in buyer opens the widget: the assistant greets with quick questions', async () => {
    await buyer.goto(STORE_URL);
    await buyer.locator(W.bubble).waitFor({ state: 'visible' });
    await buyer.locator('#login').click();
    await buyer.locator('#who', { hasText: '张三' }).waitFor();
    await openWidget(buyer);
    const welcome = buyer.locator('[data-testid=kefu-welcome]');
    await welcome.waitFor({ state: 'visible' });
    check((await welcome.textContent()).includes('欢迎光临小铺 Demo 旗舰店'), `the welcome says ${JSON.stringify(await welcome.textContent())}`);
    const who = buyer.locator('[data-testid=kefu-header-who]');
    check(await who.getAttribute('data-who') === 'assistant', `the header names ${await who.getAttribute('data-who')}, want the assistant`);
    check((await who.textContent()).includes('小蜜'), 'the header does not name 小蜜');
    check(await buyer.locator('[data-testid=kefu-quick-question]').count() >= 6, 'fewer than six quick questions');
    await shot(buyer, 'assistant-welcome.png');
  });

  await step('tapping 什么时候发货？ gets the keyword answer, stored after the welcome', async () => {
    await buyer.locator('[data-testid=kefu-quick-question]', { hasText: '什么时候发货？' }).click();
    await storedRow(buyer, `${W.message}[data-sender=buyer]`, '什么时候发货？').waitFor();
    await storedRow(buyer, bot, '48 小时内发货').waitFor();
    const events = await buyer.evaluate(() => window.__kefuEvents || []);
    const mine = events.find((e) => e.text === '什么时候发货？');
    check(mine && mine.seq === 2, `the buyer's first message has seq ${mine && mine.seq}, want 2 (after the stored welcome)`);
  });

  await step('查快递单号 is answered with the buyer\'s own order and tracking number', async () => {
    await buyer.locator('[data-testid=kefu-quick-reply]', { hasText: '查快递单号' }).click();
    const answer = storedRow(buyer, bot, TRACKING);
    await answer.waitFor();
    const text = await answer.textContent();
    check(text.includes(ORDER) && text.includes('已发货'), `the tracking answer is ${JSON.stringify(text)}`);
    await shot(buyer, 'assistant-answers.png');
  });

  const wang = await newPage(browser, pages, 'xiaowang');
  let convId;
  await step('xiaowang signs in and is given the waiting conversation, with the bot\'s answers in it', async () => {
    const events = await buyer.evaluate(() => window.__kefuEvents || []);
    convId = events.find((e) => e.text === '什么时候发货？').conversation_id;
    await login(wang, 'xiaowang');
    const row = wang.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
    await row.waitFor();
    await row.click();
    await storedRow(wang, `${C.message}`, '48 小时内发货').waitFor();
    const { messages } = await restOK(wang, 'GET', `/api/v1/conversations/${convId}/messages`);
    check(messages[0].sender === 'bot' && messages[0].code === 'welcome' && messages[0].seq === 1, `the transcript starts ${JSON.stringify(messages[0])}`);
    const keyword = messages.find((m) => m.code === 'keyword' && m.text.includes(TRACKING));
    check(keyword && keyword.rule_id > 0, `no keyword answer with its rule in ${JSON.stringify(messages)}`);
    await wang.locator('[data-testid=order-item]', { hasText: ORDER }).waitFor();
  });

  await step('/kd fills {order.no} and {order.tracking_no} from the buyer\'s order; edited, it reaches the buyer', async () => {
    const input = wang.locator(C.input);
    await input.click();
    await input.pressSequentially('/kd');
    // Enter takes the highlighted phrase: wait until the list has loaded and /kd is the one.
    await wang.locator('[data-testid=phrase-option][aria-selected=true][data-shortcut=kd]').waitFor();
    await input.press('Enter');
    const value = await input.inputValue();
    check(value.includes(ORDER) && value.includes(TRACKING) && !value.includes('{order.'), `the box holds ${JSON.stringify(value)}`);
    const sent = `${value} 有问题随时找我 ${RUN}`;
    await input.fill(sent);
    await wang.locator(C.send).click();
    await storedRow(wang, `${C.message}[data-sender=agent]`, RUN).waitFor();
    await storedRow(buyer, `${W.message}[data-sender=agent]`, RUN).waitFor();
    const who = buyer.locator('[data-testid=kefu-header-who]');
    check(await who.getAttribute('data-who') === 'agent' && (await who.textContent()).includes('小王'), 'the widget header does not name 小王');
    await shot(buyer, 'assistant-agent.png');
  });
}

run('the shop assistant in the widget and the console', scenario);
