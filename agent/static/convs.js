// The conversations the console knows: merging snapshots (REST) and live frames without letting
// an old one roll a newer one back, which ones the lists show, the one on screen, accepting and
// closing, the selected buyer's orders and the orders linked to the open conversation.
import { state, scheduleRender, bumpTick, isMine, me } from './state.js';
import { t } from './strings.js';
import { toast, TOAST_MS } from './dom.js';
import { isListed, isPrivileged, helps, compareMine, newerWords } from './access.js';
import { store, load, SELECTED_KEY } from './storage.js';
import { api, ApiError, errText, report } from './api.js';
import { openLog, catchUp } from './messages.js';
import { keepDraft, showDraft, clearComposer, focusComposer } from './views/composer.js';

const KEEP_MSGS = 200; // messages kept per conversation not on screen (a shift is 8-12 hours)
const GONE_MAX = 2000; // conversation ids remembered as "not ours" (no REST lookup for them)

// Fields that say who holds a conversation; a stale snapshot must not roll them back.
const HOLD_FIELDS = ['status', 'agent_id', 'agent_name', 'assigned_at', 'closed_at', 'queue_position', 'helper_ids', 'transfer'];
// Fields a conversation object omits when empty: a newer object without them clears them.
const OPTIONAL_FIELDS = ['helper_ids', 'transfer', 'awaiting_since'];

let newCount = 0; // new conversations told of in the toast still shown
let newAt = 0;

// noticeNew tells of a conversation that became mine; several in a row share one toast.
function noticeNew(conv) {
  const now = Date.now();
  if (now - newAt > TOAST_MS) newCount = 0;
  newAt = now;
  newCount++;
  const one = helps(conv, me()) ? 'invitedToHelp' : 'newAssigned';
  toast(newCount === 1 ? t(one, { name: buyerName(conv) }) : t('newAssignedMany', { n: newCount }), '', 'new-conversations');
}

// buyerName is how the console names a conversation's buyer.
export function buyerName(conv) {
  return (conv && conv.buyer && conv.buyer.name) || t('buyer') + (conv && conv.buyer ? ' ' + conv.buyer.id : '');
}

function serverActivity(c) {
  const iso = (c.last_message && c.last_message.created_at) || c.assigned_at || c.created_at;
  const v = Date.parse(iso || '') || 0;
  if (v > state.tick) state.tick = v;
  return v;
}

// upsertConv merges a conversation from a `conversation` frame (fromFrame) or from a REST answer
// whose request started when state.rev was `rev` (a frame that came later is newer than it).
export function upsertConv(c, fromFrame, rev) {
  if (!c || c.id == null) return null;
  const old = state.convs.get(c.id);
  // Let go of (taken by a colleague, closed, refused) after this REST request started: the
  // snapshot would bring back a ghost.
  if (!old && !fromFrame && (state.gone.get(c.id) || 0) > (rev == null ? state.rev : rev)) return null;
  const m = Object.assign({}, old || {}, c);
  for (const k of OPTIONAL_FIELDS) if (!(k in c)) delete m[k];
  if (old && old.buyer && c.buyer) m.buyer = Object.assign({}, old.buyer, c.buyer);
  // Every change of who holds a conversation adds a line to it (protocol.md §3), so an object
  // with a smaller last_seq than one already seen is an older state, whatever order frames came
  // in (a reopened conversation comes back with a larger one). A REST snapshot taken before the
  // last live frame (the list fetched on connect, answered after "taken by a colleague") is
  // older than it too.
  if (old && ((c.last_seq || 0) < (old.last_seq || 0) || (!fromFrame && (old._rev || 0) > (rev == null ? state.rev : rev)))) {
    for (const k of HOLD_FIELDS) m[k] = old[k];
  }
  if (fromFrame) m._rev = ++state.rev;
  if (old && (old.last_seq || 0) > (c.last_seq || 0)) {
    // This snapshot is older than what we have already seen live.
    m.last_seq = old.last_seq;
    m.last_message = old.last_message;
    m.unread = old.unread;
    m.awaiting_since = old.awaiting_since;
    m._nudged = old._nudged;
  } else if (old && !c.last_message && old.last_message && old.last_message.seq === m.last_seq) {
    m.last_message = old.last_message;
  }
  if (old) {
    m.agent_read_seq = Math.max(old.agent_read_seq || 0, c.agent_read_seq || 0);
    m.buyer_read_seq = Math.max(old.buyer_read_seq || 0, c.buyer_read_seq || 0);
  }
  if (m.agent_read_seq && m.agent_read_seq >= (m.last_seq || 0)) m.unread = 0;
  if (!m.awaiting_since) m._nudged = false;
  if (m.last_message) state.words.set(c.id, newerWords(state.words.get(c.id), m.last_message));

  // _t orders "my conversations": newest activity first. Live news always goes to the top.
  const becameMine = isMine(m) && !(old && isMine(old));
  if (!old || old._t == null) m._t = fromFrame ? bumpTick() : serverActivity(m);
  else if (becameMine || (m.last_seq || 0) > (old.last_seq || 0)) m._t = bumpTick();
  else m._t = old._t;

  state.convs.set(c.id, m);
  state.gone.delete(c.id);
  if (becameMine && fromFrame && !state.accepting.has(c.id)) noticeNew(m);
  if (m.status === 'closed') state.typing.delete(c.id);
  // Closed while the history is open: it goes on top of it.
  const hs = state.history;
  if (m.status === 'closed' && old && old.status !== 'closed' && isMine(old) && hs.open && !hs.list.some((x) => x.id === m.id)) hs.list.unshift(m);
  // Left the queue to a colleague, or closed: nothing to list. Keep it only while it is on screen.
  if (!relevant(m) && c.id !== state.selectedId) forgetConv(c.id);
  scheduleRender();
  return m;
}

// relevant: a conversation the lists show (mine, helped in, waiting; owners and supervisors:
// every open one). Others are kept only while open on screen, so an 8-12 hour shift does not
// pile up every conversation of the shop.
function relevant(c) {
  return isListed(c, me());
}

function forgetConv(id) {
  state.convs.delete(id);
  state.logs.delete(id);
  state.drafts.delete(id);
  state.typing.delete(id);
  state.readSent.delete(id);
  state.words.delete(id);
  state.outbox.dropFailed(id);
  state.gone.delete(id);
  state.gone.set(id, ++state.rev);
  if (state.gone.size > GONE_MAX) state.gone.delete(state.gone.keys().next().value);
  if (state.loadError === id) state.loadError = null;
  scheduleRender();
}

// loseAccess: the server refused us a conversation (403: a colleague holds it now). It goes,
// and if it was on screen the chat area says why instead of showing a broken view.
// key names the string that says why (default noAccess).
export function loseAccess(id, key) {
  const wasSelected = state.selectedId === id;
  forgetConv(id);
  if (wasSelected) {
    state.selectedId = null;
    store('session', SELECTED_KEY, null);
    state.notice = key || 'noAccess';
    state.orders = null;
    clearComposer();
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
  const log = state.logs.get(id);
  if (log) log.prune(KEEP_MSGS);
}

// myConvs is my conversations (held or helped in): awaiting an answer first, longest waiting
// first, then newest activity first.
export function myConvs() {
  const list = [];
  for (const c of state.convs.values()) if (isMine(c)) list.push(c);
  list.sort(compareMine);
  return list;
}

// colleaguesConvs is, for owners and supervisors, the shop's other open conversations held by
// colleagues, in the same order.
export function colleaguesConvs() {
  if (!isPrivileged(me())) return [];
  const list = [];
  for (const c of state.convs.values()) if (c.status === 'assigned' && !isMine(c)) list.push(c);
  list.sort(compareMine);
  return list;
}

// queuedConvs is the queue, longest waiting first.
export function queuedConvs() {
  const list = [];
  for (const c of state.convs.values()) if (c.status === 'queued') list.push(c);
  list.sort((a, b) => (Date.parse(a.created_at || '') || 0) - (Date.parse(b.created_at || '') || 0) || a.id - b.id);
  return list;
}

let refreshing = null; // the list fetch in flight; one more is asked for with .again

// refreshList fetches the lists anew (sign-in, every `ready`, after a refused accept).
export function refreshList() {
  if (refreshing) {
    refreshing.again = true;
    return;
  }
  const job = { again: false };
  refreshing = job;
  (async () => {
    try {
      const rev = state.rev;
      // A plain agent's list is their own conversations, the ones they help in and the queue;
      // owners and supervisors get every open conversation of the shop.
      const answers = await Promise.all([api('GET', '/api/v1/conversations?limit=200')]);
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

// restoreSelection reopens, once per session, the conversation this tab had open (a reload).
function restoreSelection() {
  if (state.restoredSelection) return;
  state.restoredSelection = true;
  if (state.selectedId != null) return;
  const id = Number(load('session', SELECTED_KEY));
  if (id && state.convs.has(id)) selectConversation(id, { focus: false });
}

export async function fetchConversation(id) {
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

// selectConversation puts a conversation on screen (opts.focus false: leave focus where it is).
export function selectConversation(id, opts) {
  const focus = !opts || opts.focus !== false;
  state.notice = '';
  if (state.selectedId !== id) {
    const prev = state.selectedId;
    if (prev != null) keepDraft(prev);
    state.selectedId = id;
    if (prev != null) pruneConv(prev);
    store('session', SELECTED_KEY, String(id));
    showDraft(id);
    state.scrollToBottom = true;
    const conv = state.convs.get(id);
    openLog(id);
    if (conv && conv.buyer && conv.buyer.id != null) loadOrders(conv.buyer.id);
    else state.orders = null;
    state.linking.clear();
    state.linkError = '';
    loadLinkedOrders(id);
  } else if (!state.logs.has(id)) {
    openLog(id); // its messages failed to load: clicking it again retries
  }
  scheduleRender();
  // After the render, which enables the message box if the conversation is mine.
  if (focus) Promise.resolve().then(focusComposer);
}

export async function acceptConversation(id) {
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

export async function closeConversation(id) {
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

// loadOrders fetches the buyer's orders for the buyer panel; an answer for a buyer no longer
// on screen is dropped.
export async function loadOrders(buyerId) {
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

// loadLinkedOrders fetches the orders linked to the conversation (GET …/orders): on opening it,
// after a link or unlink of ours, and on an order_link frame for it (an order card, a colleague
// or the API linked or unlinked one). An answer for a conversation no longer open is dropped;
// a reload keeps the list shown until its answer comes.
export async function loadLinkedOrders(convId) {
  const prev = state.linked && state.linked.convId === convId ? state.linked : null;
  const l = { convId, status: prev && prev.status === 'ok' ? 'ok' : 'loading', list: prev ? prev.list : [] };
  state.linked = l;
  state.ordersV++;
  scheduleRender();
  try {
    const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(convId) + '/orders');
    if (state.linked !== l) return;
    l.list = Array.isArray(r.orders) ? r.orders : [];
    l.status = 'ok';
  } catch (err) {
    if (err.cancelled || state.linked !== l) return;
    l.status = 'error';
  }
  state.ordersV++;
  scheduleRender();
}

// setOrderLink links (link true) or unlinks an order of the buyer to the conversation
// (POST …/orders, DELETE …/orders/{order_no}, docs/orders.md §7), then reloads the linked
// orders. A refusal is worded in the panel (state.linkError), not a toast.
export async function setOrderLink(convId, orderNo, link) {
  if (state.linking.has(orderNo)) return;
  state.linking.set(orderNo, link ? 'link' : 'unlink');
  state.linkError = '';
  state.ordersV++;
  scheduleRender();
  const base = '/api/v1/conversations/' + encodeURIComponent(convId) + '/orders';
  try {
    if (link) await api('POST', base, { order_no: orderNo });
    else await api('DELETE', base + '/' + encodeURIComponent(orderNo));
  } catch (err) {
    if (err.cancelled) return;
    // Unlinking what a colleague unlinked a moment ago is done, not an error.
    const gone = !link && err.status === 404;
    if (!gone && state.selectedId === convId) state.linkError = t(link ? 'linkFailed' : 'unlinkFailed', { no: orderNo, why: errText(err) });
  } finally {
    if (state.selectedId === convId) state.linking.delete(orderNo);
  }
  if (state.selectedId === convId) await loadLinkedOrders(convId);
  else {
    state.ordersV++;
    scheduleRender();
  }
}

const HISTORY_PAGE = 30;

// toggleHistory opens the history of closed conversations (fetched anew each time) or folds it.
export function toggleHistory() {
  const hs = state.history;
  hs.open = !hs.open;
  if (hs.open) loadHistory(true);
  scheduleRender();
}

// loadHistory fetches the newest closed conversations (fresh) or the page before the smallest
// id shown (GET /api/v1/conversations?status=closed&before=…).
export async function loadHistory(fresh) {
  const hs = state.history;
  if (hs.loading && !fresh) return;
  const job = {};
  hs.job = job;
  hs.loading = true;
  hs.error = false;
  if (fresh) {
    hs.list = [];
    hs.more = true;
  }
  scheduleRender();
  try {
    let path = '/api/v1/conversations?status=closed&limit=' + HISTORY_PAGE;
    if (hs.list.length) path += '&before=' + Math.min(...hs.list.map((c) => c.id));
    const r = await api('GET', path);
    if (state.history !== hs || hs.job !== job) return;
    const page = r.conversations || [];
    const have = new Set(hs.list.map((c) => c.id));
    for (const c of page) if (!have.has(c.id)) hs.list.push(c);
    hs.more = page.length >= HISTORY_PAGE;
  } catch (err) {
    if (err.cancelled || state.history !== hs || hs.job !== job) return;
    hs.error = true;
    report(err);
  } finally {
    if (state.history === hs && hs.job === job) hs.loading = false;
    scheduleRender();
  }
}

// openClosed puts a conversation of the history on screen, read-only (it is not listed, so it
// is let go again when another one is opened).
export function openClosed(id) {
  const c = state.history.list.find((x) => x.id === id);
  if (c) openFound(c);
}

// openFound puts a conversation found elsewhere than the lists (the history, a search result:
// a snapshot as GET /api/v1/conversations gives it) on screen; one not listed is let go again
// when another one is opened.
export function openFound(c) {
  const id = c && c.id;
  if (id == null) return;
  if (!state.convs.has(id)) {
    state.gone.delete(id);
    state.convs.set(id, Object.assign({}, c, { _t: 0 }));
    if (c.last_message) state.words.set(id, newerWords(state.words.get(id), c.last_message));
  }
  selectConversation(id, { focus: false });
}
