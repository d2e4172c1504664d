// The agent's session: signing in and out, a session that expired (what was not sent yet is
// kept for the same agent's next sign-in), and the agent's own presence.
import { state, scheduleRender, resetPage } from './state.js';
import { t } from './strings.js';
import { store, load, SESSION_KEY, SHOP_KEY, SELECTED_KEY } from './storage.js';
import { api, ApiError, report } from './api.js';
import { connect, disconnect, wsSend } from './socket.js';
import { refreshList } from './convs.js';
import { composerText } from './views/composer.js';
import { showLogin, showWorkbench } from './views/shell.js';

// loadSession is the saved session if it is whole and not expired, else null.
export function loadSession() {
  try {
    const s = JSON.parse(load('local', SESSION_KEY) || 'null');
    if (!s || typeof s.token !== 'string' || !s.agent) return null;
    if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) return null;
    return s;
  } catch (_) {
    return null;
  }
}

export function saveSession() {
  store('local', SESSION_KEY, state.session ? JSON.stringify(state.session) : null);
}

// login asks for a session; it throws ApiError (invalid_credentials, network, ...).
export async function login(shop, username, password) {
  const r = await api('POST', '/api/v1/auth/login', { shop, username, password }, { noAuth: true });
  if (!r.token || !r.agent) throw new ApiError(500, 'internal', 'bad login answer');
  startSession({ token: r.token, expires_at: r.expires_at, agent: r.agent, shop });
}

export function startSession(s) {
  state.session = s;
  state.sessionGen++;
  saveSession();
  if (s.shop) store('local', SHOP_KEY, s.shop);
  resetWorkState();
  // Signed in again after the session expired: what this agent had not sent yet is not lost.
  const st = state.stash;
  state.stash = null;
  if (st && st.shop === s.shop && s.agent && st.agentId === s.agent.id) {
    state.outbox.restore(st.outbox);
    for (const [id, text] of st.drafts) state.drafts.set(id, text);
  }
  showWorkbench();
  refreshList();
  connect();
}

export function endSession(message) {
  state.session = null;
  state.sessionGen++;
  saveSession();
  store('session', SELECTED_KEY, null);
  disconnect();
  resetWorkState();
  showLogin(message || '');
}

// expireSession: the server no longer knows our token (401, socket close 4401).
export function expireSession() {
  const s = state.session;
  if (s && s.agent) {
    if (state.selectedId != null) state.drafts.set(state.selectedId, composerText());
    const drafts = Array.from(state.drafts).filter(([, text]) => text);
    if (state.outbox.size || drafts.length) {
      state.stash = { shop: s.shop, agentId: s.agent.id, outbox: state.outbox.items.slice(), drafts };
    }
  }
  endSession(t('errSessionExpired'));
}

export function logout() {
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

// resetWorkState forgets everything of the session's work, and what the views drew of it.
function resetWorkState() {
  state.convs.clear();
  state.logs.clear();
  for (const item of state.outbox.clear()) clearTimeout(item.retryTimer);
  state.gone.clear();
  state.notice = '';
  state.drafts.clear();
  state.selectedId = null;
  state.area = null;
  state.typing.clear();
  state.readSent.clear();
  state.orders = null;
  state.linked = null;
  state.linking.clear();
  state.linkError = '';
  state.fetching.clear();
  state.accepting.clear();
  state.closing.clear();
  state.restoredSelection = false;
  state.words.clear();
  state.agents = null;
  state.history = { open: false, list: [], loading: false, more: true, error: false };
  resetPage();
}

// setPresence: online/away go over the socket (the `presence` frame) when it is up; offline,
// which the socket has no frame for, and any change while disconnected go through REST.
export async function setPresence(status) {
  if (!state.session) return;
  const prev = state.session.agent.presence;
  state.session.agent = Object.assign({}, state.session.agent, { presence: status });
  saveSession();
  scheduleRender();
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
  scheduleRender();
}

// updateAgent merges what the server says about us (the `ready` frame, a presence change).
export function updateAgent(fields) {
  if (!state.session) return;
  state.session.agent = Object.assign({}, state.session.agent, fields);
  saveSession();
  scheduleRender();
}
