// The page around the workbench: the sign-in screen, the top bar (who I am, presence,
// connection, sign-out) and the window title with the unread count.
import { state, scheduleRender } from '../state.js';
import { t, hasString } from '../strings.js';
import { byId, avatarText } from '../dom.js';
import { load, SHOP_KEY } from '../storage.js';
import { errText } from '../api.js';
import { login, logout, setPresence } from '../session.js';
import { reconnectSoon } from '../socket.js';
import { myConvs } from '../convs.js';

let el = {};

export function init() {
  el = {
    login: byId('login-screen'),
    loginForm: byId('login-form'),
    loginShop: byId('login-shop'),
    loginUsername: byId('login-username'),
    loginPassword: byId('login-password'),
    loginSubmit: byId('login-submit'),
    loginError: byId('login-error'),
    workbench: byId('workbench'),
    logout: byId('logout'),
    langToggle: byId('lang-toggle'),
    meBox: byId('me-box'),
    meName: byId('me-name'),
    meRole: byId('me-role'),
    meAvatar: byId('me-avatar'),
    conn: byId('conn-status'),
    connText: byId('conn-text'),
    reconnectNow: byId('reconnect-now'),
    presence: byId('presence-select'),
    presenceDot: byId('presence-dot'),
  };
  el.loginForm.addEventListener('submit', onLoginSubmit);
  el.logout.addEventListener('click', logout);
  el.reconnectNow.addEventListener('click', reconnectSoon);
  el.presence.addEventListener('change', () => setPresence(el.presence.value));
}

export function render() {
  renderMe();
  renderConn();
  renderTitle();
}

export function langChanged() {
  el.langToggle.textContent = t('langToggle');
  el.langToggle.setAttribute('aria-label', t('langToggleLabel'));
  el.langToggle.setAttribute('lang', state.lang === 'en' ? 'zh-CN' : 'en');
  if (el.loginSubmit.disabled) el.loginSubmit.textContent = t('loggingIn');
}

// renderTitle puts the unread count in the title, where a background tab still shows it.
export function renderTitle() {
  let total = 0;
  if (state.session) for (const c of myConvs()) total += c.unread || 0;
  document.title = total > 0 ? '(' + total + ') ' + t('appTitle') : t('appTitle');
}

function renderMe() {
  const a = state.session && state.session.agent;
  if (!a) return;
  el.meName.textContent = a.name || a.username || '';
  el.meRole.textContent = a.role && hasString('role_' + a.role) ? t('role_' + a.role) : a.role || '';
  el.meAvatar.textContent = avatarText(a.name || a.username);
  const p = a.presence === 'away' || a.presence === 'offline' ? a.presence : 'online';
  if (el.presence.value !== p) el.presence.value = p;
  el.presenceDot.className = 'presence-dot is-' + p;
}

function renderConn() {
  const s = state.conn;
  el.conn.hidden = false;
  el.conn.className = 'conn is-' + s;
  el.connText.textContent = t('conn_' + s);
  el.reconnectNow.hidden = !(s === 'offline' || s === 'closed');
}

// showLogin shows the sign-in screen, with message (why we are here) if any.
export function showLogin(message) {
  el.workbench.hidden = true;
  el.login.hidden = false;
  el.logout.hidden = true;
  el.meBox.hidden = true;
  el.conn.hidden = true;
  el.reconnectNow.hidden = true;
  if (!el.loginShop.value) {
    const q = new URLSearchParams(location.search).get('shop');
    el.loginShop.value = q || load('local', SHOP_KEY) || 'demo';
  }
  el.loginPassword.value = '';
  setLoginError(message);
  renderTitle();
  const target = !el.loginShop.value ? el.loginShop : !el.loginUsername.value ? el.loginUsername : el.loginPassword;
  target.focus();
}

// showWorkbench shows the signed-in page; the socket is on its way.
export function showWorkbench() {
  el.login.hidden = true;
  el.workbench.hidden = false;
  el.logout.hidden = false;
  el.meBox.hidden = false;
  state.conn = 'connecting';
  renderMe();
  renderConn();
  scheduleRender();
}

function setLoginError(message) {
  el.loginError.textContent = message || '';
  el.loginError.hidden = !message;
}

async function onLoginSubmit(e) {
  e.preventDefault();
  const shop = el.loginShop.value.trim();
  const username = el.loginUsername.value.trim();
  const password = el.loginPassword.value;
  if (!shop || !username || !password) {
    setLoginError(t('errRequired'));
    (!shop ? el.loginShop : !username ? el.loginUsername : el.loginPassword).focus();
    return;
  }
  setLoginError('');
  el.loginSubmit.disabled = true;
  el.loginSubmit.textContent = t('loggingIn');
  try {
    await login(shop, username, password);
  } catch (err) {
    if (err.cancelled) return;
    let msg;
    if (err.status === 401 || err.code === 'invalid_credentials') msg = t('errInvalidCredentials');
    else if (err.code === 'network') msg = t('errNetwork');
    else msg = errText(err);
    setLoginError(msg);
    el.loginPassword.focus();
  } finally {
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = t('login');
  }
}
