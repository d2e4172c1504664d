// Browser end-to-end test of the "tried as a new user" walk-through, driven by
// cmd/kefu/browser_walkthrough_test.go against a real `kefu serve --demo` whose presence grace
// is 2 s, so that an agent's departure is seen quickly.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//   KEFU_PRESENCE_GRACE_MS  the server's presence grace (default 2000, the Go test's); against a
//                     server started as the README says (30 s grace), set 30000
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
// open page as failure-walk-*.png and exits 1 (e2e/harness.mjs).
import {
  RUN, WAIT_MS, W as WIDGET, C as CONSOLE, Failure, check, step, newPage, shot as harnessShot, run, login,
  restOK, openSettings, createGroup, setCap, pickTarget, expectBanner, closeConfirmed, recordWidgetEvents,
  storedRow, openWidget, widgetSend, conversationOf, viaAftersalesLink,
} from './harness.mjs';

// The departure is seen once the server's presence grace has passed.
const GRACE_MS = Number(process.env.KEFU_PRESENCE_GRACE_MS || 2000);

// Texts unique to this run, none a substring of another.
const TEXT_A = `我的订单想退货 buyer-a-${RUN}`;
const ANSWER_A = `亲，已为您登记退货 answer-a-${RUN}`;
const TEXT_C = `收到的衣服有破损 buyer-c-${RUN}`;
const TEXT_B = `退款什么时候到账？ buyer-b-${RUN}`;
const NOTE = `买家要退货，已核对订单 note-${RUN}`;

const W = {
  ...WIDGET,
  status: '[data-testid=kefu-panel] .sub', // the header's line under the shop name (docs/widget.md §2)
  queue: '[data-testid=kefu-queue]',
};
const C = {
  ...CONSOLE,
  presence: '[data-testid=presence-select]',
  convItem: '[data-testid=conv-list] [data-testid=conv-item]',
  queueItem: '[data-testid=queue-list] [data-testid=queue-item]',
};

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

// shot is the harness's, once a console's toasts (they last 5 s), which would cover the banner or
// the lines a screenshot is for, are gone.
async function shot(page, name) {
  if (await page.locator('#toasts').count() > 0) await page.locator('#toasts .toast').first().waitFor({ state: 'detached', timeout: 8000 });
  await harnessShot(page, name);
}

// buyerWrites opens the store page in its own browser, follows the 咨询售后 link, opens the
// widget and writes text; answers the conversation's id.
async function buyerWrites(buyer, text) {
  await viaAftersalesLink(buyer);
  await openWidget(buyer);
  await widgetSend(buyer, text);
  const id = await conversationOf(buyer, text);
  console.log(`  ${buyer.label}: conversation ${id}`);
  return id;
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
    // The demo shop ships one group, its backup team (外包客服, docs/overflow.md).
    await owner.locator('[data-testid=group-row][data-slug=waibao]').waitFor();
    const groups = [
      { name: '售前', slug: 'presales', scope: 'presales', members: ['xiaowang'] },
      { name: '售后', slug: 'aftersales', scope: 'aftersales', members: ['xiaoli', 'xiaowang'] },
    ];
    const names = Object.fromEntries(Object.values(agents).map((a) => [a.username, a.name]));
    for (const g of groups) await createGroup(owner, { ...g, members: g.members.map((username) => ({ username })) }, names);
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
    await setCap(owner, 'xiaoli', 1);
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
    await closeConfirmed(li);
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
    await pickTarget(li, '小王');
    await li.locator(C.note).fill(NOTE);
    await li.locator(C.handoverSend).click();
    await liRow.waitFor({ state: 'detached' });
    await li.locator(C.notice, { hasText: '会话已转接' }).waitFor();

    const wangRow = wang.locator(`${C.convItem}[data-conversation-id="${idC}"]`);
    await wangRow.waitFor();
    await wangRow.click();
    await storedRow(wang, `${C.message}[data-sender=buyer]`, TEXT_C).waitFor();
    await expectBanner(wang, '小丽', NOTE);

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
    await rowOf(b).or(rowOf(c)).first().waitFor({ timeout: GRACE_MS + WAIT_MS })
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

run('the new-user walk-through end to end', scenario, { failurePrefix: 'failure-walk-' });
