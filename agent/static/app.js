// kefu agent console: plain JS in ES modules, no dependencies, no build step. This is the entry:
// it starts the views, wires the socket to the frame handlers, and signs in a saved session.
// Wire protocol: docs/protocol.md. REST: docs/openapi.yaml (docs/rest-outline.md).
// Rule of the house: data from the server is only ever put into the page with
// textContent / text nodes, never as HTML (dom.js h()).
//
// Modules (by concern; they call each other only after start, so import cycles are harmless):
//   state.js    the shared mutable state, scheduleRender
//   strings.js  t() over the per-concern tables in strings/
//   dom.js      building elements, formatting values
//   storage.js  local/session storage
//   api.js      REST calls
//   session.js  sign-in, sign-out, expiry, own presence
//   socket.js   the agent socket as a transport (backoff, heartbeat)
//   frames.js   what each server frame does
//   convs.js    the conversations: merging, lists, select, accept, close, orders
//   access.js   pure: who a conversation is for, what I may do in it, list order; unit-tested
//   handover.js transfer, invite, leave, take over; the shop's agents and groups
//   messages.js loading and catching up on messages, read marks, the outbox's sends
//   convlog.js  pure: message log (seq, gaps, dedupe) and outbox rules; unit-tested under node
//   orders.js   pure: the order panel's order and status history; unit-tested
//   search.js   pure: what a search asks, snippet highlights; unit-tested
//   reports.js  pure: the reports page's ranges, wording of figures, the agent table's sort; unit-tested
//   views/      what is drawn: one module per part of the page
import { state, setPage, scheduleRender } from './state.js';
import { t, normLang } from './strings.js';
import { byId } from './dom.js';
import { store, load, LANG_KEY, SESSION_KEY } from './storage.js';
import { loadSession, saveSession, startSession, endSession, expireSession } from './session.js';
import { setSocketHandlers, reconnectSoon, onOnline } from './socket.js';
import { onFrame } from './frames.js';
import { maybeMarkRead } from './messages.js';
import * as shell from './views/shell.js';
import * as list from './views/list.js';
import * as chat from './views/chat.js';
import * as composer from './views/composer.js';
import * as buyer from './views/buyer.js';
import * as settings from './views/settings.js';
import * as search from './views/search.js';
import * as reports from './views/reports.js';

// The parts of the page, drawn in this order on every render. A view module exports init()
// (take its elements, bind its events) and render() (draw from state), and may export reset()
// (forget what it drew: sign-in and sign-out) and langChanged(). A new page or panel is one
// such module in views/ and one entry here (its strings: a file in strings/).
const VIEWS = [list, search, chat, composer, buyer, settings, reports, shell];

function render() {
  if (!state.session) {
    shell.renderTitle();
    return;
  }
  maybeMarkRead();
  for (const v of VIEWS) v.render();
  // Buyers waiting past the slow-reply limit show in a background tab's title too.
  const mark = list.titleMark();
  if (mark && !document.title.startsWith(mark)) document.title = mark + document.title;
}

function resetViews() {
  for (const v of VIEWS) if (v.reset) v.reset();
}

function applyLang() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder')));
  for (const el of document.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label')));
  for (const v of VIEWS) if (v.langChanged) v.langChanged();
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

function onActivityChange() {
  if (!state.session) return;
  scheduleRender(); // runs maybeMarkRead
  if (document.visibilityState === 'visible' && !state.ws) reconnectSoon();
}

function init() {
  for (const v of VIEWS) v.init();
  setPage({ render, reset: resetViews });
  setSocketHandlers({ onFrame, onAuthLost: expireSession });

  state.lang = normLang(new URLSearchParams(location.search).get('lang')) || normLang(load('local', LANG_KEY)) || 'zh-CN';

  byId('lang-toggle').addEventListener('click', toggleLang);
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
    shell.showLogin('');
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
