// The console's shared mutable state, in one place: every module reads and writes this object
// rather than keeping copies, so a sign-out (session.js resetWorkState) can clear it all and a
// render sees one truth. What only one module needs stays private to it (socket timers in
// socket.js, DOM caches in the views).
import { Outbox } from './convlog.js';
import * as access from './access.js';

export const state = {
  lang: 'zh-CN',
  session: null, // {token, expires_at, agent, shop}
  sessionGen: 0, // bumped on every login/logout; late answers of an old session are dropped
  convs: new Map(), // id -> conversation (+ _t: activity key for ordering, _rev: last live frame)
  rev: 0, // counts `conversation` frames; a REST answer older than a frame loses to it
  gone: new Map(), // id -> rev when let go: conversations not ours to show (colleagues', closed)
  notice: '', // string key: why the chat area is empty (e.g. the conversation went to a colleague)
  stash: null, // outbox and drafts kept over a forced sign-in of the same agent
  logs: new Map(), // id -> MessageLog (convlog.js) of the messages we hold
  outbox: new Outbox(), // messages not stored yet (convlog.js); items may carry a retryTimer
  drafts: new Map(), // id -> unsent text
  selectedId: null,
  area: null, // the page over the workbench: null (the workbench), 'settings' or 'reports'
  typing: new Map(), // id -> {name, until}
  readSent: new Map(), // id -> highest seq we sent a read for (on this socket)
  orders: null, // {buyerId, status: loading|ok|error, list}
  ordersV: 0, // bumped whenever orders, linked or linking change: the panel redraws
  linked: null, // {convId, status: loading|ok|error, list}: the open conversation's linked orders
  linking: new Map(), // order_no -> 'link' | 'unlink' while the call is out (one conversation)
  linkError: '', // the last link or unlink that failed, worded, for the panel
  words: new Map(), // id -> the latest non-system message seen (the list's preview)
  phrases: null, // {list, at, error}: the quick phrases I may use (views/picker.js)
  shopName: '', // the shop's name for {shop.name}
  agents: null, // the shop's agents (GET /api/v1/agents), for names and hand-overs
  history: { open: false, list: [], loading: false, more: true, error: false }, // closed ones
  overflow: null, // the shop's overflow stage and surge mode (an `overflow` frame, or GET /shop/overflow's state)
  tick: 0,
  fetching: new Set(),
  accepting: new Set(),
  closing: new Set(),
  restoredSelection: false,
  loadError: null,
  // socket (socket.js owns the rest of it)
  ws: null,
  wsGen: 0, // bumped for every socket; a message sent on an older one is resent
  ready: false, // the socket said `ready`: frames may be sent
  conn: 'connecting', // connecting | online | offline | closed, shown in the top bar
  lastTypingSent: 0,
  // rendering
  renderQueued: false,
  scrollToBottom: false,
  prepending: false,
};

// page is what app.js registers: render draws every view from state, reset makes the views
// drop what they drew (a new session starts from an empty page). Until then both do nothing.
let page = { render() {}, reset() {} };

// setPage registers the page's render and reset (app.js, once, at start).
export function setPage(p) {
  page = p;
}

// resetPage tells every view to forget what it drew.
export function resetPage() {
  page.reset();
}

// scheduleRender redraws once after the current task, however many changes asked for it.
export function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  // A microtask, not requestAnimationFrame: the title must update in background tabs too.
  Promise.resolve().then(() => {
    state.renderQueued = false;
    page.render();
  });
}

// bumpTick is a strictly growing activity key for ordering "my conversations": live news goes
// to the top even within one millisecond.
export function bumpTick() {
  state.tick = Math.max(state.tick + 1, Date.now());
  return state.tick;
}

// meId is the signed-in agent's id, or null.
export function meId() {
  return state.session && state.session.agent ? state.session.agent.id : null;
}

// me is the signed-in agent ({id, role, ...}) as the rules of access.js take it, or null.
export function me() {
  return state.session ? state.session.agent || null : null;
}

// isMine says the conversation is in my conversations: assigned to me, or I help in it.
export function isMine(conv) {
  return access.isMine(conv, me());
}
