// The quick-phrase picker of the message box: `/` at the start of the box or after a space opens
// it above the box; what is typed after the `/` filters it (phrases.js); arrows move, Enter or Tab
// or a number 1–9 inserts, Escape closes. The phrases are loaded once per session and again when
// the picker opens a minute later; the shop's name (for {shop.name}) once.
import { state } from '../state.js';
import { t, hasString } from '../strings.js';
import { h, setChildren } from '../dom.js';
import { api } from '../api.js';
import { slashQuery, rankPhrases, fillVariables, replaceQuery, previewLine, digitPicks } from '../phrases.js';

const STALE_MS = 60 * 1000;

let el = {};
let onChange = () => {};
let open = false;
let query = null; // {start, query} of the `/query` the picker is for
let shown = []; // the phrases drawn, in order
let selected = 0;
let dismissedAt = null; // the `/` whose picker Escape closed: typing on after it does not reopen
let loading = null; // the pending load's promise
let shopLoaded = false;

// init wires the picker to the message box; changed runs after a phrase was put in the box.
export function init(input, changed) {
  el = { input, list: document.getElementById('phrase-picker') };
  onChange = changed;
  input.setAttribute('aria-controls', 'phrase-picker');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.addEventListener('blur', close);
  input.addEventListener('click', update);
  input.addEventListener('keyup', (e) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) update();
  });
  // A click on a phrase inserts it; mousedown must not take the focus from the box.
  el.list.addEventListener('mousedown', (e) => e.preventDefault());
  el.list.addEventListener('click', (e) => {
    const opt = e.target.closest('[role=option]');
    if (opt) insert(Number(opt.dataset.index));
  });
}

// reset forgets the session's phrases (a sign-out) and closes the picker.
export function reset() {
  state.phrases = null;
  state.shopName = '';
  shopLoaded = false;
  loading = null;
  dismissedAt = null;
  close();
}

// update opens, filters or closes the picker for the `/query` at the box's caret (after input).
export function update() {
  const q = el.input.disabled ? null : slashQuery(el.input.value, el.input.selectionStart);
  if (!q || q.start !== dismissedAt) dismissedAt = null;
  if (!q || dismissedAt != null) {
    close();
    return;
  }
  if (!open) {
    open = true;
    selected = 0;
    load();
  } else if (!query || q.query !== query.query) {
    selected = 0;
  }
  query = q;
  draw();
}

// onKeydown handles the picker's keys while it is open and answers whether it took the key.
export function onKeydown(e) {
  if (!open || e.isComposing || e.keyCode === 229) return false;
  if (e.key === 'Escape') {
    dismissedAt = query ? query.start : null;
    close();
  } else if (!shown.length) {
    // Nothing to insert (none found, or the list did not load): Enter must not send the
    // `/query` typed as if it were the answer.
    if (e.key !== 'Enter' || e.shiftKey) return false;
    close();
  } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    selected = (selected + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
    draw();
  } else if ((e.key === 'Enter' && !e.shiftKey && !e.altKey) || (e.key === 'Tab' && !e.shiftKey)) {
    insert(selected);
  } else if (/^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey && Number(e.key) <= shown.length &&
    digitPicks((state.phrases && state.phrases.list) || [], query ? query.query : '', e.key)) {
    insert(Number(e.key) - 1);
  } else {
    return false;
  }
  e.preventDefault();
  return true;
}

// close hides the picker, leaving the box's text as it is.
export function close() {
  if (!el.list) return;
  open = false;
  query = null;
  shown = [];
  el.list.hidden = true;
  el.list.replaceChildren();
  el.input.setAttribute('aria-expanded', 'false');
  el.input.removeAttribute('aria-activedescendant');
}

function load() {
  if (!shopLoaded) {
    shopLoaded = true;
    api('GET', '/api/v1/shop')
      .then((r) => { state.shopName = (r.shop && r.shop.name) || ''; })
      .catch(() => { shopLoaded = false; }); // {shop.name} stays unfilled; asked again next time
  }
  const p = state.phrases;
  if (loading || (p && p.list && Date.now() - p.at < STALE_MS)) return;
  const gen = state.sessionGen;
  loading = api('GET', '/api/v1/phrases')
    .then((r) => {
      if (gen !== state.sessionGen) return;
      state.phrases = { list: r.phrases || [], at: Date.now(), error: false };
    })
    .catch((e) => {
      if (gen !== state.sessionGen || (e && e.cancelled)) return;
      state.phrases = { list: (p && p.list) || null, at: 0, error: true };
    })
    .finally(() => {
      if (gen !== state.sessionGen) return;
      loading = null;
      if (open) draw();
    });
}

function draw() {
  const p = state.phrases;
  el.list.setAttribute('aria-label', t('phrasesLabel'));
  if (!p || !p.list) {
    shown = [];
    setChildren(el.list, h('div', { class: 'phrase-note', 'data-testid': 'phrase-note', text: t(p && p.error ? 'phrasesLoadFailed' : 'loading') }));
  } else {
    shown = rankPhrases(p.list, query.query);
    if (selected >= shown.length) selected = 0;
    if (!shown.length) {
      setChildren(el.list, h('div', { class: 'phrase-note', 'data-testid': 'phrase-note', text: t('phrasesNone') }));
    } else {
      setChildren(el.list, ...shown.map(option));
    }
  }
  el.list.hidden = false;
  el.input.setAttribute('aria-expanded', 'true');
  if (shown.length) el.input.setAttribute('aria-activedescendant', 'phrase-option-' + shown[selected].id);
  else el.input.removeAttribute('aria-activedescendant');
  const cur = el.list.querySelector('[aria-selected=true]');
  if (cur) cur.scrollIntoView({ block: 'nearest' });
}

function option(p, i) {
  return h('div', {
    id: 'phrase-option-' + p.id,
    class: 'phrase-option' + (i === selected ? ' is-selected' : ''),
    role: 'option',
    'aria-selected': i === selected ? 'true' : 'false',
    'data-testid': 'phrase-option',
    'data-phrase-id': p.id,
    'data-shortcut': p.shortcut,
    'data-index': i,
  }, [
    h('span', { class: 'phrase-num', 'aria-hidden': 'true', text: String(i + 1) }),
    p.category ? h('span', { class: 'phrase-category', text: p.category }) : null,
    p.shortcut ? h('span', { class: 'phrase-shortcut', text: '/' + p.shortcut }) : null,
    h('span', { class: 'phrase-preview', text: previewLine(p.text) }),
  ]);
}

// orderValues fills {order.*} from the buyer's latest order, as the buyer panel loaded it; with
// none (an anonymous buyer, orders still loading) they stay for the agent to fill.
function orderValues(conv) {
  const o = state.orders;
  if (!conv || !conv.buyer || !o || o.status !== 'ok' || o.buyerId !== conv.buyer.id || !o.list.length) return {};
  const latest = o.list[0];
  const status = String(latest.status || '');
  return {
    'order.no': latest.order_no || '',
    'order.status': hasString('order_' + status) ? t('order_' + status) : status,
    'order.tracking_no': latest.tracking_no || '',
  };
}

// insert puts the i-th phrase shown, its variables filled, in place of the `/query`, and counts
// the use (fire and forget).
function insert(i) {
  const p = shown[i];
  if (!p || !query) return;
  const conv = state.convs.get(state.selectedId);
  const agent = (state.session && state.session.agent) || {};
  const text = fillVariables(p.text, {
    // Only a name the buyer has: never "买家 <id>" made up for the console.
    'buyer.name': conv && conv.buyer && conv.buyer.name ? conv.buyer.name : '',
    'agent.name': agent.name || agent.username || '',
    'shop.name': state.shopName || '',
    ...orderValues(conv),
  });
  const caret = query.start + 1 + query.query.length;
  const r = replaceQuery(el.input.value, query.start, caret, text);
  el.input.value = r.text;
  el.input.setSelectionRange(r.caret, r.caret);
  close();
  el.input.focus();
  p.uses = (p.uses || 0) + 1;
  api('POST', '/api/v1/phrases/' + p.id + '/use').catch(() => {});
  onChange();
}
