/*! kefu buyer chat widget. Embedding and JS API: docs/widget.md. Wire protocol: docs/protocol.md. */
(function () {
  'use strict';
  var W = window, D = document;
  if (W.kefu && W.kefu.loaded) return; // included twice: the first copy keeps the socket

  // ---------------------------------------------------------------- configuration
  // currentScript only exists while this file runs synchronously, so read the tag now.
  var me = D.currentScript || D.querySelector('script[data-shop][src*="widget"]');
  var shop = me && me.getAttribute('data-shop');
  if (!shop) return console.error('kefu: the widget <script> needs data-shop');
  var src = new URL(me.src, location.href);
  var cut = src.pathname.indexOf('/widget');
  // kefu may live under a path prefix (https://host/kefu/widget.js): keep it for API calls.
  var base = src.origin + (cut > 0 ? src.pathname.slice(0, cut) : '');
  var lang = pickLang(me.getAttribute('data-lang'));
  // Where a conversation this page starts is routed: a group's slug (data-group, or
  // kefu('group', …)) and the order the buyer asks about (kefu('order', …)). See docs/widget.md.
  var group = slug(me.getAttribute('data-group')), orderNo = '';
  // Without a page group, the buyer may pick one from the shop's menu (the session's menu).
  var picked = '';
  function slug(g) { return /^[a-z0-9][a-z0-9_-]{0,31}$/.test(g || '') ? g : ''; }

  // Calls made before this file loaded sit in kefu.q (see docs/widget.md); keep a stub until boot.
  W.kefu = W.kefu || function () { (W.kefu.q = W.kefu.q || []).push(arguments); };

  var T = {
    zh: {
      title: '在线客服', open: '联系客服', close: '关闭', send: '发送', list: '聊天记录', input: '输入消息',
      ph: '输入消息，Enter 发送', pending: '发送中…', read: '已读', unread: '未读',
      failed: '发送失败', typing: '对方正在输入…', queue: '您排在第 {n} 位', eta: '，预计等待约 {n} 分钟', connecting: '连接中…',
      hello: '您好，有什么可以帮您？', queued: '正在为您转接客服，请稍候', serving: '客服 {n} 为您服务',
      closed: '会话已结束，发送消息可重新咨询', ended: '会话已结束', newConv: '新会话', menu: '请选择咨询类型', offline: '网络已断开，恢复后消息会自动发出',
      unavailable: '在线客服暂时无法使用', human: '转人工', inLine: '排队中', inLineN: '排队中 · 第 {n} 位', bot: '智能客服',
      replyEta: '预计 {n} 分钟内回复', offHours: '当前为非工作时间，客服 {n} 上线', offHoursNow: '当前为非工作时间', quick: '猜你想问',
      sendP: '发送商品', orders: '我的订单', rate: '请为本次服务评分', ratePh: '说说您的感受（选填）', rateSend: '提交评价',
      thanks: '感谢您的评价！', invited: '客服邀请您对本次服务进行评价', star: '{n} 星', rateFail: '评价未提交，请重试',
      sts: '待付款,待付款,已下单,已付款,已发货,已签收,退款中,已退款,已完成,已取消,已取消,已关闭,退货中,售后中,纠纷中'
    },
    en: {
      title: 'Customer service', open: 'Chat with us', close: 'Close', send: 'Send', list: 'Messages',
      input: 'Message', ph: 'Type a message, Enter to send', pending: 'Sending…', read: 'Read',
      unread: 'Delivered', failed: 'Not sent', typing: 'Typing…', queue: 'You are number {n} in line', eta: ', about {n} min',
      connecting: 'Connecting…', hello: 'Hi! How can we help?', queued: 'Finding an agent for you…',
      serving: '{n} is here to help', closed: 'Chat ended. Send a message to start a new one.', ended: 'Chat ended',
      newConv: 'New conversation', menu: 'What can we help with?', offline: 'You are offline; your messages go out when you are back',
      unavailable: 'Chat is unavailable on this page', human: 'Talk to a person', inLine: 'In line', inLineN: 'In line · number {n}', bot: 'Assistant',
      replyEta: 'Usually replies within {n} min', offHours: 'Outside working hours; agents are back {n}', offHoursNow: 'Outside working hours', quick: 'Common questions',
      sendP: 'Send product', orders: 'My orders', rate: 'How was our service?', ratePh: 'Tell us more (optional)', rateSend: 'Submit',
      thanks: 'Thank you for your feedback!', invited: 'The agent invites you to rate the service', star: '{n} stars', rateFail: 'Not sent, try again',
      sts: ''
    }
  };
  function pickLang(l) { return /^en/i.test(l || '') ? 'en' : 'zh'; }
  // A function replacement: a shop's text (next_opening) may hold "$&".
  function t(k, n) { return T[lang][k].replace('{n}', function () { return n; }); }
  // An order status in words: the console's Chinese ones (strings/buyer.js), in English the code.
  var STS = 'unpaid pending created paid shipped delivered refunding refunded completed cancelled canceled closed returning after_sale in_dispute'.split(' ');
  function stName(s) {
    s = String(s || '');
    return t('sts').split(',')[STS.indexOf(s)] || s.charAt(0).toUpperCase() + s.slice(1).replace('_', ' ');
  }

  // ---------------------------------------------------------------- storage
  // localStorage can throw (sandboxed frames, full quota): fall back to memory for this page.
  var KEY = 'kefu:' + shop + ':', mem = {};
  function load(k) { try { return localStorage.getItem(KEY + k); } catch (e) { return mem[k] || null; } }
  function save(k, v) { mem[k] = v; try { localStorage.setItem(KEY + k, v); } catch (e) { /* memory only */ } }
  function hex(n) {
    var a = crypto.getRandomValues(new Uint8Array(n)), s = '';
    for (var i = 0; i < n; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }
  function newVisitor() { var v = 'v_' + hex(16); save('visitor', v); return v; }
  var visitor = load('visitor');
  if (!/^[\w-]{8,64}$/.test(visitor || '')) visitor = newVisitor();

  // The outbox is read from storage on every use (never cached) so tabs of one shop share it:
  // a message typed in any tab is delivered by whichever socket is up, once (client_msg_id).
  function outbox() { try { return JSON.parse(load('outbox')) || []; } catch (e) { return []; } }
  function unqueue(id) { save('outbox', JSON.stringify(outbox().filter(function (i) { return i.id !== id; }))); }
  // A line typed by a signed-in buyer (b) is shown and sent only for that buyer: on a shared
  // device the next person never sees it nor sends it as their own. A visitor's lines go with
  // whoever signs in on this browser.
  function own(i) { return !i.b || !!identity && i.b === identity.buyer_id; }
  function showOutbox() { pend.textContent = ''; outbox().forEach(function (i) { if (own(i)) showPending(i); }); }

  // ---------------------------------------------------------------- state
  var identity = null;      // {buyer_id, name, signature} from kefu('identify')
  var sess = null;          // last session answer: {token, expires_at, socket_url, shop, menu, assistant, welcome}
  var shopName = '';
  // The shop's assistant ({name, avatar}) and welcome block from the session, both optional;
  // unavail: the session was refused for good (origin_not_allowed, shop_not_found); known: a
  // ready frame has said which conversation is the buyer's latest.
  var assistant = null, welcome = null, unavail = false, known = false;
  var ws = null, isReady = false, busy = false, started = false, gen = 0;
  var attempt = 0, retryT = 0, pingT = 0, deadT = 0, hbMs = 25000, upAt = 0;
  var cur = 0;              // newest conversation shown
  // Per conversation id: highest seq shown, out-of-order messages waiting for a gap to fill,
  // sync in flight, last conversation object, seq read by the agent / by us (local, sent),
  // highest seq not written by the buyer.
  var seen = {}, held = {}, syncing = {}, conv = {}, agentRead = {}, readSeq = {}, sentRead = {}, lastOther = {};
  var queuePos = 0, queueEta = 0, typingT = 0, lastTyping = 0, isOpen = false, unread = -1;
  var handlers = {};
  var host, root, wrap, bubble, badge, panel, nameEl, subEl, closeBtn, queueEl, list, pend, typingEl, menuEl, offEl, input, sendBtn;
  var avEl, humanBtn, unEl, welEl, ftEl;
  // The product the page shows (kefu('product')), its preview, 我的订单 and its list.
  var prod = null, pvEl, ordBtn, olEl;
  // The rating (CSAT) block: its stars, comment box and submit, the thank-you; the stars picked,
  // the conversations rated from this page (thanked) and the one whose rate frame is in flight.
  var csEl, csAsk, csStars, csText, csSend, csThanks, csErr, csPick = 0, thanked = {}, rating = 0;

  // ---------------------------------------------------------------- view
  var CSS = '*{box-sizing:border-box}[hidden]{display:none!important}' +
    '.w{font:14px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Helvetica Neue",Arial,sans-serif;color:#333;-webkit-font-smoothing:antialiased}' +
    'button{font:inherit;cursor:pointer}' +
    'button:focus-visible{outline:2px solid #ff5000;outline-offset:2px}.ls:focus-visible{outline:2px solid #ff5000;outline-offset:-2px}' +
    '.bub{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border:0;border-radius:50%;padding:0;background:#ff5000;color:#fff;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 16px rgba(255,80,0,.35);transition:transform .15s}' +
    '.bub:hover{transform:scale(1.06)}.bub svg{width:28px;height:28px;fill:currentColor}' +
    '.bdg{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border:2px solid #fff;border-radius:10px;background:#f5222d;color:#fff;font-size:11px;line-height:16px;font-weight:600;text-align:center}' +
    '.pan{position:fixed;right:20px;bottom:88px;width:370px;height:min(580px,calc(100vh - 108px));display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.18);animation:in .18s ease-out}' +
    '@keyframes in{from{opacity:0;transform:translateY(12px)}}' +
    '.hd{display:flex;align-items:center;gap:8px;padding:12px 10px 12px 16px;background:linear-gradient(90deg,#ff7a00,#ff5000);color:#fff}' +
    '.tt{flex:1;min-width:0}.nm{font-size:15px;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.sub{font-size:12px;opacity:.9}' +
    '.x{width:32px;height:32px;border:0;border-radius:50%;background:none;color:#fff;font-size:24px;line-height:1}.x:hover{background:rgba(255,255,255,.2)}.x:focus-visible{outline-color:#fff;outline-offset:-2px}' +
    '.q{padding:6px 12px;background:#fff7e6;color:#d46b08;font-size:12px;text-align:center}.q.off{background:#fff1f0;color:#cf1322}' +
    '.ls{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:12px;background:#f5f6f7}' +
    '.m{display:flex;flex-direction:column;align-items:flex-start;margin-bottom:12px}.m.buyer{align-items:flex-end}.m.system{align-items:center}' +
    '.me{margin:0 4px 2px;font-size:12px;color:#999}' +
    '.b{max-width:80%;padding:8px 12px;border-radius:2px 12px 12px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext;box-shadow:0 1px 2px rgba(0,0,0,.05)}' +
    '.buyer .b{border-radius:12px 2px 12px 12px;background:#ff5000;color:#fff}.pd .b{opacity:.65}' +
    '.system .me{display:none}.system .b{max-width:90%;padding:2px 8px;background:none;box-shadow:none;color:#999;font-size:12px;text-align:center}' +
    '.st{margin:2px 4px 0;font-size:11px;color:#999}.st.f{color:#f5222d}' +
    '.sep{display:flex;align-items:center;gap:8px;margin:4px 0 12px;color:#bbb;font-size:12px}.sep:before,.sep:after{content:"";flex:1;border-top:1px solid #e3e3e3}' +
    '.mn{display:flex;flex-wrap:wrap;gap:6px;padding:8px 12px 0}.mn span{width:100%;font-size:12px;color:#999}' +
    '.ch{height:28px;padding:0 12px;border:1px solid #ffc8a8;border-radius:14px;background:#fff;color:#ff5000;font-size:13px}.ch[aria-pressed=true]{background:#ff5000;border-color:#ff5000;color:#fff}' +
    '.av{flex:none;width:32px;height:32px;border-radius:50%;background:rgba(255,255,255,.25);display:flex;align-items:center;justify-content:center;font-weight:600}' +
    '.ma{display:inline-flex;width:20px;height:20px;margin-right:4px;border-radius:50%;background:#ffe7d9;color:#ff5000;font-size:11px;align-items:center;justify-content:center}' +
    '.hm{height:28px;padding:0 10px;border:1px solid rgba(255,255,255,.7);border-radius:14px;background:none;color:#fff;font-size:12px;white-space:nowrap}.hm:hover{background:rgba(255,255,255,.2)}' +
    '.qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;max-width:90%}.qr .ch{height:auto;min-height:28px;padding:3px 12px;text-align:left}.eta{margin:4px 4px 0;font-size:12px;color:#999}' +
    '.un{flex:1;display:flex;align-items:center;justify-content:center;padding:24px;background:#f5f6f7;color:#999;text-align:center}' +
    '.ty{padding:2px 16px 4px;background:#f5f6f7;color:#999;font-size:12px}' +
    '.ft{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #eee}' +
    'textarea{flex:1;height:60px;resize:none;padding:8px 10px;border:1px solid #e3e3e3;border-radius:8px;font:inherit;color:inherit;outline:0}textarea:focus{border-color:#ff5000}' +
    '.cb{padding:0!important;background:none!important}.cd{display:flex;gap:8px;width:230px;padding:8px;border-radius:8px;background:#fff;color:#333;text-decoration:none}' +
    '.cd img{width:56px;height:56px}.cp{color:#ff5000}.pv{display:flex;gap:8px;align-items:center;padding:8px 12px 0;background:#f5f6f7}' +
    '.cs{padding:10px 12px;border-top:1px solid #eee;background:#fffaf5;text-align:center;font-size:13px}.cs .sr{display:flex;justify-content:center;gap:4px;margin:4px 0}' +
    '.str{width:34px;height:34px;padding:0;border:0;background:none;color:#d9d9d9;font-size:28px;line-height:1}.str.on{color:#ff9500}' +
    '.cs textarea{display:block;width:100%;height:48px;margin:4px 0 8px}.cs .sd{height:30px}.cs .sd:disabled{opacity:.5;cursor:default}.cs .f{color:#f5222d;font-size:12px}' +
    '.sd{height:36px;padding:0 18px;border:0;border-radius:18px;background:#ff5000;color:#fff}.sd:hover{background:#e64800}' +
    '@media(max-width:480px){.pan{right:0;bottom:0;width:100%;height:100%;border-radius:0}.open .bub{display:none}textarea{font-size:16px}}' +
    '@media(prefers-reduced-motion:reduce){.pan{animation:none}.bub{transition:none}}';
  // Chat icon path. Built with createElementNS: the widget never uses innerHTML, so it also runs
  // on store pages that enforce Trusted Types.
  var SVG = 'http://www.w3.org/2000/svg', ICON = 'M12 3C6.5 3 2 6.6 2 11.1c0 2.5 1.4 4.7 3.6 6.2L4.8 21l4.1-2.2c1 .3 2 .4 3.1.4 5.5 0 10-3.6 10-8.1S17.5 3 12 3zM7.5 12.4a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z';

  function h(tag, cls, attrs, text, ns) {
    var el = ns ? D.createElementNS(ns, tag) : D.createElement(tag);
    if (cls) el.className = cls;
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    if (text != null) el.textContent = text;
    return el;
  }

  function mount() {
    // The host resets every inherited or page-set style on itself (inline !important beats page
    // CSS); everything else lives in the shadow root, so styles leak neither in nor out. Styles
    // are set through CSSOM, which a store's CSP (style-src without 'unsafe-inline') allows.
    host = h('div', '', { id: 'kefu-widget' });
    host.style.cssText = 'all:initial!important;position:fixed!important;z-index:2147483000!important;display:block!important';
    root = host.attachShadow({ mode: 'open' });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.append(h('style', '', {}, CSS)); // older engines
    }
    wrap = h('div', 'w');
    bubble = h('button', 'bub', { type: 'button', 'data-testid': 'kefu-bubble', 'aria-haspopup': 'dialog', 'aria-expanded': 'false' });
    var svg = h('svg', '', { viewBox: '0 0 24 24', 'aria-hidden': 'true' }, null, SVG);
    svg.append(h('path', '', { d: ICON }, null, SVG));
    badge = h('span', 'bdg', { 'data-testid': 'kefu-unread', 'aria-hidden': 'true', hidden: '' });
    bubble.append(svg, badge);
    panel = h('div', 'pan', { role: 'dialog', 'data-testid': 'kefu-panel', hidden: '' });
    var hd = h('div', 'hd'), tt = h('div', 'tt'), ft = ftEl = h('div', 'ft');
    // Who answers: the assistant, the queue, the agent or the shop (status() words it).
    nameEl = h('div', 'nm', { 'data-testid': 'kefu-header-who' });
    avEl = h('div', 'av', { 'data-testid': 'kefu-header-avatar', 'aria-hidden': 'true', hidden: '' });
    humanBtn = h('button', 'hm', { type: 'button', 'data-testid': 'kefu-human', hidden: '' });
    unEl = h('div', 'un', { 'data-testid': 'kefu-unavailable', role: 'status', hidden: '' });
    // The welcome block is not a stored message: it sits after them, before the pending ones.
    welEl = h('div', 'm agent', { 'data-testid': 'kefu-welcome', hidden: '' });
    subEl = h('div', 'sub', { 'aria-live': 'polite' });
    closeBtn = h('button', 'x', { type: 'button', 'data-testid': 'kefu-close' }, '×');
    queueEl = h('div', 'q', { 'data-testid': 'kefu-queue', role: 'status', hidden: '' });
    offEl = h('div', 'q off', { 'data-testid': 'kefu-offline', role: 'status', hidden: '' });
    list = h('div', 'ls', { 'data-testid': 'kefu-messages', role: 'log', 'aria-live': 'polite', tabindex: '0' });
    // Unacked messages live in this box at the end of the list; stored ones go before it, in seq order.
    pend = h('div');
    typingEl = h('div', 'ty', { 'data-testid': 'kefu-typing', hidden: '' });
    menuEl = h('div', 'mn', { 'data-testid': 'kefu-menu', role: 'group', hidden: '' });
    input = h('textarea', '', { 'data-testid': 'kefu-input', maxlength: '2000' });
    sendBtn = h('button', 'sd', { type: 'button', 'data-testid': 'kefu-send' });
    pvEl = h('div', 'pv', { 'data-testid': 'kefu-product-preview', hidden: '' });
    ordBtn = h('button', 'hm', { type: 'button', 'data-testid': 'kefu-orders-button', hidden: '' });
    olEl = h('div', 'mn', { role: 'group', hidden: '' });
    csEl = h('div', 'cs', { 'data-testid': 'kefu-csat', role: 'group', hidden: '' });
    csAsk = h('div');
    csStars = h('div', 'sr');
    for (var i = 1; i <= 5; i++) csStars.append(h('button', 'str', { type: 'button', 'data-testid': 'kefu-csat-star', 'data-stars': String(i), 'aria-pressed': 'false' }, '★'));
    csText = h('textarea', '', { 'data-testid': 'kefu-csat-comment', maxlength: '500' });
    csSend = h('button', 'sd', { type: 'button', 'data-testid': 'kefu-csat-submit', disabled: '' });
    csErr = h('div', 'f', { role: 'alert', hidden: '' });
    csThanks = h('div', '', { 'data-testid': 'kefu-csat-thanks', role: 'status', hidden: '' });
    csEl.append(csAsk, csStars, csText, csErr, csSend);
    tt.append(nameEl, subEl);
    hd.append(avEl, tt, ordBtn, humanBtn, closeBtn);
    list.append(welEl, pend);
    ft.append(input, sendBtn);
    panel.append(hd, offEl, queueEl, list, unEl, typingEl, csEl, csThanks, menuEl, olEl, pvEl, ft);
    wrap.append(panel, bubble);
    root.append(wrap);
    D.body.appendChild(host);

    bubble.onclick = function () { isOpen ? close() : open(true); };
    closeBtn.onclick = function () { close(); };
    sendBtn.onclick = submit;
    humanBtn.onclick = function () { send('转人工'); }; // the text the server's 转人工 rule knows, in any language
    ordBtn.onclick = function () { olEl.hidden = !olEl.hidden; };
    csStars.onclick = function (e) { var n = +(e.target.dataset && e.target.dataset.stars); if (n) { csPick = n; renderCsat(); } };
    csSend.onclick = rate;
    panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
    input.addEventListener('keydown', function (e) {
      // isComposing / 229: Enter that confirms a Chinese IME candidate must not send.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
    });
    input.addEventListener('input', sendTyping);
    D.addEventListener('visibilitychange', markRead);
    W.addEventListener('offline', function () { offEl.hidden = false; });
    W.addEventListener('online', function () {
      offEl.hidden = true;
      // The network is back: do not sit out the backoff. A socket that looks open may be dead; a
      // ping either proves it alive or lets the watchdog replace it.
      if (ws) return put({ type: 'ping' });
      attempt = 0;
      connect();
    });
    paint();
  }

  // paint re-renders every language-dependent string (kefu('lang') calls it too).
  function paint() {
    wrap.lang = lang === 'en' ? 'en' : 'zh-CN';
    panel.setAttribute('aria-label', shopName || t('title'));
    closeBtn.setAttribute('aria-label', t('close'));
    closeBtn.title = t('close');
    list.setAttribute('aria-label', t('list'));
    input.placeholder = t('ph');
    input.setAttribute('aria-label', t('input'));
    sendBtn.textContent = t('send');
    typingEl.textContent = t('typing');
    humanBtn.textContent = t('human');
    unEl.textContent = t('unavailable');
    renderWelcome();
    offEl.textContent = t('offline');
    if (navigator.onLine === false) offEl.hidden = false;
    list.querySelectorAll('.sep').forEach(function (s) { s.textContent = t('newConv'); });
    list.querySelectorAll('[data-sender=buyer]').forEach(mark);
    setQueue(queuePos);
    status();
    renderUnread();
    renderMenu();
    renderTools();
    renderCsat();
  }

  // renderCsat asks for a rating of the conversation shown once it has closed (or an agent invited
  // one) if the shop asks for ratings and nobody rated it yet, and thanks a buyer who just did.
  // The conversation object says whether it is rated, so a reload never asks twice.
  function renderCsat() {
    var c = conv[cur] || {};
    csThanks.hidden = unavail || !thanked[cur];
    csThanks.textContent = t('thanks');
    csEl.hidden = unavail || !isReady || !sess || sess.csat === false || !cur || !!c.rating || thanked[cur] ||
      !(c.status === 'closed' || c.rating_invited);
    csAsk.textContent = t('rate');
    csText.placeholder = t('ratePh');
    csText.setAttribute('aria-label', t('ratePh'));
    csSend.textContent = t('rateSend');
    csSend.disabled = !csPick || rating === cur;
    csErr.textContent = t('rateFail');
    csStars.querySelectorAll('button').forEach(function (b) {
      var n = +b.dataset.stars;
      b.classList.toggle('on', n <= csPick);
      b.setAttribute('aria-pressed', String(n === csPick));
      b.setAttribute('aria-label', t('star', n));
    });
  }

  // rate sends the stars picked and the comment for the conversation shown; the rating frame
  // (or an error frame with ref "rate") answers.
  function rate() {
    if (!csPick || !cur || !isReady) return;
    rating = cur;
    csErr.hidden = true;
    put({ type: 'rate', conversation_id: cur, stars: csPick, comment: csText.value.trim().slice(0, 500) });
    renderCsat();
  }

  function onRating(f) {
    var c = conv[f.conversation_id];
    if (c) c.rating = f.stars;
    if (rating === f.conversation_id) { thanked[f.conversation_id] = true; rating = 0; csPick = 0; csText.value = ''; }
    renderCsat();
  }

  // renderTools draws the product preview and a signed-in buyer's 我的订单 (the session's orders).
  function renderTools() {
    var os = identity && sess && Array.isArray(sess.orders) ? sess.orders : [];
    if (ordBtn.hidden = unavail || !os.length) olEl.hidden = true;
    ordBtn.textContent = t('orders');
    olEl.textContent = pvEl.textContent = '';
    os.forEach(function (o) {
      var b = h('button', 'ch', { type: 'button', 'data-testid': 'kefu-order-option', 'data-order-no': o.order_no },
        [o.order_no, o.title, money(o.amount_cents, o.currency), stName(o.status)].join(' '));
      b.onclick = function () {
        olEl.hidden = true;
        enqueue({ card: { kind: 'order', order_no: o.order_no }, v: o });
      };
      olEl.append(b);
    });
    pvEl.hidden = unavail || !prod;
    if (!prod) return;
    var sb = h('button', 'sd', { type: 'button', 'data-testid': 'kefu-send-product' }, t('sendP'));
    sb.onclick = function () { var p = prod; prod = null; renderTools(); enqueue({ card: p }); };
    pvEl.append(cardEl(prod, 'product'), sb);
  }

  function money(c, cur) { return (cur && cur !== 'CNY' ? cur + ' ' : '¥') + ((+c || 0) / 100).toFixed(2); }
  function webUrl(u) { try { u = new URL(u); return /^https?:$/.test(u.protocol) ? u : null; } catch (e) { return null; } }

  // cardEl draws a card, text through textContent only; an image only if https or this origin.
  function cardEl(c, kind) {
    var o = kind === 'order', u = !o && webUrl(c.url), i = webUrl(c.image_url), tx = h('div');
    var a = h(u ? 'a' : 'div', 'cd', { 'data-testid': 'kefu-card', 'data-kind': kind });
    if (u) { a.href = u.href; a.target = '_blank'; a.rel = 'noopener noreferrer'; }
    if (i && (i.protocol === 'https:' || i.origin === location.origin)) a.append(h('img', '', { referrerpolicy: 'no-referrer', alt: '', src: i.href }));
    tx.append(h('b', '', {}, o ? c.order_no : c.title), h('div', '', {}, o ? (c.title || '') + ' ×' + (c.item_count || 1) : ''),
      h('div', 'cp', {}, money(o ? c.price_cents || c.amount_cents : c.price_cents, c.currency) + (o ? ' ' + stName(c.status) : '')));
    a.append(tx);
    return a;
  }

  function body(el, text, card, kind) {
    var b = el.children[1];
    b.textContent = '';
    b.classList.toggle('cb', !!card);
    if (card) b.append(cardEl(card, kind));
    else b.textContent = text;
  }

  // renderMenu offers the shop's groups while the next message would start a conversation and
  // the store page named no group; the buyer's pick routes it.
  function renderMenu() {
    var items = (sess && sess.menu) || [];
    menuEl.hidden = unavail || !isReady || !!group || !items.length || !!(cur && !isClosed(cur));
    menuEl.textContent = '';
    if (menuEl.hidden) return;
    menuEl.setAttribute('aria-label', t('menu'));
    menuEl.append(h('span', '', {}, t('menu')));
    items.forEach(function (g) {
      var b = h('button', 'ch', { type: 'button', 'data-testid': 'kefu-menu-item', 'aria-pressed': String(g.group === picked) }, g.name);
      b.onclick = function () { picked = picked === g.group ? '' : g.group; renderMenu(); input.focus(); };
      menuEl.append(b);
    });
  }

  function status() {
    var c = conv[cur] || {}, live = !!cur && !isClosed(cur);
    var who = 'shop', name = shopName || t('title'), av = '';
    if (unavail) { /* the shop's name only */ }
    else if (live ? c.assistant : assistant) { who = 'assistant'; name = botName(); av = botAv(); }
    else if (live && (c.status === 'queued' || queuePos)) { who = 'queue'; name = queuePos ? t('inLineN', queuePos) : t('inLine'); }
    else if (live && c.status === 'assigned' && c.agent_name) { who = 'agent'; name = c.agent_name; av = initial(name); }
    setText(nameEl, name);
    nameEl.setAttribute('data-who', who);
    setText(avEl, av);
    avEl.hidden = !av;
    humanBtn.hidden = unavail || !(live && c.assistant);
    setText(subEl, unavail ? '' : !isReady ? t('connecting')
      : c.status === 'closed' ? t('closed')
      : live && c.assistant ? t('hello')
      : c.status === 'assigned' && c.agent_name ? t('serving', c.agent_name)
      : c.status === 'queued' || queuePos ? t('queued') : t('hello'));
    // Unavailable: nothing to type into, nothing to send.
    unEl.hidden = !unavail;
    list.hidden = ftEl.hidden = input.disabled = sendBtn.disabled = unavail;
    if (unavail) queueEl.hidden = typingEl.hidden = menuEl.hidden = pvEl.hidden = ordBtn.hidden = olEl.hidden = true;
    // The welcome shows while the buyer's next message would start a conversation.
    var was = welEl.hidden;
    welEl.hidden = !welEl.firstChild || !known || unavail || live;
    if (was && !welEl.hidden) list.scrollTop = list.scrollHeight;
  }

  // setText leaves an unchanged text alone, so a live region does not announce it again.
  function setText(el, s) { if (el.textContent !== s) el.textContent = s; }
  function initial(s) { return Array.from(String(s || ''))[0] || ''; }
  // The assistant's name and avatar initials; name is a bot message's sender_name.
  function botName(name) { return name || assistant && assistant.name || t('bot'); }
  function botAv(name) {
    var a = assistant && (!name || name === assistant.name) && assistant.avatar;
    return a ? Array.from(String(a)).slice(0, 2).join('') : initial(botName(name));
  }
  function avatar(s) { return h('span', 'ma', { 'aria-hidden': 'true' }, s); }

  // chips are tappable texts (quick questions, quick replies): a tap sends the text as the
  // buyer's own message, through the outbox like typed text.
  function chips(items, testid) {
    var box = h('div', 'qr', { role: 'group', 'aria-label': t('quick') });
    items.forEach(function (q) {
      if (typeof q !== 'string' || !q.trim()) return;
      var b = h('button', 'ch', { type: 'button', 'data-testid': testid }, q);
      b.onclick = function () { send(q); };
      box.append(b);
    });
    return box;
  }

  // renderWelcome builds the welcome block from the session's welcome: the greeting from the
  // assistant, when to expect a reply, and the quick questions.
  function renderWelcome() {
    var w = welcome, qs = w && Array.isArray(w.quick_questions) ? w.quick_questions : [];
    welEl.textContent = '';
    if (!w || !w.greeting && !qs.length) return;
    var me = h('div', 'me');
    me.append(avatar(botAv()), botName());
    welEl.append(me, h('div', 'b', { 'data-testid': 'kefu-welcome-text' }, w.greeting || t('hello')));
    var eta = w.open === false ? (w.next_opening ? t('offHours', w.next_opening) : t('offHoursNow'))
      : w.eta_seconds > 0 ? t('replyEta', Math.max(1, Math.ceil(w.eta_seconds / 60))) : '';
    if (eta) welEl.append(h('div', 'eta', { 'data-testid': 'kefu-welcome-eta' }, eta));
    if (qs.length) welEl.append(chips(qs, 'kefu-quick-question'));
  }

  // renderQuickReplies puts the quick replies of the latest bot message of the conversation
  // shown under that message, and nowhere else.
  function renderQuickReplies() {
    list.querySelectorAll('[data-sender=bot] .qr').forEach(function (b) { b.remove(); });
    var bots = list.querySelectorAll('[data-sender=bot][data-conv="' + cur + '"]'), last = bots[bots.length - 1];
    if (last && last.qr && last.qr.length && !isClosed(cur)) last.append(chips(last.qr, 'kefu-quick-reply'));
  }

  // setQueue shows the buyer's place in line and, when the server can tell, the expected wait.
  function setQueue(n, etaSec) {
    if (n !== queuePos) queueEta = 0;
    queuePos = n > 0 ? n : 0;
    if (etaSec > 0) queueEta = etaSec;
    queueEl.hidden = !queuePos || unavail;
    queueEl.textContent = t('queue', queuePos) + (queuePos && queueEta ? t('eta', Math.max(1, Math.round(queueEta / 60))) : '');
  }

  function showTyping() {
    typingEl.hidden = false;
    clearTimeout(typingT);
    typingT = setTimeout(function () { typingEl.hidden = true; }, 3000);
  }

  function open(focus) {
    isOpen = true;
    panel.hidden = false;
    wrap.classList.add('open');
    bubble.setAttribute('aria-expanded', 'true');
    list.scrollTop = list.scrollHeight;
    if (focus && !unavail) input.focus();
    connect(); // wakes a widget the server closed normally (1000)
    markRead();
    emit('open');
  }

  function close() {
    if (!isOpen) return;
    var hadFocus = !!root.activeElement;
    isOpen = false;
    panel.hidden = true;
    wrap.classList.remove('open');
    bubble.setAttribute('aria-expanded', 'false');
    if (hadFocus) bubble.focus(); // focus never falls into a hidden panel
    emit('close');
  }

  function time(iso) {
    var d = new Date(iso), now = new Date();
    if (isNaN(d)) return '';
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    var hm = p(d.getHours()) + ':' + p(d.getMinutes());
    return d.toDateString() === now.toDateString() ? hm : p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + hm;
  }

  // msgEl builds one message row. Text only ever goes through textContent.
  function msgEl(sender, cmid) {
    var el = h('div', 'm ' + (/^(buyer|system)$/.test(sender) ? sender : 'agent'), {
      'data-testid': 'kefu-message', 'data-seq': '', 'data-sender': sender, 'data-client-msg-id': cmid || ''
    });
    el.append(h('div', 'me'), h('div', 'b', { 'data-testid': 'kefu-text' }), h('div', 'st'));
    return el;
  }

  // mark writes the state line under the buyer's own messages.
  function mark(el) {
    if (el.dataset.sender !== 'buyer') return;
    var st = el.lastChild, s = +el.dataset.seq;
    st.textContent = el.dataset.failed ? t('failed') : !s ? t('pending')
      : s <= (agentRead[el.dataset.conv] || 0) ? t('read') : t('unread');
    st.className = 'st' + (el.dataset.failed ? ' f' : '');
  }

  function findPending(id) {
    for (var el = pend.firstChild; el; el = el.nextSibling) if (el.dataset.clientMsgId === id) return el;
    return null;
  }

  function scrolled(fn, force) {
    var stick = force || list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    fn();
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function showPending(item) {
    var el = msgEl('buyer', item.id);
    el.classList.add('pd');
    el.firstChild.textContent = time(item.at);
    body(el, item.text, item.v || item.card, item.card && item.card.kind);
    mark(el);
    scrolled(function () { pend.append(el); }, true);
  }

  // show puts a stored message on screen; callers guarantee it is the next seq of its conversation.
  function show(m) {
    var c = m.conversation_id, mine = m.sender === 'buyer';
    var el = mine && m.client_msg_id && findPending(m.client_msg_id) || msgEl(m.sender, m.client_msg_id);
    el.classList.remove('pd');
    el.dataset.seq = m.seq;
    el.dataset.conv = c;
    var sys = m.sender === 'system', bot = m.sender === 'bot';
    el.firstChild.textContent = (mine || sys ? '' : (bot ? botName(m.sender_name) : m.sender_name || '') + '  ') + time(m.created_at);
    if (bot) el.firstChild.prepend(avatar(botAv(m.sender_name)));
    if (m.code) el.dataset.code = m.code;
    // System lines are worded in the widget's language from their code.
    body(el, sys && m.code === 'assigned' ? t('serving', m.sender_name || '')
      : sys && m.code === 'closed' ? t('ended') : sys && m.code === 'rating_invited' ? t('invited') : m.text == null ? '' : m.text, /^(product|order)$/.test(m.kind) && m.card, m.kind);
    el.title = m.sender === 'system' ? time(m.created_at) : '';
    mark(el);
    scrolled(function () { list.insertBefore(el, welEl); }, mine);
    seen[c] = m.seq;
    delete held[c][m.seq];
    if (!mine) {
      lastOther[c] = m.seq;
      typingEl.hidden = true; // the answer arrived
    }
    if (bot) {
      el.qr = Array.isArray(m.quick_replies) ? m.quick_replies : null;
      renderQuickReplies();
    }
    emit('message', Object.assign({}, m));
  }

  function renderUnread() {
    // Messages for the buyer (an agent's, later the assistant's), not kefu's own notices.
    var n = 0;
    list.querySelectorAll('[data-seq][data-sender=agent], [data-seq][data-sender=bot]').forEach(function (el) {
      if (+el.dataset.seq > (readSeq[el.dataset.conv] || 0)) n++;
    });
    badge.hidden = !n;
    badge.textContent = n > 99 ? '99+' : n;
    bubble.setAttribute('aria-label', t('open') + (n ? ' (' + n + ')' : ''));
    if (n !== unread) emit('unread', unread = n);
  }

  // markRead tells the server (and the badge) that the buyer has seen the agent's messages,
  // but only while the panel is open in a visible tab.
  function markRead() {
    if (isOpen && D.visibilityState === 'visible') {
      for (var c in seen) {
        var s = lastOther[c] || 0;
        if (s > (readSeq[c] || 0)) readSeq[c] = s;
        if (isReady && s > (sentRead[c] || 0)) {
          sentRead[c] = s;
          put({ type: 'read', conversation_id: +c, seq: s });
        }
      }
    }
    renderUnread();
  }

  // ---------------------------------------------------------------- conversation state

  // adopt starts showing conversation id if it is new and newer than what is shown. Returns
  // whether messages of id belong on screen.
  function adopt(id) {
    if (!id) return false;
    if (id in seen) return true;
    if (id < cur) return false; // an older conversation we do not show
    if (cur) list.insertBefore(h('div', 'sep', { role: 'separator' }, t('newConv')), welEl);
    seen[id] = 0;
    held[id] = {};
    cur = id;
    renderQuickReplies();
    status(); // a conversation is open: the welcome goes
    return true;
  }

  // receive applies protocol rule 3: drop what is shown, hold what is early, sync to fill a gap.
  function receive(m) {
    if (!m || !adopt(m.conversation_id)) return;
    var c = m.conversation_id, n;
    if (m.seq <= seen[c]) {
      var dup = m.client_msg_id && findPending(m.client_msg_id);
      if (dup && m.sender === 'buyer') dup.remove();
      return;
    }
    if (m.seq > seen[c] + 1) {
      held[c][m.seq] = m;
      if (!syncing[c]) sync(c);
      return;
    }
    show(m);
    while ((n = held[c][seen[c] + 1])) show(n);
  }

  function sync(c) {
    if (!isReady) return;
    syncing[c] = true;
    put({ type: 'sync', conversation_id: c, after_seq: seen[c], limit: 200 });
  }

  function onHistory(f) {
    var c = f.conversation_id;
    if (!(c in seen)) return;
    var before = seen[c];
    (f.messages || []).forEach(receive);
    var progress = seen[c] > before;
    if (f.has_more && progress) return sync(c);
    syncing[c] = false;
    // Early messages still waiting above a gap: the gap moved, ask again.
    if (progress && Object.keys(held[c]).length) sync(c);
  }

  function onConv(c) {
    if (!c || !adopt(c.id)) return;
    // A smaller last_seq than the state shown is an older state (protocol.md §3): keep ours.
    if (conv[c.id] && (c.last_seq || 0) < (conv[c.id].last_seq || 0)) return;
    conv[c.id] = c;
    readSeq[c.id] = Math.max(readSeq[c.id] || 0, c.buyer_read_seq || 0);
    sentRead[c.id] = Math.max(sentRead[c.id] || 0, c.buyer_read_seq || 0);
    onAgentRead(c.id, c.agent_read_seq);
    if (c.id === cur) setQueue(c.status === 'queued' ? c.queue_position : 0);
    status();
    renderMenu();
    renderQuickReplies(); // none once it is closed
    renderCsat();
  }

  function onAgentRead(c, seq) {
    if (!(seq > (agentRead[c] || 0))) return;
    agentRead[c] = seq;
    list.querySelectorAll('[data-sender=buyer]').forEach(mark);
  }

  function isClosed(c) { return conv[c] && conv[c].status === 'closed'; }

  // ---------------------------------------------------------------- sending

  function put(f) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(f)); }

  function transmit(item) {
    if (!isReady) return;
    var f = { type: 'send', client_msg_id: item.id };
    f[item.card ? 'card' : 'text'] = item.card || item.text;
    // A closed conversation takes no messages; without an id the server opens a new one,
    // routed by this page's group and order.
    if (cur && !isClosed(cur)) f.conversation_id = cur;
    else {
      if (group || slug(picked)) f.group = group || slug(picked);
      if (orderNo) f.order_no = orderNo;
    }
    put(f);
  }

  // send queues a message in the outbox, shows it as pending and sends it if the socket is up.
  function send(text) {
    // Control characters the server refuses (all but tab and line breaks) cannot be seen in the
    // text box; they are dropped instead of failing the whole message.
    text = String(text == null ? '' : text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '').trim();
    return !!text && Array.from(text).length <= 2000 && enqueue({ text: text });
  }

  // enqueue outboxes a text or a card (v: how to draw it until stored), so a card survives a reload too.
  function enqueue(item) {
    if (unavail) return false;
    item.id = 'c_' + hex(16);
    item.at = new Date().toISOString();
    if (identity) item.b = identity.buyer_id;
    save('outbox', JSON.stringify(outbox().concat(item)));
    showPending(item);
    transmit(item);
    connect();
    return true;
  }

  function submit() {
    if (send(input.value)) input.value = '';
    input.focus();
  }

  function sendTyping() {
    var now = Date.now();
    if (!isReady || !cur || isClosed(cur) || !input.value.trim() || now - lastTyping < 2000) return;
    lastTyping = now;
    put({ type: 'typing', conversation_id: cur });
  }

  function onError(f) {
    var id = f.ref;
    if (id === 'rate') return onRateError(f);
    if (!id) { syncing = {}; return; } // e.g. a refused sync: the next gap may ask again
    if (!outbox().some(function (i) { return i.id === id; })) return;
    if (/^(text_empty|text_too_long|text_invalid_characters|invalid_client_msg_id|invalid_frame|invalid_json|invalid_card|unknown_order|image_not_allowed|link_not_allowed)$/.test(f.code)) {
      // The server will never take this one: stop retrying and say so.
      unqueue(id);
      var el = findPending(id);
      if (el) { el.dataset.failed = '1'; mark(el); }
      return;
    }
    if (/^(conversation_closed|not_found|forbidden|not_queued)$/.test(f.code)) (conv[cur] = conv[cur] || {}).status = 'closed';
    // Anything else is transient: try again shortly (rate_limited: after the
    // wait it names, spread), the outbox never gives up.
    var wait = f.code === 'rate_limited' && f.retry_after_ms > 0 ? f.retry_after_ms : 1000;
    setTimeout(function () {
      outbox().forEach(function (i) { if (i.id === id) transmit(i); });
    }, wait + Math.random() * 2000);
  }

  // onRateError: rated already (another tab) or switched off, and the stars go; anything
  // else leaves them for another try.
  function onRateError(f) {
    var c = conv[rating];
    if (f.code === 'already_rated' && c) c.rating = c.rating || -1;
    if (f.code === 'rating_disabled' && sess) sess.csat = false;
    csErr.hidden = /^(already_rated|rating_disabled)$/.test(f.code);
    rating = 0;
    renderCsat();
  }

  // ---------------------------------------------------------------- connection

  function session() {
    if (sess && Date.parse(sess.expires_at) - Date.now() > 30000) return Promise.resolve(sess);
    // A request lost on a dead network must not hang the widget (connect waits for it).
    var ab = W.AbortController && new AbortController(), abT = ab && setTimeout(function () { ab.abort(); }, 15000);
    return fetch(base + '/api/v1/widget/shops/' + encodeURIComponent(shop) + '/session', {
      method: 'POST',
      credentials: 'omit',
      signal: ab && ab.signal,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(Object.assign({ visitor_id: visitor }, identity))
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        clearTimeout(abT);
        var code = j.error && j.error.code;
        if (r.ok && j.token) {
          sess = j;
          shopName = j.shop && j.shop.name || '';
          // Both optional (a server without the assistant, a shop without one): tolerate absence.
          assistant = j.assistant && j.assistant.name ? j.assistant : null;
          welcome = j.welcome && typeof j.welcome === 'object' ? j.welcome : null;
          paint();
          return j;
        }
        if (r.status === 403 && code === 'origin_not_allowed' || r.status === 404 && code === 'shop_not_found') {
          // Asking again will not change the answer: say so and stop.
          unavail = true;
          status();
        }
        if ((r.status === 401 || r.status === 400) && identity) {
          // A refused signature or a malformed identity (e.g. a name over 64
          // characters) would fail forever: chat as a visitor instead.
          console.warn('kefu: buyer identity refused (' + (j.error && j.error.code) + '), chatting as a visitor');
          identity = null;
        }
        var err = new Error('kefu: session ' + r.status + ' ' + (code || '') + (unavail ? ', chat is unavailable on this page' : ''));
        // rate_limited: come back after the wait the server named, spread.
        if (code === 'rate_limited' && j.error.retry_after_ms > 0) err.retryAfter = j.error.retry_after_ms + Math.random() * 1000;
        throw err;
      });
    });
  }

  function connect() {
    if (!started || ws || busy || unavail) return;
    clearTimeout(retryT);
    busy = true;
    var g = ++gen;
    session().then(function (s) {
      if (g !== gen) return; // identify() started over meanwhile
      busy = false;
      var url = new URL(s.socket_url, base).href.replace(/^http/, 'ws');
      var sock = ws = new WebSocket(url + (url.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(s.token));
      watchdog(); // also covers a socket that never gets to ready
      sock.onmessage = function (e) { if (sock === ws) frame(e.data); };
      sock.onclose = function (e) { if (sock === ws) lost(e.code); };
    }).catch(function (e) {
      if (g !== gen) return;
      busy = false;
      console.warn(e.message || e);
      if (!unavail) retry(e.retryAfter); // network and server failures: back off and try again
    });
  }

  // lost forgets the socket and plans the next one. delay overrides the backoff.
  function lost(code, delay) {
    var sock = ws;
    ws = null;
    isReady = false;
    if (sock) { sock.onclose = sock.onmessage = null; try { sock.close(); } catch (e) { /* already closed */ } }
    clearInterval(pingT);
    clearTimeout(deadT);
    // Back off from scratch only after a socket that stayed up: a server that accepts and
    // drops at once is not hit by every widget twice a second.
    if (upAt && Date.now() - upAt > 10000) attempt = 0;
    upAt = 0;
    if (code === 4401) sess = null; // token refused: get a new one first
    status();
    if (code !== 1000) retry(delay); // 1000 means "stop"; open/send/online wake us up again
  }

  function retry(delay) {
    clearTimeout(retryT);
    // Full jitter: a restarted server is not hit by every widget in the same millisecond.
    if (delay == null) delay = Math.random() * Math.min(30000, 500 * Math.pow(2, attempt++));
    retryT = setTimeout(connect, delay);
  }

  // watchdog: no frame for 2 heartbeats means the socket is dead even if the browser says not.
  function watchdog() {
    clearTimeout(deadT);
    deadT = setTimeout(function () { lost(0); }, 2 * hbMs);
  }

  function frame(data) {
    watchdog();
    var f;
    try { f = JSON.parse(data); } catch (e) { return; }
    switch (f.type) {
      case 'ready': onReady(f); break;
      case 'ack':
        unqueue(f.client_msg_id);
        receive(f.message);
        var m = f.message;
        // Filed into a conversation we do not show: nothing will convert the pending row.
        var el = m && !(m.conversation_id in seen) && findPending(f.client_msg_id);
        if (el) el.remove();
        break;
      case 'message': receive(f.message); break;
      case 'history': onHistory(f); break;
      case 'conversation': onConv(f.conversation); break;
      case 'rating': onRating(f); break;
      case 'queue': if (adopt(f.conversation_id) && f.conversation_id === cur) { setQueue(f.position, f.eta_seconds); status(); } break;
      case 'typing': if (f.sender !== 'buyer') showTyping(); break;
      case 'read':
        if (f.reader === 'buyer') readSeq[f.conversation_id] = Math.max(readSeq[f.conversation_id] || 0, f.seq); // read in another tab
        else onAgentRead(f.conversation_id, f.seq);
        break;
      case 'error': onError(f); break;
      case 'reconnect': lost(0, (f.retry_after_ms || 0) + Math.random() * 1000); return;
      default: return; // pong and frames we do not know
    }
    markRead();
  }

  function onReady(f) {
    hbMs = (f.heartbeat_sec || 25) * 1000;
    upAt = Date.now();
    syncing = {};
    sentRead = {};
    known = true;
    onConv(f.conversation); // may show a newer conversation than the one on screen
    isReady = true;
    clearInterval(pingT);
    pingT = setInterval(function () { put({ type: 'ping' }); }, hbMs);
    watchdog();
    // Rule 4: catch up on everything shown (from 0 on a fresh page), then flush the outbox in order.
    for (var c in seen) sync(+c);
    setQueue(f.queue_position);
    status();
    renderMenu();
    renderCsat();
    outbox().forEach(function (i) { if (own(i)) transmit(i); });
  }

  // ---------------------------------------------------------------- JS API

  function emit(ev, arg) {
    (handlers[ev] || []).forEach(function (fn) {
      try { fn(arg); } catch (e) { console.error(e); }
    });
  }

  // identify switches to a signed, logged-in buyer (or back to a visitor with null) and starts over.
  function identify(o) {
    var next = o && o.buyer_id ? { buyer_id: String(o.buyer_id), name: o.name, signature: o.signature } : null;
    if (JSON.stringify(next) === JSON.stringify(identity)) return;
    if (identity && !next) {
      // Log out on a shared device: the next person must not inherit this chat or its unsent lines.
      visitor = newVisitor();
      save('outbox', '[]');
    }
    identity = next;
    showOutbox();
    if (!started) return;
    gen++;
    busy = false;
    sess = null;
    renderTools();
    lost(1000);
    while (list.firstChild !== welEl) list.firstChild.remove();
    cur = 0;
    known = false;
    seen = {}; held = {}; syncing = {}; conv = {}; agentRead = {}; readSeq = {}; sentRead = {}; lastOther = {};
    setQueue(0);
    renderUnread();
    attempt = 0;
    connect();
  }

  var api = function (cmd) {
    var fn = cmds[cmd];
    if (!fn) return console.warn('kefu: unknown command', cmd);
    return fn.apply(null, [].slice.call(arguments, 1));
  };
  var cmds = {
    open: function () { open(true); },
    close: close,
    toggle: function () { isOpen ? close() : open(true); },
    send: send,
    identify: identify,
    lang: function (l) { lang = pickLang(l); paint(); },
    group: function (g) { group = slug(g); if (menuEl) renderMenu(); },
    product: function (p) {
      prod = p && p.title ? { kind: 'product', product_id: p.product_id, title: p.title, price_cents: p.price_cents, currency: p.currency, image_url: p.image_url, url: p.url } : null;
      if (pvEl) renderTools();
    },
    order: function (no) { no = String(no == null ? '' : no); orderNo = /^[!-~]{1,64}$/.test(no) ? no : ''; },
    on: function (ev, fn) { if (typeof fn === 'function') (handlers[ev] = handlers[ev] || []).push(fn); },
    off: function (ev, fn) { handlers[ev] = (handlers[ev] || []).filter(function (f) { return f !== fn; }); },
    unread: function () { return Math.max(unread, 0); }
  };

  function boot() {
    mount();
    var q = W.kefu.q || [];
    W.kefu = Object.assign(api, cmds, { loaded: true, version: 1 });
    q.forEach(function (args) { api.apply(null, args); });
    showOutbox();
    if (me.getAttribute('data-open') === 'true') open(false);
    started = true;
    connect();
  }

  if (D.body) boot();
  else D.addEventListener('DOMContentLoaded', boot);
})();
