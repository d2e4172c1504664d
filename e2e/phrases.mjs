// Browser end-to-end test of the console's quick-phrase picker: `/hi` finds the greeting, Enter
// puts it in the message box with {buyer.name} and {agent.name} filled, the buyer receives it;
// `/kd` then 1 inserts the tracking phrase whose {order.no} nobody can fill yet, and sending it is
// refused in the console. Driven by cmd/kefu/browser_phrases_test.go against `kefu serve --demo`
// (KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH: see e2e/harness.mjs).
import {
  STORE_URL, RUN, WAIT_MS, W, C, check, step, newPage, shot, run, login, restOK, recordWidgetEvents, storedRow,
  openWidget, widgetSend, conversationOf,
} from './harness.mjs';

const BUYER_TEXT = `这件衣服什么时候发货？ buyer-${RUN}`;

const P = {
  picker: '[data-testid=phrase-picker]',
  option: '[data-testid=phrase-option]',
  error: '[data-testid=composer-error]',
};

// usesOf answers the uses count of the phrase with shortcut, as the console's agent sees it.
async function usesOf(page, shortcut) {
  const { phrases } = await restOK(page, 'GET', '/api/v1/phrases');
  const p = phrases.find((x) => x.shortcut === shortcut);
  check(p, `GET /api/v1/phrases has no phrase /${shortcut}`);
  return p.uses;
}

async function scenario(browser, pages) {
  const store = await newPage(browser, pages, 'store', recordWidgetEvents);
  const wang = await newPage(browser, pages, 'xiaowang');

  await step('xiaowang signs in', () => login(wang, 'xiaowang'));
  const hiUses = await usesOf(wang, 'hi');

  let convId;
  await step('a buyer writes on the store page', async () => {
    await store.goto(STORE_URL);
    await openWidget(store);
    await widgetSend(store, BUYER_TEXT);
    convId = await conversationOf(store, BUYER_TEXT);
    console.log(`  conversation ${convId}`);
  });

  let buyerName;
  await step('xiaowang opens the conversation', async () => {
    const row = wang.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
    await row.waitFor();
    await row.click();
    await storedRow(wang, `${C.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
    buyerName = (await wang.locator('#chat-title').textContent()).trim();
    check(buyerName, 'the chat title names no buyer');
  });

  const input = wang.locator(C.input);
  const picker = wang.locator(P.picker);
  const greeting = `${buyerName} 您好，我是客服 小王，很高兴为您服务～`;
  await step('/hi opens the picker with the 通用 greeting; Enter inserts it, variables filled', async () => {
    await input.click();
    await input.pressSequentially('/hi');
    await picker.waitFor({ state: 'visible' });
    const first = picker.locator(P.option).first();
    await first.locator('.phrase-category', { hasText: '通用' }).waitFor();
    check(await first.getAttribute('data-shortcut') === 'hi', `the first phrase of /hi is /${await first.getAttribute('data-shortcut')}`);
    check(await picker.getAttribute('role') === 'listbox', 'the picker is not a listbox');
    const active = await input.getAttribute('aria-activedescendant');
    check(active && active === await first.getAttribute('id'), `the box's aria-activedescendant is ${active}, not the first phrase`);
    await shot(wang, 'phrases-picker.png');
    await input.press('Enter');
    await picker.waitFor({ state: 'hidden' });
    const value = await input.inputValue();
    check(value === greeting, `the box holds ${JSON.stringify(value)}, want ${JSON.stringify(greeting)}`);
    check(await input.evaluate((el) => el === document.activeElement), 'the message box lost the focus');
  });

  await step('xiaowang sends it; the buyer receives it', async () => {
    await wang.locator(C.send).click();
    await storedRow(wang, `${C.message}[data-sender=agent]`, greeting).waitFor();
    await storedRow(store, `${W.message}[data-sender=agent]`, greeting).waitFor();
  });

  await step('/kd then 1 inserts the tracking phrase; its {order.no} stops the send', async () => {
    await input.pressSequentially('/kd');
    await picker.locator(P.option).first().locator('.phrase-category', { hasText: '物流' }).waitFor();
    await input.press('1');
    await picker.waitFor({ state: 'hidden' });
    const value = await input.inputValue();
    check(value.startsWith('亲，您的订单 {order.no} 已发货'), `the box holds ${JSON.stringify(value)}`);
    const before = await store.locator(`${W.message}[data-sender=agent]`).count();
    await wang.locator(C.send).click();
    await wang.locator(P.error, { hasText: '请先补全：{order.no} {order.tracking_no}' }).waitFor();
    check(await input.inputValue() === value, 'the refused text left the box');
    check(await wang.locator(C.send).isEnabled(), 'the send button is disabled');
    check(await storedRow(wang, `${C.message}[data-sender=agent]`, '{order.no}').count() === 0, 'the console shows a message with {order.no}');
    const agentMsgs = await restOK(wang, 'GET', `/api/v1/conversations/${convId}/messages`);
    const sent = (agentMsgs.messages || []).filter((m) => m.text && m.text.includes('{order.no}'));
    check(sent.length === 0, `the server stored ${JSON.stringify(sent)}`);
    check(await store.locator(`${W.message}[data-sender=agent]`).count() === before, 'the buyer got a new message');
  });

  await step('Escape closes the picker and keeps what was typed; arrows move the selection', async () => {
    await input.fill('');
    await input.pressSequentially('亲 /物流');
    await picker.locator(P.option).nth(1).waitFor();
    await input.press('Escape');
    await picker.waitFor({ state: 'hidden' });
    check(await input.inputValue() === '亲 /物流', `Escape left ${JSON.stringify(await input.inputValue())}`);
    await input.pressSequentially('x');
    check(await picker.isHidden(), 'typing on after Escape reopened the picker');
    await input.fill('');
    await input.pressSequentially('/物流');
    const second = picker.locator(P.option).nth(1);
    await second.waitFor();
    const want = await second.locator('.phrase-preview').textContent();
    await input.press('ArrowDown');
    await wang.locator('[data-testid=phrase-option][aria-selected=true]').nth(0).filter({ hasText: want }).waitFor();
    check(await input.getAttribute('aria-activedescendant') === await second.getAttribute('id'), 'aria-activedescendant did not follow the arrow');
    await input.press('Tab');
    await picker.waitFor({ state: 'hidden' });
    check(await input.inputValue() === want, `Tab inserted ${JSON.stringify(await input.inputValue())}, want ${JSON.stringify(want)}`);
    await input.fill('');
  });

  await step("the greeting's use was counted", async () => {
    // The use is told fire and forget: wait for the count to show over REST.
    await wang.waitForFunction(async (want) => {
      const s = JSON.parse(localStorage.getItem('kefu:agent:session') || 'null');
      const res = await fetch('/api/v1/phrases', { headers: { Authorization: 'Bearer ' + (s && s.token) } });
      const hi = ((await res.json()).phrases || []).find((p) => p.shortcut === 'hi');
      return hi && hi.uses >= want;
    }, hiUses + 1, { polling: 100, timeout: WAIT_MS });
    const uses = await usesOf(wang, 'hi');
    check(uses === hiUses + 1, `/hi was used ${uses} times, want ${hiUses + 1}`);
  });
}

run('quick phrases in the console', scenario);
