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
// as failure-*.png and exits 1.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const STORE_URL = mustEnv('KEFU_STORE_URL');
const CONSOLE_URL = mustEnv('KEFU_CONSOLE_URL');
const ARTIFACTS = mustEnv('KEFU_ARTIFACTS');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const KEFU_ORIGIN = new URL(CONSOLE_URL).origin;
const SLOW_REPLY_SECONDS = 2; // the shop's slow-reply limit for this run: a nudge comes quickly
const WAIT_MS = 15000;
const DESKTOP = { width: 1280, height: 800 };

// Texts unique to this run, none a substring of another.
const RUN = randomBytes(4).toString('hex');
const BUYER_TEXT = `退货运费谁出？ buyer-${RUN}`;
const NOTE = `买家要退货，已核对订单 note-${RUN}`;
const HELPER_TEXT = `我来补充一下退货地址 helper-${RUN}`;

const W = {
  bubble: '[data-testid=kefu-bubble]',
  panel: '[data-testid=kefu-panel]',
  input: '[data-testid=kefu-input]',
  send: '[data-testid=kefu-send]',
  message: '[data-testid=kefu-message]',
};
const C = {
  shop: '[data-testid=login-shop]',
  username: '[data-testid=login-username]',
  password: '[data-testid=login-password]',
  submit: '[data-testid=login-submit]',
  convItem: '[data-testid=conv-item]',
  chat: '#chat',
  message: '[data-testid=chat-message]',
  input: '[data-testid=chat-input]',
  send: '[data-testid=chat-send]',
  notice: '[data-testid=chat-notice]',
  transfer: '[data-testid=transfer]',
  invite: '[data-testid=invite]',
  leave: '[data-testid=leave]',
  panel: '[data-testid=handover-panel]',
  target: '[data-testid=handover-target]',
  note: '[data-testid=handover-note]',
  handoverSend: '[data-testid=handover-send]',
  handoverError: '[data-testid=handover-error]',
  banner: '[data-testid=transfer-banner]',
  helpers: '[data-testid=chat-helpers]',
  close: '[data-testid=close-conversation]',
  confirm: '[data-testid=close-confirm]',
  confirmYes: '[data-testid=close-confirm-yes]',
  historyTab: '[data-testid=history-tab]',
  historyItem: '[data-testid=history-item]',
};

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: setup: env ${name} is not set (run this through go test -run TestBrowser ./cmd/kefu/)`);
    process.exit(2);
  }
  return v;
}

class Failure extends Error {}

function check(ok, message) {
  if (!ok) throw new Failure(message);
}

let current = 'start';
async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  console.log(`▶ ${name}`);
  const r = await fn();
  console.log(`  ok (${Date.now() - t0} ms)`);
  return r;
}

const pageErrors = [];
function watch(page, label) {
  page.label = label;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`  [${label} console.${m.type()}] ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) console.log(`  [${label} http ${r.status()}] ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => {
    pageErrors.push(`${label}: ${e.message}`);
    console.log(`  [${label} uncaught] ${e.stack || e.message}`);
  });
  page.setDefaultTimeout(WAIT_MS);
  return page;
}

function recordWidgetEvents() {
  window.__kefuEvents = [];
  window.kefu = window.kefu || function () { (window.kefu.q = window.kefu.q || []).push(arguments); };
  window.kefu('on', 'message', (m) => window.__kefuEvents.push({ conversation_id: m.conversation_id, seq: m.seq, text: m.text }));
}

function storedRow(page, sel, text) {
  return page.locator(`${sel}[data-seq]:not([data-seq=""])`).filter({ hasText: text });
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, animations: 'disabled' });
  console.log(`  screenshot ${file}`);
}

async function login(page, username) {
  await page.goto(CONSOLE_URL);
  await page.locator(C.shop).fill('demo');
  await page.locator(C.username).fill(username);
  await page.locator(C.password).fill('kefu1234');
  await page.locator(C.submit).click();
  await page.locator('#workbench').waitFor({ state: 'visible' });
  // Online means the socket said `ready`: from then on routing counts this agent.
  await page.locator('[data-testid=connection-status].is-online').waitFor();
}

// pickTarget chooses, in the open hand-over panel, the colleague whose option starts with name
// once the option says they are online (presence comes live; the list may be older).
async function pickTarget(page, name) {
  const option = page.locator(`${C.target} option`).filter({ hasText: new RegExp(`^${name} · 在线`) });
  await option.waitFor({ state: 'attached' });
  const value = await option.getAttribute('value');
  await page.locator(C.target).selectOption(value);
}

// setSlowReply signs the owner in over REST and sets the shop's slow-reply limit.
async function setSlowReply(request, seconds) {
  const res = await request.post(`${KEFU_ORIGIN}/api/v1/auth/login`, { data: { shop: 'demo', username: 'owner', password: 'kefu1234' } });
  check(res.ok(), `owner login: ${res.status()} ${await res.text()}`);
  const { token } = await res.json();
  const put = await request.put(`${KEFU_ORIGIN}/api/v1/shop/routing`, { headers: { Authorization: `Bearer ${token}` }, data: { slow_reply_seconds: seconds } });
  check(put.ok(), `PUT /api/v1/shop/routing: ${put.status()} ${await put.text()}`);
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`store ${STORE_URL}, console ${CONSOLE_URL}, chromium ${CHROMIUM}, run ${RUN}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  const pages = [];
  try {
    await scenario(browser, pages);
    check(pageErrors.length === 0, `uncaught exceptions in the pages:\n  ${pageErrors.join('\n  ')}`);
    console.log('PASS: workbench hand-over end to end');
  } catch (e) {
    for (const p of pages) {
      if (p.isClosed()) continue;
      await p.screenshot({ path: path.join(ARTIFACTS, `failure-${p.label}.png`) }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
}

async function scenario(browser, pages) {
  const buyerCtx = await browser.newContext({ viewport: DESKTOP });
  await buyerCtx.addInitScript(recordWidgetEvents);
  const store = watch(await buyerCtx.newPage(), 'store');
  const wang = watch(await (await browser.newContext({ viewport: DESKTOP })).newPage(), 'xiaowang');
  const li = watch(await (await browser.newContext({ viewport: DESKTOP })).newPage(), 'xiaoli');
  const ownerCtx = await browser.newContext({ viewport: DESKTOP });
  const owner = watch(await ownerCtx.newPage(), 'owner');
  pages.push(store, wang, li, owner);

  await step(`the shop nudges after ${SLOW_REPLY_SECONDS} s without an answer`, () => setSlowReply(ownerCtx.request, SLOW_REPLY_SECONDS));

  // xiaowang alone is online when the buyer writes, so routing gives it to him.
  await step('xiaowang signs in', () => login(wang, 'xiaowang'));

  let convId;
  await step('a buyer writes on the store page', async () => {
    await store.goto(STORE_URL);
    await store.locator(W.bubble).click();
    await store.locator(W.panel).waitFor({ state: 'visible' });
    await store.locator(W.input).fill(BUYER_TEXT);
    await store.locator(W.send).click();
    await storedRow(store, `${W.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
    const events = await store.evaluate(() => window.__kefuEvents || []);
    const mine = events.find((e) => e.text === BUYER_TEXT);
    check(mine && mine.conversation_id, `the widget emitted no 'message' event for the buyer's message (events: ${JSON.stringify(events)})`);
    convId = mine.conversation_id;
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
    const banner = li.locator(C.banner);
    await banner.filter({ hasText: NOTE }).waitFor();
    const text = await banner.textContent();
    check(text === `小王 转给你：${NOTE}`, `the transfer banner says ${JSON.stringify(text)}, want "小王 转给你：${NOTE}"`);
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
    await li.locator(C.close).click();
    await li.locator(C.confirm).waitFor({ state: 'visible' });
    check(await li.locator('#chat-status').textContent() === '接待中', 'the conversation closed before the confirmation');
    await li.locator(C.confirmYes).click();
    await li.locator('#chat-status', { hasText: '已结束' }).waitFor();
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

main().then(
  () => process.exit(0),
  (e) => {
    const why = e instanceof Failure ? e.message : (e && e.stack) || String(e);
    console.error(`FAIL: ${current}: ${why}`);
    process.exit(1);
  },
);
