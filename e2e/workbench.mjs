// Browser end-to-end test of the console's workbench: two agents hand a conversation over
// (transfer with a note, invite, leave), close it with a confirmation and find it in the
// history. Driven by cmd/kefu/browser_workbench_test.go against a real `kefu serve --demo`.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//
// Every wait is Playwright's own (locator.waitFor, waitForFunction) with a timeout; nothing
// sleeps. The first failure prints "FAIL: <step>: <why>", saves a screenshot of every open page
// as failure-*.png and exits 1 (e2e/harness.mjs).
import {
  STORE_URL, RUN, W, C as CONSOLE, check, step, newPage, shot, run, login, api, apiLogin, pickTarget,
  expectBanner, closeConfirmed, recordWidgetEvents, storedRow, openWidget, widgetSend, conversationOf,
} from './harness.mjs';

const SLOW_REPLY_SECONDS = 2; // the shop's slow-reply limit for this run: a nudge comes quickly

// Texts unique to this run, none a substring of another.
const BUYER_TEXT = `退货运费谁出？ buyer-${RUN}`;
const NOTE = `买家要退货，已核对订单 note-${RUN}`;
const HELPER_TEXT = `我来补充一下退货地址 helper-${RUN}`;

const C = {
  ...CONSOLE,
  chat: '#chat',
  invite: '[data-testid=invite]',
  leave: '[data-testid=leave]',
  handoverError: '[data-testid=handover-error]',
  helpers: '[data-testid=chat-helpers]',
  historyTab: '[data-testid=history-tab]',
  historyItem: '[data-testid=history-item]',
};

// setSlowReply signs the owner in over REST and sets the shop's slow-reply limit.
async function setSlowReply(seconds) {
  await api('PUT', '/shop/routing', await apiLogin('owner'), { slow_reply_seconds: seconds });
}

async function scenario(browser, pages) {
  const store = await newPage(browser, pages, 'store', recordWidgetEvents);
  const wang = await newPage(browser, pages, 'xiaowang');
  const li = await newPage(browser, pages, 'xiaoli');
  const owner = await newPage(browser, pages, 'owner');

  await step(`the shop nudges after ${SLOW_REPLY_SECONDS} s without an answer`, () => setSlowReply(SLOW_REPLY_SECONDS));

  // xiaowang alone is online when the buyer writes, so routing gives it to him.
  await step('xiaowang signs in', () => login(wang, 'xiaowang'));

  let convId;
  await step('a buyer writes on the store page', async () => {
    await store.goto(STORE_URL);
    await openWidget(store);
    await widgetSend(store, BUYER_TEXT);
    convId = await conversationOf(store, BUYER_TEXT);
    console.log(`  conversation ${convId}`);
  });

  const wangRow = wang.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
  const liRow = li.locator(`${C.convItem}[data-conversation-id="${convId}"]`);

  await step("xiaowang gets it, marked awaiting reply, with the buyer's words as preview", async () => {
    await wangRow.waitFor();
    await wangRow.locator('[data-testid=awaiting-mark]', { hasText: '待回复' }).waitFor();
    check(await wangRow.getAttribute('data-awaiting') === 'true', 'the row is not marked awaiting');
    // The assignment's system line came after the buyer's message: the preview is still the buyer's words.
    const preview = await wangRow.locator('.conv-preview').textContent();
    check(preview.includes(`buyer-${RUN}`), `the row's preview is ${JSON.stringify(preview)}, want the buyer's message`);
    await wangRow.click();
    await storedRow(wang, `${C.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
  });

  await step('the slow-reply nudge marks the row and the tab title', async () => {
    await wang.locator(`${C.convItem}[data-conversation-id="${convId}"][data-nudged=true]`).waitFor();
    await wangRow.locator('[data-testid=awaiting-mark].is-nudged', { hasText: '已等待' }).waitFor();
    await wang.waitForFunction(() => document.title.startsWith('【1 位买家久等】'));
  });

  await step('xiaoli signs in', () => login(li, 'xiaoli'));

  await step('xiaowang transfers it to xiaoli with a note', async () => {
    await wang.locator(C.transfer).click();
    await wang.locator(C.panel).waitFor({ state: 'visible' });
    // The owner is offline: the server refuses, and the panel says why in words.
    const offline = wang.locator(`${C.target} option`).filter({ hasText: /^店长 · 离线/ });
    await offline.waitFor({ state: 'attached' });
    await wang.locator(C.target).selectOption(await offline.getAttribute('value'));
    await wang.locator(C.handoverSend).click();
    await wang.locator(C.handoverError, { hasText: '该客服不在线或已满额' }).waitFor();
    check(await wangRow.count() === 1, 'a refused transfer took the conversation off the list');
    await pickTarget(wang, '小丽');
    await wang.locator(C.note).fill(NOTE);
    await shot(wang, 'workbench-transfer-panel.png');
    await wang.locator(C.handoverSend).click();
    // It leaves xiaowang's list, and the chat area says where it went.
    await wangRow.waitFor({ state: 'detached' });
    await wang.locator(C.notice, { hasText: '会话已转接' }).waitFor();
    check(await wang.locator(C.panel).isHidden(), 'the transfer panel stayed open after the transfer');
  });

  await step("it appears live in xiaoli's list with the note as a banner", async () => {
    await liRow.waitFor();
    await liRow.click();
    await storedRow(li, `${C.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
    await expectBanner(li, '小王', NOTE);
    await shot(li, 'workbench-transfer.png');
  });

  const ownerRow = owner.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
  await step("the owner sees the whole shop: xiaoli's conversation, with her name, to take over", async () => {
    await login(owner, 'owner');
    await ownerRow.locator('[data-testid=conv-holder]', { hasText: '小丽 接待中' }).waitFor();
    await ownerRow.click();
    await owner.locator('[data-testid=takeover]').waitFor({ state: 'visible' });
    check(await owner.locator(C.input).isDisabled(), "the message box is open on a colleague's conversation before taking it over");
    check(await owner.locator(C.banner).isHidden(), 'the transfer note shows to the owner, who did not receive it');
  });

  await step('xiaoli invites xiaowang; he sees it again as a helper', async () => {
    await li.locator(C.invite).click();
    await li.locator(C.panel).waitFor({ state: 'visible' });
    check(await li.locator(C.note).isHidden(), 'the invite panel shows a note box');
    await pickTarget(li, '小王');
    await li.locator(C.handoverSend).click();
    await li.locator(C.panel).waitFor({ state: 'hidden' });
    await li.locator(C.helpers, { hasText: '协助：小王' }).waitFor();
    await owner.locator(C.helpers, { hasText: '协助：小王' }).waitFor();
    await wangRow.waitFor();
    check(await wangRow.getAttribute('data-helper') === 'true', "xiaowang's row is not marked as helping");
    await wangRow.click();
    await wang.locator(C.helpers, { hasText: '协助：小王' }).waitFor();
    await wang.locator(C.leave).waitFor({ state: 'visible' });
    check(await wang.locator(C.transfer).isHidden(), 'a helper is offered 转接');
    check(await wang.locator(C.close).isDisabled(), 'a helper may close the conversation');
    check(await wang.locator(C.banner).isHidden(), "the transfer note shows to the helper, who did not receive it");
  });

  await step('the helper writes and the buyer receives it; the wait is over', async () => {
    await wang.locator(C.input).fill(HELPER_TEXT);
    await wang.locator(C.send).click();
    await storedRow(wang, `${C.message}[data-sender=agent]`, HELPER_TEXT).waitFor();
    await storedRow(store, `${W.message}[data-sender=agent]`, HELPER_TEXT).waitFor();
    await storedRow(li, `${C.message}[data-sender=agent]`, HELPER_TEXT).waitFor();
    await li.locator(`${C.convItem}[data-conversation-id="${convId}"][data-awaiting=false]`).waitFor();
  });

  await step('xiaowang leaves; it leaves his list', async () => {
    await wang.locator(C.leave).click();
    await wangRow.waitFor({ state: 'detached' });
    await li.locator(C.helpers).waitFor({ state: 'hidden' });
  });

  await step('xiaoli closes it, confirming first', async () => {
    await closeConfirmed(li);
    await liRow.waitFor({ state: 'detached' });
    await ownerRow.waitFor({ state: 'detached' });
    await storedRow(store, `${W.message}[data-sender=system]`, '会话已结束').waitFor();
  });

  await step('it is in the history tab and opens read-only', async () => {
    // Open another view first so that opening it from the history is what shows it.
    await li.reload();
    await li.locator('#workbench').waitFor({ state: 'visible' });
    await li.locator(C.historyTab).click();
    const item = li.locator(`${C.historyItem}[data-conversation-id="${convId}"]`);
    await item.waitFor();
    await item.click();
    await storedRow(li, `${C.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
    await storedRow(li, `${C.message}[data-sender=agent]`, HELPER_TEXT).waitFor();
    await li.locator('#chat-status', { hasText: '已结束' }).waitFor();
    check(await li.locator(C.input).isDisabled(), 'the message box of a closed conversation is enabled');
    check(await li.locator(C.close).isDisabled(), 'a closed conversation offers 结束会话');
    check(await li.locator(C.transfer).isHidden(), 'a closed conversation offers 转接');
    await shot(li, 'workbench-history.png');
  });
}

run('workbench hand-over end to end', scenario);
