// Browser test of the widget's group menu (docs/widget.md "data-group"), driven by
// cmd/kefu/browser_menu_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// The demo owner marks two groups for the menu over REST; a buyer on the store page sees them,
// picks 售后服务 and writes; the conversation is routed to that group. Every wait is Playwright's
// own; nothing sleeps. The first failure prints "FAIL: <step>: <why>" and exits 1.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const STORE_URL = mustEnv('KEFU_STORE_URL');
const CONSOLE_URL = mustEnv('KEFU_CONSOLE_URL');
const ARTIFACTS = mustEnv('KEFU_ARTIFACTS');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const API = new URL('/api/v1', CONSOLE_URL).href;
const RUN = randomBytes(4).toString('hex');
const TEXT = `我买的衣服想退货 menu-${RUN}`;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: setup: env ${name} is not set (run this through go test -run TestBrowserWidgetMenu ./cmd/kefu/)`);
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
  console.log(`▶ ${name}`);
  const r = await fn();
  console.log('  ok');
  return r;
}

async function rest(method, p, token, body) {
  const res = await fetch(API + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  check(res.ok, `${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  let page;
  try {
    const owner = await step('the demo owner marks 售前咨询 and 售后服务 for the widget menu', async () => {
      const { token } = await rest('POST', '/auth/login', null, { shop: 'demo', username: 'owner', password: 'kefu1234' });
      const { agents } = await rest('GET', '/agents', token);
      const id = (u) => agents.find((a) => a.username === u).id;
      await rest('POST', '/groups', token, { slug: 'presales', name: '售前咨询', scope: 'presales', menu: true, members: [{ agent_id: id('xiaowang') }] });
      const { group } = await rest('POST', '/groups', token, { slug: 'aftersales', name: '售后服务', scope: 'aftersales', menu: true, members: [{ agent_id: id('xiaoli') }] });
      return { token, aftersales: group.id };
    });

    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => console.log(`  [store uncaught] ${e.message}`));
    await step('the buyer sees the menu and picks 售后服务', async () => {
      await page.goto(STORE_URL);
      await page.locator('[data-testid=kefu-bubble]').click();
      const items = page.locator('[data-testid=kefu-menu-item]');
      await items.first().waitFor();
      const names = await items.allTextContents();
      check(names.join('/') === '售前咨询/售后服务', `menu shows ${JSON.stringify(names)}, want 售前咨询/售后服务`);
      await items.filter({ hasText: '售后服务' }).click();
      check(await items.filter({ hasText: '售后服务' }).getAttribute('aria-pressed') === 'true', 'the pick is not marked');
      await page.screenshot({ path: path.join(ARTIFACTS, 'widget-menu.png') });
    });

    await step('the conversation the message starts is routed to 售后服务, and the menu goes away', async () => {
      await page.locator('[data-testid=kefu-input]').fill(TEXT);
      await page.locator('[data-testid=kefu-send]').click();
      await page.locator('[data-testid=kefu-message][data-sender=buyer]').filter({ hasText: TEXT }).waitFor();
      await page.locator('[data-testid=kefu-menu]').waitFor({ state: 'hidden' });
      const { conversations } = await rest('GET', '/conversations', owner.token);
      const conv = conversations.find((c) => c.last_message && c.last_message.text === TEXT) ||
        conversations.find((c) => c.buyer && c.last_seq >= 1 && c.group_id === owner.aftersales);
      check(conv, `no conversation with the buyer's message in ${JSON.stringify(conversations.map((c) => c.id))}`);
      check(conv.group_id === owner.aftersales, `conversation ${conv.id} is routed to group ${conv.group_id}, want 售后服务 (${owner.aftersales})`);
    });
    console.log('PASS: widget menu');
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'failure-menu.png') }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`FAIL: ${current}: ${e instanceof Failure ? e.message : (e && e.stack) || String(e)}`);
    process.exit(1);
  },
);
