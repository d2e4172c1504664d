// Browser test of the console's reports page (报表, docs/reports.md), driven by
// cmd/kefu/browser_reports_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// A buyer writes in the widget and the demo owner answers (over REST), so that today has a
// conversation; 小王 comes online over REST, so that the agent table has two rows. The demo shop
// may hold little history: nothing here depends on more. A plain agent's console has no 报表.
// The owner opens 报表: the cards, the agent table and the live board show the last 7 days; 近30天
// and a first day typed in reload it, and every chart image loads; sorting by a header orders
// the rows and marks the header; the agent filter narrows it; the agents' CSV export downloads a file with the BOM and the
// header; the live board asks again within its 10 s; English words the page; back goes to the
// workbench. Every wait is Playwright's own; nothing sleeps. The first failure prints
// "FAIL: <step>: <why>", saves failure-*.png and exits 1 (e2e/harness.mjs).
import { readFile } from 'node:fs/promises';
import { STORE_URL, KEFU_ORIGIN, RUN, check, step, newPage, shot, run, api, restOK, apiLogin, login, openWidget, widgetSend, conversationOf, recordWidgetEvents } from './harness.mjs';

const PAGE = '[data-testid=reports-page]';
const OPEN = '[data-testid=open-reports]';
const CARD_KEYS = ['conversations', 'buyers', 'first_response_median', 'response_rate_3m', 'queue_wait_mean',
  'abandonment_rate', 'csat_mean', 'conversion_rate', 'revenue', 'silent_share'];
const CHARTS = ['volume_by_day', 'volume_by_hour', 'heatmap', 'first_response', 'conversion'];

function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// loaded waits until the page shows the report of from..to (and nothing is loading).
async function loaded(page, from, to) {
  await page.locator(`${PAGE}[data-range="${from}..${to}"][aria-busy=false]`).waitFor();
}

// chartsLoaded waits until every chart image shows from..to and has been decoded.
async function chartsLoaded(page, from, to) {
  await page.waitForFunction(([names, range]) => names.every((n) => {
    const img = document.querySelector(`[data-testid=report-chart][data-chart="${n}"]`);
    return img && !img.hidden && img.dataset.range === range && img.complete && img.naturalWidth > 0 &&
      img.src.startsWith('blob:') && img.alt !== '';
  }), [CHARTS, `${from}..${to}`]);
}

// column answers the agent table's cells of key, top to bottom: [{text, value}].
function column(page, key) {
  return page.locator(`[data-testid=report-agent-row] td[data-key="${key}"]`).evaluateAll((tds) =>
    tds.map((td) => ({ text: td.textContent, value: td.dataset.value })));
}

async function scenario(browser, pages) {
  await step('a buyer writes and the owner answers (over REST)', async () => {
    const t = await apiLogin('owner');
    const buyer = await newPage(browser, pages, 'buyer', recordWidgetEvents);
    await buyer.goto(STORE_URL);
    await openWidget(buyer);
    const text = `报表测试 ${RUN}`;
    await widgetSend(buyer, text);
    const id = await conversationOf(buyer, text);
    await api('POST', `/conversations/${id}/accept`, t);
    await api('POST', `/conversations/${id}/messages`, t, { client_msg_id: `rep-${RUN}`, text: '亲，在的' });
    await buyer.close();
  });

  await step('小王 comes online; a plain agent has no 报表 in the console', async () => {
    const wang = await apiLogin('xiaowang');
    await api('PUT', '/me/presence', wang, { status: 'online' });
    const page = await newPage(browser, pages, 'xiaowang');
    await login(page, 'xiaowang');
    check(await page.locator(OPEN).isHidden(), 'a plain agent sees 报表');
    const res = await fetch(`${KEFU_ORIGIN}/api/v1/reports`, { headers: { Authorization: `Bearer ${wang}` } });
    check(res.status === 403, `GET /api/v1/reports as a plain agent: ${res.status}, want 403`);
    await page.close();
  });

  const owner = await newPage(browser, pages, 'owner');
  const week = await step('the owner opens 报表: the last 7 days, ten cards, the agent table, the live board', async () => {
    await login(owner, 'owner');
    await owner.locator(OPEN).click();
    await owner.locator(PAGE).waitFor({ state: 'visible' });
    check(await owner.locator('#workbench').isHidden(), 'the workbench stays in view beside the reports page');
    // The demo's history may still be folding into the reports (a slow machine): the page says so
    // and asks again until the report is complete.
    await owner.locator(`${PAGE}[data-range][aria-busy=false][data-incomplete=false]`).waitFor({ timeout: 60000 });
    const from = await owner.locator('[data-testid=report-from]').inputValue();
    const to = await owner.locator('[data-testid=report-to]').inputValue();
    check(addDays(from, 6) === to, `the default range is ${from}..${to}, want 7 days`);
    check(await owner.locator('[data-testid=report-range-7]').getAttribute('aria-pressed') === 'true', '近7天 is not marked as the range shown');
    const keys = await owner.locator('[data-testid=report-card]').evaluateAll((els) => els.map((e) => e.dataset.key));
    check(JSON.stringify(keys) === JSON.stringify(CARD_KEYS), `the cards are ${JSON.stringify(keys)}`);
    const conversations = await owner.locator('[data-testid=report-card][data-key=conversations] [data-testid=report-card-value]').textContent();
    check(Number(conversations.replace(/,/g, '')) >= 1, `the conversations card says ${JSON.stringify(conversations)} after today's conversation`);
    const revenue = await owner.locator('[data-testid=report-card][data-key=revenue] [data-testid=report-card-value]').textContent();
    check(/^¥[\d,]+\.\d\d$/.test(revenue), `the revenue card says ${JSON.stringify(revenue)}, want ¥ with 2 decimals`);
    for (const key of CARD_KEYS) {
      const v = await owner.locator(`[data-testid=report-card][data-key=${key}] [data-testid=report-card-value]`).textContent();
      check(v !== '' && !/null|undefined|NaN/.test(v), `the ${key} card says ${JSON.stringify(v)}`);
    }
    const names = (await column(owner, 'name')).map((c) => c.text);
    check(names.length >= 2, `the agent table rows: ${JSON.stringify(names)}, want the owner and 小王`);
    const headers = await owner.locator('[data-testid=report-agents] th').count();
    check(headers === 11, `the agent table has ${headers} columns, want 11`);
    const live = owner.locator('[data-testid=report-live]');
    await live.locator('.rep-live-item').first().waitFor();
    const items = await live.locator('.rep-live-item').evaluateAll((els) => els.map((e) => e.dataset.key));
    check(JSON.stringify(items) === JSON.stringify(['waiting', 'longest', 'online', 'inProgress', 'stage']), `the live board shows ${JSON.stringify(items)}`);
    const online = await live.locator('.rep-live-item[data-key=online] .rep-live-value').textContent();
    check(Number(online) >= 1, `the live board says ${online} agents online with the owner and 小王 signed in`);
    return { from, to };
  });

  await step('近30天 reloads the report and the charts; a first day typed in reloads it again', async () => {
    const from30 = addDays(week.to, -29);
    await owner.locator('[data-testid=report-range-30]').click();
    await loaded(owner, from30, week.to);
    check(await owner.locator('[data-testid=report-from]').inputValue() === from30, 'the first day input does not show the 30 days');
    check(await owner.locator('[data-testid=report-range-30]').getAttribute('aria-pressed') === 'true', '近30天 is not marked');
    await chartsLoaded(owner, from30, week.to);
    const from3 = addDays(week.to, -2);
    await owner.locator('[data-testid=report-from]').fill(from3);
    await loaded(owner, from3, week.to);
    check(await owner.locator('[data-testid=report-range-7][aria-pressed=true], [data-testid=report-range-30][aria-pressed=true]').count() === 0,
      'a quick range stays marked for a range typed in');
    await chartsLoaded(owner, from3, week.to);
    const days = await owner.locator('[data-testid=report-day-row]').count();
    check(days === 3, `the daily table has ${days} rows for 3 days`);
    await owner.locator('[data-testid=report-range-7]').click();
    await loaded(owner, week.from, week.to);
    await chartsLoaded(owner, week.from, week.to);
  });

  await step('a header sorts the agent table, and again the other way', async () => {
    const sortBy = (key) => owner.locator(`[data-testid=report-sort][data-key=${key}]`).click();
    const header = (key) => owner.locator(`[data-testid=report-agents] th[data-key=${key}]`);
    // The default: conversations, most first.
    check(await header('conversations').getAttribute('aria-sort') === 'descending', 'the table is not sorted by conversations at first');
    await sortBy('name');
    check(await header('name').getAttribute('aria-sort') === 'ascending', 'names sort A to Z first');
    check(await header('conversations').getAttribute('aria-sort') === null, 'the header sorted before keeps its aria-sort');
    const asc = (await column(owner, 'name')).map((c) => c.text);
    const sorted = await owner.evaluate((names) => names.slice().sort(new Intl.Collator('zh-CN', { numeric: true }).compare), asc);
    check(JSON.stringify(asc) === JSON.stringify(sorted), `by name: ${JSON.stringify(asc)}`);
    await sortBy('name');
    check(await header('name').getAttribute('aria-sort') === 'descending', 'a second click does not sort Z to A');
    const desc = (await column(owner, 'name')).map((c) => c.text);
    check(JSON.stringify(desc) === JSON.stringify(asc.slice().reverse()), `Z to A: ${JSON.stringify(desc)}, A to Z: ${JSON.stringify(asc)}`);
    await sortBy('conversations');
    await sortBy('conversations');
    check(await header('conversations').getAttribute('aria-sort') === 'ascending', 'conversations do not sort fewest first on the second click');
    const counts = (await column(owner, 'conversations')).map((c) => Number(c.value));
    check(counts.every((n, i) => i === 0 || counts[i - 1] <= n), `conversations, fewest first: ${JSON.stringify(counts)}`);
    await sortBy('conversations');
    const down = (await column(owner, 'conversations')).map((c) => Number(c.value));
    check(down.every((n, i) => i === 0 || down[i - 1] >= n), `conversations, most first: ${JSON.stringify(down)}`);
    check(down[0] >= 1, `the first row has ${down[0]} conversations; the owner answered one today`);
  });

  await step('the agent filter narrows the report to the owner; 全部客服 widens it again', async () => {
    const { agents } = await restOK(owner, 'GET', '/api/v1/agents');
    const id = String(agents.find((a) => a.username === 'owner').id);
    await owner.locator(`[data-testid=report-agent] option[value="${id}"]`).waitFor({ state: 'attached' });
    await owner.locator('[data-testid=report-agent]').selectOption(id);
    await owner.locator(`${PAGE}[data-filter="group= agent=${id}"][aria-busy=false]`).waitFor();
    const ids = await owner.locator('[data-testid=report-agent-row]').evaluateAll((trs) => trs.map((tr) => tr.dataset.agentId));
    check(ids.every((x) => x === id) && ids.length === 1, `with the owner's filter the agent rows are ${JSON.stringify(ids)}`);
    const silent = await owner.locator('[data-testid=report-card][data-key=silent_share] [data-testid=report-card-value]').textContent();
    check(silent === '—', `with an agent filter the silent orders card says ${JSON.stringify(silent)}, want —`);
    await owner.waitForFunction((f) => Array.from(document.querySelectorAll('[data-testid=report-chart]')).every((i) => i.dataset.filter === f && i.complete && i.naturalWidth > 0), `group= agent=${id}`);
    await owner.locator('[data-testid=report-agent]').selectOption('');
    await owner.locator(`${PAGE}[data-filter="group= agent="][aria-busy=false]`).waitFor();
    check(await owner.locator('[data-testid=report-agent-row]').count() >= 2, 'all agents do not come back without the filter');
  });

  await step('the agents CSV export downloads a file with the BOM and the header', async () => {
    const [download] = await Promise.all([
      owner.waitForEvent('download'),
      owner.locator('[data-testid=report-export][data-table=agents]').click(),
    ]);
    check(/^kefu-report-agents-.*\.csv$/.test(download.suggestedFilename()), `the file is named ${download.suggestedFilename()}`);
    const text = await readFile(await download.path(), 'utf8');
    check(text.charCodeAt(0) === 0xfeff, 'the CSV does not start with a BOM');
    const header = text.slice(1).split(/\r?\n/)[0];
    check(header.startsWith('客服ID,客服,会话数'), `the CSV header is ${JSON.stringify(header)}`);
    check(text.trim().split(/\r?\n/).length >= 2, 'the CSV has no row');
  });

  await step('the live board asks again within its 10 seconds', async () => {
    await owner.waitForResponse((r) => r.url().endsWith('/api/v1/reports/live') && r.ok(), { timeout: 15000 });
    // reports.png as the desktop shows it (docs/img/reports.png), reports-full.png all of it.
    await owner.locator(PAGE).evaluate((el) => { el.scrollTop = 0; });
    await owner.locator('[data-testid=report-sort][data-key=conversations]').blur();
    await shot(owner, 'reports.png');
    await owner.setViewportSize({ width: 1280, height: 2000 });
    await shot(owner, 'reports-full.png');
    await owner.setViewportSize({ width: 1280, height: 800 });
  });

  await step('English words the page and asks the charts in English; back goes to the workbench', async () => {
    await owner.locator('[data-testid=lang-toggle]').click();
    await owner.locator('[data-testid=report-card][data-key=conversations]', { hasText: 'Conversations' }).waitFor();
    await owner.locator('[data-testid=report-agents] th[data-key=name]', { hasText: 'Agent' }).waitFor();
    await owner.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=report-chart]')).every((i) => i.complete && i.naturalWidth > 0));
    await owner.locator('[data-testid=lang-toggle]').click();
    await owner.locator('[data-testid=report-back]').click();
    await owner.locator('#workbench').waitFor({ state: 'visible' });
    check(await owner.locator(PAGE).isHidden(), 'the reports page stays in view after 返回工作台');
    check((await owner.locator(OPEN).textContent()) === '报表', 'the top bar button does not say 报表 again');
  });
}

run('reports', scenario);
