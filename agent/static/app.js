// kefu agent console: plain JS, no dependencies, no build step.
// Wire protocol: docs/protocol.md. REST: docs/openapi.yaml (docs/rest-outline.md).
// Rule of the house: data from the server is only ever put into the page with
// textContent / text nodes, never as HTML.
'use strict';

(() => {
  const SESSION_KEY = 'kefu:agent:session';
  const LANG_KEY = 'kefu:agent:lang';
  const SHOP_KEY = 'kefu:agent:shop';
  const SELECTED_KEY = 'kefu:agent:selected';
  const PAGE_SIZE = 50; // messages loaded when a conversation is opened, and per "load earlier"
  const SYNC_LIMIT = 100;
  const MAX_TEXT = 2000;
  const TYPING_SHOW_MS = 6000;
  const TYPING_SEND_MS = 2000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const TOAST_MS = 5000;
  const API_TIMEOUT_MS = 20000; // a REST call that hangs longer counts as a network error
  const CONNECT_TIMEOUT_MS = 15000; // a socket not ready by then is given up and retried
  const STABLE_MS = 10000; // a socket up this long resets the reconnect backoff
  const KEEP_MSGS = 200; // messages kept per conversation not on screen (a shift is 8-12 hours)
  const GONE_MAX = 2000; // conversation ids remembered as "not ours" (no REST lookup for them)
  // Refusals of a `send` that resending with the same client_msg_id cannot fix (protocol.md,
  // "Which refusals are final"); any other code (internal) is retried.
  // Control characters the server refuses (all but tab and line breaks, protocol.md "Which
  // characters are refused") cannot be seen in the composer; they are dropped, not sent.
  const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
  const FINAL_CODES = new Set(['text_empty', 'text_too_long', 'text_invalid_characters', 'invalid_client_msg_id', 'invalid_frame', 'invalid_json',
    'conversation_closed', 'not_found', 'forbidden', 'not_queued']);

  // ---------------------------------------------------------------- strings

  const STRINGS = {
    'zh-CN': {
      appTitle: 'kefu 客服工作台',
      langToggle: 'English',
      langToggleLabel: 'Switch to English',
      loginTitle: '客服登录',
      loginSub: '接待买家咨询，订单信息一目了然',
      shop: '店铺',
      username: '用户名',
      password: '密码',
      login: '登录',
      loggingIn: '正在登录…',
      logout: '退出登录',
      errRequired: '请填写店铺、用户名和密码',
      errInvalidCredentials: '店铺、用户名或密码不正确',
      errSessionExpired: '登录已过期，请重新登录',
      errNetwork: '网络异常，请稍后重试',
      errGeneric: '操作失败：{msg}',
      role_owner: '店主',
      role_supervisor: '主管',
      role_agent: '客服',
      conversationsNav: '会话列表',
      presence: '接待状态',
      presence_online: '在线',
      presence_away: '离开',
      presence_offline: '离线',
      myConversations: '我的会话',
      queue: '排队中',
      noConversations: '暂无进行中的会话',
      queueEmpty: '没有排队的买家',
      unreadCount: '{n} 条未读',
      queuePosition: '第 {n} 位',
      waitingSince: '{time} 开始等待',
      noMessagesYet: '暂无消息',
      accept: '接入',
      acceptLabel: '接入 {name} 的会话',
      acceptConversation: '接入会话',
      newAssigned: '新会话：{name}',
      chatRegion: '聊天',
      messagesLabel: '消息记录',
      selectConversation: '从左侧选择一个会话开始接待',
      closeConversation: '结束会话',
      closedBanner: '会话已结束，不能再发送消息',
      queuedBanner: '买家正在排队等待，接入后即可回复',
      otherAgentBanner: '该会话由 {name} 接待',
      status_queued: '排队中',
      status_assigned: '接待中',
      status_closed: '已结束',
      conversationNo: '会话 #{id}',
      loadEarlier: '加载更早的消息',
      loading: '加载中…',
      loadFailed: '消息加载失败',
      typing: '{name} 正在输入…',
      typingShort: '正在输入…',
      sysAssigned: '客服 {name} 为您服务',
      sysClosed: '会话已结束',
      inputLabel: '输入消息',
      inputPlaceholder: '输入消息，Enter 发送，Shift+Enter 换行',
      send: '发送',
      sending: '发送中…',
      sendFailed: '发送失败',
      sendFailedWhy: '发送失败：{why}',
      retry: '重试',
      edit: '重新编辑',
      editLabel: '把这条消息放回输入框',
      discard: '删除',
      takenByOther: '该会话已被其他客服接入',
      noAccess: '该会话已由其他客服接待，你无法再查看',
      read: '已读',
      unread: '未读',
      me: '我',
      mePrefix: '我：',
      buyer: '买家',
      agent: '客服',
      bot: '机器人',
      system: '系统',
      textTooLong: '消息不能超过 {max} 个字（当前 {n}）',
      buyerPanel: '买家信息',
      noBuyer: '选择会话后，这里显示买家与订单信息',
      identified: '已认证会员',
      visitor: '访客',
      buyerExternalId: '会员编号',
      buyerInternalId: '买家 ID',
      conversation: '会话',
      startedAt: '开始时间',
      servedBy: '接待客服',
      orders: '订单',
      noOrders: '暂无订单',
      ordersLoading: '订单加载中…',
      ordersError: '订单加载失败',
      reload: '重新加载',
      orderNo: '订单号 {no}',
      orderTotal: '合计',
      orderedAt: '下单时间',
      itemQty: '×{n}',
      order_unpaid: '待付款',
      order_pending: '待付款',
      order_created: '已下单',
      order_paid: '已付款',
      order_shipped: '已发货',
      order_delivered: '已签收',
      order_refunding: '退款中',
      order_refunded: '已退款',
      order_completed: '已完成',
      order_cancelled: '已取消',
      order_canceled: '已取消',
      order_closed: '已关闭',
      conn_connecting: '连接中…',
      conn_online: '已连接',
      conn_offline: '连接已断开，正在重连…',
      conn_closed: '连接已断开',
      reconnectNow: '立即重连',
      err_invalid_json: '消息格式错误',
      err_unknown_type: '未知的消息类型',
      err_invalid_frame: '消息内容不完整',
      err_text_empty: '消息不能为空',
      err_text_too_long: '消息太长',
      err_text_invalid_characters: '消息含有无法发送的控制字符',
      err_invalid_client_msg_id: '消息编号无效',
      err_not_found: '会话不存在',
      err_forbidden: '没有权限操作该会话',
      err_conversation_closed: '会话已结束',
      err_not_queued: '该会话已被接入或已结束',
      err_internal: '服务器内部错误',
      err_network: '网络异常，请稍后重试',
    },
    en: {
      appTitle: 'kefu agent console',
      langToggle: '中文',
      langToggleLabel: '切换到中文',
      loginTitle: 'Agent sign-in',
      loginSub: 'Answer buyers with their orders in view',
      shop: 'Shop',
      username: 'Username',
      password: 'Password',
      login: 'Sign in',
      loggingIn: 'Signing in…',
      logout: 'Sign out',
      errRequired: 'Please enter shop, username and password',
      errInvalidCredentials: 'Wrong shop, username or password',
      errSessionExpired: 'Your session has expired. Please sign in again.',
      errNetwork: 'Network error. Please try again.',
      errGeneric: 'Something went wrong: {msg}',
      role_owner: 'Owner',
      role_supervisor: 'Supervisor',
      role_agent: 'Agent',
      conversationsNav: 'Conversations',
      presence: 'Status',
      presence_online: 'Online',
      presence_away: 'Away',
      presence_offline: 'Offline',
      myConversations: 'My conversations',
      queue: 'Waiting queue',
      noConversations: 'No open conversations',
      queueEmpty: 'No buyers waiting',
      unreadCount: '{n} unread',
      queuePosition: '#{n} in line',
      waitingSince: 'waiting since {time}',
      noMessagesYet: 'No messages yet',
      accept: 'Accept',
      acceptLabel: 'Accept conversation with {name}',
      acceptConversation: 'Accept conversation',
      newAssigned: 'New conversation: {name}',
      chatRegion: 'Chat',
      messagesLabel: 'Messages',
      selectConversation: 'Pick a conversation on the left to start',
      closeConversation: 'Close conversation',
      closedBanner: 'This conversation is closed; no more messages can be sent',
      queuedBanner: 'This buyer is waiting in the queue. Accept to reply.',
      otherAgentBanner: 'Served by {name}',
      status_queued: 'Waiting',
      status_assigned: 'Active',
      status_closed: 'Closed',
      conversationNo: 'Conversation #{id}',
      loadEarlier: 'Load earlier messages',
      loading: 'Loading…',
      loadFailed: 'Could not load messages',
      typing: '{name} is typing…',
      typingShort: 'typing…',
      sysAssigned: '{name} is now serving',
      sysClosed: 'Conversation closed',
      inputLabel: 'Message',
      inputPlaceholder: 'Type a message. Enter sends, Shift+Enter adds a line',
      send: 'Send',
      sending: 'Sending…',
      sendFailed: 'Not sent',
      sendFailedWhy: 'Not sent: {why}',
      retry: 'Retry',
      edit: 'Edit',
      editLabel: 'Put this message back into the message box',
      discard: 'Discard',
      takenByOther: 'A colleague has already taken this conversation',
      noAccess: 'A colleague now handles this conversation; you can no longer open it',
      read: 'Read',
      unread: 'Unread',
      me: 'Me',
      mePrefix: 'Me: ',
      buyer: 'Buyer',
      agent: 'Agent',
      bot: 'Bot',
      system: 'System',
      textTooLong: 'Messages are limited to {max} characters (now {n})',
      buyerPanel: 'Buyer',
      noBuyer: 'Pick a conversation to see the buyer and their orders',
      identified: 'Verified member',
      visitor: 'Guest',
      buyerExternalId: 'Member ID',
      buyerInternalId: 'Buyer ID',
      conversation: 'Conversation',
      startedAt: 'Started',
      servedBy: 'Served by',
      orders: 'Orders',
      noOrders: 'No orders',
      ordersLoading: 'Loading orders…',
      ordersError: 'Could not load orders',
      reload: 'Reload',
      orderNo: 'Order {no}',
      orderTotal: 'Total',
      orderedAt: 'Ordered',
      itemQty: '×{n}',
      order_unpaid: 'Awaiting payment',
      order_pending: 'Awaiting payment',
      order_created: 'Placed',
      order_paid: 'Paid',
      order_shipped: 'Shipped',
      order_delivered: 'Delivered',
      order_refunding: 'Refunding',
      order_refunded: 'Refunded',
      order_completed: 'Completed',
      order_cancelled: 'Cancelled',
      order_canceled: 'Cancelled',
      order_closed: 'Closed',
      conn_connecting: 'Connecting…',
      conn_online: 'Connected',
      conn_offline: 'Disconnected, reconnecting…',
      conn_closed: 'Disconnected',
      reconnectNow: 'Reconnect now',
      err_invalid_json: 'Malformed frame',
      err_unknown_type: 'Unknown frame type',
      err_invalid_frame: 'Incomplete frame',
      err_text_empty: 'The message is empty',
      err_text_too_long: 'The message is too long',
      err_text_invalid_characters: 'The message holds control characters that cannot be sent',
      err_invalid_client_msg_id: 'Invalid message id',
      err_not_found: 'Conversation not found',
      err_forbidden: 'You may not act on this conversation',
      err_conversation_closed: 'The conversation is closed',
      err_not_queued: 'Someone else accepted it, or it was closed',
      err_internal: 'Server error',
      err_network: 'Network error. Please try again.',
    },
  };

  // ---------------------------------------------------------------- state

  const state = {
    lang: 'zh-CN',
    session: null, // {token, expires_at, agent, shop}
    sessionGen: 0, // bumped on every login/logout; late answers of an old session are dropped
    convs: new Map(), // id -> conversation (+ _t: activity key for ordering, _rev: last live frame)
    rev: 0, // counts `conversation` frames; a REST answer older than a frame loses to it
    gone: new Map(), // id -> rev when let go: conversations not ours to show (colleagues', closed)
    notice: '', // string key: why the chat area is empty (e.g. the conversation went to a colleague)
    stash: null, // outbox and drafts kept over a forced sign-in of the same agent
    stores: new Map(), // id -> message store (see newStore)
    outbox: [], // {client_msg_id, conversation_id, text, state: pending|failed, error, sentGen}
    drafts: new Map(), // id -> unsent text
    selectedId: null,
    typing: new Map(), // id -> {name, until}
    readSent: new Map(), // id -> highest seq we sent a read for (on this socket)
    orders: null, // {buyerId, status: loading|ok|error, list}
    ordersV: 0,
    tick: 0,
    fetching: new Set(),
    accepting: new Set(),
    closing: new Set(),
    restoredSelection: false,
    loadError: null,
    // socket
    ws: null,
    wsGen: 0,
    ready: false,
    attempt: 0,
    hb: 25,
    lastFrameAt: 0,
    retryAfter: null,
    pingTimer: 0,
    deadTimer: 0,
    connectTimer: 0,
    readyAt: 0,
    reconnectTimer: 0,
    conn: 'connecting',
    lastTypingSent: 0,
    // rendering
    renderQueued: false,
    chatRenderedId: null,
    scrollToBottom: false,
    prepending: false,
    buyerKey: '',
  };

  const cache = {
    conv: new Map(), // id -> li in #conv-list
    queue: new Map(), // id -> li in #queue-list
    msg: new Map(), // key -> {el, sig} in #msg-list
  };

  let dom = {};

  // ---------------------------------------------------------------- helpers

  function t(key, vars) {
    let s = (STRINGS[state.lang] || STRINGS['zh-CN'])[key];
    if (s == null) s = STRINGS['zh-CN'][key];
    if (s == null) s = key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  }

  function hasString(key) {
    return key in (STRINGS[state.lang] || {}) || key in STRINGS['zh-CN'];
  }

  // h builds an element. Strings among children become text nodes, never HTML.
  function h(tag, props, children) {
    const e = document.createElement(tag);
    if (props) {
      for (const k of Object.keys(props)) {
        const v = props[k];
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (children) for (const c of children) if (c != null && c !== false) e.append(c);
    return e;
  }

  // setChildren replaces el's children, skipping null/false (replaceChildren would print "null").
  function setChildren(el, ...kids) {
    el.replaceChildren(...kids.filter((k) => k != null && k !== false));
  }

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    const now = new Date();
    const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    const md = pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
    if (d.getFullYear() === now.getFullYear()) return md + ' ' + hm;
    return d.getFullYear() + '-' + md + ' ' + hm;
  }

  function fmtDateTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
      pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  }

  // money formats integer cents without floating point: 11800 -> ¥118.00.
  function money(cents, currency) {
    const n = Math.round(Number(cents) || 0);
    const a = Math.abs(n);
    const s = Math.floor(a / 100) + '.' + pad2(a % 100);
    const sym = !currency || String(currency).toUpperCase() === 'CNY' || currency === 'RMB' ? '¥' : currency + ' ';
    return (n < 0 ? '-' : '') + sym + s;
  }

  function randHex(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function charCount(s) {
    let n = 0;
    for (const _ of s) n++; // code points, as the server counts characters
    return n;
  }

  function avatarText(name) {
    const s = String(name || '?').trim();
    return s ? Array.from(s)[0].toUpperCase() : '?';
  }

  function avatarHue(id) {
    return ((Number(id) || 0) * 47) % 360;
  }

  function buyerName(conv) {
    return (conv && conv.buyer && conv.buyer.name) || t('buyer') + (conv && conv.buyer ? ' ' + conv.buyer.id : '');
  }

  function meId() {
    return state.session && state.session.agent ? state.session.agent.id : null;
  }

  function isMine(conv) {
    return !!conv && conv.status === 'assigned' && conv.agent_id === meId();
  }

  function windowActive() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  function isViewing(id) {
    return id === state.selectedId && windowActive();
  }

  function bumpTick() {
    state.tick = Math.max(state.tick + 1, Date.now());
    return state.tick;
  }

  function serverActivity(c) {
    const iso = (c.last_message && c.last_message.created_at) || c.assigned_at || c.created_at;
    const v = Date.parse(iso || '') || 0;
    if (v > state.tick) state.tick = v;
    return v;
  }

  function errText(err) {
    if (!err) return '';
    if (err.code && hasString('err_' + err.code)) return t('err_' + err.code);
    return t('errGeneric', { msg: err.message || err.code || '?' });
  }

  // ---------------------------------------------------------------- storage

  function store(kind, key, value) {
    try {
      const s = kind === 'session' ? sessionStorage : localStorage;
      if (value == null) s.removeItem(key);
      else s.setItem(key, value);
    } catch (_) { /* storage may be disabled */ }
  }

  function load(kind, key) {
    try {
      return (kind === 'session' ? sessionStorage : localStorage).getItem(key);
    } catch (_) {
      return null;
    }
  }

  function loadSession() {
    try {
      const s = JSON.parse(load('local', SESSION_KEY) || 'null');
      if (!s || typeof s.token !== 'string' || !s.agent) return null;
      if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) return null;
      return s;
    } catch (_) {
      return null;
    }
  }

  function saveSession() {
    store('local', SESSION_KEY, state.session ? JSON.stringify(state.session) : null);
  }

  // ---------------------------------------------------------------- REST

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code);
      this.status = status;
      this.code = code;
    }
  }

  class Cancelled extends Error {
    constructor() {
      super('cancelled');
      this.cancelled = true;
    }
  }

  async function api(method, path, body, opts) {
    const gen = state.sessionGen;
    const noAuth = opts && opts.noAuth;
    const headers = { Accept: 'application/json' };
    if (!noAuth && state.session) headers.Authorization = 'Bearer ' + state.session.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    // A request that hangs (a dead network) must not block what waits for it, e.g. refreshList.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), API_TIMEOUT_MS);
    let data = null;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        signal: abort.signal,
      });
      if (gen === state.sessionGen && res.status !== 204) {
        try {
          data = await res.json();
        } catch (e) {
          // A success whose body did not arrive whole is no answer (an error may be plain text).
          if (res.ok) throw e;
          data = null;
        }
      }
    } catch (e) {
      if (gen !== state.sessionGen) throw new Cancelled();
      throw new ApiError(0, 'network', String((e && e.message) || e));
    } finally {
      clearTimeout(timer);
    }
    if (gen !== state.sessionGen) throw new Cancelled();
    if (!res.ok) {
      const e = (data && data.error) || {};
      if (res.status === 401 && !noAuth && state.session) {
        expireSession();
        throw new Cancelled();
      }
      throw new ApiError(res.status, e.code || 'http_' + res.status, e.message || res.statusText);
    }
    return data || {};
  }

  function report(err) {
    if (!err || err.cancelled) return;
    toast(errText(err), 'error');
  }

  // ---------------------------------------------------------------- session

  function startSession(s) {
    state.session = s;
    state.sessionGen++;
    saveSession();
    if (s.shop) store('local', SHOP_KEY, s.shop);
    resetWorkState();
    // Signed in again after the session expired: what this agent had not sent yet is not lost.
    const st = state.stash;
    state.stash = null;
    if (st && st.shop === s.shop && s.agent && st.agentId === s.agent.id) {
      for (const item of st.outbox) state.outbox.push(Object.assign(item, { sentGen: 0 }));
      for (const [id, text] of st.drafts) state.drafts.set(id, text);
    }
    showWorkbench();
    refreshList();
    connect();
  }

  function endSession(message) {
    state.session = null;
    state.sessionGen++;
    saveSession();
    store('session', SELECTED_KEY, null);
    dropSocket();
    clearTimeout(state.reconnectTimer);
    resetWorkState();
    showLogin(message || '');
  }

  function expireSession() {
    const s = state.session;
    if (s && s.agent) {
      if (state.selectedId != null) state.drafts.set(state.selectedId, dom.input.value);
      const drafts = Array.from(state.drafts).filter(([, text]) => text);
      if (state.outbox.length || drafts.length) {
        state.stash = { shop: s.shop, agentId: s.agent.id, outbox: state.outbox.slice(), drafts };
      }
    }
    endSession(t('errSessionExpired'));
  }

  function logout() {
    const s = state.session;
    state.stash = null;
    if (s) {
      // Best effort; the session is forgotten here whatever the answer.
      fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + s.token },
        keepalive: true,
      }).catch(() => {});
    }
    endSession('');
  }

  function resetWorkState() {
    state.convs.clear();
    state.stores.clear();
    for (const item of state.outbox) clearTimeout(item.retryTimer);
    state.outbox = [];
    state.gone.clear();
    state.notice = '';
    state.drafts.clear();
    state.selectedId = null;
    state.typing.clear();
    state.readSent.clear();
    state.orders = null;
    state.fetching.clear();
    state.accepting.clear();
    state.closing.clear();
    state.restoredSelection = false;
    state.chatRenderedId = null;
    state.buyerKey = '';
    cache.conv.clear();
    cache.queue.clear();
    cache.msg.clear();
    if (dom.convList) {
      dom.convList.replaceChildren();
      dom.queueList.replaceChildren();
      dom.msgList.replaceChildren();
      dom.input.value = '';
    }
  }

  function showLogin(message) {
    dom.workbench.hidden = true;
    dom.login.hidden = false;
    dom.logout.hidden = true;
    dom.meBox.hidden = true;
    dom.conn.hidden = true;
    dom.reconnectNow.hidden = true;
    if (!dom.loginShop.value) {
      const q = new URLSearchParams(location.search).get('shop');
      dom.loginShop.value = q || load('local', SHOP_KEY) || 'demo';
    }
    dom.loginPassword.value = '';
    setLoginError(message);
    renderTitle();
    const target = !dom.loginShop.value ? dom.loginShop : !dom.loginUsername.value ? dom.loginUsername : dom.loginPassword;
    target.focus();
  }

  function setLoginError(message) {
    dom.loginError.textContent = message || '';
    dom.loginError.hidden = !message;
  }

  function showWorkbench() {
    dom.login.hidden = true;
    dom.workbench.hidden = false;
    dom.logout.hidden = false;
    dom.meBox.hidden = false;
    renderMe();
    setConn('connecting');
    scheduleRender();
  }

  async function onLoginSubmit(e) {
    e.preventDefault();
    const shop = dom.loginShop.value.trim();
    const username = dom.loginUsername.value.trim();
    const password = dom.loginPassword.value;
    if (!shop || !username || !password) {
      setLoginError(t('errRequired'));
      (!shop ? dom.loginShop : !username ? dom.loginUsername : dom.loginPassword).focus();
      return;
    }
    setLoginError('');
    dom.loginSubmit.disabled = true;
    dom.loginSubmit.textContent = t('loggingIn');
    try {
      const r = await api('POST', '/api/v1/auth/login', { shop, username, password }, { noAuth: true });
      if (!r.token || !r.agent) throw new ApiError(500, 'internal', 'bad login answer');
      startSession({ token: r.token, expires_at: r.expires_at, agent: r.agent, shop });
    } catch (err) {
      if (err.cancelled) return;
      let msg;
      if (err.status === 401 || err.code === 'invalid_credentials') msg = t('errInvalidCredentials');
      else if (err.code === 'network') msg = t('errNetwork');
      else msg = errText(err);
      setLoginError(msg);
      dom.loginPassword.focus();
    } finally {
      dom.loginSubmit.disabled = false;
      dom.loginSubmit.textContent = t('login');
    }
  }

  // ---------------------------------------------------------------- conversations

  // Fields that say who holds a conversation; a stale snapshot must not roll them back.
  const HOLD_FIELDS = ['status', 'agent_id', 'agent_name', 'assigned_at', 'closed_at', 'queue_position'];

  // upsertConv merges a conversation from a `conversation` frame (fromFrame) or from a REST answer
  // whose request started when state.rev was `rev` (a frame that came later is newer than it).
  function upsertConv(c, fromFrame, rev) {
    if (!c || c.id == null) return null;
    const old = state.convs.get(c.id);
    // Let go of (taken by a colleague, closed, refused) after this REST request started: the
    // snapshot would bring back a ghost.
    if (!old && !fromFrame && (state.gone.get(c.id) || 0) > (rev == null ? state.rev : rev)) return null;
    const m = Object.assign({}, old || {}, c);
    if (old && old.buyer && c.buyer) m.buyer = Object.assign({}, old.buyer, c.buyer);
    // A closed conversation never reopens; a REST snapshot taken before the last live frame
    // (the list fetched on connect, answered after "taken by a colleague") is older than it.
    if (old && (old.status === 'closed' || (!fromFrame && (old._rev || 0) > (rev == null ? state.rev : rev)))) {
      for (const k of HOLD_FIELDS) m[k] = old[k];
    }
    if (fromFrame) m._rev = ++state.rev;
    if (old && (old.last_seq || 0) > (c.last_seq || 0)) {
      // This snapshot is older than what we have already seen live.
      m.last_seq = old.last_seq;
      m.last_message = old.last_message;
      m.unread = old.unread;
    } else if (old && !c.last_message && old.last_message && old.last_message.seq === m.last_seq) {
      m.last_message = old.last_message;
    }
    if (old) {
      m.agent_read_seq = Math.max(old.agent_read_seq || 0, c.agent_read_seq || 0);
      m.buyer_read_seq = Math.max(old.buyer_read_seq || 0, c.buyer_read_seq || 0);
    }
    if (m.agent_read_seq && m.agent_read_seq >= (m.last_seq || 0)) m.unread = 0;

    // _t orders "my conversations": newest activity first. Live news always goes to the top.
    const becameMine = isMine(m) && !(old && isMine(old));
    if (!old || old._t == null) m._t = fromFrame ? bumpTick() : serverActivity(m);
    else if (becameMine || (m.last_seq || 0) > (old.last_seq || 0)) m._t = bumpTick();
    else m._t = old._t;

    state.convs.set(c.id, m);
    state.gone.delete(c.id);
    if (becameMine && fromFrame && !state.accepting.has(c.id)) toast(t('newAssigned', { name: buyerName(m) }));
    if (m.status === 'closed') state.typing.delete(c.id);
    // Left the queue to a colleague, or closed: nothing to list. Keep it only while it is on screen.
    if (!relevant(m) && c.id !== state.selectedId) forgetConv(c.id);
    scheduleRender();
    return m;
  }

  // relevant: a conversation the lists show (mine or waiting). Others are kept only while open
  // on screen, so an 8-12 hour shift does not pile up every conversation of the shop.
  function relevant(c) {
    return !!c && (isMine(c) || c.status === 'queued');
  }

  function forgetConv(id) {
    state.convs.delete(id);
    state.stores.delete(id);
    state.drafts.delete(id);
    state.typing.delete(id);
    state.readSent.delete(id);
    state.outbox = state.outbox.filter((x) => x.conversation_id !== id || x.state !== 'failed');
    state.gone.delete(id);
    state.gone.set(id, ++state.rev);
    if (state.gone.size > GONE_MAX) state.gone.delete(state.gone.keys().next().value);
    if (state.loadError === id) state.loadError = null;
    scheduleRender();
  }

  // loseAccess: the server refused us a conversation (403: a colleague holds it now). It goes,
  // and if it was on screen the chat area says why instead of showing a broken view.
  // key names the string that says why (default noAccess).
  function loseAccess(id, key) {
    const wasSelected = state.selectedId === id;
    forgetConv(id);
    if (wasSelected) {
      state.selectedId = null;
      store('session', SELECTED_KEY, null);
      state.notice = key || 'noAccess';
      state.orders = null;
      dom.input.value = '';
    } else if (key) {
      toast(t(key), 'error');
    }
    scheduleRender();
  }

  // pruneConv runs when a conversation leaves the screen: drop it if it is no longer listed,
  // else keep only its newest messages.
  function pruneConv(id) {
    const c = state.convs.get(id);
    if (!relevant(c)) {
      forgetConv(id);
      return;
    }
    const s = state.stores.get(id);
    if (!s || s.msgs.size <= KEEP_MSGS || s.loading) return;
    const cut = s.top - KEEP_MSGS + 1;
    for (const seq of Array.from(s.msgs.keys())) if (seq < cut) s.msgs.delete(seq);
    s.lo = Math.max(s.lo, cut);
  }

  function myConvs() {
    const list = [];
    for (const c of state.convs.values()) if (isMine(c)) list.push(c);
    list.sort((a, b) => (b._t || 0) - (a._t || 0) || b.id - a.id);
    return list;
  }

  function queuedConvs() {
    const list = [];
    for (const c of state.convs.values()) if (c.status === 'queued') list.push(c);
    list.sort((a, b) => (Date.parse(a.created_at || '') || 0) - (Date.parse(b.created_at || '') || 0) || a.id - b.id);
    return list;
  }

  let refreshing = null;
  function refreshList() {
    if (refreshing) {
      refreshing.again = true;
      return;
    }
    const job = { again: false };
    refreshing = job;
    (async () => {
      try {
        const rev = state.rev;
        // A plain agent's list is their own conversations and the queue. Owners and supervisors
        // would get the whole shop: ask for the same two lists instead.
        const a = state.session && state.session.agent;
        const plain = !a || a.role === 'agent';
        const answers = await Promise.all(plain
          ? [api('GET', '/api/v1/conversations?limit=200')]
          : [api('GET', '/api/v1/conversations?mine=true&limit=200'), api('GET', '/api/v1/conversations?status=queued&limit=200')]);
        const seen = new Set();
        for (const r of answers) {
          for (const c of r.conversations || []) {
            upsertConv(c, false, rev);
            seen.add(c.id);
          }
        }
        for (const [id, c] of Array.from(state.convs)) {
          // Not listed, and no live news since we asked: it left the queue or is no longer ours.
          if (seen.has(id) || (c._rev || 0) > rev || !relevant(c)) continue;
          if (id === state.selectedId) fetchConversation(id);
          else forgetConv(id);
        }
        restoreSelection();
        scheduleRender();
      } catch (err) {
        report(err);
      } finally {
        if (refreshing === job) refreshing = null;
        if (job.again && state.session) refreshList();
      }
    })();
  }

  function restoreSelection() {
    if (state.restoredSelection) return;
    state.restoredSelection = true;
    if (state.selectedId != null) return;
    const id = Number(load('session', SELECTED_KEY));
    if (id && state.convs.has(id)) selectConversation(id, { focus: false });
  }

  async function fetchConversation(id) {
    if (state.fetching.has(id)) return;
    state.fetching.add(id);
    const rev = state.rev;
    try {
      const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id));
      if (r.conversation) upsertConv(r.conversation, false, rev);
    } catch (err) {
      if (err.status === 403 || err.status === 404) loseAccess(id);
      else report(err);
    } finally {
      state.fetching.delete(id);
    }
  }

  function selectConversation(id, opts) {
    const focus = !opts || opts.focus !== false;
    state.notice = '';
    if (state.selectedId !== id) {
      const prev = state.selectedId;
      if (prev != null) {
        if (dom.input.value) state.drafts.set(prev, dom.input.value);
        else state.drafts.delete(prev);
      }
      state.selectedId = id;
      if (prev != null) pruneConv(prev);
      store('session', SELECTED_KEY, String(id));
      dom.input.value = state.drafts.get(id) || '';
      dom.composerError.textContent = '';
      state.scrollToBottom = true;
      const conv = state.convs.get(id);
      openStore(id);
      if (conv && conv.buyer && conv.buyer.id != null) loadOrders(conv.buyer.id);
      else state.orders = null;
      updateCharCount();
    } else if (!state.stores.has(id)) {
      openStore(id); // its messages failed to load: clicking it again retries
    }
    scheduleRender();
    if (focus) {
      Promise.resolve().then(() => {
        if (!dom.input.disabled) dom.input.focus();
      });
    }
  }

  async function acceptConversation(id) {
    if (state.accepting.has(id)) return;
    state.accepting.add(id);
    scheduleRender();
    const rev = state.rev;
    try {
      let r;
      try {
        r = await api('POST', '/api/v1/conversations/' + encodeURIComponent(id) + '/accept');
      } catch (err) {
        // not_queued: it left the queue a moment ago, perhaps to us (the router assigns the
        // queue when we come online). Ask whose it is; a colleague's answers 403.
        if (err.code !== 'not_queued') throw err;
        r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id));
        if (!r.conversation || !isMine(r.conversation)) throw err;
      }
      const conv = r.conversation ? upsertConv(r.conversation, false, rev) : state.convs.get(id);
      if (!isMine(conv)) throw new ApiError(409, conv && conv.status === 'closed' ? 'conversation_closed' : 'not_queued', '');
      conv._t = bumpTick();
      selectConversation(id);
      catchUp(id);
    } catch (err) {
      if (err.cancelled) return;
      if (err.status === 403 || err.status === 404 || err.code === 'not_queued') loseAccess(id, 'takenByOther');
      else if (err.code === 'conversation_closed') {
        toast(errText(err), 'error');
        fetchConversation(id);
      } else report(err);
      refreshList();
    } finally {
      state.accepting.delete(id);
      scheduleRender();
    }
  }

  async function closeConversation(id) {
    if (state.closing.has(id)) return;
    state.closing.add(id);
    scheduleRender();
    try {
      const r = await api('POST', '/api/v1/conversations/' + encodeURIComponent(id) + '/close');
      if (r.conversation) upsertConv(r.conversation, false);
      else {
        const c = state.convs.get(id);
        if (c) upsertConv(Object.assign({}, c, { status: 'closed' }), false);
      }
    } catch (err) {
      if (err.status === 403 || err.status === 404) loseAccess(id, 'takenByOther');
      else report(err);
    } finally {
      state.closing.delete(id);
      scheduleRender();
    }
  }

  // ---------------------------------------------------------------- messages

  // A store holds the messages we show for one conversation, keyed by seq.
  // top is the highest seq up to which we hold everything from lo on ("highest seq shown");
  // hi is the highest seq held at all. hi > top means a gap to fill.
  function newStore(base) {
    return { msgs: new Map(), lo: base + 1, top: base, hi: base, loading: false, loadingOlder: false, syncing: null, restBusy: false };
  }

  function addToStore(s, msg) {
    if (s.msgs.has(msg.seq)) return false;
    s.msgs.set(msg.seq, msg);
    if (msg.seq < s.lo) s.lo = msg.seq;
    if (msg.seq > s.hi) s.hi = msg.seq;
    while (s.msgs.has(s.top + 1)) s.top++;
    return true;
  }

  // acceptMessage records one message from any source (live, history, REST) exactly once.
  function acceptMessage(msg, noGapCheck) {
    if (!msg || typeof msg.seq !== 'number' || msg.conversation_id == null) return;
    const id = msg.conversation_id;
    const s = state.stores.get(id);
    if (s) addToStore(s, msg);
    const conv = state.convs.get(id);
    if (conv && msg.seq > (conv.last_seq || 0)) {
      conv.last_seq = msg.seq;
      conv.last_message = msg;
      conv._t = bumpTick();
      if (msg.sender === 'buyer') {
        state.typing.delete(id);
        if (!isViewing(id)) conv.unread = (conv.unread || 0) + 1;
      }
    }
    if (s && !noGapCheck) checkGap(id);
    scheduleRender();
  }

  function checkGap(id) {
    const s = state.stores.get(id);
    if (s && !s.loading && s.hi > s.top) catchUp(id);
  }

  // fetchAfter pages through a conversation's messages after a seq, taking
  // each in. It answers false if the conversation's store was replaced
  // meanwhile (the caller then stops).
  async function fetchAfter(id, s, after) {
    for (;;) {
      const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id) + '/messages?after_seq=' + after + '&limit=' + SYNC_LIMIT);
      if (state.stores.get(id) !== s) return false;
      const msgs = r.messages || [];
      for (const m of msgs) acceptMessage(m, true);
      if (!r.has_more || msgs.length === 0) return true;
      after = msgs[msgs.length - 1].seq;
    }
  }

  async function openStore(id) {
    if (state.stores.has(id)) {
      catchUp(id);
      return;
    }
    const conv = state.convs.get(id);
    const last = (conv && conv.last_seq) || 0;
    const base = Math.max(0, last - PAGE_SIZE);
    const s = newStore(base);
    s.loading = true;
    state.stores.set(id, s);
    scheduleRender();
    try {
      if (!(await fetchAfter(id, s, base))) return;
      s.loading = false;
      if (state.loadError === id) state.loadError = null;
      checkGap(id);
    } catch (err) {
      if (err.cancelled) return;
      // Forget the store so that selecting the conversation again retries; the chat says why.
      if (state.stores.get(id) === s) state.stores.delete(id);
      if (err.status === 403 || err.status === 404) {
        loseAccess(id);
        return;
      }
      state.loadError = id;
      report(err);
    } finally {
      scheduleRender();
    }
  }

  async function loadOlder(id) {
    const s = state.stores.get(id);
    if (!s || s.loadingOlder || s.lo <= 1) return;
    const after = Math.max(0, s.lo - 1 - PAGE_SIZE);
    const limit = s.lo - 1 - after;
    s.loadingOlder = true;
    scheduleRender();
    try {
      const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id) + '/messages?after_seq=' + after + '&limit=' + limit);
      if (state.stores.get(id) !== s) return;
      state.prepending = true;
      for (const m of r.messages || []) acceptMessage(m, true);
      s.lo = Math.min(s.lo, after + 1);
    } catch (err) {
      if (err.status === 403 || err.status === 404) loseAccess(id);
      else report(err);
    } finally {
      s.loadingOlder = false;
      scheduleRender();
    }
  }

  // catchUp fetches what follows the highest seq we show: over the socket when we follow the
  // conversation, otherwise (socket down, queued or closed conversation) over REST.
  function catchUp(id) {
    const s = state.stores.get(id);
    if (!s || s.loading) return;
    if (state.ready && isMine(state.convs.get(id))) sendSync(id, s.top);
    else restCatchUp(id);
  }

  function sendSync(id, after) {
    const s = state.stores.get(id);
    if (s) {
      if (s.syncing === after) return;
      s.syncing = after;
    }
    wsSend({ type: 'sync', conversation_id: id, after_seq: after, limit: SYNC_LIMIT });
  }

  async function restCatchUp(id) {
    const s = state.stores.get(id);
    if (!s || s.restBusy) return;
    s.restBusy = true;
    try {
      if (!(await fetchAfter(id, s, s.top))) return;
    } catch (err) {
      if (err.status === 403 || err.status === 404) loseAccess(id);
      else report(err);
    } finally {
      s.restBusy = false;
      scheduleRender();
    }
  }

  function maybeMarkRead() {
    const id = state.selectedId;
    if (id == null) return;
    const conv = state.convs.get(id);
    const s = state.stores.get(id);
    if (!conv || !s || s.loading || !isMine(conv) || !windowActive()) return;
    const seq = s.top;
    if (seq <= 0) return;
    const sent = state.readSent.get(id) || 0;
    if (seq > sent && (seq > (conv.agent_read_seq || 0) || (conv.unread || 0) > 0)) {
      state.readSent.set(id, seq);
      if (state.ready) {
        wsSend({ type: 'read', conversation_id: id, seq });
      } else {
        const rev = state.rev;
        api('POST', '/api/v1/conversations/' + encodeURIComponent(id) + '/read', { seq })
          .then((r) => { if (r.conversation) upsertConv(r.conversation, false, rev); })
          .catch(() => { if (state.readSent.get(id) === seq) state.readSent.delete(id); });
      }
      conv.agent_read_seq = Math.max(conv.agent_read_seq || 0, seq);
    }
    if (seq >= (conv.last_seq || 0) && conv.unread) {
      conv.unread = 0;
      scheduleRender();
    }
  }

  // ---------------------------------------------------------------- sending

  function sendFromComposer() {
    const id = state.selectedId;
    const conv = state.convs.get(id);
    if (!isMine(conv)) return;
    const text = dom.input.value.replace(CONTROL_CHARS, '').trim();
    if (!text) return;
    const n = charCount(text);
    if (n > MAX_TEXT) {
      dom.composerError.textContent = t('textTooLong', { max: MAX_TEXT, n });
      return;
    }
    dom.composerError.textContent = '';
    const item = { client_msg_id: 'a_' + randHex(16), conversation_id: id, text, state: 'pending', error: '', sentGen: 0 };
    state.outbox.push(item);
    dom.input.value = '';
    state.drafts.delete(id);
    updateCharCount();
    state.scrollToBottom = true;
    transmit(item);
    scheduleRender();
    dom.input.focus();
  }

  function transmit(item) {
    if (!state.ready) return; // stays in the outbox until the next `ready`
    if (wsSend({ type: 'send', conversation_id: item.conversation_id, client_msg_id: item.client_msg_id, text: item.text })) {
      item.sentGen = state.wsGen;
    }
  }

  function flushOutbox() {
    for (const item of state.outbox) {
      if (item.state === 'pending' && item.sentGen !== state.wsGen) transmit(item);
    }
  }

  function removeOutbox(cmid) {
    const i = state.outbox.findIndex((x) => x.client_msg_id === cmid);
    if (i >= 0) {
      clearTimeout(state.outbox[i].retryTimer);
      state.outbox.splice(i, 1);
      scheduleRender();
      return true;
    }
    return false;
  }

  // editOutbox puts a refused message back into the message box of its conversation.
  function editOutbox(cmid) {
    const item = state.outbox.find((x) => x.client_msg_id === cmid);
    if (!item) return;
    removeOutbox(cmid);
    if (item.conversation_id === state.selectedId && !dom.input.disabled) {
      const cur = dom.input.value.trim();
      dom.input.value = cur ? item.text + '\n' + cur : item.text;
      updateCharCount();
      dom.input.focus();
    }
  }

  // retryLater resends a message the server could not store this time (`internal`), with the
  // same client_msg_id, after a growing, jittered pause; a reconnect in between resends it too.
  function retryLater(item) {
    clearTimeout(item.retryTimer);
    item.tries = (item.tries || 0) + 1;
    const cap = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, Math.min(item.tries, 10)));
    item.retryTimer = setTimeout(() => {
      item.retryTimer = 0;
      if (state.outbox.includes(item) && item.state === 'pending') transmit(item);
    }, cap / 2 + Math.random() * cap / 2);
  }

  function onComposerInput() {
    updateCharCount();
    const conv = state.convs.get(state.selectedId);
    if (!isMine(conv) || !dom.input.value.trim() || !state.ready) return;
    const now = Date.now();
    if (now - state.lastTypingSent >= TYPING_SEND_MS) {
      state.lastTypingSent = now;
      wsSend({ type: 'typing', conversation_id: conv.id });
    }
  }

  function updateCharCount() {
    const n = charCount(dom.input.value);
    dom.charCount.textContent = n > MAX_TEXT * 0.9 ? n + ' / ' + MAX_TEXT : '';
    dom.charCount.classList.toggle('over', n > MAX_TEXT);
    if (n <= MAX_TEXT && dom.composerError.textContent) dom.composerError.textContent = '';
  }

  // ---------------------------------------------------------------- socket

  function connect() {
    if (!state.session) return;
    clearTimeout(state.reconnectTimer);
    dropSocket();
    const gen = ++state.wsGen;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = proto + '//' + location.host + '/ws/agent?token=' + encodeURIComponent(state.session.token);
    setConn('connecting');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (_) {
      scheduleReconnect(backoff());
      return;
    }
    state.ws = ws;
    state.ready = false;
    state.retryAfter = null;
    // A socket that never gets to `ready` (a handshake lost on a dead network) is given up.
    state.connectTimer = setTimeout(() => {
      if (gen !== state.wsGen || state.ready) return;
      dropSocket();
      setConn('offline');
      scheduleReconnect(backoff());
    }, CONNECT_TIMEOUT_MS);
    ws.onmessage = (ev) => {
      if (gen !== state.wsGen) return;
      state.lastFrameAt = Date.now();
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      if (f && typeof f === 'object') onFrame(f);
    };
    ws.onclose = (ev) => {
      if (gen !== state.wsGen) return;
      onSocketClosed(ev.code);
    };
    ws.onerror = () => {};
  }

  // dropSocket forgets the current socket; its late events are ignored (generation check).
  function dropSocket() {
    state.wsGen++;
    stopHeartbeat();
    const ws = state.ws;
    state.ws = null;
    state.ready = false;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close(1000);
      } catch (_) { /* already closed */ }
    }
  }

  function onSocketClosed(code) {
    stopHeartbeat();
    state.ws = null;
    state.ready = false;
    noteStable();
    if (!state.session) return;
    if (code === 4401) {
      expireSession();
      return;
    }
    if (code === 1000) {
      // Normal close by the server: the protocol says do nothing; offer a manual reconnect.
      setConn('closed');
      return;
    }
    let delay;
    if (state.retryAfter != null) {
      delay = state.retryAfter + Math.random() * BACKOFF_MIN_MS;
      state.retryAfter = null;
    } else {
      delay = backoff();
    }
    setConn('offline');
    scheduleReconnect(delay);
  }

  // noteStable resets the backoff only for a socket that stayed up a while: a server that
  // accepts and drops at once is not hammered every half second by every console.
  function noteStable() {
    if (state.readyAt && Date.now() - state.readyAt >= STABLE_MS) state.attempt = 0;
    state.readyAt = 0;
  }

  function backoff() {
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, state.attempt));
    state.attempt = Math.min(state.attempt + 1, 16);
    return Math.random() * cap; // full jitter
  }

  function scheduleReconnect(delay) {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(() => {
      if (state.session && !state.ws) connect();
    }, delay);
  }

  function reconnectSoon() {
    if (state.session && !state.ws) {
      state.attempt = 0;
      connect();
    }
  }

  // The network is back: reconnect now, or prove that a socket which looks open is alive (a
  // dead one stays silent and the heartbeat check replaces it).
  function onOnline() {
    if (state.ws) wsSend({ type: 'ping' });
    else reconnectSoon();
  }

  function startHeartbeat() {
    stopHeartbeat();
    const gen = state.wsGen;
    const hbMs = state.hb * 1000;
    state.lastFrameAt = Date.now();
    state.pingTimer = setInterval(() => {
      if (gen === state.wsGen) wsSend({ type: 'ping' });
    }, hbMs);
    state.deadTimer = setInterval(() => {
      if (gen !== state.wsGen) return;
      if (Date.now() - state.lastFrameAt > 2 * hbMs) {
        // Nothing heard for two heartbeats: the socket is dead even if the browser has not noticed.
        noteStable();
        dropSocket();
        setConn('offline');
        scheduleReconnect(backoff());
      }
    }, Math.min(5000, Math.max(1000, hbMs / 4)));
  }

  function stopHeartbeat() {
    clearInterval(state.pingTimer);
    clearInterval(state.deadTimer);
    clearTimeout(state.connectTimer);
    state.pingTimer = 0;
    state.deadTimer = 0;
    state.connectTimer = 0;
  }

  function wsSend(obj) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (_) {
      return false;
    }
  }

  function onFrame(f) {
    switch (f.type) {
      case 'ready': onReady(f); break;
      case 'ack': onAck(f); break;
      case 'message': onMessage(f.message); break;
      case 'history': onHistory(f); break;
      case 'typing': onTyping(f); break;
      case 'read': onRead(f); break;
      case 'conversation': upsertConv(f.conversation, true); break;
      case 'presence': onPresenceFrame(f); break;
      case 'error': onErrorFrame(f); break;
      case 'reconnect':
        state.retryAfter = Math.max(0, Number(f.retry_after_ms) || 0);
        break;
      default: break; // pong and anything newer
    }
  }

  function onReady(f) {
    state.ready = true;
    state.readyAt = Date.now();
    state.hb = Number(f.heartbeat_sec) > 0 ? Number(f.heartbeat_sec) : 25;
    if (f.agent && state.session) {
      state.session.agent = Object.assign({}, state.session.agent, f.agent);
      saveSession();
      renderMe();
    }
    startHeartbeat();
    setConn('online');
    state.readSent.clear();
    for (const s of state.stores.values()) s.syncing = null;
    // Rule 4: catch up on what is shown (a failed first load is retried).
    const id = state.selectedId;
    if (id != null) {
      if (state.stores.has(id)) catchUp(id);
      else openStore(id);
    }
    refreshList();
    flushOutbox();
    scheduleRender();
  }

  function onAck(f) {
    removeOutbox(f.client_msg_id);
    if (f.message) acceptMessage(f.message);
  }

  function onMessage(msg) {
    if (!msg) return;
    if (msg.client_msg_id && msg.sender === 'agent' && msg.sender_id === meId()) removeOutbox(msg.client_msg_id);
    // A message of a conversation we do not know: a new one in the queue (its `conversation`
    // frame follows), or after a reconnect one of ours. Colleagues' ones we already let go of
    // (owners and supervisors hear every message of the shop) are not looked up again.
    // The frame usually follows within milliseconds: look it up only if it does not.
    const cid = msg.conversation_id;
    if (!state.convs.has(cid) && !state.gone.has(cid) && !state.fetching.has(cid)) {
      state.fetching.add(cid);
      setTimeout(() => {
        state.fetching.delete(cid);
        if (state.session && !state.convs.has(cid) && !state.gone.has(cid)) fetchConversation(cid);
      }, 500);
    }
    acceptMessage(msg);
  }

  function onHistory(f) {
    const id = f.conversation_id;
    const s = state.stores.get(id);
    if (s) s.syncing = null;
    const msgs = Array.isArray(f.messages) ? f.messages : [];
    for (const m of msgs) acceptMessage(m, true);
    if (!s) return;
    if (f.has_more && msgs.length) sendSync(id, msgs[msgs.length - 1].seq);
    else if (msgs.length) checkGap(id);
  }

  function onTyping(f) {
    if (f.sender !== 'buyer' || !state.convs.has(f.conversation_id)) return;
    const id = f.conversation_id;
    state.typing.set(id, { name: f.name || '', until: Date.now() + TYPING_SHOW_MS });
    setTimeout(() => {
      const e = state.typing.get(id);
      if (e && e.until <= Date.now()) {
        state.typing.delete(id);
        scheduleRender();
      }
    }, TYPING_SHOW_MS + 50);
    scheduleRender();
  }

  function onRead(f) {
    const conv = state.convs.get(f.conversation_id);
    if (!conv || typeof f.seq !== 'number') return;
    if (f.reader === 'buyer') {
      conv.buyer_read_seq = Math.max(conv.buyer_read_seq || 0, f.seq);
    } else if (f.reader === 'agent') {
      conv.agent_read_seq = Math.max(conv.agent_read_seq || 0, f.seq);
      if (conv.agent_read_seq >= (conv.last_seq || 0)) conv.unread = 0;
    }
    scheduleRender();
  }

  function onPresenceFrame(f) {
    if (!state.session || f.agent_id !== meId()) return;
    state.session.agent = Object.assign({}, state.session.agent, { presence: f.status });
    saveSession();
    renderMe();
  }

  function onErrorFrame(f) {
    if (f.ref) {
      const item = state.outbox.find((x) => x.client_msg_id === f.ref);
      if (item) {
        if (FINAL_CODES.has(f.code)) {
          // Never storable as sent: out of the resend loop; the row says why and offers
          // to edit or discard it.
          clearTimeout(item.retryTimer);
          item.state = 'failed';
          item.error = f.code || '';
          // Not ours to write to any more (closed, or a colleague's): learn its state.
          if (!state.convs.has(item.conversation_id)) removeOutbox(item.client_msg_id); // nowhere to show it
          else if (/^(conversation_closed|forbidden|not_queued)$/.test(f.code)) fetchConversation(item.conversation_id);
        } else {
          retryLater(item);
        }
        scheduleRender();
      }
      return; // else the answer to a retry of a message already stored or discarded
    }
    // We cannot tell which request failed; let later triggers sync again.
    for (const s of state.stores.values()) s.syncing = null;
    toast(errText({ code: f.code, message: f.message }), 'error');
  }

  // ---------------------------------------------------------------- presence

  // setPresence: online/away go over the socket (the `presence` frame) when it is up; offline,
  // which the socket has no frame for, and any change while disconnected go through REST.
  async function setPresence(status) {
    if (!state.session) return;
    const prev = state.session.agent.presence;
    state.session.agent = Object.assign({}, state.session.agent, { presence: status });
    saveSession();
    renderMe();
    if ((status === 'online' || status === 'away') && state.ready && wsSend({ type: 'presence', status })) return;
    try {
      const r = await api('PUT', '/api/v1/me/presence', { status });
      if (state.session && r.agent) {
        state.session.agent = Object.assign({}, state.session.agent, r.agent);
        saveSession();
      }
    } catch (err) {
      report(err);
      if (state.session && !err.cancelled) state.session.agent.presence = prev;
    }
    renderMe();
  }

  // ---------------------------------------------------------------- orders

  async function loadOrders(buyerId) {
    const o = { buyerId, status: 'loading', list: [] };
    state.orders = o;
    state.ordersV++;
    scheduleRender();
    try {
      const r = await api('GET', '/api/v1/buyers/' + encodeURIComponent(buyerId) + '/orders');
      if (state.orders !== o) return;
      o.list = Array.isArray(r.orders) ? r.orders : [];
      o.status = 'ok';
    } catch (err) {
      if (err.cancelled || state.orders !== o) return;
      o.status = 'error';
    }
    state.ordersV++;
    scheduleRender();
  }

  // ---------------------------------------------------------------- rendering

  function scheduleRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    // A microtask, not requestAnimationFrame: the title must update in background tabs too.
    Promise.resolve().then(() => {
      state.renderQueued = false;
      if (!state.session) {
        renderTitle();
        return;
      }
      maybeMarkRead();
      renderLists();
      renderChat();
      renderBuyer();
      renderTitle();
    });
  }

  function renderTitle() {
    let total = 0;
    if (state.session) for (const c of myConvs()) total += c.unread || 0;
    document.title = total > 0 ? '(' + total + ') ' + t('appTitle') : t('appTitle');
  }

  function renderMe() {
    const a = state.session && state.session.agent;
    if (!a) return;
    dom.meName.textContent = a.name || a.username || '';
    dom.meRole.textContent = a.role && hasString('role_' + a.role) ? t('role_' + a.role) : a.role || '';
    dom.meAvatar.textContent = avatarText(a.name || a.username);
    const p = a.presence === 'away' || a.presence === 'offline' ? a.presence : 'online';
    if (dom.presence.value !== p) dom.presence.value = p;
    dom.presenceDot.className = 'presence-dot is-' + p;
  }

  function setConn(s) {
    state.conn = s;
    if (!state.session) return;
    dom.conn.hidden = false;
    dom.conn.className = 'conn is-' + s;
    dom.connText.textContent = t('conn_' + s);
    dom.reconnectNow.hidden = !(s === 'offline' || s === 'closed');
  }

  // reconcile puts exactly `items` into `container`, in order, moving as few nodes as it can
  // (so focus and scroll survive updates).
  function reconcile(container, items) {
    let next = container.firstChild;
    for (const el of items) {
      if (el === next) {
        next = next.nextSibling;
        continue;
      }
      container.insertBefore(el, next);
    }
    while (next) {
      const n = next.nextSibling;
      next.remove();
      next = n;
    }
  }

  // systemText words a system message in the console's language from its code
  // (docs/protocol.md); unknown codes keep the server's text.
  function systemText(m) {
    if (m.code === 'assigned') return t('sysAssigned', { name: m.sender_name || '' });
    if (m.code === 'closed') return t('sysClosed');
    return m.text || '';
  }

  function previewText(c) {
    if (state.typing.has(c.id)) return { text: t('typingShort'), cls: 'is-typing' };
    const m = c.last_message;
    if (!m) return { text: '', cls: '' };
    if (m.kind === 'system' || m.sender === 'system') return { text: systemText(m), cls: 'is-system' };
    if (m.sender === 'agent') return { text: t('mePrefix') + (m.text || ''), cls: 'is-mine' };
    return { text: m.text || '', cls: '' };
  }

  function avatarEl(name, id, extra) {
    const a = h('span', { class: 'avatar' + (extra ? ' ' + extra : ''), 'aria-hidden': 'true', text: avatarText(name) });
    a.style.setProperty('--hue', String(avatarHue(id)));
    return a;
  }

  function renderLists() {
    const mine = myConvs();
    const items = [];
    const used = new Set();
    for (const c of mine) {
      used.add(c.id);
      let li = cache.conv.get(c.id);
      if (!li) {
        li = h('li', { class: 'conv-item', 'data-testid': 'conv-item' });
        const id = c.id;
        li.append(h('button', { type: 'button', class: 'conv-btn', onclick: () => selectConversation(id) }));
        cache.conv.set(c.id, li);
      }
      const unread = c.unread || 0;
      li.setAttribute('data-conversation-id', String(c.id));
      li.setAttribute('data-unread', String(unread));
      li.classList.toggle('is-selected', c.id === state.selectedId);
      li.classList.toggle('has-unread', unread > 0);
      const btn = li.firstChild;
      if (c.id === state.selectedId) btn.setAttribute('aria-current', 'true');
      else btn.removeAttribute('aria-current');
      const pv = previewText(c);
      const name = buyerName(c);
      const when = fmtTime(c.last_message ? c.last_message.created_at : c.assigned_at || c.created_at);
      // Rebuild the row only when what it shows changed (every frame re-renders the lists).
      const sig = [state.lang, name, c.buyer && c.buyer.id, c.buyer && c.buyer.identified, when, pv.text, pv.cls, unread].join('\u0001');
      if (li._sig !== sig) {
        li._sig = sig;
        setChildren(btn,
          avatarEl(name, c.buyer && c.buyer.id),
          h('span', { class: 'conv-body' }, [
            h('span', { class: 'conv-top' }, [
              h('span', { class: 'conv-name', text: name }),
              c.buyer && c.buyer.identified ? h('span', { class: 'tag tag-verified tag-xs', title: t('identified') }, [
                h('span', { 'aria-hidden': 'true', text: '✓' }),
                h('span', { class: 'sr-only', text: t('identified') }),
              ]) : null,
              h('time', { class: 'conv-time', text: when }),
            ]),
            h('span', { class: 'conv-bottom' }, [
              h('span', { class: 'conv-preview ' + pv.cls, text: pv.text }),
              unread > 0 ? h('span', { class: 'badge', 'data-testid': 'unread-badge' }, [
                h('span', { 'aria-hidden': 'true', text: unread > 99 ? '99+' : String(unread) }),
                h('span', { class: 'sr-only', text: t('unreadCount', { n: unread }) }),
              ]) : null,
            ]),
          ]),
        );
      }
      items.push(li);
    }
    for (const id of cache.conv.keys()) if (!used.has(id)) cache.conv.delete(id);
    reconcile(dom.convList, items);
    dom.convEmpty.hidden = mine.length > 0;
    dom.convCount.textContent = String(mine.length);

    const queued = queuedConvs();
    const qItems = [];
    const qUsed = new Set();
    queued.forEach((c, i) => {
      qUsed.add(c.id);
      let li = cache.queue.get(c.id);
      const id = c.id;
      if (!li) {
        li = h('li', { class: 'queue-item', 'data-testid': 'queue-item' }, [
          h('button', { type: 'button', class: 'queue-btn', onclick: () => selectConversation(id, { focus: false }) }),
          h('button', { type: 'button', class: 'btn btn-primary btn-sm btn-accept', 'data-testid': 'accept-conversation', onclick: () => acceptConversation(id) }),
        ]);
        cache.queue.set(id, li);
      }
      li.setAttribute('data-conversation-id', String(id));
      li.classList.toggle('is-selected', id === state.selectedId);
      const [btn, accept] = li.children;
      if (id === state.selectedId) btn.setAttribute('aria-current', 'true');
      else btn.removeAttribute('aria-current');
      const name = buyerName(c);
      // Place in line from our own list (oldest first): a snapshot's queue_position goes stale
      // as soon as anyone ahead leaves, and agents get no `queue` frames.
      const pos = i + 1;
      const pv = previewText(c);
      const since = pv.text ? '' : fmtTime(c.created_at);
      const sig = [state.lang, name, c.buyer && c.buyer.id, pos, pv.text, pv.cls, since].join('\u0001');
      if (li._sig !== sig) {
        li._sig = sig;
        setChildren(btn,
          avatarEl(name, c.buyer && c.buyer.id),
          h('span', { class: 'conv-body' }, [
            h('span', { class: 'conv-top' }, [
              h('span', { class: 'conv-name', text: name }),
              h('span', { class: 'queue-pos', text: t('queuePosition', { n: pos }) }),
            ]),
            h('span', { class: 'conv-bottom' }, [
              h('span', { class: 'conv-preview ' + pv.cls, text: pv.text || t('waitingSince', { time: since }) }),
            ]),
          ]),
        );
      }
      accept.textContent = t('accept');
      accept.setAttribute('aria-label', t('acceptLabel', { name }));
      accept.disabled = state.accepting.has(id);
      qItems.push(li);
    });
    for (const id of cache.queue.keys()) if (!qUsed.has(id)) cache.queue.delete(id);
    reconcile(dom.queueList, qItems);
    dom.queueEmpty.hidden = queued.length > 0;
    dom.queueCount.textContent = String(queued.length);
    dom.queueCount.classList.toggle('is-hot', queued.length > 0);
  }

  function renderChat() {
    const id = state.selectedId;
    const conv = id != null ? state.convs.get(id) : null;
    dom.chatEmpty.hidden = !!conv;
    dom.chat.hidden = !conv;
    const notice = conv || !state.notice ? '' : t(state.notice);
    if (dom.chatNotice.textContent !== notice) dom.chatNotice.textContent = notice;
    dom.chatNotice.hidden = !notice;
    if (!conv) {
      if (state.chatRenderedId != null) {
        dom.msgList.replaceChildren();
        cache.msg.clear();
        state.chatRenderedId = null;
      }
      return;
    }
    const mine = isMine(conv);

    // header
    dom.chatTitle.textContent = buyerName(conv);
    dom.chatStatus.textContent = t('status_' + conv.status);
    dom.chatStatus.className = 'chip chip-' + conv.status;
    dom.chatSub.textContent = t('conversationNo', { id: conv.id });
    dom.chatAccept.hidden = conv.status !== 'queued';
    dom.chatAccept.disabled = state.accepting.has(id);
    dom.closeConv.disabled = !mine || state.closing.has(id);

    let banner = '';
    if (conv.status === 'closed') banner = t('closedBanner');
    else if (conv.status === 'queued') banner = t('queuedBanner');
    else if (!mine) banner = t('otherAgentBanner', { name: conv.agent_name || t('agent') });
    dom.chatBanner.textContent = banner;
    dom.chatBanner.hidden = !banner;

    dom.input.disabled = !mine;
    dom.send.disabled = !mine;

    // messages
    const scroller = dom.chatScroll;
    let forceBottom = state.scrollToBottom;
    if (state.chatRenderedId !== id) {
      dom.msgList.replaceChildren();
      cache.msg.clear();
      state.chatRenderedId = id;
      forceBottom = true;
    }
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const prevHeight = scroller.scrollHeight;
    const prevTop = scroller.scrollTop;

    const s = state.stores.get(id);
    const els = [];
    const used = new Set();
    if (s) {
      const seqs = Array.from(s.msgs.keys()).sort((a, b) => a - b);
      for (const seq of seqs) {
        const key = 's' + seq;
        used.add(key);
        els.push(messageEl(key, s.msgs.get(seq), conv));
      }
    }
    for (const item of state.outbox) {
      if (item.conversation_id !== id) continue;
      const key = 'p' + item.client_msg_id;
      used.add(key);
      els.push(pendingEl(key, item, mine));
    }
    for (const key of cache.msg.keys()) if (!used.has(key)) cache.msg.delete(key);
    reconcile(dom.msgList, els);

    let note = '';
    if (!s) note = state.loadError === id ? t('loadFailed') : t('loading');
    else if (s.loading) note = t('loading');
    else if (els.length === 0) note = t('noMessagesYet');
    dom.chatNote.textContent = note;
    dom.chatNote.hidden = !note;
    dom.loadOlder.hidden = !s || s.loading || s.lo <= 1;
    dom.loadOlder.disabled = !!(s && s.loadingOlder);
    dom.loadOlder.textContent = s && s.loadingOlder ? t('loading') : t('loadEarlier');

    if (forceBottom || (atBottom && !state.prepending)) {
      scroller.scrollTop = scroller.scrollHeight;
    } else if (state.prepending) {
      scroller.scrollTop = prevTop + (scroller.scrollHeight - prevHeight);
    }
    state.scrollToBottom = false;
    state.prepending = false;

    // typing
    const ty = state.typing.get(id);
    const typingText = ty && ty.until > Date.now() ? t('typing', { name: ty.name || buyerName(conv) }) : '';
    if (dom.typing.textContent !== typingText) dom.typing.textContent = typingText;
  }

  function senderName(msg) {
    if (msg.sender === 'agent' && msg.sender_id === meId()) return msg.sender_name || t('me');
    if (msg.sender_name) return msg.sender_name;
    return t(msg.sender === 'buyer' ? 'buyer' : msg.sender === 'bot' ? 'bot' : msg.sender === 'system' ? 'system' : 'agent');
  }

  function messageEl(key, msg, conv) {
    const system = msg.kind === 'system' || msg.sender === 'system';
    const fromShop = msg.sender === 'agent' || msg.sender === 'bot';
    const read = msg.sender === 'agent' && (conv.buyer_read_seq || 0) >= msg.seq;
    const sig = state.lang + '|' + (msg.sender === 'agent' ? (read ? 'r' : 'u') : '');
    let entry = cache.msg.get(key);
    if (entry && entry.sig === sig) return entry.el;
    const li = entry ? entry.el : h('li', {});
    li.setAttribute('data-testid', 'chat-message');
    li.setAttribute('data-seq', String(msg.seq));
    li.setAttribute('data-sender', String(msg.sender || ''));
    li.className = 'msg ' + (system ? 'msg-system' : fromShop ? 'msg-out' : 'msg-in') + ' msg-' + (msg.sender || 'unknown');
    if (system) {
      li.replaceChildren(h('span', { class: 'msg-system-text', 'data-testid': 'chat-text', text: systemText(msg) }));
    } else {
      setChildren(li,
        h('div', { class: 'msg-meta' }, [
          h('span', { class: 'msg-name', text: senderName(msg) }),
          h('time', { datetime: msg.created_at || null, title: fmtDateTime(msg.created_at), text: fmtTime(msg.created_at) }),
        ]),
        h('div', { class: 'msg-bubble' }, [h('p', { class: 'msg-text', 'data-testid': 'chat-text', text: msg.text || '' })]),
        msg.sender === 'agent' ? h('div', { class: 'msg-status' + (read ? ' is-read' : ''), text: read ? t('read') : t('unread') }) : null,
      );
    }
    cache.msg.set(key, { el: li, sig });
    return li;
  }

  function pendingEl(key, item, mine) {
    const sig = state.lang + '|' + item.state + '|' + item.error + '|' + mine;
    let entry = cache.msg.get(key);
    if (entry && entry.sig === sig) return entry.el;
    const li = entry ? entry.el : h('li', {});
    li.setAttribute('data-testid', 'chat-message');
    li.setAttribute('data-sender', 'agent');
    li.setAttribute('data-status', item.state);
    li.setAttribute('data-client-msg-id', item.client_msg_id);
    li.className = 'msg msg-out msg-agent is-' + item.state;
    const a = state.session && state.session.agent;
    let status;
    if (item.state === 'failed') {
      const cmid = item.client_msg_id;
      status = h('div', { class: 'msg-status is-failed' }, [
        h('span', { text: item.error ? t('sendFailedWhy', { why: errText({ code: item.error }) }) : t('sendFailed') }),
        mine ? h('button', { type: 'button', class: 'btn-link', text: t('edit'), title: t('editLabel'), onclick: () => editOutbox(cmid) }) : null,
        h('button', { type: 'button', class: 'btn-link', text: t('discard'), onclick: () => removeOutbox(cmid) }),
      ]);
    } else {
      status = h('div', { class: 'msg-status is-pending' }, [h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('sending')]);
    }
    setChildren(li,
      h('div', { class: 'msg-meta' }, [h('span', { class: 'msg-name', text: (a && a.name) || t('me') })]),
      h('div', { class: 'msg-bubble' }, [h('p', { class: 'msg-text', 'data-testid': 'chat-text', text: item.text })]),
      status,
    );
    cache.msg.set(key, { el: li, sig });
    return li;
  }

  function renderBuyer() {
    const id = state.selectedId;
    const conv = id != null ? state.convs.get(id) : null;
    const b = conv && conv.buyer;
    const key = [state.lang, id, conv && conv.status, conv && conv.agent_name, b && b.id, b && b.name, b && b.identified, b && b.external_id, state.ordersV].join('|');
    if (key === state.buyerKey) return;
    state.buyerKey = key;
    if (!conv) {
      dom.buyerBody.replaceChildren(h('p', { class: 'panel-empty', text: t('noBuyer') }));
      return;
    }
    const name = buyerName(conv);
    const facts = [];
    const fact = (label, value) => {
      if (value == null || value === '') return;
      facts.push(h('dt', { text: label }), h('dd', { text: String(value) }));
    };
    if (b && b.external_id) fact(t('buyerExternalId'), b.external_id);
    else if (b) fact(t('buyerInternalId'), b.id);
    fact(t('conversation'), '#' + conv.id + ' · ' + t('status_' + conv.status));
    if (conv.agent_name) fact(t('servedBy'), conv.agent_name);
    fact(t('startedAt'), fmtDateTime(conv.created_at));

    const card = h('div', { class: 'buyer-card' }, [
      avatarEl(name, b && b.id, 'avatar-lg'),
      h('div', { class: 'buyer-id' }, [
        h('div', { class: 'buyer-name', 'data-testid': 'buyer-name', text: name }),
        b && b.identified
          ? h('span', { class: 'tag tag-verified', 'data-testid': 'buyer-identified', 'data-identified': 'true', text: t('identified') })
          : h('span', { class: 'tag tag-guest', 'data-testid': 'buyer-identified', 'data-identified': 'false', text: t('visitor') }),
      ]),
    ]);

    const o = state.orders && b && state.orders.buyerId === b.id ? state.orders : null;
    const ordersHead = h('h3', { class: 'panel-subheading' }, [
      t('orders'),
      o && o.status === 'ok' ? h('span', { class: 'count', text: String(o.list.length) }) : null,
    ]);
    let ordersBody;
    if (!o || o.status === 'loading') {
      ordersBody = h('p', { class: 'panel-note', text: t('ordersLoading') });
    } else if (o.status === 'error') {
      const buyerId = b.id;
      ordersBody = h('p', { class: 'panel-note is-error' }, [
        t('ordersError') + ' ',
        h('button', { type: 'button', class: 'btn-link', text: t('reload'), onclick: () => loadOrders(buyerId) }),
      ]);
    } else if (o.list.length === 0) {
      ordersBody = h('p', { class: 'panel-note', text: t('noOrders') });
    } else {
      ordersBody = h('ul', { class: 'order-list', 'data-testid': 'order-list' }, o.list.map(orderEl));
    }

    dom.buyerBody.replaceChildren(card, h('dl', { class: 'facts' }, facts), ordersHead, ordersBody);
  }

  function orderEl(o) {
    const status = String(o.status || '');
    const statusText = hasString('order_' + status) ? t('order_' + status) : status;
    const items = Array.isArray(o.items) ? o.items : [];
    return h('li', { class: 'order', 'data-testid': 'order-item', 'data-order-no': o.order_no || '' }, [
      h('div', { class: 'order-head' }, [
        h('span', { class: 'order-no', text: t('orderNo', { no: o.order_no || o.id || '' }) }),
        h('span', { class: 'order-status status-' + status.replace(/[^a-z_-]/gi, ''), 'data-testid': 'order-status', text: statusText }),
      ]),
      items.length ? h('ul', { class: 'order-items' }, items.map((it) => h('li', { class: 'order-line' }, [
        h('span', { class: 'item-title', text: it.title || '' }),
        h('span', { class: 'item-qty', text: t('itemQty', { n: it.quantity != null ? it.quantity : 1 }) }),
        h('span', { class: 'item-price', text: money(it.price_cents, o.currency) }),
      ]))) : null,
      h('div', { class: 'order-foot' }, [
        h('time', { class: 'order-time', datetime: o.created_at || null, text: o.created_at ? t('orderedAt') + ' ' + fmtDateTime(o.created_at) : '' }),
        h('span', { class: 'order-amount' }, [
          h('span', { class: 'order-amount-label', text: t('orderTotal') + ' ' }),
          h('strong', { 'data-testid': 'order-amount', text: money(o.amount_cents, o.currency) }),
        ]),
      ]),
    ]);
  }

  function toast(text, kind) {
    if (!text) return;
    const el = h('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), text });
    dom.toasts.append(el);
    while (dom.toasts.children.length > 4) dom.toasts.firstChild.remove();
    setTimeout(() => el.remove(), TOAST_MS);
  }

  // ---------------------------------------------------------------- language

  function normLang(v) {
    if (!v) return null;
    if (/^en/i.test(v)) return 'en';
    if (/^zh/i.test(v)) return 'zh-CN';
    return null;
  }

  function applyLang() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder')));
    for (const el of document.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label')));
    dom.langToggle.textContent = t('langToggle');
    dom.langToggle.setAttribute('aria-label', t('langToggleLabel'));
    dom.langToggle.setAttribute('lang', state.lang === 'en' ? 'zh-CN' : 'en');
    if (dom.loginSubmit.disabled) dom.loginSubmit.textContent = t('loggingIn');
    cache.msg.clear();
    state.chatRenderedId = null;
    state.buyerKey = '';
    if (state.session) {
      renderMe();
      setConn(state.conn);
    }
    scheduleRender();
  }

  function toggleLang() {
    state.lang = state.lang === 'en' ? 'zh-CN' : 'en';
    store('local', LANG_KEY, state.lang);
    const u = new URL(location.href);
    if (u.searchParams.has('lang')) {
      u.searchParams.set('lang', state.lang === 'en' ? 'en' : 'zh-CN');
      history.replaceState(history.state, '', u.toString());
    }
    applyLang();
  }

  // ---------------------------------------------------------------- wiring

  function onKeydownInput(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendFromComposer();
    }
  }

  function onGlobalKeydown(e) {
    // Alt+↑ / Alt+↓ walks through my conversations from anywhere.
    if (!state.session || !e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    const list = myConvs();
    if (!list.length) return;
    e.preventDefault();
    let i = list.findIndex((c) => c.id === state.selectedId);
    if (i < 0) i = e.key === 'ArrowDown' ? -1 : list.length;
    i = Math.max(0, Math.min(list.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
    selectConversation(list[i].id);
  }

  function onActivityChange() {
    if (!state.session) return;
    scheduleRender(); // runs maybeMarkRead
    if (document.visibilityState === 'visible' && !state.ws) reconnectSoon();
  }

  function init() {
    const $ = (id) => document.getElementById(id);
    dom = {
      login: $('login-screen'),
      loginForm: $('login-form'),
      loginShop: $('login-shop'),
      loginUsername: $('login-username'),
      loginPassword: $('login-password'),
      loginSubmit: $('login-submit'),
      loginError: $('login-error'),
      workbench: $('workbench'),
      logout: $('logout'),
      langToggle: $('lang-toggle'),
      meBox: $('me-box'),
      meName: $('me-name'),
      meRole: $('me-role'),
      meAvatar: $('me-avatar'),
      conn: $('conn-status'),
      connText: $('conn-text'),
      reconnectNow: $('reconnect-now'),
      presence: $('presence-select'),
      presenceDot: $('presence-dot'),
      convList: $('conv-list'),
      convEmpty: $('conv-empty'),
      convCount: $('conv-count'),
      queueList: $('queue-list'),
      queueEmpty: $('queue-empty'),
      queueCount: $('queue-count'),
      chatEmpty: $('chat-empty'),
      chatNotice: $('chat-notice'),
      chat: $('chat'),
      chatTitle: $('chat-title'),
      chatStatus: $('chat-status'),
      chatSub: $('chat-sub'),
      chatAccept: $('chat-accept'),
      closeConv: $('close-conversation'),
      chatBanner: $('chat-banner'),
      chatScroll: $('chat-scroll'),
      chatNote: $('chat-note'),
      loadOlder: $('load-older'),
      msgList: $('msg-list'),
      typing: $('typing'),
      composer: $('composer'),
      input: $('chat-input'),
      composerError: $('composer-error'),
      charCount: $('char-count'),
      send: $('chat-send'),
      buyerBody: $('buyer-body'),
      toasts: $('toasts'),
    };

    state.lang = normLang(new URLSearchParams(location.search).get('lang')) || normLang(load('local', LANG_KEY)) || 'zh-CN';

    dom.loginForm.addEventListener('submit', onLoginSubmit);
    dom.logout.addEventListener('click', logout);
    dom.langToggle.addEventListener('click', toggleLang);
    dom.reconnectNow.addEventListener('click', reconnectSoon);
    dom.presence.addEventListener('change', () => setPresence(dom.presence.value));
    dom.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      sendFromComposer();
    });
    dom.input.addEventListener('keydown', onKeydownInput);
    dom.input.addEventListener('input', onComposerInput);
    dom.closeConv.addEventListener('click', () => {
      if (state.selectedId != null) closeConversation(state.selectedId);
    });
    dom.chatAccept.addEventListener('click', () => {
      if (state.selectedId != null) acceptConversation(state.selectedId);
    });
    dom.loadOlder.addEventListener('click', () => {
      if (state.selectedId != null) loadOlder(state.selectedId);
    });
    document.addEventListener('keydown', onGlobalKeydown);
    window.addEventListener('focus', onActivityChange);
    document.addEventListener('visibilitychange', onActivityChange);
    window.addEventListener('online', onOnline);
    window.addEventListener('storage', (e) => {
      // Logged out (or in as someone else) in another tab.
      if (e.key !== SESSION_KEY || !state.session) return;
      const s = loadSession();
      if (!s || s.token !== state.session.token) endSession('');
    });
    // Relative times ("12:03" vs "11-26 12:03") and the typing indicator age; cheap to redo.
    setInterval(() => {
      if (state.session) scheduleRender();
    }, 60000);

    applyLang();
    const s = loadSession();
    if (s) {
      startSession(s);
    } else {
      saveSession();
      showLogin('');
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
