// What every browser test in e2e/ shares: the environment cmd/kefu/browser*_test.go passes,
// failures and steps, page watching, screenshots, the Chromium launch and the exit, and the
// console and widget moves several scenarios make.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//
// Every wait is Playwright's own (locator.waitFor, waitForFunction, waitForEvent) with a timeout;
// nothing sleeps. The first failure prints "FAIL: <step>: <why>", saves a screenshot of every open
// page and exits 1 (see run).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    const script = path.basename(process.argv[1] || 'this script');
    console.error(`FAIL: setup: env ${name} is not set (run ${script} through go test -run TestBrowser ./cmd/kefu/)`);
    process.exit(2);
  }
  return v;
}

// The demo store page, on another origin than kefu.
export const STORE_URL = mustEnv('KEFU_STORE_URL');
// The agent console, http://host:port/agent/.
export const CONSOLE_URL = mustEnv('KEFU_CONSOLE_URL');
// Where screenshots go.
export const ARTIFACTS = mustEnv('KEFU_ARTIFACTS');
// The Chromium binary.
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// kefu's own origin (the console's, the API's and the sockets').
export const KEFU_ORIGIN = new URL(CONSOLE_URL).origin;
// The default timeout of every Playwright wait on a watched page.
export const WAIT_MS = 15000;
// The viewport of every desktop browser context.
export const DESKTOP = { width: 1280, height: 800 };
// A tag unique to this run, for texts that must not match an earlier run's.
export const RUN = randomBytes(4).toString('hex');
// The demo shop's password for every seeded account.
export const DEMO_PASSWORD = 'kefu1234';

// Widget selectors shared by the scenarios (Playwright's CSS engine reaches into the open shadow root).
export const W = {
  bubble: '[data-testid=kefu-bubble]',
  panel: '[data-testid=kefu-panel]',
  input: '[data-testid=kefu-input]',
  send: '[data-testid=kefu-send]',
  message: '[data-testid=kefu-message]',
};

// Console selectors shared by the scenarios.
export const C = {
  shop: '[data-testid=login-shop]',
  username: '[data-testid=login-username]',
  password: '[data-testid=login-password]',
  submit: '[data-testid=login-submit]',
  toggle: '[data-testid=settings-toggle]',
  settings: '[data-testid=settings]',
  convItem: '[data-testid=conv-item]',
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

// Failure is a failed check: its message alone is the FAIL line's <why> (no stack).
export class Failure extends Error {}

// check throws a Failure with message unless ok.
export function check(ok, message) {
  if (!ok) throw new Failure(message);
}

let current = 'start';
// step runs fn as the named step, logging "▶ name" and "  ok (N ms)"; a failure names it.
export async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  console.log(`▶ ${name}`);
  const r = await fn();
  console.log(`  ok (${Date.now() - t0} ms)`);
  return r;
}

const pageErrors = [];
// watch logs a page's console errors and warnings, HTTP answers ≥ 400 and uncaught exceptions
// (each of which fails the run), names it label and sets its default timeout to WAIT_MS.
export function watch(page, label) {
  page.label = label; // names its failure screenshot
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

// newPage opens a watched page in a fresh desktop context (init, if given, as its init script)
// and adds it to pages.
export async function newPage(browser, pages, label, init) {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  if (init) await ctx.addInitScript(init);
  const page = watch(await ctx.newPage(), label);
  pages.push(page);
  return page;
}

// shot saves a screenshot of page as ARTIFACTS/name, the console's settings area scrolled to its top.
export async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  // The settings area scrolls by itself (the page does not): show its top.
  const settings = page.locator(C.settings);
  if (await settings.isVisible()) await settings.evaluate((el) => { el.scrollTop = 0; });
  await page.screenshot({ path: file, animations: 'disabled' });
  console.log(`  screenshot ${file}`);
}

// run launches Chromium, runs scenario(browser, pages) and fails on any uncaught page exception;
// then prints pass and exits 0. On a failure it saves every open page of pages as
// <failurePrefix><label>.png, prints "FAIL: <step>: <why>" and exits 1. after, if given, runs
// once the failure screenshots are taken, before Chromium closes.
export function run(pass, scenario, { failurePrefix = 'failure-', after } = {}) {
  const main = async () => {
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
      console.log(`PASS: ${pass}`);
    } catch (e) {
      for (const p of pages) {
        if (p.isClosed()) continue;
        await p.screenshot({ path: path.join(ARTIFACTS, `${failurePrefix}${p.label}.png`) }).catch(() => {});
      }
      throw e;
    } finally {
      if (after) await after();
      await browser.close();
    }
  };
  main().then(
    () => process.exit(0),
    (e) => {
      const why = e instanceof Failure ? e.message : (e && e.stack) || String(e);
      console.error(`FAIL: ${current}: ${why}`);
      process.exit(1);
    },
  );
}

// api calls kefu's REST API (path below /api/v1) from Node, with token as the bearer if given,
// and answers the JSON body; anything but a 2xx is a Failure.
export async function api(method, p, token, body) {
  const res = await fetch(`${KEFU_ORIGIN}/api/v1${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  check(res.ok, `${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// apiLogin signs a demo account in over REST and answers its token.
export async function apiLogin(username, password = DEMO_PASSWORD) {
  const { token } = await api('POST', '/auth/login', null, { shop: 'demo', username, password });
  return token;
}

// restOK calls the API from a console page with its own session, as that console would, and
// answers the JSON body; anything but a 2xx is a Failure.
export async function restOK(page, method, url, body) {
  const r = await page.evaluate(async ({ method, url, body }) => {
    const s = JSON.parse(localStorage.getItem('kefu:agent:session') || 'null');
    const res = await fetch(url, {
      method,
      headers: { Authorization: 'Bearer ' + (s && s.token), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, { method, url, body });
  check(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// login signs username in to the demo shop in the console and waits until the agent socket is
// up (the top bar says online): from then on routing counts this agent.
export async function login(page, username, password = DEMO_PASSWORD) {
  await page.goto(CONSOLE_URL);
  await page.locator(C.shop).fill('demo');
  await page.locator(C.username).fill(username);
  await page.locator(C.password).fill(password);
  await page.locator(C.submit).click();
  await page.locator('#workbench').waitFor({ state: 'visible' });
  await page.locator('[data-testid=connection-status].is-online').waitFor();
}

// openSettings opens the console's settings area (in place of the workbench) at tab.
export async function openSettings(page, tab) {
  const toggle = page.locator(C.toggle);
  await toggle.waitFor({ state: 'visible' });
  if (await page.locator(C.settings).isHidden()) await toggle.click();
  await page.locator(C.settings).waitFor({ state: 'visible' });
  check(await page.locator('#workbench').isHidden(), 'the workbench stays in view beside the settings area');
  await page.locator(`[data-testid=settings-tab-${tab}]`).click();
  await page.locator(`[data-testid=settings-tab-${tab}][aria-current=page]`).waitFor();
}

// createGroup fills Settings › Groups' form with g ({name, slug, scope, members: [{username,
// weight}], menu}) and waits until the new row lists each member as "<name> ×<weight>"; names
// maps a username to the agent's display name. A weight or menu left out keeps the form's default.
export async function createGroup(page, g, names) {
  const form = page.locator('[data-testid=group-form]');
  await form.getByLabel('分组名称').fill(g.name);
  await form.getByLabel('标识（slug）').fill(g.slug);
  await form.getByLabel('订单咨询范围').selectOption(g.scope);
  for (const m of g.members) {
    await form.locator(`[data-testid=group-member][data-username=${m.username}]`).check();
    if (m.weight !== undefined) await form.locator(`[data-testid=group-weight][data-username=${m.username}]`).fill(String(m.weight));
  }
  if (g.menu !== undefined) await form.locator('[data-testid=group-menu]').setChecked(g.menu);
  await form.locator('[data-testid=group-submit]').click();
  const shown = page.locator(`[data-testid=group-row][data-slug=${g.slug}] [data-testid=group-members]`);
  for (const m of g.members) await shown.filter({ hasText: `${names[m.username]} ×${m.weight ?? 1}` }).waitFor();
}

// setCap edits username's cap (同时接待上限) in the open Settings › Team and waits until the row shows it.
export async function setCap(page, username, cap) {
  const row = page.locator(`[data-testid=agent-row][data-username=${username}]`);
  await row.locator('[data-testid=agent-edit]').click();
  const edit = page.locator('[data-testid=agent-edit-form]');
  await edit.getByLabel('同时接待上限').fill(String(cap));
  await edit.getByRole('button', { name: '保存' }).click();
  await row.locator('[data-testid=agent-cap]', { hasText: `/ ${cap}` }).waitFor();
}

// pickTarget chooses, in the open hand-over panel, the colleague whose option starts with name
// once the option says they are online (presence comes live; the list may be older).
export async function pickTarget(page, name) {
  const option = page.locator(`${C.target} option`).filter({ hasText: new RegExp(`^${name} · 在线`) });
  await option.waitFor({ state: 'attached' });
  const value = await option.getAttribute('value');
  await page.locator(C.target).selectOption(value);
}

// expectBanner waits for the open conversation's transfer banner to say "<from> 转给你：<note>", exactly.
export async function expectBanner(page, from, note) {
  const banner = page.locator(C.banner);
  const want = `${from} 转给你：${note}`;
  await banner.filter({ hasText: note }).waitFor();
  try {
    await page.waitForFunction(([sel, w]) => document.querySelector(sel)?.textContent === w, [C.banner, want], { timeout: 5000 });
  } catch {
    check(false, `the transfer banner says ${JSON.stringify(await banner.textContent())}, want ${JSON.stringify(want)}`);
  }
}

// closeConfirmed closes the open conversation with 结束会话, checking that nothing closes before
// the confirmation, and waits until the chat says 已结束.
export async function closeConfirmed(page) {
  await page.locator(C.close).click();
  await page.locator(C.confirm).waitFor({ state: 'visible' });
  check(await page.locator('#chat-status').textContent() === '接待中', 'the conversation closed before the confirmation');
  await page.locator(C.confirmYes).click();
  await page.locator('#chat-status', { hasText: '已结束' }).waitFor();
}

// recordWidgetEvents, an init script, records every `message` event the widget emits
// (docs/widget.md). The stub is the documented one, so kefu('on') calls made before widget.js
// loads are queued.
export function recordWidgetEvents() {
  window.__kefuEvents = [];
  window.kefu = window.kefu || function () { (window.kefu.q = window.kefu.q || []).push(arguments); };
  window.kefu('on', 'message', (m) => window.__kefuEvents.push({ conversation_id: m.conversation_id, seq: m.seq, text: m.text }));
}

// storedRow is the message row (rows sel) with the text, stored (seq set) rather than pending.
export function storedRow(page, sel, text) {
  return page.locator(`${sel}[data-seq]:not([data-seq=""])`).filter({ hasText: text });
}

// openWidget opens the widget's panel with its bubble.
export async function openWidget(page) {
  await page.locator(W.bubble).click();
  await page.locator(W.panel).waitFor({ state: 'visible' });
}

// widgetSend writes text in the open widget and waits until it is stored.
export async function widgetSend(page, text) {
  await page.locator(W.input).fill(text);
  await page.locator(W.send).click();
  await storedRow(page, `${W.message}[data-sender=buyer]`, text).waitFor();
}

// conversationOf answers the conversation of the buyer's message text, from the widget's
// `message` events (page needs recordWidgetEvents).
export async function conversationOf(page, text) {
  const events = await page.evaluate(() => window.__kefuEvents || []);
  const mine = events.find((e) => e.text === text);
  check(mine && mine.conversation_id, `${page.label}'s widget emitted no 'message' event for the buyer's message (events: ${JSON.stringify(events)})`);
  return mine.conversation_id;
}

// viaAftersalesLink opens the store page and follows its 咨询售后 link, checking that the widget is
// then told data-group=aftersales.
export async function viaAftersalesLink(buyer) {
  await buyer.goto(STORE_URL);
  await buyer.getByRole('link', { name: '咨询售后' }).click();
  await buyer.waitForURL((u) => u.searchParams.get('group') === 'aftersales');
  const tag = await buyer.locator('script[src$="/widget.js"]').getAttribute('data-group');
  check(tag === 'aftersales', `the store page at ?group=aftersales gives the widget data-group=${JSON.stringify(tag)}`);
}

// startForeignSite serves store pages on an origin the demo shop has not registered: a plain
// local server on its own port (another origin than the store's and kefu's). pages maps a path
// to the widget tag's attributes (default: "/" with data-shop=demo); anything else is a 404.
export function startForeignSite(pages = { '/': { 'data-shop': 'demo' } }) {
  const page = (attrs) => `<!doctype html><meta charset="utf-8"><title>not a registered store</title>
<h1>Some other site</h1>
<script src="${KEFU_ORIGIN}/widget.js" ${Object.entries(attrs).map(([k, v]) => `${k}="${v}"`).join(' ')} async></script>`;
  const srv = createServer((req, res) => {
    const attrs = pages[req.url];
    res.writeHead(attrs ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(attrs ? page(attrs) : 'not found');
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}
