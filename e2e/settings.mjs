// Browser end-to-end test of the console's settings area and the group walk-through, driven by
// cmd/kefu/browser_settings_test.go against a real `kefu serve --demo`.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//
// The owner sets the shop up in the console (groups, a new agent, a routing rule, the secret);
// each step checks what the server holds afterwards (the REST API, or the page after a reload),
// not only what the page drew. Then the new agent signs in, a plain agent finds no settings, and
// a buyer who starts on the store page's 咨询售后 link reaches the 售后 group's member.
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
const WAIT_MS = 15000;
const DESKTOP = { width: 1280, height: 800 };

const RUN = randomBytes(4).toString('hex');
const NEW_AGENT = { username: 'xiaozhang', name: '小张', password: `zhang-${RUN}`, cap: 3 };

const C = {
  shop: '[data-testid=login-shop]',
  username: '[data-testid=login-username]',
  password: '[data-testid=login-password]',
  submit: '[data-testid=login-submit]',
  toggle: '[data-testid=settings-toggle]',
  settings: '[data-testid=settings]',
  convItem: '[data-testid=conv-item]',
};
const W = {
  bubble: '[data-testid=kefu-bubble]',
  panel: '[data-testid=kefu-panel]',
  input: '[data-testid=kefu-input]',
  send: '[data-testid=kefu-send]',
  message: '[data-testid=kefu-message]',
};

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: setup: env ${name} is not set (run this through go test -run TestBrowserSettings ./cmd/kefu/)`);
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

async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  // The settings area scrolls by itself (the page does not): show its top.
  await page.locator(C.settings).evaluate((el) => { el.scrollTop = 0; });
  await page.screenshot({ path: file, animations: 'disabled' });
  console.log(`  screenshot ${file}`);
}

// Records the widget's `message` events, to learn the conversation's id (docs/widget.md).
function recordWidgetEvents() {
  window.__kefuEvents = [];
  window.kefu = window.kefu || function () { (window.kefu.q = window.kefu.q || []).push(arguments); };
  window.kefu('on', 'message', (m) => window.__kefuEvents.push({ conversation_id: m.conversation_id, seq: m.seq, text: m.text }));
}

// rest calls the API from the console page with its own session, as the owner's console would.
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

async function login(page, username, password) {
  await page.goto(CONSOLE_URL);
  await page.locator(C.shop).fill('demo');
  await page.locator(C.username).fill(username);
  await page.locator(C.password).fill(password);
  await page.locator(C.submit).click();
  await page.locator('#workbench').waitFor({ state: 'visible' });
  // The agent socket is up (the agent is online and routable) once the top bar says so.
  await page.locator('[data-testid=connection-status].is-online').waitFor();
}

async function openSettings(page, tab) {
  const toggle = page.locator(C.toggle);
  await toggle.waitFor({ state: 'visible' });
  if (await page.locator(C.settings).isHidden()) await toggle.click();
  await page.locator(C.settings).waitFor({ state: 'visible' });
  check(await page.locator('#workbench').isHidden(), 'the workbench stays in view beside the settings area');
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
    console.log('PASS: settings and the group walk-through end to end');
  } catch (e) {
    for (const p of pages) {
      if (p.isClosed()) continue;
      await p.screenshot({ path: path.join(ARTIFACTS, `failure-settings-${p.label}.png`) }).catch(() => {});
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

async function scenario(browser, pages) {
  const owner = await newPage(browser, pages, 'owner');
  let agents; // by username, as the API lists them

  await step('the owner signs in and opens Settings › Team', async () => {
    await login(owner, 'owner', 'kefu1234');
    await openSettings(owner, 'team');
    for (const u of ['owner', 'xiaowang', 'xiaoli']) await owner.locator(`[data-testid=agent-row][data-username=${u}]`).waitFor();
    const tabs = await owner.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    check(tabs.join() === 'settings-tab-team,settings-tab-groups,settings-tab-routing,settings-tab-origins,settings-tab-secret',
      `the owner's tabs are ${tabs.join(', ')}`);
    const label = await owner.locator(C.toggle).textContent();
    check(label.includes('返回工作台'), `with settings open the header button says ${JSON.stringify(label)}, want 返回工作台`);
    const list = await restOK(owner, 'GET', '/api/v1/agents');
    agents = Object.fromEntries(list.agents.map((a) => [a.username, a]));
  });

  await step('the owner creates group 售前 (presales) with xiaowang and 售后 (aftersales) with xiaoli', async () => {
    await openSettings(owner, 'groups');
    await owner.locator('[data-testid=groups-empty]').waitFor();
    const groups = [
      { name: '售前', slug: 'presales', scope: 'presales', member: 'xiaowang', weight: '1', menu: true },
      { name: '售后', slug: 'aftersales', scope: 'aftersales', member: 'xiaoli', weight: '2', menu: false },
    ];
    for (const g of groups) {
      const form = owner.locator('[data-testid=group-form]');
      await form.getByLabel('分组名称').fill(g.name);
      await form.getByLabel('标识（slug）').fill(g.slug);
      await form.getByLabel('订单咨询范围').selectOption(g.scope);
      await form.locator(`[data-testid=group-member][data-username=${g.member}]`).check();
      await form.locator(`[data-testid=group-weight][data-username=${g.member}]`).fill(g.weight);
      await form.locator('[data-testid=group-menu]').setChecked(g.menu);
      await form.locator('[data-testid=group-submit]').click();
      const name = agents[g.member].name;
      await owner.locator(`[data-testid=group-row][data-slug=${g.slug}] [data-testid=group-members]`, { hasText: `${name} ×${g.weight}` }).waitFor();
    }
    const { groups: stored } = await restOK(owner, 'GET', '/api/v1/groups');
    for (const g of groups) {
      const s = stored.find((x) => x.slug === g.slug);
      check(s && s.name === g.name && s.scope === g.scope && s.menu === g.menu, `group ${g.slug} as stored: ${JSON.stringify(s)}`);
      const members = JSON.stringify(s.members.map((m) => [m.agent_id, m.weight]));
      check(members === JSON.stringify([[agents[g.member].id, Number(g.weight)]]), `group ${g.slug} members as stored: ${members}`);
    }
    await shot(owner, 'settings-groups.png');
  });

  await step('the owner adds agent xiaozhang; a second one with that username is refused in words', async () => {
    await openSettings(owner, 'team');
    const form = owner.locator('[data-testid=agent-add-form]');
    const fill = async () => {
      await form.getByLabel('用户名').fill(NEW_AGENT.username);
      await form.getByLabel('显示名称').fill(NEW_AGENT.name);
      await form.getByLabel('角色').selectOption('agent');
      await form.getByLabel('初始密码').fill(NEW_AGENT.password);
      await form.getByLabel('同时接待上限').fill(String(NEW_AGENT.cap));
    };
    await fill();
    await form.locator('[data-testid=agent-add-submit]').click();
    const row = owner.locator(`[data-testid=agent-row][data-username=${NEW_AGENT.username}]`);
    await row.waitFor();
    check((await row.locator('[data-testid=agent-cap]').textContent()).trim() === `0 / ${NEW_AGENT.cap}`, 'the new agent\'s cap is not shown as 0 / 3');
    await fill();
    await form.locator('[data-testid=agent-add-submit]').click();
    await owner.locator('[data-testid=agent-add-error]', { hasText: '该用户名已被使用' }).waitFor();
    const list = await restOK(owner, 'GET', '/api/v1/agents');
    const added = list.agents.filter((a) => a.username === NEW_AGENT.username);
    check(added.length === 1 && added[0].name === NEW_AGENT.name && added[0].role === 'agent' && added[0].max_concurrent === NEW_AGENT.cap && !added[0].disabled,
      `agents named ${NEW_AGENT.username} as stored: ${JSON.stringify(added)}`);
    agents[NEW_AGENT.username] = added[0];
  });

  await step("the owner changes xiaoli's cap; the server keeps it", async () => {
    const row = owner.locator('[data-testid=agent-row][data-username=xiaoli]');
    await row.locator('[data-testid=agent-edit]').click();
    const edit = owner.locator('[data-testid=agent-edit-form]');
    await edit.getByLabel('同时接待上限').fill('8');
    await edit.getByRole('button', { name: '保存' }).click();
    await row.locator('[data-testid=agent-cap]', { hasText: '/ 8' }).waitFor();
    const list = await restOK(owner, 'GET', '/api/v1/agents');
    const li = list.agents.find((a) => a.username === 'xiaoli');
    check(li.max_concurrent === 8, `xiaoli's cap as stored is ${li.max_concurrent}, want 8`);
    await owner.locator('[data-testid=agent-row][data-username=xiaowang] td', { hasText: '售前' }).waitFor();
    await shot(owner, 'settings-team.png');
  });

  await step('the owner sets reassign_seconds and high_value in Routing; both are stored and shown after a reload', async () => {
    await openSettings(owner, 'routing');
    const form = owner.locator('[data-testid=routing-form]');
    await form.getByLabel('超时转接').fill('90');
    await form.getByLabel('大额订单优先').fill('500.5');
    await form.locator('[data-testid=routing-save]').click();
    await owner.locator('[data-testid=routing-status]', { hasText: '已保存' }).waitFor();
    const { shop } = await restOK(owner, 'GET', '/api/v1/shop');
    check(shop.routing.reassign_seconds === 90, `reassign_seconds as stored: ${shop.routing.reassign_seconds}, want 90`);
    check(shop.routing.high_value_cents === 50050, `high_value_cents as stored: ${shop.routing.high_value_cents}, want 50050 (500.5 yuan)`);
    await owner.reload();
    await owner.locator('#workbench').waitFor({ state: 'visible' });
    await openSettings(owner, 'routing');
    const shown = await owner.locator('[data-testid=routing-reassign_seconds]').inputValue();
    check(shown === '90', `after a reload Routing shows reassign_seconds ${JSON.stringify(shown)}, want 90`);
    const yuan = await owner.locator('[data-testid=routing-high_value_cents]').inputValue();
    check(yuan === '500.50', `after a reload Routing shows the high value as ${JSON.stringify(yuan)}, want 500.50`);
    await shot(owner, 'settings-routing.png');
  });

  await step('the owner adds a widget origin and sees it normalized; the store page stays registered', async () => {
    await openSettings(owner, 'origins');
    const storeOrigin = new URL(STORE_URL).origin;
    await owner.locator('[data-testid=origins-list] li', { hasText: storeOrigin }).first().waitFor();
    const input = owner.locator('[data-testid=origins-input]');
    await input.fill((await input.inputValue()) + '\nHTTPS://Shop.Example.com:443/');
    await owner.locator('[data-testid=origins-save]').click();
    await owner.locator('[data-testid=origins-status]', { hasText: '已保存' }).waitFor();
    await owner.locator('[data-testid=origins-list] li', { hasText: 'https://shop.example.com' }).waitFor();
    const { shop } = await restOK(owner, 'GET', '/api/v1/shop');
    check(shop.origins.includes('https://shop.example.com') && shop.origins.includes(storeOrigin), `origins as stored: ${shop.origins.join(', ')}`);
  });

  await step('the identity secret is masked until revealed, and is the shop\'s', async () => {
    await openSettings(owner, 'secret');
    const { shop } = await restOK(owner, 'GET', '/api/v1/shop');
    check(/^[0-9a-f]{32,}$/.test(shop.identity_secret || ''), `the owner's shop has no identity secret: ${JSON.stringify(shop.identity_secret)}`);
    const value = owner.locator('[data-testid=secret-value]');
    check(!(await value.textContent()).includes(shop.identity_secret), 'the secret is shown before 显示 was pressed');
    await owner.locator('[data-testid=secret-reveal]').click();
    await owner.locator('[data-testid=secret-value]', { hasText: shop.identity_secret }).waitFor();
    // Rotating asks first; saying no changes nothing.
    await owner.locator('[data-testid=secret-rotate]').click();
    const dialog = owner.locator('[data-testid=confirm-dialog]');
    await dialog.waitFor();
    check((await dialog.textContent()).includes('店铺服务器'), 'the rotate confirmation does not explain what happens to signed-in buyers');
    await owner.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    const after = await restOK(owner, 'GET', '/api/v1/shop');
    check(after.shop.identity_secret === shop.identity_secret, 'the secret changed though the rotation was cancelled');
  });

  await step('the settings area speaks English on the toggle', async () => {
    await owner.locator('[data-testid=lang-toggle]').click();
    await owner.locator('[data-testid=settings-tab-team]', { hasText: 'Team' }).waitFor();
    await owner.locator('[data-testid=settings-tab-secret][aria-current=page]', { hasText: 'Identity secret' }).waitFor();
    check((await owner.locator(C.toggle).textContent()) === 'Back to workbench', 'in English the header button does not say Back to workbench');
    await owner.locator('[data-testid=lang-toggle]').click();
    await owner.locator('[data-testid=settings-tab-team]', { hasText: '团队' }).waitFor();
  });

  const zhang = await newPage(browser, pages, 'xiaozhang');
  await step('the new agent xiaozhang signs in, in a fresh browser, and has no Settings', async () => {
    await login(zhang, NEW_AGENT.username, NEW_AGENT.password);
    await zhang.locator('#me-name', { hasText: NEW_AGENT.name }).waitFor();
    check(await zhang.locator(C.toggle).isHidden(), 'a plain agent (xiaozhang) sees the Settings entry');
  });

  await step('promoted to supervisor, xiaozhang gets Settings at once, without the owner\'s tabs', async () => {
    await openSettings(owner, 'team');
    const row = owner.locator(`[data-testid=agent-row][data-username=${NEW_AGENT.username}]`);
    await row.locator('[data-testid=agent-edit]').click();
    const edit = owner.locator('[data-testid=agent-edit-form]');
    await edit.getByLabel('角色').selectOption('supervisor');
    await edit.getByRole('button', { name: '保存' }).click();
    await row.locator('[data-testid=agent-role]', { hasText: '主管' }).waitFor();
    const list = await restOK(owner, 'GET', '/api/v1/agents');
    check(list.agents.find((a) => a.username === NEW_AGENT.username).role === 'supervisor', 'xiaozhang is not a supervisor as stored');
    // The server closes xiaozhang's socket (account_changed); the reconnect brings the new role.
    await zhang.locator(C.toggle).waitFor({ state: 'visible' });
    await openSettings(zhang, 'team');
    const tabs = await zhang.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    check(tabs.join() === 'settings-tab-team,settings-tab-groups,settings-tab-routing', `a supervisor's tabs are ${tabs.join(', ')}`);
    await zhang.locator('[data-testid=agent-row][data-username=owner]').waitFor();
    check(await zhang.locator('[data-testid=agent-row][data-username=owner] [data-testid=agent-edit]').count() === 0, 'a supervisor is offered to edit the owner');
    await zhang.locator('[data-testid=agent-row][data-username=xiaowang] [data-testid=agent-edit]').click();
    await zhang.locator('[data-testid=agent-edit-form]').waitFor();
    check(await zhang.locator('#agent-edit-role').count() === 0, 'a supervisor is offered to change a role');
    check(await zhang.locator('[data-testid=agent-add-form]').count() === 0, 'a supervisor is offered to add agents');
    await zhang.context().close();
  });

  const wang = await newPage(browser, pages, 'xiaowang');
  const li = await newPage(browser, pages, 'xiaoli');
  await step('plain agents xiaowang and xiaoli sign in and see no Settings entry', async () => {
    for (const [page, name] of [[wang, '小王'], [li, '小丽']]) {
      await login(page, page.label, 'kefu1234');
      await page.locator('#me-name', { hasText: name }).waitFor();
      check(await page.locator(C.toggle).isHidden(), `a plain agent (${page.label}) sees the Settings entry`);
      check(await page.locator(C.settings).isHidden(), `a plain agent (${page.label}) sees the settings area`);
    }
  });

  await step('a buyer who follows the store page\'s 咨询售后 link reaches xiaoli, of group 售后', async () => {
    const buyer = await newPage(browser, pages, 'store', recordWidgetEvents);
    await buyer.goto(STORE_URL);
    await buyer.getByRole('link', { name: '咨询售后' }).click();
    await buyer.waitForURL((u) => u.searchParams.get('group') === 'aftersales');
    const tag = await buyer.locator('script[src$="/widget.js"]').getAttribute('data-group');
    check(tag === 'aftersales', `the store page at ?group=aftersales gives the widget data-group=${JSON.stringify(tag)}`);
    await buyer.locator(W.bubble).click();
    await buyer.locator(W.panel).waitFor({ state: 'visible' });
    const text = `我的订单想退货 aftersales-${RUN}`;
    await buyer.locator(W.input).fill(text);
    await buyer.locator(W.send).click();
    await buyer.locator(`${W.message}[data-sender=buyer][data-seq]:not([data-seq=""])`, { hasText: text }).waitFor();
    const events = await buyer.evaluate(() => window.__kefuEvents);
    const mine = events.find((e) => e.text === text);
    check(mine && mine.conversation_id, `the widget emitted no message event for the buyer's message (${JSON.stringify(events)})`);
    const id = mine.conversation_id;
    await li.locator(`[data-testid=conv-list] ${C.convItem}[data-conversation-id="${id}"]`).waitFor();
    const { conversation } = await restOK(owner, 'GET', `/api/v1/conversations/${id}`);
    check(conversation.agent_id === agents.xiaoli.id, `conversation ${id} went to agent ${conversation.agent_id}, want xiaoli (${agents.xiaoli.id})`);
    check(await wang.locator(`[data-testid=conv-list] ${C.convItem}[data-conversation-id="${id}"]`).count() === 0, 'the 售后 conversation is in xiaowang\'s list too');
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
