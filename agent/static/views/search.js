// The conversation search at the top of the left column: what is typed is searched
// (GET /api/v1/search, docs/search.md; an order number as order_no, anything else as q, see
// search.js) and the results, with their snippets, show in place of the lists. Clicking one
// opens its conversation; Esc or clearing the box brings the lists back.
import { state } from '../state.js';
import { t } from '../strings.js';
import { h, byId, fmtTime } from '../dom.js';
import { api, errText } from '../api.js';
import { buyerName, openFound, selectConversation } from '../convs.js';
import { searchParams, markParts } from '../search.js';

const DEBOUNCE_MS = 300;
const PAGE = 20;

let el = {};
let timer = null;
// s: the search shown: {text, status: loading|ok|error, results, next, error, job}; null = the lists.
let s = null;
let renderedKey = '';

export function init() {
  el = { input: byId('search-input'), results: byId('search-results'), left: byId('col-left') };
  el.input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => start(el.input.value), DEBOUNCE_MS);
  });
  el.input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      el.input.value = '';
      clearTimeout(timer);
      start('');
    } else if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(timer);
      start(el.input.value);
    }
  });
}

export function reset() {
  clearTimeout(timer);
  s = null;
  renderedKey = '';
  if (el.input) el.input.value = '';
}

export function langChanged() {
  renderedKey = '';
}

function start(text) {
  const q = String(text || '').trim();
  if (!q) {
    s = null;
    renderNow();
    return;
  }
  if (s && s.text === q && s.status !== 'error') return;
  s = { text: q, status: 'loading', results: [], next: null, error: '' };
  fetchPage(s, null);
}

async function fetchPage(job, before) {
  const p = searchParams(job.text, PAGE);
  if (before != null) p.set('before', String(before));
  job.status = 'loading';
  renderNow();
  try {
    const r = await api('GET', '/api/v1/search?' + p.toString());
    if (s !== job) return;
    job.results = job.results.concat(Array.isArray(r.results) ? r.results : []);
    job.next = r.next != null ? r.next : null;
    job.status = 'ok';
  } catch (err) {
    if (err.cancelled || s !== job) return;
    job.status = 'error';
    job.error = errText(err);
  }
  renderNow();
}

function renderNow() {
  renderedKey = '';
  render();
}

function open(c) {
  if (state.convs.has(c.id)) selectConversation(c.id, { focus: false });
  else openFound(c);
}

export function render() {
  const active = !!s;
  for (const sec of el.left.querySelectorAll('.list-section:not(.search-results)')) sec.hidden = active;
  el.results.hidden = !active;
  if (!active) {
    if (renderedKey !== '') el.results.replaceChildren();
    renderedKey = '';
    return;
  }
  const key = [state.lang, s.text, s.status, s.results.length, s.next, state.selectedId].join('|');
  if (key === renderedKey) return;
  renderedKey = key;
  const kids = s.results.map(resultEl);
  if (s.status === 'loading') kids.push(h('p', { class: 'search-note', text: t('searching') }));
  else if (s.status === 'error') kids.push(h('p', { class: 'search-note is-error', role: 'alert', 'data-testid': 'search-error', text: t('searchFailed', { why: s.error }) }));
  else if (s.results.length === 0) kids.push(h('p', { class: 'search-note', 'data-testid': 'search-empty', text: t('searchNone') }));
  if (s.status === 'ok' && s.next != null) {
    const job = s;
    kids.push(h('button', { type: 'button', class: 'btn-link search-more', 'data-testid': 'search-more', text: t('searchMore'), onclick: () => fetchPage(job, job.next) }));
  }
  el.results.replaceChildren(...kids);
}

function resultEl(r) {
  const c = r.conversation || {};
  const snippets = Array.isArray(r.snippets) ? r.snippets : [];
  return h('button', {
    type: 'button',
    class: 'search-result' + (c.id === state.selectedId ? ' is-selected' : ''),
    'data-testid': 'search-result',
    'data-conversation-id': c.id != null ? String(c.id) : '',
    'aria-current': c.id === state.selectedId ? 'true' : null,
    onclick: () => open(c),
  }, [
    h('span', { class: 'search-result-head' }, [
      h('span', { text: buyerName(c) + ' · #' + c.id }),
      h('span', { class: 'chip chip-' + (c.status || ''), text: c.status ? t('status_' + c.status) : '' }),
    ]),
    ...snippets.map((sn) => h('span', { class: 'search-snippet', 'data-testid': 'search-snippet' }, [
      sn.created_at ? fmtTime(sn.created_at) + ' ' : '',
      ...markParts(sn.text, sn.highlights).map((part) => (part.mark ? h('mark', { text: part.text }) : part.text)),
    ])),
  ]);
}
