// Browser end-to-end test of the order panel and search (issue 8 points 3 and 5) against the
// real server, `kefu serve --demo` (KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS,
// CHROMIUM_PATH: see e2e/harness.mjs). The demo buyer signs in as 张三 and sends the order card
// of 2026111100123 from 我的订单; xiaowang opens the conversation: the panel shows that order
// linked, on top, and the chat's bar names it; xiaowang links 2026110800042 with one click, sees
// it marked, unlinks it, and GET /conversations/{id}/orders agrees each time; hovering a status
// shows its history; a second card arriving in the open chat links live; searching
// 2026111100123 finds the conversation and opens it; the owner saves the order's dispute export
// from the panel (导出证据) and the saved page verifies.
import { readFile } from 'node:fs/promises';
import { STORE_URL, W, C, check, step, newPage, shot, run, login, restOK, recordWidgetEvents, storedRow, openWidget } from './harness.mjs';

const CARD_ORDER = '2026111100123';
const OTHER = '2026110800042';
const mine = `${W.message}[data-sender=buyer]`;
const item = (no) => `[data-testid=order-item][data-order-no="${no}"]`;

async function linkedNos(page, convId) {
  const r = await restOK(page, 'GET', `/api/v1/conversations/${convId}/orders`);
  return (r.orders || []).map((o) => o.order_no);
}

async function scenario(browser, pages) {
  const buyer = await newPage(browser, pages, 'buyer', recordWidgetEvents);
  let convId;

  await step('张三 sends the order card of 2026111100123 from 我的订单', async () => {
    await buyer.goto(STORE_URL);
    await buyer.locator('#login').click();
    await buyer.locator('#who', { hasText: '张三' }).waitFor();
    await openWidget(buyer);
    await buyer.locator('[data-testid=kefu-orders-button]').click();
    await buyer.locator(`[data-testid=kefu-order-option][data-order-no="${CARD_ORDER}"]`).click();
    await storedRow(buyer, mine, CARD_ORDER).waitFor();
    const events = await buyer.evaluate(() => window.__kefuEvents || []);
    const ev = events.find((e) => e.conversation_id && (e.text || '').includes(CARD_ORDER));
    check(ev, `the widget emitted no 'message' event for the card (events: ${JSON.stringify(events)})`);
    convId = ev.conversation_id;
  });

  const wang = await newPage(browser, pages, 'xiaowang');
  await step('xiaowang opens the conversation: 2026111100123 is linked, on top, and named over the chat', async () => {
    await login(wang, 'xiaowang');
    const row = wang.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
    await row.waitFor();
    await row.click();
    const first = wang.locator('[data-testid=order-item]').first();
    await wang.locator(`${item(CARD_ORDER)}[data-linked=true]`).waitFor();
    check(await first.getAttribute('data-order-no') === CARD_ORDER, `the first order of the panel is ${await first.getAttribute('data-order-no')}`);
    const tag = await wang.locator(`${item(CARD_ORDER)} [data-testid=order-linked]`).textContent();
    check(tag === '本会话关联', `the linked order's tag says ${JSON.stringify(tag)}`);
    const text = await wang.locator(item(CARD_ORDER)).textContent();
    for (const want of ['已发货', '¥299.00', '加厚羽绒服 黑色 L', '×1', 'SF1234567890123']) check(text.includes(want), `the order says ${JSON.stringify(text)}, without ${want}`);
    const bar = wang.locator('[data-testid=chat-linked-orders]');
    await bar.filter({ hasText: CARD_ORDER }).waitFor();
    check(await wang.locator(`${item(OTHER)}[data-linked=false]`).count() === 1, `${OTHER} is not shown unlinked`);
    check(JSON.stringify(await linkedNos(wang, convId)) === JSON.stringify([CARD_ORDER]), 'the API does not list the card\'s order alone as linked');
  });

  await step('hovering an order\'s status shows its history in local time', async () => {
    const r = await restOK(wang, 'GET', `/api/v1/conversations/${convId}/orders`);
    const hist = (r.orders[0] && r.orders[0].history) || [];
    const status = wang.locator(`${item(CARD_ORDER)} [data-testid=order-status]`);
    await status.hover();
    const title = await status.getAttribute('title');
    check(title && title.startsWith('状态记录\n'), `the status's title is ${JSON.stringify(title)}`);
    const lines = title.split('\n').slice(1);
    if (hist.length) {
      check(lines.length === hist.filter((e) => e.status).length, `the title lists ${lines.length} changes, the API ${hist.length}`);
      check(lines.every((l) => /· \d{4}-\d\d-\d\d \d\d:\d\d$/.test(l)), `the history lines are ${JSON.stringify(lines)}`);
      check(lines.some((l) => l.startsWith('已发货')), `no 已发货 in ${JSON.stringify(lines)}`);
    } else {
      check(lines[0] === '暂无状态记录', `the title of an order without history is ${JSON.stringify(title)}`);
    }
  });

  await step('xiaowang links 2026110800042 with one click; it is marked and the API agrees', async () => {
    const btn = wang.locator(`${item(OTHER)} [data-testid=order-link-toggle]`);
    check(await btn.textContent() === '关联', `the button says ${JSON.stringify(await btn.textContent())}`);
    await btn.click();
    await wang.locator(`${item(OTHER)}[data-linked=true]`).waitFor();
    await wang.locator('[data-testid=chat-linked-orders]').filter({ hasText: OTHER }).waitFor();
    check(await wang.locator(`${item(OTHER)} [data-testid=order-link-toggle]`).textContent() === '取消关联', 'a linked order offers no 取消关联');
    const nos = await linkedNos(wang, convId);
    check(nos.length === 2 && nos.includes(OTHER) && nos.includes(CARD_ORDER), `the API lists ${JSON.stringify(nos)} as linked`);
    await shot(wang, 'order-panel-linked.png');
  });

  await step('xiaowang unlinks it; it is unmarked and the API agrees', async () => {
    await wang.locator(`${item(OTHER)} [data-testid=order-link-toggle]`).click();
    await wang.locator(`${item(OTHER)}[data-linked=false]`).waitFor();
    await wang.waitForFunction((no) => !document.querySelector('[data-testid=chat-linked-orders]').textContent.includes(no), OTHER);
    check(JSON.stringify(await linkedNos(wang, convId)) === JSON.stringify([CARD_ORDER]), 'the API still lists the unlinked order');
    check(await wang.locator('[data-testid=order-link-error]').count() === 0, 'the panel shows a link error');
  });

  await step('an order card arriving in the open chat links its order in the panel, no reload', async () => {
    await buyer.locator('[data-testid=kefu-orders-button]').click();
    await buyer.locator(`[data-testid=kefu-order-option][data-order-no="${OTHER}"]`).click();
    await storedRow(buyer, mine, OTHER).waitFor();
    await wang.locator(`${item(OTHER)}[data-linked=true]`).waitFor();
    await wang.locator('[data-testid=chat-linked-orders]').filter({ hasText: OTHER }).waitFor();
    const nos = await linkedNos(wang, convId);
    check(nos.length === 2 && nos[0] === OTHER, `the API lists ${JSON.stringify(nos)} as linked, newest first`);
    check(await wang.locator('[data-testid=order-item]').first().getAttribute('data-order-no') === OTHER, 'the newest link is not on top');
  });

  await step('searching 2026111100123 finds the conversation, with the number marked; Esc brings the list back', async () => {
    await wang.locator('[data-testid=search-input]').fill(CARD_ORDER);
    const hit = wang.locator(`[data-testid=search-result][data-conversation-id="${convId}"]`);
    await hit.waitFor();
    const mark = await hit.locator('[data-testid=search-snippet] mark').first().textContent();
    check(mark === CARD_ORDER, `the snippet marks ${JSON.stringify(mark)}`);
    check(await wang.locator('[data-testid=conv-list]').isHidden(), 'the list stays beside the results');
    await shot(wang, 'order-panel-search.png');
    await hit.click();
    await wang.locator(`${item(CARD_ORDER)}[data-linked=true]`).waitFor();
    await wang.locator('[data-testid=search-input]').press('Escape');
    await wang.locator('[data-testid=conv-list]').waitFor({ state: 'visible' });
    check(await wang.locator('[data-testid=search-results]').isHidden(), 'the results stay after Esc');
    check(await wang.locator('[data-testid=order-export]').count() === 0, 'a plain agent is offered 导出证据');
  });

  const owner = await newPage(browser, pages, 'owner');
  await step('the owner saves the dispute export of 2026111100123 from the panel, and it verifies', async () => {
    await login(owner, 'owner');
    await owner.locator('[data-testid=search-input]').fill(CARD_ORDER);
    await owner.locator(`[data-testid=search-result][data-conversation-id="${convId}"]`).click();
    const [download] = await Promise.all([
      owner.waitForEvent('download'),
      owner.locator(`${item(CARD_ORDER)} [data-testid=order-export]`).click(),
    ]);
    check(download.suggestedFilename() === `kefu-order-${CARD_ORDER}.html`, `the file is named ${download.suggestedFilename()}`);
    const page = await readFile(await download.path(), 'utf8');
    check(!/<script/i.test(page), 'the export page holds a script');
    check(page.includes(`[订单] ${CARD_ORDER}`) && page.includes('订单纠纷证据'), 'the export page lacks the card or its title');
    const r = await owner.evaluate(async (body) => {
      const s = JSON.parse(localStorage.getItem('kefu:agent:session') || 'null');
      const res = await fetch('/api/v1/exports/verify', { method: 'POST', body,
        headers: { Authorization: 'Bearer ' + (s && s.token), 'Content-Type': 'text/html' } });
      return { status: res.status, body: await res.json() };
    }, page);
    check(r.status === 200 && r.body.ok === true && r.body.conversations.some((c) => c.id === convId),
      `verifying the saved page: ${r.status} ${JSON.stringify(r.body)}`);
  });
}

run('the order panel: linked orders, link and unlink, history, search by order number', scenario);
