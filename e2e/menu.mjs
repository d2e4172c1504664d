// Browser test of the widget's group menu (docs/widget.md "data-group"), driven by
// cmd/kefu/browser_menu_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// The demo owner marks two groups for the menu over REST; a buyer on the store page sees them,
// picks 售后服务 and writes; the conversation is routed to that group. Every wait is Playwright's
// own; nothing sleeps. The first failure prints "FAIL: <step>: <why>", saves failure-menu.png and
// exits 1 (e2e/harness.mjs).
import { STORE_URL, RUN, check, step, newPage, shot, run, api, apiLogin } from './harness.mjs';

const TEXT = `我买的衣服想退货 menu-${RUN}`;

async function scenario(browser, pages) {
  const owner = await step('the demo owner marks 售前咨询 and 售后服务 for the widget menu', async () => {
    const token = await apiLogin('owner');
    const { agents } = await api('GET', '/agents', token);
    const id = (u) => agents.find((a) => a.username === u).id;
    await api('POST', '/groups', token, { slug: 'presales', name: '售前咨询', scope: 'presales', menu: true, members: [{ agent_id: id('xiaowang') }] });
    const { group } = await api('POST', '/groups', token, { slug: 'aftersales', name: '售后服务', scope: 'aftersales', menu: true, members: [{ agent_id: id('xiaoli') }] });
    return { token, aftersales: group.id };
  });

  const page = await newPage(browser, pages, 'menu');
  await step('the buyer sees the menu and picks 售后服务', async () => {
    await page.goto(STORE_URL);
    await page.locator('[data-testid=kefu-bubble]').click();
    const items = page.locator('[data-testid=kefu-menu-item]');
    await items.first().waitFor();
    const names = await items.allTextContents();
    check(names.join('/') === '售前咨询/售后服务', `menu shows ${JSON.stringify(names)}, want 售前咨询/售后服务`);
    await items.filter({ hasText: '售后服务' }).click();
    check(await items.filter({ hasText: '售后服务' }).getAttribute('aria-pressed') === 'true', 'the pick is not marked');
    await shot(page, 'widget-menu.png');
  });

  await step('the conversation the message starts is routed to 售后服务, and the menu goes away', async () => {
    await page.locator('[data-testid=kefu-input]').fill(TEXT);
    await page.locator('[data-testid=kefu-send]').click();
    await page.locator('[data-testid=kefu-message][data-sender=buyer]').filter({ hasText: TEXT }).waitFor();
    await page.locator('[data-testid=kefu-menu]').waitFor({ state: 'hidden' });
    const { conversations } = await api('GET', '/conversations', owner.token);
    const conv = conversations.find((c) => c.last_message && c.last_message.text === TEXT) ||
      conversations.find((c) => c.buyer && c.last_seq >= 1 && c.group_id === owner.aftersales);
    check(conv, `no conversation with the buyer's message in ${JSON.stringify(conversations.map((c) => c.id))}`);
    check(conv.group_id === owner.aftersales, `conversation ${conv.id} is routed to group ${conv.group_id}, want 售后服务 (${owner.aftersales})`);
  });
}

run('widget menu', scenario);
