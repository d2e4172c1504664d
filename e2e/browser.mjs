// Browser end-to-end test of the buyer widget and the agent console, driven by
// cmd/kefu/browser_test.go against a real `kefu serve --demo`.
//
//   KEFU_STORE_URL    the demo store page (another origin than kefu: another port)
//   KEFU_CONSOLE_URL  the agent console, http://host:port/agent/
//   KEFU_ARTIFACTS    where screenshots go
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
//
// Every wait is Playwright's own (locator.waitFor, waitForFunction, waitForResponse) with a
// timeout; nothing sleeps. The first failure prints "FAIL: <step>: <why>", saves a screenshot of
// every open page as failure-*.png and exits 1 (e2e/harness.mjs).
import {
  STORE_URL, CONSOLE_URL, KEFU_ORIGIN, DESKTOP, RUN, WAIT_MS, W as WIDGET, C as CONSOLE,
  check, step, watch, newPage, shot, run, login, recordWidgetEvents, storedRow, openWidget, widgetSend, startForeignSite,
} from './harness.mjs';

const PHONE = { width: 390, height: 844 };

// Texts unique to this run, none a substring of another, so "contains the text" finds only its own.
const BUYER_TEXT = `你好，这件羽绒服有 L 码吗？ buyer-${RUN}`;
const AGENT_TEXT = `亲，L 码有货的～ agent-${RUN}`;
const HTML_TEXT = `<b>bold</b><img src=x onerror="window.__kefuInjected=1"> html-${RUN}`;

// Selectors. Playwright's CSS engine reaches into the widget's open shadow root.
const W = { ...WIDGET, list: '[data-testid=kefu-messages]' };
const C = {
  ...CONSOLE,
  queueItem: '[data-testid=queue-item]',
  accept: '[data-testid=accept-conversation]',
  chat: '#chat',
  list: '#msg-list',
};

// exactlyOnce asserts each text is in exactly one message row and that no seq repeats.
async function exactlyOnce(page, label, rowSel, texts) {
  for (const text of texts) {
    const n = await page.locator(rowSel).filter({ hasText: text }).count();
    check(n === 1, `${label}: ${n} message rows contain ${JSON.stringify(text)}, want exactly 1`);
  }
  const seqs = await page.locator(`${rowSel}[data-seq]:not([data-seq=""])`).evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')));
  const dup = seqs.filter((s, i) => seqs.indexOf(s) !== i);
  check(dup.length === 0, `${label}: seq ${dup.join(', ')} shown more than once (seqs on screen: ${seqs.join(', ')})`);
  check(seqs.length > 0, `${label}: no stored messages on screen`);
}

async function widgetEventsOnce(page, label) {
  const events = await page.evaluate(() => window.__kefuEvents || []);
  const keys = events.map((e) => `${e.conversation_id}/${e.seq}`);
  const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
  check(dup.length === 0, `${label}: the widget emitted 'message' more than once for ${dup.join(', ')}`);
  return events;
}

// noHTML asserts that a message that looks like HTML became text, not elements.
async function noHTML(page, label, listSel, rowSel) {
  const row = storedRow(page, rowSel, `html-${RUN}`);
  await row.waitFor();
  const tags = await page.locator(`${listSel} b, ${listSel} img`).count();
  check(tags === 0, `${label}: a message text was rendered as HTML (${tags} <b>/<img> elements in the message list)`);
  const shown = await row.locator('[data-testid=kefu-text], [data-testid=chat-text]').first().textContent();
  check(shown === HTML_TEXT, `${label}: HTML-looking message shows as ${JSON.stringify(shown)}, want the literal text ${JSON.stringify(HTML_TEXT)}`);
  const injected = await page.evaluate(() => window.__kefuInjected);
  check(injected === undefined, `${label}: markup inside a message ran as HTML (onerror fired)`);
}

// closeCode opens a WebSocket from page and returns how it ended: 1006 means refused before the
// upgrade (what an origin check does); 4401 means upgraded and then refused for the token.
function closeCode(page, url) {
  return page.evaluate((u) => new Promise((resolve) => {
    const ws = new WebSocket(u);
    ws.onclose = (e) => resolve(e.code);
  }), url);
}

async function scenario(browser, pages, foreign) {
  const buyerCtx = await browser.newContext({ viewport: DESKTOP });
  await buyerCtx.addInitScript(recordWidgetEvents);
  const agentCtx = await browser.newContext({ viewport: DESKTOP });
  const storePage = watch(await buyerCtx.newPage(), 'store');
  const consolePage = watch(await agentCtx.newPage(), 'console');
  pages.push(storePage, consolePage);

  await step('store page loads the widget from the kefu origin', async () => {
    check(new URL(STORE_URL).origin !== KEFU_ORIGIN, `store ${STORE_URL} and kefu ${KEFU_ORIGIN} share an origin`);
    await storePage.goto(STORE_URL);
    await storePage.locator(W.bubble).waitFor({ state: 'visible' });
    check(await storePage.locator(W.panel).isHidden(), 'widget panel is open before the bubble was clicked');
  });

  let convId;
  await step('buyer opens the widget and sends a message', async () => {
    await openWidget(storePage);
    await widgetSend(storePage, BUYER_TEXT);
    const events = await widgetEventsOnce(storePage, 'widget');
    const mine = events.find((e) => e.text === BUYER_TEXT);
    check(mine && mine.conversation_id, `the widget emitted no 'message' event for the buyer's message (events: ${JSON.stringify(events)})`);
    convId = mine.conversation_id;
    console.log(`  conversation ${convId}, seq ${mine.seq}`);
  });

  await step('agent xiaowang logs in to the console', () => login(consolePage, 'xiaowang'));

  const convItem = consolePage.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
  await step('agent finds the conversation and opens it', async () => {
    // The buyer wrote while no agent was online, so it may still wait in the queue; the
    // protocol assigns it when an agent comes online, but accepting by hand is fine too.
    const queued = consolePage.locator(`${C.queueItem}[data-conversation-id="${convId}"]`);
    await convItem.or(queued).first().waitFor();
    if (!(await convItem.isVisible())) {
      console.log('  conversation is in the queue: accepting it');
      // Routing may give it to this agent (now online) while the button is
      // being clicked: the button then leaves with the queue item. Either
      // way the conversation ends up among the agent's own.
      await queued.locator(C.accept).click({ timeout: 3000 }).catch(() => {
        console.log('  it was assigned before the click');
      });
      await convItem.waitFor();
    }
    await convItem.click();
    await consolePage.locator(C.chat).waitFor({ state: 'visible' });
    await storedRow(consolePage, `${C.message}[data-sender=buyer]`, BUYER_TEXT).waitFor();
  });

  await step('agent answers', async () => {
    await consolePage.locator(C.input).fill(AGENT_TEXT);
    await consolePage.locator(C.send).click();
    await storedRow(consolePage, `${C.message}[data-sender=agent]`, AGENT_TEXT).waitFor();
    await shot(consolePage, 'console-chat.png');
  });

  await step("the widget shows the agent's answer", async () => {
    await storedRow(storePage, `${W.message}[data-sender=agent]`, AGENT_TEXT).waitFor();
    await shot(storePage, 'widget-open.png');
  });

  await step('an HTML-looking message is shown as text in the widget and the console', async () => {
    await widgetSend(storePage, HTML_TEXT);
    await noHTML(storePage, 'widget', W.list, W.message);
    await noHTML(consolePage, 'console', C.list, C.message);
  });

  await step('after a reload the widget shows each message exactly once', async () => {
    await storePage.reload();
    await openWidget(storePage);
    // The newest message arriving means the history sync has been applied.
    await storedRow(storePage, W.message, `html-${RUN}`).waitFor();
    await storedRow(storePage, W.message, BUYER_TEXT).waitFor();
    await storedRow(storePage, W.message, AGENT_TEXT).waitFor();
    await exactlyOnce(storePage, 'widget after reload', W.message, [BUYER_TEXT, AGENT_TEXT, `html-${RUN}`]);
    await widgetEventsOnce(storePage, 'widget after reload');
    check(await storePage.locator(`${W.list} b, ${W.list} img`).count() === 0, 'widget after reload: a message text was rendered as HTML');
    await shot(storePage, 'widget-after-reload.png');
  });

  await step('after a reload the console shows each message exactly once', async () => {
    await consolePage.reload();
    await convItem.waitFor();
    if ((await convItem.locator('[aria-current=true]').count()) === 0) {
      console.log('  the console did not reopen the conversation after the reload: opening it');
      await convItem.click();
    }
    await consolePage.locator(C.chat).waitFor({ state: 'visible' });
    await storedRow(consolePage, C.message, `html-${RUN}`).waitFor();
    await storedRow(consolePage, C.message, BUYER_TEXT).waitFor();
    await storedRow(consolePage, C.message, AGENT_TEXT).waitFor();
    await exactlyOnce(consolePage, 'console after reload', C.message, [BUYER_TEXT, AGENT_TEXT, `html-${RUN}`]);
    check(await consolePage.locator(`${C.list} b, ${C.list} img`).count() === 0, 'console after reload: a message text was rendered as HTML');
    await shot(consolePage, 'console-after-reload.png');
  });

  await step('on a phone the open widget fills the screen', async () => {
    const phone = watch(await buyerCtx.newPage(), 'phone');
    pages.push(phone);
    await phone.setViewportSize(PHONE);
    await phone.goto(STORE_URL);
    await openWidget(phone);
    await storedRow(phone, W.message, `html-${RUN}`).waitFor();
    await exactlyOnce(phone, 'widget on a phone', W.message, [BUYER_TEXT, AGENT_TEXT, `html-${RUN}`]);
    // Measure where the panel ends up, not a frame of its opening animation.
    await phone.locator(W.panel).evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
    const box = await phone.locator(W.panel).boundingBox();
    check(box && Math.round(box.x) === 0 && Math.round(box.y) === 0 && Math.round(box.width) === PHONE.width && Math.round(box.height) === PHONE.height,
      `widget panel on a ${PHONE.width}x${PHONE.height} screen is ${JSON.stringify(box)}, want the whole viewport (docs/widget.md)`);
    await shot(phone, 'widget-phone.png');
    await phone.close();
  });

  await step('a logged-in buyer is identified and the agent sees their orders', async () => {
    const signed = await newPage(browser, pages, 'signed', recordWidgetEvents);
    await signed.goto(STORE_URL);
    await signed.locator(W.bubble).waitFor({ state: 'visible' });
    // The demo store's own server signs buyer u1001 (张三); the page passes it to kefu('identify').
    await signed.locator('#login').click();
    await signed.locator('#who', { hasText: '张三' }).waitFor();
    await openWidget(signed);
    const text = `订单 2026111100123 什么时候到？ signed-${RUN}`;
    await widgetSend(signed, text);
    const events = await widgetEventsOnce(signed, 'signed widget');
    const mine = events.find((e) => e.text === text);
    check(mine && mine.conversation_id, 'the signed-in widget emitted no message event');
    const item = consolePage.locator(`${C.convItem}[data-conversation-id="${mine.conversation_id}"]`);
    await item.waitFor();
    await item.click();
    await storedRow(consolePage, `${C.message}[data-sender=buyer]`, text).waitFor();
    await consolePage.locator('[data-testid=buyer-panel]', { hasText: '张三' }).waitFor();
    await consolePage.locator('[data-testid=order-item]', { hasText: '2026111100123' }).waitFor();
    await shot(consolePage, 'console-orders.png');
    await signed.context().close();
  });

  await step('a message typed offline survives closing the tab and is sent once, when back online', async () => {
    const off = await newPage(browser, pages, 'offline');
    const offCtx = off.context();
    await off.goto(STORE_URL);
    await openWidget(off);
    const first = `before the tunnel ${RUN}`;
    await widgetSend(off, first);
    // Cut the socket from the page's side, as a phone entering a tunnel would.
    await offCtx.setOffline(true);
    await off.evaluate(() => window.dispatchEvent(new Event('offline')));
    // The buyer is told, not left guessing.
    const banner = off.locator('[data-testid=kefu-offline]');
    await banner.waitFor();
    check((await banner.textContent()).includes('网络已断开'), `the offline banner says ${JSON.stringify(await banner.textContent())}`);
    const text = `typed in the tunnel ${RUN}`;
    await off.locator(W.input).fill(text);
    await off.locator(W.send).click();
    // Shown at once as pending (no seq yet), kept in the outbox.
    await off.locator(`${W.message}[data-sender=buyer]`).filter({ hasText: text }).waitFor();
    const pending = await off.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(':outbox')).map((k) => localStorage.getItem(k)).join(''));
    check(pending.includes(text), 'the message typed offline is not in the outbox');
    // The shopper gives up and closes the tab while still offline; later, back online, they
    // open the store again: the widget delivers what was typed, once.
    await off.close();
    await offCtx.setOffline(false);
    const back = watch(await offCtx.newPage(), 'back-online');
    pages.push(back);
    await back.goto(STORE_URL);
    await openWidget(back);
    await storedRow(back, `${W.message}[data-sender=buyer]`, text).waitFor();
    await exactlyOnce(back, 'widget back online', W.message, [first, text]);
    check(await back.locator('[data-testid=kefu-offline]').isHidden(), 'the offline banner shows on a page that is online');
    // The outbox lets go of it on its ack, which follows the message frame that showed it stored.
    const cleared = await back.waitForFunction((t) => !Object.keys(localStorage).filter((k) => k.endsWith(':outbox'))
      .map((k) => localStorage.getItem(k)).join('').includes(t), text, { timeout: WAIT_MS }).then(() => true, () => false);
    check(cleared, 'the delivered message is still in the outbox');
    await offCtx.close();
  });

  await step('the widget works with the keyboard alone, in English on request', async () => {
    const kb = await newPage(browser, pages, 'keyboard');
    const url = new URL(STORE_URL);
    url.searchParams.set('lang', 'en');
    await kb.goto(url.toString());
    await kb.locator(W.bubble).waitFor({ state: 'visible' });
    // Tab until the bubble has focus: it is a real button in the page's tab order.
    for (let i = 0; i < 30; i++) {
      await kb.keyboard.press('Tab');
      if (await kb.locator(W.bubble).evaluate((el) => el.getRootNode().activeElement === el)) break;
    }
    check(await kb.locator(W.bubble).evaluate((el) => el.getRootNode().activeElement === el), 'the chat bubble never took keyboard focus');
    await kb.keyboard.press('Enter');
    await kb.locator(W.panel).waitFor({ state: 'visible' });
    const ph = await kb.locator(W.input).getAttribute('placeholder');
    check(/[A-Za-z]/.test(ph) && !/[\u4e00-\u9fff]/.test(ph), `data-lang=en: the input placeholder is ${JSON.stringify(ph)}, want English`);
    await kb.locator(W.input).focus();
    const text = `keyboard only ${RUN}`;
    await kb.keyboard.type(text);
    await kb.keyboard.press('Enter');
    await storedRow(kb, `${W.message}[data-sender=buyer]`, text).waitFor();
    // The system line about the agent is worded in English too (it is stored in Chinese).
    await kb.locator(`${W.message}[data-sender=system]`).filter({ hasText: 'is here to help' }).waitFor();
    await kb.keyboard.press('Escape');
    await kb.locator(W.panel).waitFor({ state: 'hidden' });
    check(await kb.locator(W.bubble).evaluate((el) => el.getRootNode().activeElement === el), 'Escape did not return focus to the bubble');
    await kb.context().close();
  });

  await step('the console speaks English on request', async () => {
    const en = await newPage(browser, pages, 'console-en');
    await en.goto(CONSOLE_URL + '?lang=en');
    await en.locator(C.submit).waitFor();
    const label = await en.locator(C.submit).textContent();
    check(/[A-Za-z]/.test(label) && !/[\u4e00-\u9fff]/.test(label), `?lang=en: the sign-in button says ${JSON.stringify(label)}, want English`);
    await en.goto(CONSOLE_URL);
    const zh = await en.locator(C.submit).textContent();
    check(/[\u4e00-\u9fff]/.test(zh), `by default the sign-in button says ${JSON.stringify(zh)}, want Chinese`);
    await en.context().close();
  });

  await step('sockets check their origin before the upgrade', async () => {
    const ws = KEFU_ORIGIN.replace(/^http/, 'ws');
    // The store page is a registered buyer origin: a bad token is refused after the upgrade.
    check(await closeCode(storePage, `${ws}/ws/buyer?token=bogus`) === 4401, 'buyer socket from the store page with a bad token did not close with 4401');
    // The agent socket belongs to the kefu origin only.
    const fromStore = await closeCode(storePage, `${ws}/ws/agent?token=bogus`);
    check(fromStore === 1006, `agent socket opened from the store page's origin: closed with ${fromStore}, want 1006 (403 before the upgrade)`);
    const fromConsole = await closeCode(consolePage, `${ws}/ws/agent?token=bogus`);
    check(fromConsole === 4401, `agent socket from the console with a bad token closed with ${fromConsole}, want 4401`);
  });

  await step('the widget on an unregistered origin gets no session and no socket', async () => {
    const foreignURL = `http://127.0.0.1:${foreign.address().port}/`;
    const page = await newPage(browser, pages, 'foreign');
    const ctx = page.context();
    const sockets = [];
    page.on('websocket', (s) => sockets.push(s.url()));
    const sessionURL = `${KEFU_ORIGIN}/api/v1/widget/shops/demo/session`;
    // The preflight lets the browser through; the POST is refused with a 403 the page can read
    // (CORS for its origin), so the widget says chat is unavailable (e2e/unavailable.mjs).
    const refused = page.waitForResponse((r) => r.url() === sessionURL && r.request().method() === 'POST');
    await page.goto(foreignURL);
    check((await refused).status() === 403, 'the widget session from an unregistered origin was not refused with 403');
    // What the server says to that origin (a request context may set Origin itself).
    const origin = new URL(foreignURL).origin;
    for (const [method, status] of [['OPTIONS', 204], ['POST', 403]]) {
      const res = await ctx.request.fetch(sessionURL, {
        method,
        headers: { Origin: origin, 'Content-Type': 'application/json', 'Access-Control-Request-Method': 'POST' },
        data: method === 'POST' ? { visitor_id: 'v_' + RUN + RUN } : undefined,
      });
      const body = await res.json().catch(() => ({}));
      check(res.status() === status && (status === 204 || (body.error && body.error.code === 'origin_not_allowed' && !body.token)),
        `${method} widget session from ${origin}: got ${res.status()} ${JSON.stringify(body)}, want ${status}${status === 403 ? ' origin_not_allowed' : ''}`);
      check(res.headers()['access-control-allow-origin'] === origin, `${method} widget session from ${origin}: Access-Control-Allow-Origin ${res.headers()['access-control-allow-origin']}, want ${origin} (the refusal is readable)`);
    }
    await page.locator(W.bubble).waitFor({ state: 'visible' }); // it stays on the page, unavailable
    check(sockets.length === 0, `the widget on an unregistered origin opened sockets: ${sockets.join(', ')}`);
    // Cross-site WebSocket hijacking: a valid buyer token (issued to the store's origin) used
    // from another site must be refused before the upgrade. A bad token cannot name its shop, so
    // only a good one tests the origin check.
    const storeOrigin = new URL(STORE_URL).origin;
    const res = await ctx.request.post(sessionURL, { headers: { Origin: storeOrigin }, data: { visitor_id: 'v_' + RUN + 'hijack' } });
    check(res.ok(), `widget session for ${storeOrigin}: got ${res.status()} ${await res.text()}`);
    const { token } = await res.json();
    const ws = `${KEFU_ORIGIN.replace(/^http/, 'ws')}/ws/buyer?token=${encodeURIComponent(token)}`;
    const code = await closeCode(page, ws);
    check(code === 1006, `buyer socket with a valid token from unregistered origin ${origin} closed with ${code}, want 1006 (403 before the upgrade)`);
    // The same token from the store page opens (and this test closes it: 1000 after ready).
    const opened = await storePage.evaluate((u) => new Promise((resolve) => {
      const s = new WebSocket(u);
      s.onmessage = (e) => { resolve(JSON.parse(e.data).type); s.close(1000); };
      s.onclose = (e) => resolve('closed ' + e.code);
    }), ws);
    check(opened === 'ready', `buyer socket with a valid token from the store page: got ${opened}, want a ready frame`);
    await ctx.close();
  });
}

let foreign;
run('widget and console end to end', async (browser, pages) => {
  foreign = await startForeignSite();
  await scenario(browser, pages, foreign);
}, { after: () => foreign && foreign.close() });
