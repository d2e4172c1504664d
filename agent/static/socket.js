// The agent socket (/ws/agent, docs/protocol.md) as a transport: connecting, reconnecting with
// backoff, the heartbeat that notices a dead socket, and frames in and out. What a frame means
// for the workbench is frames.js's business (setSocketHandlers, from app.js).
import { state, scheduleRender } from './state.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;
const CONNECT_TIMEOUT_MS = 15000; // a socket not ready by then is given up and retried
const STABLE_MS = 10000; // a socket up this long resets the reconnect backoff

// What only the transport needs; state.ws, wsGen, ready and conn are shared (state.js).
const sock = {
  attempt: 0,
  hb: 25, // heartbeat seconds, from `ready`
  lastFrameAt: 0,
  retryAfter: null, // ms the server asked us to wait (`reconnect` frame) before the next try
  pingTimer: 0,
  deadTimer: 0,
  connectTimer: 0,
  readyAt: 0,
  reconnectTimer: 0,
};

let handlers = { onFrame() {}, onAuthLost() {} };

// setSocketHandlers names who hears every frame (onFrame, after the transport took its part of
// `ready`) and who ends the session when the server refuses our token (onAuthLost).
export function setSocketHandlers(h) {
  handlers = h;
}

function setConn(s) {
  state.conn = s;
  scheduleRender();
}

export function connect() {
  if (!state.session) return;
  clearTimeout(sock.reconnectTimer);
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
  sock.retryAfter = null;
  // A socket that never gets to `ready` (a handshake lost on a dead network) is given up.
  sock.connectTimer = setTimeout(() => {
    if (gen !== state.wsGen || state.ready) return;
    dropSocket();
    setConn('offline');
    scheduleReconnect(backoff());
  }, CONNECT_TIMEOUT_MS);
  ws.onmessage = (ev) => {
    if (gen !== state.wsGen) return;
    sock.lastFrameAt = Date.now();
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

// disconnect closes the socket for good (sign-out): no reconnect follows.
export function disconnect() {
  dropSocket();
  clearTimeout(sock.reconnectTimer);
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
    handlers.onAuthLost();
    return;
  }
  if (code === 1000) {
    // Normal close by the server: the protocol says do nothing; offer a manual reconnect.
    setConn('closed');
    return;
  }
  let delay;
  if (sock.retryAfter != null) {
    delay = sock.retryAfter + Math.random() * BACKOFF_MIN_MS;
    sock.retryAfter = null;
  } else {
    delay = backoff();
  }
  setConn('offline');
  scheduleReconnect(delay);
}

// noteStable resets the backoff only for a socket that stayed up a while: a server that
// accepts and drops at once is not hammered every half second by every console.
function noteStable() {
  if (sock.readyAt && Date.now() - sock.readyAt >= STABLE_MS) sock.attempt = 0;
  sock.readyAt = 0;
}

function backoff() {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, sock.attempt));
  sock.attempt = Math.min(sock.attempt + 1, 16);
  return Math.random() * cap; // full jitter
}

function scheduleReconnect(delay) {
  clearTimeout(sock.reconnectTimer);
  sock.reconnectTimer = setTimeout(() => {
    if (state.session && !state.ws) connect();
  }, delay);
}

// reconnectSoon connects now, with a fresh backoff, if there is no socket (the agent asked,
// or the tab came back into view).
export function reconnectSoon() {
  if (state.session && !state.ws) {
    sock.attempt = 0;
    connect();
  }
}

// onOnline: the network is back. Reconnect now, or prove that a socket which looks open is
// alive (a dead one stays silent and the heartbeat check replaces it).
export function onOnline() {
  if (state.ws) wsSend({ type: 'ping' });
  else reconnectSoon();
}

function startHeartbeat() {
  stopHeartbeat();
  const gen = state.wsGen;
  const hbMs = sock.hb * 1000;
  sock.lastFrameAt = Date.now();
  sock.pingTimer = setInterval(() => {
    if (gen === state.wsGen) wsSend({ type: 'ping' });
  }, hbMs);
  sock.deadTimer = setInterval(() => {
    if (gen !== state.wsGen) return;
    if (Date.now() - sock.lastFrameAt > 2 * hbMs) {
      // Nothing heard for two heartbeats: the socket is dead even if the browser has not noticed.
      noteStable();
      dropSocket();
      setConn('offline');
      scheduleReconnect(backoff());
    }
  }, Math.min(5000, Math.max(1000, hbMs / 4)));
}

function stopHeartbeat() {
  clearInterval(sock.pingTimer);
  clearInterval(sock.deadTimer);
  clearTimeout(sock.connectTimer);
  sock.pingTimer = 0;
  sock.deadTimer = 0;
  sock.connectTimer = 0;
}

// wsSend sends a frame if the socket is open; false means it was not sent.
export function wsSend(obj) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  try {
    ws.send(JSON.stringify(obj));
    return true;
  } catch (_) {
    return false;
  }
}

// onFrame takes the transport's part of a frame, then hands it on.
function onFrame(f) {
  if (f.type === 'ready') {
    state.ready = true;
    sock.readyAt = Date.now();
    sock.hb = Number(f.heartbeat_sec) > 0 ? Number(f.heartbeat_sec) : 25;
    startHeartbeat();
    setConn('online');
  } else if (f.type === 'reconnect') {
    sock.retryAfter = Math.max(0, Number(f.retry_after_ms) || 0);
    return;
  }
  handlers.onFrame(f);
}
