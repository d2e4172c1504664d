// The left column: my conversations (newest activity first, unread badges) and the queue
// (longest waiting first, with accept buttons). Alt+↑ / Alt+↓ walks my conversations.
import { state } from '../state.js';
import { t } from '../strings.js';
import { h, setChildren, reconcile, byId, fmtTime, avatarEl } from '../dom.js';
import { myConvs, queuedConvs, buyerName, selectConversation, acceptConversation } from '../convs.js';
import { systemText } from './chat.js';

let el = {};
const rows = new Map(); // id -> li in #conv-list
const queueRows = new Map(); // id -> li in #queue-list

export function init() {
  el = {
    convList: byId('conv-list'),
    convEmpty: byId('conv-empty'),
    convCount: byId('conv-count'),
    queueList: byId('queue-list'),
    queueEmpty: byId('queue-empty'),
    queueCount: byId('queue-count'),
  };
  document.addEventListener('keydown', onGlobalKeydown);
}

export function reset() {
  rows.clear();
  queueRows.clear();
  el.convList.replaceChildren();
  el.queueList.replaceChildren();
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
  const m = c.last_message;
  if (!m) return { text: '', cls: '' };
  if (m.kind === 'system' || m.sender === 'system') return { text: systemText(m), cls: 'is-system' };
  if (m.sender === 'agent') return { text: t('mePrefix') + (m.text || ''), cls: 'is-mine' };
  return { text: m.text || '', cls: '' };
}

export function render() {
  renderMine();
  renderQueue();
}

function renderMine() {
  const mine = myConvs();
  const items = [];
  const used = new Set();
  for (const c of mine) {
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
    // Rebuild the row only when what it shows changed (every frame re-renders the lists).
    const sig = [state.lang, name, c.buyer && c.buyer.id, c.buyer && c.buyer.identified, when, pv.text, pv.cls, unread].join('\u0001');
    if (li._sig !== sig) {
      li._sig = sig;
      setChildren(btn,
        avatarEl(name, c.buyer && c.buyer.id),
        h('span', { class: 'conv-body' }, [
          h('span', { class: 'conv-top' }, [
            h('span', { class: 'conv-name', text: name }),
            c.buyer && c.buyer.identified ? h('span', { class: 'tag tag-verified tag-xs', title: t('identified') }, [
              h('span', { 'aria-hidden': 'true', text: '✓' }),
              h('span', { class: 'sr-only', text: t('identified') }),
            ]) : null,
            h('time', { class: 'conv-time', text: when }),
          ]),
          h('span', { class: 'conv-bottom' }, [
            h('span', { class: 'conv-preview ' + pv.cls, text: pv.text }),
            unread > 0 ? h('span', { class: 'badge', 'data-testid': 'unread-badge' }, [
              h('span', { 'aria-hidden': 'true', text: unread > 99 ? '99+' : String(unread) }),
              h('span', { class: 'sr-only', text: t('unreadCount', { n: unread }) }),
            ]) : null,
          ]),
        ]),
      );
    }
    items.push(li);
  }
  for (const id of rows.keys()) if (!used.has(id)) rows.delete(id);
  reconcile(el.convList, items);
  el.convEmpty.hidden = mine.length > 0;
  el.convCount.textContent = String(mine.length);
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
      setChildren(btn,
        avatarEl(name, c.buyer && c.buyer.id),
        h('span', { class: 'conv-body' }, [
          h('span', { class: 'conv-top' }, [
            h('span', { class: 'conv-name', text: name }),
            h('span', { class: 'queue-pos', text: t('queuePosition', { n: pos }) }),
          ]),
          h('span', { class: 'conv-bottom' }, [
            h('span', { class: 'conv-preview ' + pv.cls, text: pv.text || t('waitingSince', { time: since }) }),
          ]),
        ]),
      );
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
