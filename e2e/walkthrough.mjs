// Browser end-to-end test of the "tried as a new user" walk-through, driven by
// cmd/kefu/browser_walkthrough_test.go against a real `kefu serve --demo` whose presence grace
// is 2 s, so that an agent's departure is seen quickly.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//
// The story: the owner sets up 售前 and 售后 in the console and gives xiaoli a cap of 1;
// xiaoli and xiaowang sign in, xiaowang steps away. Three buyers follow the store page's 咨询售后
// link: A reaches xiaoli (the only online member of 售后), who answers and closes; C reaches
// xiaoli, who is then full; B waits and sees their place and an estimate. xiaowang comes back
// and gets B at once; xiaoli transfers C to him with a note. xiaowang closes his console: after
// the grace B and C go back to the front of 售后's line and xiaoli takes one of them.
// Everything a person does goes through the console and the widget; the REST API only checks
// the outcome (who holds what), as the owner.
//
// Every wait is Playwright's own (locator.waitFor, waitForURL, waitForEvent) with a timeout;
// nothing sleeps. The first failure prints "FAIL: <step>: <why>", saves a screenshot of every
// open page as failure-walk-*.png and exits 1.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const STORE_URL = mustEnv('KEFU_STORE_URL');
const CONSOLE_URL = mustEnv('KEFU_CONSOLE_URL');
const ARTIFACTS = mustEnv('KEFU_ARTIFACTS');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const WAIT_MS = 15000;
const DESKTOP = { width: 1280, height: 800 };

// Texts unique to this run, none a substring of another.
const RUN = randomBytes(4).toString('hex');
const TEXT_A = `我的订单想退货 buyer-a-${RUN}`;
const ANSWER_A = `亲，已为您登记退货 answer-a-${RUN}`;
const TEXT_C = `收到的衣服有破损 buyer-c-${RUN}`;
const TEXT_B = `退款什么时候到账？ buyer-b-${RUN}`;
const NOTE = `买家要退货，已核对订单 note-${RUN}`;

const W = {
  bubble: '[data-testid=kefu-bubble]',
  panel: '[data-testid=kefu-panel]',
  status: '[data-testid=kefu-panel] .sub', // the header's line under the shop name (docs/widget.md §2)
  queue: '[data-testid=kefu-queue]',
  input: '[data-testid=kefu-input]',
  send: '[data-testid=kefu-send]',
  message: '[data-testid=kefu-message]',
};
const C = {
  shop: '[data-testid=login-shop]',
  username: '[data-testid=login-username]',
  password: '[data-testid=login-password]',
  submit: '[data-testid=login-submit]',
  toggle: '[data-testid=settings-toggle]',
  settings: '[data-testid=settings]',
  presence: '[data-testid=presence-select]',
  convItem: '[data-testid=conv-list] [data-testid=conv-item]',
  queueItem: '[data-testid=queue-list] [data-testid=queue-item]',
  message: '[data-testid=chat-message]',
  input: '[data-testid=chat-input]',
  send: '[data-testid=chat-send]',
  notice: '[data-testid=chat-notice]',
  transfer: '[data-testid=transfer]',
  panel: '[data-testid=handover-panel]',
  target: '[data-testid=handover-target]',
  note: '[data-testid=handover-note]',
  handoverSend: '[data-testid=handover-send]',
  banner: '[data-testid=transfer-banner]',
  close: '[data-testid=close-conversation]',
  confirm: '[data-testid=close-confirm]',
  confirmYes: '[data-testid=close-confirm-yes]',
};

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: setup: env ${name} is not set (run this through go test -run TestBrowserWalkthrough ./cmd/kefu/)`);
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
  page.setDefaultTimeout(WAIT_MS);
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
  return page;
}

// recordAgentFrames keeps every frame the page's agent socket receives (page.agentFrames) and
// the socket itself (page.agentSocket), so a step can wait for the server's word (a `presence`
// frame) rather than for the page's own guess.
function recordAgentFrames(page) {
  page.agentFrames = [];
  page.on('websocket', (ws) => {
    if (!new URL(ws.url()).pathname.endsWith('/ws/agent')) return;
    page.agentSocket = ws;
    ws.on('framereceived', ({ payload }) => {
      const f = parseFrame(payload);
      if (f) page.agentFrames.push(f);
    });
  });
}

function parseFrame(payload) {
  try {
    return JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return null;
  }
}

async function waitAgentFrame(page, what, pred) {
  if (page.agentFrames.some(pred)) return;
  check(page.agentSocket, `${page.label} has no agent socket to wait on for ${what}`);
  await page.agentSocket.waitForEvent('framereceived', {
    predicate: ({ payload }) => { const f = parseFrame(payload); return !!f && pred(f); },
    timeout: WAIT_MS,
  }).catch((e) => {
    throw new Failure(`${page.label}'s agent socket got no ${what} within ${WAIT_MS} ms (${e.message.split('\n')[0]})`);
  });
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
  const settings = page.locator(C.settings);
  if (await settings.isVisible()) await settings.evaluate((el) => { el.scrollTop = 0; });
  // A console's toasts (they last 5 s) would cover the banner or the lines a screenshot is for.
  if (await page.locator('#toasts').count() > 0) await page.locator('#toasts .toast').first().waitFor({ state: 'detached', timeout: 8000 });
  await page.screenshot({ path: file, animations: 'disabled' });
  console.log(`  screenshot ${file}`);
}

// rest calls the API from a console page with its own session, as that console would.
async function rest(page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const s = JSON.parse(localStorage.getItem('kefu:agent:session') || 'null');
    const res = await fetch(url, {
      method,
      headers: { Authorization: 'Bearer ' + (s && s.token), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, { method, url, body });
}

async function restOK(page, method, url, body) {
  const r = await rest(page, method, url, body);
  check(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
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

async function openSettings(page, tab) {
  const toggle = page.locator(C.toggle);
  await toggle.waitFor({ state: 'visible' });
  if (await page.locator(C.settings).isHidden()) await toggle.click();
  await page.locator(C.settings).waitFor({ state: 'visible' });
  await page.locator(`[data-testid=settings-tab-${tab}]`).click();
  await page.locator(`[data-testid=settings-tab-${tab}][aria-current=page]`).waitFor();
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
    console.log('PASS: the new-user walk-through end to end');
  } catch (e) {
    for (const p of pages) {
      if (p.isClosed()) continue;
      await p.screenshot({ path: path.join(ARTIFACTS, `failure-walk-${p.label}.png`) }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
}

async function newPage(browser, pages, label, init) {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  if (init) await ctx.addInitScript(init);
  const page = watch(await ctx.newPage(), label);
  pages.push(page);
  return page;
}

// buyerWrites opens the store page in its own browser, follows the 咨询售后 link, opens the
// widget and writes text; answers the conversation's id.
async function buyerWrites(buyer, text) {
  await buyer.goto(STORE_URL);
  await buyer.getByRole('link', { name: '咨询售后' }).click();
  await buyer.waitForURL((u) => u.searchParams.get('group') === 'aftersales');
  const tag = await buyer.locator('script[src$="/widget.js"]').getAttribute('data-group');
  check(tag === 'aftersales', `the store page at ?group=aftersales gives the widget data-group=${JSON.stringify(tag)}`);
  await buyer.locator(W.bubble).click();
  await buyer.locator(W.panel).waitFor({ state: 'visible' });
  await buyer.locator(W.input).fill(text);
  await buyer.locator(W.send).click();
  await storedRow(buyer, `${W.message}[data-sender=buyer]`, text).waitFor();
  const events = await buyer.evaluate(() => window.__kefuEvents || []);
  const mine = events.find((e) => e.text === text);
  check(mine && mine.conversation_id, `${buyer.label}'s widget emitted no 'message' event for the buyer's message (events: ${JSON.stringify(events)})`);
  console.log(`  ${buyer.label}: conversation ${mine.conversation_id}`);
  return mine.conversation_id;
}

async function scenario(browser, pages) {
  const owner = await newPage(browser, pages, 'owner');
  let agents; // by username

  const conv = async (id) => (await restOK(owner, 'GET', `/api/v1/conversations/${id}`)).conversation;
  const openList = async () => (await restOK(owner, 'GET', '/api/v1/conversations')).conversations;
  const agentList = async () => Object.fromEntries((await restOK(owner, 'GET', '/api/v1/agents')).agents.map((a) => [a.username, a]));
  const who = (id) => (Object.values(agents).find((a) => a.id === id) || { username: `agent ${id}` }).username;

  // 1. The owner sets the shop up.
  await step('the owner creates 售前 (xiaowang) and 售后 (xiaoli and xiaowang) in Settings › Groups', async () => {
    await login(owner, 'owner');
    agents = await agentList();
    await openSettings(owner, 'groups');
    await owner.locator('[data-testid=groups-empty]').waitFor();
    const groups = [
      { name: '售前', slug: 'presales', scope: 'presales', members: ['xiaowang'] },
      { name: '售后', slug: 'aftersales', scope: 'aftersales', members: ['xiaoli', 'xiaowang'] },
    ];
    for (const g of groups) {
      const form = owner.locator('[data-testid=group-form]');
      await form.getByLabel('分组名称').fill(g.name);
      await form.getByLabel('标识（slug）').fill(g.slug);
      await form.getByLabel('订单咨询范围').selectOption(g.scope);
      for (const m of g.members) await form.locator(`[data-testid=group-member][data-username=${m}]`).check();
      await form.locator('[data-testid=group-submit]').click();
      const shown = owner.locator(`[data-testid=group-row][data-slug=${g.slug}] [data-testid=group-members]`);
      for (const m of g.members) await shown.filter({ hasText: `${agents[m].name} ×1` }).waitFor();
    }
    const { groups: stored } = await restOK(owner, 'GET', '/api/v1/groups');
    for (const g of groups) {
      const s = stored.find((x) => x.slug === g.slug);
      check(s && s.name === g.name && s.scope === g.scope, `group ${g.slug} as stored: ${JSON.stringify(s)}`);
      const got = s.members.map((m) => m.agent_id).sort().join();
      const want = g.members.map((m) => agents[m].id).sort().join();
      check(got === want, `group ${g.slug}'s members as stored are agents ${got}, want ${want} (${g.members.join(', ')})`);
    }
    await shot(owner, 'walk-1-groups.png');
  });

  await step("the owner sets xiaoli's cap (同时接待上限) to 1 in Settings › Team", async () => {
    await openSettings(owner, 'team');
    const row = owner.locator('[data-testid=agent-row][data-username=xiaoli]');
    await row.locator('[data-testid=agent-edit]').click();
    const edit = owner.locator('[data-testid=agent-edit-form]');
    await edit.getByLabel('同时接待上限').fill('1');
    await edit.getByRole('button', { name: '保存' }).click();
    await row.locator('[data-testid=agent-cap]', { hasText: '/ 1' }).waitFor();
    agents = await agentList();
    check(agents.xiaoli.max_concurrent === 1, `xiaoli's cap as stored is ${agents.xiaoli.max_concurrent}, want 1`);
  });

  // 2. The agents come; xiaowang steps away.
  const li = await newPage(browser, pages, 'xiaoli');
  const wang = await newPage(browser, pages, 'xiaowang');
  recordAgentFrames(li);
  recordAgentFrames(wang);
  await step('xiaoli and xiaowang sign in; xiaowang sets himself 离开 (away)', async () => {
    await login(li, 'xiaoli');
    await login(wang, 'xiaowang');
    await wang.locator(C.presence).selectOption('away');
    const away = (f) => f.type === 'presence' && f.agent_id === agents.xiaowang.id && f.status === 'away';
    await waitAgentFrame(wang, "a presence frame saying xiaowang is away", away);
    await waitAgentFrame(li, "a presence frame saying xiaowang is away", away);
    check(await wang.locator(C.presence).inputValue() === 'away', "xiaowang's presence select does not show 离开");
    const now = await agentList();
    check(now.xiaowang.presence === 'away', `xiaowang's presence as the server lists it is ${now.xiaowang.presence}, want away`);
    check(now.xiaoli.presence === 'online', `xiaoli's presence as the server lists it is ${now.xiaoli.presence}, want online`);
  });

  // 3. Buyer A reaches xiaoli, the only online member of 售后.
  const buyerA = await newPage(browser, pages, 'buyer-a', recordWidgetEvents);
  let idA;
  await step('buyer A writes via 咨询售后 and reaches xiaoli, not xiaowang (away)', async () => {
    idA = await buyerWrites(buyerA, TEXT_A);
    await li.locator(`${C.convItem}[data-conversation-id="${idA}"]`).waitFor();
    const c = await conv(idA);
    check(c.status === 'assigned' && c.agent_id === agents.xiaoli.id, `A's conversation is ${c.status}, held by ${who(c.agent_id)}; want assigned to xiaoli`);
    check(await wang.locator(`${C.convItem}[data-conversation-id="${idA}"]`).count() === 0, "A's conversation is in xiaowang's list");
    await buyerA.locator(W.status, { hasText: '客服 小丽 为您服务' }).waitFor();
    await storedRow(buyerA, `${W.message}[data-sender=system]`, '客服 小丽 为您服务').waitFor();
  });

  await step('xiaoli answers A and closes the conversation, confirming first', async () => {
    const row = li.locator(`${C.convItem}[data-conversation-id="${idA}"]`);
    await row.click();
    await storedRow(li, `${C.message}[data-sender=buyer]`, TEXT_A).waitFor();
    await li.locator(C.input).fill(ANSWER_A);
    await li.locator(C.send).click();
    await storedRow(li, `${C.message}[data-sender=agent]`, ANSWER_A).waitFor();
    await storedRow(buyerA, `${W.message}[data-sender=agent]`, ANSWER_A).waitFor();
    await li.locator(C.close).click();
    await li.locator(C.confirm).waitFor({ state: 'visible' });
    check(await li.locator('#chat-status').textContent() === '接待中', 'the conversation closed before the confirmation');
    await li.locator(C.confirmYes).click();
    await li.locator('#chat-status', { hasText: '已结束' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await storedRow(buyerA, `${W.message}[data-sender=system]`, '会话已结束').waitFor();
    const c = await conv(idA);
    check(c.status === 'closed', `A's conversation is ${c.status} after the close, want closed`);
  });

  // 4. Buyer C reaches xiaoli, who is then full.
  const buyerC = await newPage(browser, pages, 'buyer-c', recordWidgetEvents);
  let idC;
  await step('buyer C writes via 咨询售后 and reaches xiaoli, who is then full (cap 1)', async () => {
    idC = await buyerWrites(buyerC, TEXT_C);
    await li.locator(`${C.convItem}[data-conversation-id="${idC}"]`).waitFor();
    const c = await conv(idC);
    check(c.status === 'assigned' && c.agent_id === agents.xiaoli.id, `C's conversation is ${c.status}, held by ${who(c.agent_id)}; want assigned to xiaoli`);
    await buyerC.locator(W.status, { hasText: '客服 小丽 为您服务' }).waitFor();
    const now = await agentList();
    check(now.xiaoli.active_count === 1 && now.xiaoli.max_concurrent === 1, `xiaoli holds ${now.xiaoli.active_count} of ${now.xiaoli.max_concurrent}, want 1 of 1`);
  });

  // 5. Buyer B waits, and sees their place and an estimate.
  const buyerB = await newPage(browser, pages, 'buyer-b', recordWidgetEvents);
  let idB;
  await step('buyer B writes via 咨询售后 and waits; the widget shows 第 1 位 and an estimate', async () => {
    idB = await buyerWrites(buyerB, TEXT_B);
    // Two assignments so far (A, C): the server can estimate the wait.
    await buyerB.locator(W.queue).filter({ hasText: /第 1 位.*预计/ }).waitFor()
      .catch(async (e) => {
        const shown = await buyerB.locator(W.queue).textContent().catch(() => null);
        throw new Failure(`the queue line says ${JSON.stringify(shown)}, want 您排在第 1 位，预计等待约 N 分钟 (${e.message.split('\n')[0]})`);
      });
    console.log(`  B's widget: ${await buyerB.locator(W.queue).textContent()}`);
    await buyerB.locator(W.status, { hasText: '正在为您转接客服' }).waitFor();
    const c = await conv(idB);
    check(c.status === 'queued' && !c.agent_id, `B's conversation is ${c.status}, held by ${who(c.agent_id)}; want queued (xiaoli is full, xiaowang away)`);
    await li.locator(`${C.queueItem}[data-conversation-id="${idB}"]`).waitFor();
    await wang.locator(`${C.queueItem}[data-conversation-id="${idB}"]`).waitFor();
    await shot(buyerB, 'walk-2-queued.png');
  });

  // 6. xiaowang comes back: B is his at once.
  await step('xiaowang switches to 在线 (online): B is assigned to him at once', async () => {
    await wang.locator(C.presence).selectOption('online');
    await wang.locator(`${C.convItem}[data-conversation-id="${idB}"]`).waitFor();
    const c = await conv(idB);
    check(c.status === 'assigned' && c.agent_id === agents.xiaowang.id, `B's conversation is ${c.status}, held by ${who(c.agent_id)}; want assigned to xiaowang`);
    await buyerB.locator(W.status, { hasText: '客服 小王 为您服务' }).waitFor();
    await storedRow(buyerB, `${W.message}[data-sender=system]`, '客服 小王 为您服务').waitFor();
    await buyerB.locator(W.queue).waitFor({ state: 'hidden' });
    await li.locator(`${C.queueItem}[data-conversation-id="${idB}"]`).waitFor({ state: 'detached' });
  });

  // 7. xiaoli hands C to xiaowang with a note.
  await step('xiaoli transfers C to xiaowang with a note; he sees the banner, buyer C the transfer line', async () => {
    const liRow = li.locator(`${C.convItem}[data-conversation-id="${idC}"]`);
    await liRow.click();
    await storedRow(li, `${C.message}[data-sender=buyer]`, TEXT_C).waitFor();
    await li.locator(C.transfer).click();
    await li.locator(C.panel).waitFor({ state: 'visible' });
    const option = li.locator(`${C.target} option`).filter({ hasText: /^小王 · 在线/ });
    await option.waitFor({ state: 'attached' });
    await li.locator(C.target).selectOption(await option.getAttribute('value'));
    await li.locator(C.note).fill(NOTE);
    await li.locator(C.handoverSend).click();
    await liRow.waitFor({ state: 'detached' });
    await li.locator(C.notice, { hasText: '会话已转接' }).waitFor();

    const wangRow = wang.locator(`${C.convItem}[data-conversation-id="${idC}"]`);
    await wangRow.waitFor();
    await wangRow.click();
    await storedRow(wang, `${C.message}[data-sender=buyer]`, TEXT_C).waitFor();
    const banner = wang.locator(C.banner);
    await banner.filter({ hasText: NOTE }).waitFor();
    const text = await banner.textContent();
    check(text === `小丽 转给你：${NOTE}`, `the transfer banner says ${JSON.stringify(text)}, want "小丽 转给你：${NOTE}"`);

    await storedRow(buyerC, `${W.message}[data-sender=system]`, '已为您转接至客服 小王').waitFor();
    await buyerC.locator(W.status, { hasText: '客服 小王 为您服务' }).waitFor();
    check(await buyerC.locator(W.message).filter({ hasText: `note-${RUN}` }).count() === 0, "the transfer note reached buyer C's widget");
    const c = await conv(idC);
    check(c.status === 'assigned' && c.agent_id === agents.xiaowang.id, `C's conversation is ${c.status}, held by ${who(c.agent_id)}; want assigned to xiaowang`);
    await shot(wang, 'walk-3-transferred.png');
  });

  // 8. xiaowang leaves; after the grace xiaoli takes one of B and C, the other waits.
  await step("xiaowang closes his console; within the grace he still holds B and C", async () => {
    check(wang.agentSocket && !wang.agentSocket.isClosed(), "xiaowang's agent socket is not open before he leaves");
    await wang.close(); // his only page: every console socket of his closes with it
    // The grace is 2 s: right after the socket closed nothing has moved yet.
    for (const [name, id] of [['B', idB], ['C', idC]]) {
      const c = await conv(id);
      check(c.status === 'assigned' && c.agent_id === agents.xiaowang.id,
        `right after xiaowang left, ${name}'s conversation is ${c.status}, held by ${who(c.agent_id)}; want still xiaowang's (2 s grace)`);
    }
  });

  let got, waiting; // {name, id, page}
  await step('after the grace B and C go back to the front of 售后; xiaoli (cap 1) gets one, the other waits', async () => {
    const b = { name: 'B', id: idB, page: buyerB };
    const c = { name: 'C', id: idC, page: buyerC };
    const rowOf = (x) => li.locator(`${C.convItem}[data-conversation-id="${x.id}"]`);
    await rowOf(b).or(rowOf(c)).first().waitFor()
      .catch((e) => { throw new Failure(`neither B nor C reached xiaoli's list (${e.message.split('\n')[0]})`); });
    [got, waiting] = (await rowOf(b).count()) > 0 ? [b, c] : [c, b];
    console.log(`  xiaoli got ${got.name} (conversation ${got.id}); ${waiting.name} waits`);
    await waitAgentFrame(li, 'a presence frame saying xiaowang is offline',
      (f) => f.type === 'presence' && f.agent_id === agents.xiaowang.id && f.status === 'offline');

    const open = await openList();
    const byId = new Map(open.map((x) => [x.id, x]));
    const g = byId.get(got.id);
    const w = byId.get(waiting.id);
    check(g && g.status === 'assigned' && g.agent_id === agents.xiaoli.id,
      `${got.name}'s conversation is ${g && g.status}, held by ${g && who(g.agent_id)}; want assigned to xiaoli`);
    check(w && w.status === 'queued' && !w.agent_id,
      `${waiting.name}'s conversation is ${w && w.status}, held by ${w && who(w.agent_id)}; want queued (xiaoli is full, xiaowang gone)`);
    const now = await agentList();
    check(now.xiaowang.presence === 'offline', `xiaowang's presence as the server lists it is ${now.xiaowang.presence}, want offline`);
    check(now.xiaoli.active_count === 1, `xiaoli holds ${now.xiaoli.active_count} conversations, want 1 (her cap)`);

    await rowOf(waiting).waitFor({ state: 'detached' });
    await li.locator(`${C.queueItem}[data-conversation-id="${waiting.id}"]`).waitFor();
    check(await li.locator(`${C.queueItem}[data-conversation-id="${got.id}"]`).count() === 0, `${got.name} is both in xiaoli's list and in the queue`);
  });

  await step('the buyer xiaoli got sees 小丽; the other sees that 小王 left and their place in line', async () => {
    for (const x of [got, waiting]) {
      await storedRow(x.page, `${W.message}[data-sender=system]`, '客服 小王 已离开，正在为您转接其他客服').waitFor();
    }
    await got.page.locator(W.status, { hasText: '客服 小丽 为您服务' }).waitFor();
    // C was xiaoli's once already: the line about her comes a second time, after the one saying 小王 left.
    const liLines = storedRow(got.page, `${W.message}[data-sender=system]`, '客服 小丽 为您服务');
    await liLines.nth(got.name === 'C' ? 1 : 0).waitFor();
    const leftSeq = Number(await storedRow(got.page, `${W.message}[data-sender=system]`, '客服 小王 已离开').getAttribute('data-seq'));
    const liSeq = Number(await liLines.last().getAttribute('data-seq'));
    check(liSeq > leftSeq, `in ${got.name}'s widget the line 客服 小丽 为您服务 (seq ${liSeq}) is not after the one saying 小王 left (seq ${leftSeq})`);
    await got.page.locator(W.queue).waitFor({ state: 'hidden' });
    await waiting.page.locator(W.status, { hasText: '正在为您转接客服' }).waitFor();
    await waiting.page.locator(W.queue).filter({ hasText: '第 1 位' }).waitFor();
    console.log(`  ${waiting.name}'s widget: ${await waiting.page.locator(W.queue).textContent()}`);
    const row = li.locator(`${C.convItem}[data-conversation-id="${got.id}"]`);
    await row.click();
    await storedRow(li, `${C.message}[data-sender=buyer]`, got.name === 'B' ? TEXT_B : TEXT_C).waitFor();
    check(await li.locator(C.banner).filter({ hasText: NOTE }).count() === 0, "the note of the transfer to xiaowang shows to xiaoli after he left");
    await shot(li, 'walk-4-reassigned.png');
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
