// What each server frame of the agent socket (docs/protocol.md) means for the workbench. The
// transport (socket.js) hands every frame here; a new frame type is one more case.
import { state, scheduleRender, meId } from './state.js';
import { toast } from './dom.js';
import { errText } from './api.js';
import { updateAgent } from './session.js';
import { upsertConv, fetchConversation, refreshList, loadLinkedOrders } from './convs.js';
import { acceptMessage, catchUp, checkGap, flushOutbox, openLog, refuseOutbox, removeOutbox, sendSync } from './messages.js';
import { loadAgents } from './handover.js';
import { onRatingFrame } from './rating.js';
import { api } from './api.js';

const TYPING_SHOW_MS = 6000;

export function onFrame(f) {
  switch (f.type) {
    case 'ready': onReady(f); break;
    case 'ack': onAck(f); break;
    case 'message': onMessage(f.message); break;
    case 'history': onHistory(f); break;
    case 'typing': onTyping(f); break;
    case 'read': onRead(f); break;
    case 'conversation': upsertConv(f.conversation, true); break;
    case 'nudge': onNudge(f); break;
    case 'rating': onRatingFrame(f); break;
    case 'order_link': if (f.conversation_id === state.selectedId) loadLinkedOrders(f.conversation_id); break;
    case 'presence': onPresenceFrame(f); break;
    case 'overflow': state.overflow = f; scheduleRender(); break;
    case 'error': onErrorFrame(f); break;
    default: break; // pong and anything newer
  }
}

function onReady(f) {
  if (f.agent) updateAgent(f.agent);
  state.readSent.clear();
  for (const log of state.logs.values()) log.syncing = null;
  // Rule 4: catch up on what is shown (a failed first load is retried).
  const id = state.selectedId;
  if (id != null) {
    if (state.logs.has(id)) catchUp(id);
    else openLog(id);
  }
  refreshList();
  loadOverflow();
  flushOutbox();
  // Colleagues' names (a transfer's sender, helpers, holders) are known before a frame needs
  // them, so nothing shows "客服 #2" first. A failure is retried by agentName.
  loadAgents().catch(() => {});
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
  const log = state.logs.get(id);
  if (log) log.syncing = null;
  const msgs = Array.isArray(f.messages) ? f.messages : [];
  for (const m of msgs) acceptMessage(m, true);
  if (!log) return;
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

// onNudge: the buyer has waited the shop's slow-reply limit; the row and the tab title say so
// until an agent's message ends the wait.
function onNudge(f) {
  const conv = state.convs.get(f.conversation_id);
  if (!conv) return;
  conv._nudged = true;
  if (!conv.awaiting_since && f.waiting_since) conv.awaiting_since = f.waiting_since;
  scheduleRender();
}

function onPresenceFrame(f) {
  const a = state.agents && state.agents.find((x) => x.id === f.agent_id);
  if (a) {
    a.presence = f.status;
    scheduleRender(); // the hand-over panel shows colleagues' presence
  }
  if (!state.session || f.agent_id !== meId()) return;
  updateAgent({ presence: f.status });
}

function onErrorFrame(f) {
  if (f.ref) {
    refuseOutbox(f.ref, f.code);
    return;
  }
  // We cannot tell which request failed; let later triggers sync again.
  for (const log of state.logs.values()) log.syncing = null;
  toast(errText({ code: f.code, message: f.message }), 'error');
}

// loadOverflow reads the shop's overflow stage once the socket is ready; `overflow` frames keep
// it current. A failure leaves the banner as it was (the next frame fills it).
function loadOverflow() {
  const gen = state.sessionGen;
  api('GET', '/api/v1/shop/overflow').then((o) => {
    if (gen === state.sessionGen && o && o.state) {
      state.overflow = o.state;
      scheduleRender();
    }
  }).catch(() => {});
}
