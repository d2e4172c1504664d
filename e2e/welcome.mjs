// Browser test of how the widget shows the shop's assistant (docs/widget.md "Who answers"), driven
// by cmd/kefu/browser_widget_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// What the server does not send yet is added on the way, so this runs against any server: the
// session answer gains `assistant` and `welcome` (page.route), and the buyer socket is proxied
// (page.routeWebSocket) to mark the conversation `assistant: true` and to slip in bot messages,
// renumbering the server's later seqs so the conversation stays gap-free. Everything the buyer
// sends goes to the real server. Every wait is Playwright's own; nothing sleeps. The first
// failure prints "FAIL: <step>: <why>", saves failure-*.png and exits 1 (e2e/harness.mjs).
import { STORE_URL, KEFU_ORIGIN, RUN, W, check, step, newPage, shot, run, openWidget, storedRow, recordWidgetEvents } from './harness.mjs';

const GREETING = `亲，欢迎光临小店～ welcome-${RUN}`;
// None of them is a question the demo shop's real assistant answers, so only this script's bot
// messages are on screen.
const QUESTIONS = ['有现货吗？', `这件是什么面料？ q-${RUN}`];
const BOT_TEXT = `亲，一般 48 小时内发货 bot-${RUN}`;
const REPLIES = ['还有别的问题', `想问问面料 qr-${RUN}`];
const S = {
  who: '[data-testid=kefu-header-who]',
  avatar: '[data-testid=kefu-header-avatar]',
  welcome: '[data-testid=kefu-welcome]',
  eta: '[data-testid=kefu-welcome-eta]',
  question: '[data-testid=kefu-quick-question]',
  reply: '[data-testid=kefu-quick-reply]',
  human: '[data-testid=kefu-human]',
  buyerRow: `${W.message}[data-sender=buyer]`,
  botRow: `${W.message}[data-sender=bot]`,
};

// Proxy is the buyer socket between the page and the server, able to add frames of its own.
class Proxy {
  constructor() {
    this.assistant = false; // what conversations say about the assistant
    this.maxReal = {};      // per conversation: the highest seq the server sent
    this.injected = {};     // per conversation: [{real, shown}] where a bot message was slipped in
    this.convs = {};        // per conversation: the last conversation object sent
  }

  // toPage maps a server seq to the one the page sees; toServer maps it back.
  toPage(c, s) { return s + (this.injected[c] || []).filter((i) => i.real < s).length; }
  toServer(c, s) { return s - (this.injected[c] || []).filter((i) => i.shown <= s).length; }

  fixConv(conv) {
    if (!conv) return;
    const c = conv.id;
    for (const k of ['last_seq', 'buyer_read_seq', 'agent_read_seq']) if (conv[k]) conv[k] = this.toPage(c, conv[k]);
    conv.assistant = this.assistant;
    this.convs[c] = conv;
  }

  fixMessage(m) {
    if (!m) return;
    this.maxReal[m.conversation_id] = Math.max(this.maxReal[m.conversation_id] || 0, m.seq);
    m.seq = this.toPage(m.conversation_id, m.seq);
  }

  fromServer(data) {
    const f = JSON.parse(data);
    if (f.type === 'ready' || f.type === 'conversation') this.fixConv(f.conversation);
    if (f.type === 'message' || f.type === 'ack') this.fixMessage(f.message);
    if (f.type === 'history') (f.messages || []).forEach((m) => this.fixMessage(m));
    if (f.type === 'read') f.seq = this.toPage(f.conversation_id, f.seq);
    return JSON.stringify(f);
  }

  fromPage(data) {
    const f = JSON.parse(data);
    if (f.type === 'sync') f.after_seq = this.toServer(f.conversation_id, f.after_seq);
    if (f.type === 'read') f.seq = this.toServer(f.conversation_id, f.seq);
    return JSON.stringify(f);
  }

  route(ws) {
    this.page = ws;
    const server = ws.connectToServer();
    server.onMessage((m) => ws.send(this.fromServer(m)));
    ws.onMessage((m) => server.send(this.fromPage(m)));
  }

  // say sends the page a bot message in conversation c, as the next seq.
  say(c, text, quickReplies, code = 'keyword') {
    const real = this.maxReal[c] || 0, shown = this.toPage(c, real) + 1;
    (this.injected[c] = this.injected[c] || []).push({ real, shown });
    this.page.send(JSON.stringify({ type: 'message', message: {
      id: 900000 + shown, conversation_id: c, seq: shown, kind: 'text', sender: 'bot', sender_name: '小蜜',
      code, rule_id: 1, text, quick_replies: quickReplies, created_at: new Date().toISOString(),
    } }));
  }

  // setAssistant marks conversation c as answered by the assistant first, or not.
  setAssistant(c, on) {
    this.assistant = on;
    const conv = { ...(this.convs[c] || { id: c, status: 'queued' }), assistant: on };
    conv.last_seq = Math.max(conv.last_seq || 0, this.toPage(c, this.maxReal[c] || 0));
    this.convs[c] = conv;
    this.page.send(JSON.stringify({ type: 'conversation', conversation: conv }));
  }
}

async function text(page, sel) { return (await page.locator(sel).textContent()) || ''; }

run('widget welcome and assistant', async (browser, pages) => {
  const proxy = new Proxy();
  const page = await newPage(browser, pages, 'welcome', recordWidgetEvents);
  const sessionURL = `${KEFU_ORIGIN}/api/v1/widget/shops/demo/session`;
  await page.route(sessionURL, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const res = await route.fetch();
    const json = await res.json();
    if (res.ok()) {
      json.assistant = { name: '小蜜', avatar: '蜜' };
      json.welcome = { greeting: GREETING, quick_questions: QUESTIONS, open: true, next_opening: '明天 09:00', eta_seconds: 45 };
    }
    await route.fulfill({ response: res, json, headers: { ...res.headers(), 'access-control-allow-origin': new URL(STORE_URL).origin } });
  });
  await page.routeWebSocket(/\/ws\/buyer/, (ws) => proxy.route(ws));

  await step('before the buyer writes: the welcome from 小蜜, the reply time and the quick questions', async () => {
    await page.goto(STORE_URL);
    await openWidget(page);
    await page.locator(S.welcome).waitFor({ state: 'visible' });
    const greeting = await text(page, `${S.welcome} [data-testid=kefu-welcome-text]`);
    check(greeting === GREETING, `the welcome says ${JSON.stringify(greeting)}, want ${JSON.stringify(GREETING)}`);
    check(await text(page, S.eta) === '预计 1 分钟内回复', `the reply time says ${JSON.stringify(await text(page, S.eta))}`);
    const qs = await page.locator(S.question).allTextContents();
    check(JSON.stringify(qs) === JSON.stringify(QUESTIONS), `the quick questions are ${JSON.stringify(qs)}`);
    check(await text(page, S.who) === '小蜜' && await page.locator(S.who).getAttribute('data-who') === 'assistant',
      `the header names ${JSON.stringify(await text(page, S.who))}, want the assistant 小蜜`);
    check(await text(page, S.avatar) === '蜜', `the header avatar shows ${JSON.stringify(await text(page, S.avatar))}, want 蜜`);
    check(await page.locator(S.human).isHidden(), '转人工 shows before there is a conversation');
    check(await page.locator(W.message).count() === 0, 'the welcome is counted as a message');
    await page.evaluate(() => window.kefu('lang', 'en'));
    check(await text(page, S.eta) === 'Usually replies within 1 min', `in English the reply time says ${JSON.stringify(await text(page, S.eta))}`);
    await page.evaluate(() => window.kefu('lang', 'zh'));
    await shot(page, 'widget-welcome.png');
  });

  let conv;
  await step('a tapped quick question is the buyer\'s message, and the welcome goes', async () => {
    await page.locator(S.question).filter({ hasText: QUESTIONS[1] }).click();
    await storedRow(page, S.buyerRow, QUESTIONS[1]).waitFor();
    await page.locator(S.welcome).waitFor({ state: 'hidden' });
    const events = await page.evaluate(() => window.__kefuEvents);
    conv = events.find((e) => e.text === QUESTIONS[1]).conversation_id;
  });

  await step('the assistant answers: its message, quick replies under it, 转人工 in the header', async () => {
    proxy.setAssistant(conv, true);
    proxy.say(conv, BOT_TEXT, REPLIES);
    const row = storedRow(page, S.botRow, BOT_TEXT);
    await row.waitFor();
    check(await row.getAttribute('data-code') === 'keyword', `the bot message has data-code ${await row.getAttribute('data-code')}`);
    const meta = await row.locator('.me').textContent();
    check(meta.startsWith('蜜小蜜'), `the bot message's name line is ${JSON.stringify(meta)}, want the avatar 蜜 and the name 小蜜`);
    const replies = await row.locator(S.reply).allTextContents();
    check(JSON.stringify(replies) === JSON.stringify(REPLIES), `quick replies under the bot message: ${JSON.stringify(replies)}`);
    await page.locator(S.human).waitFor({ state: 'visible' });
    check(await text(page, S.human) === '转人工', `the human button says ${JSON.stringify(await text(page, S.human))}`);
    check(await text(page, S.who) === '小蜜', `the header names ${JSON.stringify(await text(page, S.who))} while the assistant answers`);
    await shot(page, 'widget-assistant.png');
  });

  await step('a tapped quick reply is the buyer\'s message; a newer bot message takes the quick replies away', async () => {
    await page.locator(S.reply).filter({ hasText: REPLIES[1] }).click();
    await storedRow(page, S.buyerRow, REPLIES[1]).waitFor();
    proxy.say(conv, `好的，马上为您处理 bot2-${RUN}`, undefined);
    await storedRow(page, S.botRow, `bot2-${RUN}`).waitFor();
    await page.locator(S.reply).first().waitFor({ state: 'detached' });
  });

  await step('转人工 sends 转人工; once a person answers it goes away', async () => {
    await page.locator(S.human).click();
    await storedRow(page, S.buyerRow, '转人工').waitFor();
    proxy.setAssistant(conv, false);
    await page.locator(S.human).waitFor({ state: 'hidden' });
    // No agent is online in the demo: the conversation waits in line, and the header says so.
    const who = await page.locator(S.who).getAttribute('data-who');
    const said = await text(page, S.who);
    check(who === 'queue' && /^排队中( · 第 \d+ 位)?$/.test(said), `after the hand-over the header names ${JSON.stringify(said)} (${who}), want 排队中 · 第 N 位`);
    // Nothing doubled or lost across the renumbering.
    const seqs = await page.locator(`${W.message}[data-seq]:not([data-seq=""])`).evaluateAll((els) => els.map((e) => +e.dataset.seq));
    check(seqs.every((s, i) => s === i + 1), `seqs on screen: ${seqs.join(', ')}, want 1..${seqs.length}`);
  });

  await step('outside working hours the welcome says when agents are back', async () => {
    const off = await newPage(browser, pages, 'off-hours');
    await off.route(sessionURL, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const res = await route.fetch();
      const json = await res.json();
      json.assistant = null; // a shop without an assistant: the shop's name in the header
      json.welcome = { greeting: GREETING, quick_questions: [], open: false, next_opening: '明天 09:00', eta_seconds: 60 };
      await route.fulfill({ response: res, json, headers: { ...res.headers(), 'access-control-allow-origin': new URL(STORE_URL).origin } });
    });
    await off.goto(STORE_URL);
    await openWidget(off);
    await off.locator(S.welcome).waitFor({ state: 'visible' });
    check(await text(off, S.eta) === '当前为非工作时间，客服 明天 09:00 上线', `off hours the reply line says ${JSON.stringify(await text(off, S.eta))}`);
    check(await off.locator(S.question).count() === 0, 'quick questions shown when there are none');
    check(await off.locator(S.who).getAttribute('data-who') === 'shop', `without an assistant the header names ${await off.locator(S.who).getAttribute('data-who')}`);
    check(await off.locator(S.avatar).isHidden(), 'the header shows an avatar for the shop');
  });
});
