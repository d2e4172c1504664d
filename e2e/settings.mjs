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
// not only what the page drew. Then the new agent signs in, a plain agent finds only the quick
// phrases in Settings, and a buyer who starts on the store page's 咨询售后 link reaches the 售后
// group's member.
//
// Every wait is Playwright's own (locator.waitFor, waitForFunction) with a timeout; nothing
// sleeps. The first failure prints "FAIL: <step>: <why>", saves a screenshot of every open page
// as failure-settings-*.png and exits 1 (e2e/harness.mjs).
import {
  STORE_URL, RUN, C, check, step, newPage, shot, run, login, restOK, openSettings, createGroup, setCap,
  recordWidgetEvents, openWidget, widgetSend, conversationOf, viaAftersalesLink,
} from './harness.mjs';

const NEW_AGENT = { username: 'xiaozhang', name: '小张', password: `zhang-${RUN}`, cap: 3 };

async function scenario(browser, pages) {
  const owner = await newPage(browser, pages, 'owner');
  let agents; // by username, as the API lists them

  await step('the owner signs in and opens Settings › Team', async () => {
    await login(owner, 'owner');
    await openSettings(owner, 'team');
    for (const u of ['owner', 'xiaowang', 'xiaoli']) await owner.locator(`[data-testid=agent-row][data-username=${u}]`).waitFor();
    const tabs = await owner.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    check(tabs.join() === 'settings-tab-team,settings-tab-groups,settings-tab-routing,settings-tab-phrases,settings-tab-autoreplies,settings-tab-assistant,settings-tab-origins,settings-tab-secret',
      `the owner's tabs are ${tabs.join(', ')}`);
    const label = await owner.locator(C.toggle).textContent();
    check(label.includes('返回工作台'), `with settings open the header button says ${JSON.stringify(label)}, want 返回工作台`);
    const list = await restOK(owner, 'GET', '/api/v1/agents');
    agents = Object.fromEntries(list.agents.map((a) => [a.username, a]));
  });

  await step('the owner creates group 售前 (presales) with xiaowang and 售后 (aftersales) with xiaoli', async () => {
    await openSettings(owner, 'groups');
    // The demo shop ships one group, its backup team (外包客服, docs/overflow.md).
    await owner.locator('[data-testid=group-row][data-slug=waibao]').waitFor();
    const groups = [
      { name: '售前', slug: 'presales', scope: 'presales', member: 'xiaowang', weight: '1', menu: true },
      { name: '售后', slug: 'aftersales', scope: 'aftersales', member: 'xiaoli', weight: '2', menu: false },
    ];
    const names = Object.fromEntries(Object.values(agents).map((a) => [a.username, a.name]));
    for (const g of groups) await createGroup(owner, { ...g, members: [{ username: g.member, weight: g.weight }] }, names);
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
    await setCap(owner, 'xiaoli', 8);
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
  await step('the new agent xiaozhang signs in, in a fresh browser, and has only the quick phrases of Settings', async () => {
    await login(zhang, NEW_AGENT.username, NEW_AGENT.password);
    await zhang.locator('#me-name', { hasText: NEW_AGENT.name }).waitFor();
    await plainAgentTabs(zhang);
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
    await zhang.locator('[data-testid=settings-tab-team]').waitFor();
    await openSettings(zhang, 'team');
    const tabs = await zhang.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    check(tabs.join() === 'settings-tab-team,settings-tab-groups,settings-tab-routing,settings-tab-phrases,settings-tab-autoreplies,settings-tab-assistant',
      `a supervisor's tabs are ${tabs.join(', ')}`);
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
  await step('plain agents xiaowang and xiaoli sign in and find only the quick phrases in Settings', async () => {
    for (const [page, name] of [[wang, '小王'], [li, '小丽']]) {
      await login(page, page.label);
      await page.locator('#me-name', { hasText: name }).waitFor();
      check(await page.locator(C.settings).isHidden(), `a plain agent (${page.label}) sees the settings area before opening it`);
      await plainAgentTabs(page);
      await page.locator(C.toggle).click(); // back to the workbench for the buyer below
      await page.locator('#workbench').waitFor({ state: 'visible' });
    }
  });

  await step('a buyer who follows the store page\'s 咨询售后 link reaches xiaoli, of group 售后', async () => {
    const buyer = await newPage(browser, pages, 'store', recordWidgetEvents);
    await viaAftersalesLink(buyer);
    await openWidget(buyer);
    const text = `我的订单想退货 aftersales-${RUN}`;
    await widgetSend(buyer, text);
    const id = await conversationOf(buyer, text);
    await li.locator(`[data-testid=conv-list] ${C.convItem}[data-conversation-id="${id}"]`).waitFor();
    const { conversation } = await restOK(owner, 'GET', `/api/v1/conversations/${id}`);
    check(conversation.agent_id === agents.xiaoli.id, `conversation ${id} went to agent ${conversation.agent_id}, want xiaoli (${agents.xiaoli.id})`);
    check(await wang.locator(`[data-testid=conv-list] ${C.convItem}[data-conversation-id="${id}"]`).count() === 0, 'the 售后 conversation is in xiaowang\'s list too');
  });
}

// plainAgentTabs opens Settings as a plain agent and checks it holds the quick phrases alone.
async function plainAgentTabs(page) {
  await openSettings(page, 'phrases');
  const tabs = await page.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
  check(tabs.join() === 'settings-tab-phrases', `a plain agent (${page.label}) has the tabs ${tabs.join(', ')}, want the quick phrases only`);
  await page.locator('[data-testid=phrases-personal]').waitFor();
  check(await page.locator('[data-testid=agents-table]').count() === 0, `a plain agent (${page.label}) is shown the team`);
}

run('settings and the group walk-through end to end', scenario, { failurePrefix: 'failure-settings-' });
