// Getting a conversation's messages and getting ours out: the first page and "load earlier"
// over REST, catching up after a gap over the socket (`sync`) or REST, read marks, and the
// outbox's trips to the server (send, resend on a new socket, retry after a refusal).
// What is held, in what order, and which refusals are final is convlog.js.
import { state, scheduleRender, bumpTick, isMine } from './state.js';
import { windowActive } from './dom.js';
import { api, report } from './api.js';
import { wsSend } from './socket.js';
import { isMessage, isLost, openingBase, retryDelay, MessageLog } from './convlog.js';
import { nextAwaiting, newerWords } from './access.js';
import { upsertConv, loseAccess, fetchConversation } from './convs.js';

const PAGE_SIZE = 50; // messages loaded when a conversation is opened, and per "load earlier"
const SYNC_LIMIT = 100;
const TYPING_SEND_MS = 2000;

function isViewing(id) {
  return id === state.selectedId && windowActive();
}

// acceptMessage records one message from any source (live, history, REST) exactly once.
// noGapCheck: the caller is paging through a range and fills any gap itself.
export function acceptMessage(msg, noGapCheck) {
  if (!isMessage(msg)) return;
  const id = msg.conversation_id;
  const log = state.logs.get(id);
  if (log) log.add(msg);
  const conv = state.convs.get(id);
  // Also before its conversation is known: a new one's first words come before its frame.
  if (conv || !state.gone.has(id)) state.words.set(id, newerWords(state.words.get(id), msg));
  if (conv && msg.seq > (conv.last_seq || 0)) {
    conv.last_seq = msg.seq;
    conv.last_message = msg;
    conv._t = bumpTick();
    // Kept current from messages (protocol.md §3): a buyer's sets it, an agent's clears it.
    conv.awaiting_since = nextAwaiting(conv.awaiting_since, msg);
    if (!conv.awaiting_since) conv._nudged = false;
    if (msg.sender === 'buyer') {
      state.typing.delete(id);
      if (!isViewing(id)) conv.unread = (conv.unread || 0) + 1;
    }
  }
  if (log && !noGapCheck) checkGap(id);
  scheduleRender();
}

// checkGap fetches what is missing if a message beyond a gap arrived.
export function checkGap(id) {
  const log = state.logs.get(id);
  if (log && log.hasGap()) catchUp(id);
}

// fetchAfter pages through a conversation's messages after a seq, taking each in. It answers
// false if the conversation's log was replaced meanwhile (the caller then stops).
async function fetchAfter(id, log, after) {
  for (;;) {
    const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id) + '/messages?after_seq=' + after + '&limit=' + SYNC_LIMIT);
    if (state.logs.get(id) !== log) return false;
    const msgs = r.messages || [];
    for (const m of msgs) acceptMessage(m, true);
    if (!r.has_more || msgs.length === 0) return true;
    after = msgs[msgs.length - 1].seq;
  }
}

// openLog loads a conversation's newest messages when it comes on screen (or catches up if
// they are held already).
export async function openLog(id) {
  if (state.logs.has(id)) {
    catchUp(id);
    return;
  }
  const conv = state.convs.get(id);
  const base = openingBase(conv && conv.last_seq, PAGE_SIZE);
  const log = new MessageLog(base);
  log.loading = true;
  state.logs.set(id, log);
  scheduleRender();
  try {
    if (!(await fetchAfter(id, log, base))) return;
    log.loading = false;
    if (state.loadError === id) state.loadError = null;
    checkGap(id);
  } catch (err) {
    if (err.cancelled) return;
    // Forget the log so that selecting the conversation again retries; the chat says why.
    if (state.logs.get(id) === log) state.logs.delete(id);
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

export async function loadOlder(id) {
  const log = state.logs.get(id);
  if (!log || log.loadingOlder) return;
  const page = log.olderPage(PAGE_SIZE);
  if (!page) return;
  log.loadingOlder = true;
  scheduleRender();
  try {
    const r = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id) + '/messages?after_seq=' + page.after + '&limit=' + page.limit);
    if (state.logs.get(id) !== log) return;
    state.prepending = true;
    for (const m of r.messages || []) acceptMessage(m, true);
    log.olderLoaded(page.after);
  } catch (err) {
    if (err.status === 403 || err.status === 404) loseAccess(id);
    else report(err);
  } finally {
    log.loadingOlder = false;
    scheduleRender();
  }
}

// catchUp fetches what follows the highest seq we show: over the socket when we follow the
// conversation, otherwise (socket down, queued or closed conversation) over REST.
export function catchUp(id) {
  const log = state.logs.get(id);
  if (!log || log.loading) return;
  if (state.ready && isMine(state.convs.get(id))) sendSync(id, log.top);
  else restCatchUp(id);
}

export function sendSync(id, after) {
  const log = state.logs.get(id);
  if (log && !log.claimSync(after)) return;
  wsSend({ type: 'sync', conversation_id: id, after_seq: after, limit: SYNC_LIMIT });
}

async function restCatchUp(id) {
  const log = state.logs.get(id);
  if (!log || log.restBusy) return;
  log.restBusy = true;
  try {
    if (!(await fetchAfter(id, log, log.top))) return;
  } catch (err) {
    if (err.status === 403 || err.status === 404) loseAccess(id);
    else report(err);
  } finally {
    log.restBusy = false;
    scheduleRender();
  }
}

// maybeMarkRead tells the server how far the agent has read the conversation on screen (run
// by every render: what is on screen in an active window counts as read).
export function maybeMarkRead() {
  const id = state.selectedId;
  if (id == null) return;
  const conv = state.convs.get(id);
  const log = state.logs.get(id);
  if (!conv || !log || log.loading || !isMine(conv) || !windowActive()) return;
  const seq = log.top;
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

function randHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// sendText puts a message in the outbox and sends it if the socket is ready; it stays there,
// resent with the same client_msg_id, until the server stores it or finally refuses it.
export function sendText(id, text) {
  const item = state.outbox.add(id, 'a_' + randHex(16), text);
  transmit(item);
  scheduleRender();
}

function transmit(item) {
  if (!state.ready) return; // stays in the outbox until the next `ready`
  if (wsSend({ type: 'send', conversation_id: item.conversation_id, client_msg_id: item.client_msg_id, text: item.text })) {
    item.sentGen = state.wsGen;
  }
}

// flushOutbox sends what this socket has not carried yet (after every `ready`).
export function flushOutbox() {
  for (const item of state.outbox.unsent(state.wsGen)) transmit(item);
}

// removeOutbox takes a message out of the outbox (stored, or discarded by the agent) and
// answers it, or null.
export function removeOutbox(cmid) {
  const item = state.outbox.remove(cmid);
  if (!item) return null;
  clearTimeout(item.retryTimer);
  scheduleRender();
  return item;
}

// refuseOutbox handles an `error` frame that answers one of our sends (ref: its client_msg_id).
export function refuseOutbox(ref, code) {
  const r = state.outbox.refuse(ref, code);
  if (!r) return; // the answer to a retry of a message already stored or discarded
  const item = r.item;
  if (r.final) {
    // Never storable as sent: out of the resend loop; the row says why and offers to edit or
    // discard it.
    clearTimeout(item.retryTimer);
    // Not ours to write to any more (closed, or a colleague's): learn its state.
    if (!state.convs.has(item.conversation_id)) removeOutbox(item.client_msg_id); // nowhere to show it
    else if (isLost(code)) fetchConversation(item.conversation_id);
  } else {
    retryLater(item);
  }
  scheduleRender();
}

// retryLater resends a message the server could not store this time (`internal`), with the
// same client_msg_id, after a growing, jittered pause; a reconnect in between resends it too.
function retryLater(item) {
  clearTimeout(item.retryTimer);
  item.retryTimer = setTimeout(() => {
    item.retryTimer = 0;
    if (state.outbox.has(item) && item.state === 'pending') transmit(item);
  }, retryDelay(item.tries, Math.random()));
}

// sendTyping tells the buyer the agent is typing, at most every TYPING_SEND_MS.
export function sendTyping(id) {
  if (!state.ready) return;
  const now = Date.now();
  if (now - state.lastTypingSent >= TYPING_SEND_MS) {
    state.lastTypingSent = now;
    wsSend({ type: 'typing', conversation_id: id });
  }
}
