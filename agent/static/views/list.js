// The left column: my conversations (those awaiting an answer first, longest waiting first,
// then newest activity; unread badges, the time waited), owners' and supervisors' view of their
// colleagues' ones, the queue (longest waiting first, with accept buttons) and the history
// (closed ones, paged). Alt+↑ / Alt+↓ walks my conversations.
import { state, scheduleRender, meId, isMine } from '../state.js';
import { t } from '../strings.js';
import { h, setChildren, reconcile, byId, fmtTime, avatarEl } from '../dom.js';
import { myConvs, colleaguesConvs, queuedConvs, buyerName, selectConversation, acceptConversation, toggleHistory, loadHistory, openClosed } from '../convs.js';
import { previewMessage, waited, helps } from '../access.js';
import { systemText } from './chat.js';
import { starsText } from '../rating.js';

const WAIT_REDRAW_MS = 5000; // the time waited is redrawn this often (whole seconds shown)

let el = {};
const rows = new Map(); // id -> li in #conv-list
const queueRows = new Map(); // id -> li in #queue-list
const historyRows = new Map(); // id -> li in #history-list

export function init() {
  el = {
    convList: byId('conv-list'),
    convEmpty: byId('conv-empty'),
    convCount: byId('conv-count'),
    queueList: byId('queue-list'),
    queueEmpty: byId('queue-empty'),
    queueCount: byId('queue-count'),
    overflow: byId('overflow-banner'),
    historyToggle: byId('history-toggle'),
    historyBody: byId('history-body'),
    historyList: byId('history-list'),
    historyEmpty: byId('history-empty'),
    historyMore: byId('history-more'),
  };
  document.addEventListener('keydown', onGlobalKeydown);
  el.historyToggle.addEventListener('click', toggleHistory);
  el.historyMore.addEventListener('click', () => loadHistory(false));
  setInterval(() => {
    if (state.session && myConvs().some((c) => c.awaiting_since)) scheduleRender();
  }, WAIT_REDRAW_MS);
}

export function reset() {
  rows.clear();
  queueRows.clear();
  historyRows.clear();
  el.convList.replaceChildren();
  el.queueList.replaceChildren();
  el.historyList.replaceChildren();
}

function onGlobalKeydown(e) {
  if (!state.session || !e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
  const list = myConvs();
  if (!list.length) return;
  e.preventDefault();
  let i = list.findIndex((c) => c.id === state.selectedId);
  if (i < 0) i = e.key === 'ArrowDown' ? -1 : list.length;
  i = Math.max(0, Math.min(list.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
  selectConversation(list[i].id);
}

function previewText(c) {
  if (state.typing.has(c.id)) return { text: t('typingShort'), cls: 'is-typing' };
  const m = previewMessage(c.last_message, state.words.get(c.id));
  if (!m) return { text: '', cls: '' };
  if (m.kind === 'system' || m.sender === 'system') return { text: systemText(m), cls: 'is-system' };
  if (m.sender === 'agent' && m.sender_id === meId()) return { text: t('mePrefix') + (m.text || ''), cls: 'is-mine' };
  if (m.sender === 'agent') return { text: t('namePrefix', { name: m.sender_name || t('agent') }) + (m.text || ''), cls: 'is-mine' };
  return { text: m.text || '', cls: '' };
}

// waitText is the awaiting mark: "待回复 2 分钟", or after a nudge "已等待 2 分钟".
function waitText(c) {
  if (!c.awaiting_since) return '';
  const w = waited(c.awaiting_since, Date.now());
  return t(c._nudged ? 'nudged_' + w.unit : 'awaiting_' + w.unit, { n: w.n });
}

export function render() {
  renderMine();
  renderOverflow();
  renderQueue();
  renderHistory();
}

// titleMark is what the tab title starts with while buyers wait past the slow-reply limit
// (app.js puts it before the title the shell wrote).
export function titleMark() {
  if (!state.session) return '';
  const n = myConvs().filter((c) => c._nudged && c.awaiting_since).length;
  return n ? t('nudgeTitle', { n }) : '';
}

function renderMine() {
  const mine = myConvs();
  const items = [];
  const used = new Set();
  for (const c of mine.concat(colleaguesConvs())) {
    used.add(c.id);
    let li = rows.get(c.id);
    if (!li) {
      li = h('li', { class: 'conv-item', 'data-testid': 'conv-item' });
      const id = c.id;
      li.append(h('button', { type: 'button', class: 'conv-btn', onclick: () => selectConversation(id) }));
      rows.set(c.id, li);
    }
    const unread = c.unread || 0;
    li.setAttribute('data-conversation-id', String(c.id));
    li.setAttribute('data-unread', String(unread));
    li.classList.toggle('is-selected', c.id === state.selectedId);
    li.classList.toggle('has-unread', unread > 0);
    const btn = li.firstChild;
    if (c.id === state.selectedId) btn.setAttribute('aria-current', 'true');
    else btn.removeAttribute('aria-current');
    const pv = previewText(c);
    const name = buyerName(c);
    const when = fmtTime(c.last_message ? c.last_message.created_at : c.assigned_at || c.created_at);
    const wait = waitText(c);
    const mineRow = isMine(c);
    const helping = helps(c, state.session && state.session.agent);
    // Owners and supervisors see colleagues' conversations too: whose it is.
    const holder = mineRow ? '' : t('heldBy', { name: c.agent_name || t('agent') });
    li.setAttribute('data-awaiting', c.awaiting_since ? 'true' : 'false');
    li.setAttribute('data-nudged', c._nudged && c.awaiting_since ? 'true' : 'false');
    li.setAttribute('data-helper', helping ? 'true' : 'false');
    li.classList.toggle('is-colleagues', !mineRow);
    // Rebuild the row only when what it shows changed (every frame re-renders the lists).
    const sig = [state.lang, name, c.buyer && c.buyer.id, c.buyer && c.buyer.identified, when, pv.text, pv.cls, unread, wait, c._nudged, holder, helping].join('\u0001');
    if (li._sig !== sig) {
      li._sig = sig;
      fillRow(btn, c, name, [
        c.buyer && c.buyer.identified ? h('span', { class: 'tag tag-verified tag-xs', title: t('identified') }, [
          h('span', { 'aria-hidden': 'true', text: '✓' }),
          h('span', { class: 'sr-only', text: t('identified') }),
        ]) : null,
        helping ? h('span', { class: 'tag tag-xs tag-helper', 'data-testid': 'helper-tag', text: t('helperTag') }) : null,
        h('time', { class: 'conv-time', text: when }),
      ], wait || holder ? h('span', { class: 'conv-meta' }, [
        wait ? h('span', { class: 'conv-wait' + (c._nudged ? ' is-nudged' : ''), 'data-testid': 'awaiting-mark', text: wait }) : null,
        holder ? h('span', { class: 'conv-holder', 'data-testid': 'conv-holder', text: holder }) : null,
      ]) : null, [
        h('span', { class: 'conv-preview ' + pv.cls, text: pv.text }),
        unread > 0 ? h('span', { class: 'badge', 'data-testid': 'unread-badge' }, [
          h('span', { 'aria-hidden': 'true', text: unread > 99 ? '99+' : String(unread) }),
          h('span', { class: 'sr-only', text: t('unreadCount', { n: unread }) }),
        ]) : null,
      ]);
    }
    items.push(li);
  }
  for (const id of rows.keys()) if (!used.has(id)) rows.delete(id);
  reconcile(el.convList, items);
  el.convEmpty.hidden = items.length > 0;
  el.convCount.textContent = String(mine.length);
}

// fillRow lays out a list row (mine or queue): avatar, then the name line, an optional meta
// line and the preview line.
function fillRow(btn, c, name, top, meta, bottom) {
  setChildren(btn,
    avatarEl(name, c.buyer && c.buyer.id),
    h('span', { class: 'conv-body' }, [
      h('span', { class: 'conv-top' }, [h('span', { class: 'conv-name', text: name }), ...top]),
      meta,
      h('span', { class: 'conv-bottom' }, bottom),
    ]),
  );
}

function renderQueue() {
  const queued = queuedConvs();
  const items = [];
  const used = new Set();
  queued.forEach((c, i) => {
    used.add(c.id);
    let li = queueRows.get(c.id);
    const id = c.id;
    if (!li) {
      li = h('li', { class: 'queue-item', 'data-testid': 'queue-item' }, [
        h('button', { type: 'button', class: 'queue-btn', onclick: () => selectConversation(id, { focus: false }) }),
        h('button', { type: 'button', class: 'btn btn-primary btn-sm btn-accept', 'data-testid': 'accept-conversation', onclick: () => acceptConversation(id) }),
      ]);
      queueRows.set(id, li);
    }
    li.setAttribute('data-conversation-id', String(id));
    li.classList.toggle('is-selected', id === state.selectedId);
    const [btn, accept] = li.children;
    if (id === state.selectedId) btn.setAttribute('aria-current', 'true');
    else btn.removeAttribute('aria-current');
    const name = buyerName(c);
    // Place in line from our own list (oldest first): a snapshot's queue_position goes stale
    // as soon as anyone ahead leaves, and agents get no `queue` frames.
    const pos = i + 1;
    const pv = previewText(c);
    const since = pv.text ? '' : fmtTime(c.created_at);
    const sig = [state.lang, name, c.buyer && c.buyer.id, pos, pv.text, pv.cls, since].join('\u0001');
    if (li._sig !== sig) {
      li._sig = sig;
      fillRow(btn, c, name, [
        h('span', { class: 'queue-pos', text: t('queuePosition', { n: pos }) }),
      ], null, [
        h('span', { class: 'conv-preview ' + pv.cls, text: pv.text || t('waitingSince', { time: since }) }),
      ]);
    }
    accept.textContent = t('accept');
    accept.setAttribute('aria-label', t('acceptLabel', { name }));
    accept.disabled = state.accepting.has(id);
    items.push(li);
  });
  for (const id of queueRows.keys()) if (!used.has(id)) queueRows.delete(id);
  reconcile(el.queueList, items);
  el.queueEmpty.hidden = queued.length > 0;
  el.queueCount.textContent = String(queued.length);
  el.queueCount.classList.toggle('is-hot', queued.length > 0);
}

// renderOverflow shows, above the queue, the shop's overflow stage and surge mode with the
// numbers driving them (docs/overflow.md); nothing while the shop is normal and not in surge.
function renderOverflow() {
  const o = state.overflow;
  const show = !!o && (o.surge || (o.stage && o.stage !== 'normal'));
  el.overflow.hidden = !show;
  if (!show) return;
  const parts = [];
  if (o.surge) parts.push(t('surgeOn'));
  parts.push(t('stage_' + o.stage));
  parts.push(t('overflowWaiting', { n: o.waiting || 0 }));
  if (o.wait_seconds > 0) parts.push(t('overflowWait', { n: Math.ceil(o.wait_seconds / 60) }));
  if (o.left_messages > 0) parts.push(t('overflowLeft', { n: o.left_messages }));
  el.overflow.textContent = parts.join(' · ');
  el.overflow.dataset.stage = o.stage || 'normal';
}

function renderHistory() {
  const hs = state.history;
  el.historyToggle.setAttribute('aria-expanded', hs.open ? 'true' : 'false');
  el.historyBody.hidden = !hs.open;
  if (!hs.open) return;
  const items = [];
  const used = new Set();
  for (const c of hs.list) {
    used.add(c.id);
    let li = historyRows.get(c.id);
    const id = c.id;
    if (!li) {
      li = h('li', { class: 'conv-item history-item', 'data-testid': 'history-item' }, [
        h('button', { type: 'button', class: 'conv-btn', onclick: () => openClosed(id) }),
      ]);
      historyRows.set(id, li);
    }
    li.setAttribute('data-conversation-id', String(id));
    li.classList.toggle('is-selected', id === state.selectedId);
    const name = buyerName(c);
    const pv = previewText(c);
    const when = fmtTime(c.closed_at || c.created_at);
    const sig = [state.lang, name, c.buyer && c.buyer.id, when, pv.text, pv.cls, c.agent_name, c.rating].join('\u0001');
    if (li._sig !== sig) {
      li._sig = sig;
      setChildren(li.firstChild,
        avatarEl(name, c.buyer && c.buyer.id),
        h('span', { class: 'conv-body' }, [
          h('span', { class: 'conv-top' }, [
            h('span', { class: 'conv-name', text: name }),
            c.rating ? h('span', { class: 'conv-rating', 'data-testid': 'history-rating', 'data-stars': String(c.rating), title: t('ratingStars', { n: c.rating }), text: starsText(c.rating) }) : null,
            h('time', { class: 'conv-time', text: when }),
          ]),
          h('span', { class: 'conv-bottom' }, [h('span', { class: 'conv-preview ' + pv.cls, text: pv.text })]),
        ]),
      );
    }
    items.push(li);
  }
  for (const id of historyRows.keys()) if (!used.has(id)) historyRows.delete(id);
  reconcile(el.historyList, items);
  el.historyEmpty.hidden = hs.loading || hs.list.length > 0;
  el.historyEmpty.textContent = hs.error ? t('historyFailed') : t('historyEmpty');
  el.historyMore.hidden = !hs.more && !hs.error;
  el.historyMore.disabled = hs.loading;
  el.historyMore.textContent = hs.loading ? t('loading') : t('loadMore');
}
