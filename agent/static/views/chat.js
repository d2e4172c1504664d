// The middle column: the open conversation's header, banner and messages (held ones from its
// log in seq order, then our outbox's pending and refused ones). The message box under it is
// views/composer.js; the hand-over buttons, panel and close confirmation are views/handover.js.
import { state, meId, isMine, me } from '../state.js';
import { t, hasString } from '../strings.js';
import { h, setChildren, reconcile, byId, fmtTime, fmtDateTime, money } from '../dom.js';
import { errText } from '../api.js';
import { buyerName, acceptConversation } from '../convs.js';
import { loadOlder, removeOutbox } from '../messages.js';
import { editOutbox } from './composer.js';
import * as handover from './handover.js';
import { canInviteRating } from '../access.js';
import { inviteRating, starsText } from '../rating.js';

let el = {};
const rows = new Map(); // key ('s'+seq, 'p'+client_msg_id) -> {el, sig} in #msg-list
let renderedId = null; // the conversation #msg-list shows

export function init() {
  el = {
    chatEmpty: byId('chat-empty'),
    chatNotice: byId('chat-notice'),
    chat: byId('chat'),
    chatTitle: byId('chat-title'),
    chatStatus: byId('chat-status'),
    chatSub: byId('chat-sub'),
    chatAccept: byId('chat-accept'),
    chatBanner: byId('chat-banner'),
    chatLinked: byId('chat-linked-orders'),
    chatScroll: byId('chat-scroll'),
    chatNote: byId('chat-note'),
    loadOlder: byId('load-older'),
    msgList: byId('msg-list'),
    typing: byId('typing'),
    rating: byId('chat-rating'),
    inviteRating: byId('chat-invite-rating'),
  };
  el.inviteRating.addEventListener('click', () => {
    if (state.selectedId != null) inviteRating(state.selectedId);
  });
  handover.init();
  el.chatAccept.addEventListener('click', () => {
    if (state.selectedId != null) acceptConversation(state.selectedId);
  });
  el.loadOlder.addEventListener('click', () => {
    if (state.selectedId != null) loadOlder(state.selectedId);
  });
}

export function reset() {
  handover.reset();
  el.msgList.replaceChildren();
  rows.clear();
  renderedId = null;
  linkedKey = '';
}

// langChanged rebuilds the messages on the next render (and scrolls to the newest).
export function langChanged() {
  handover.langChanged();
  rows.clear();
  renderedId = null;
}

let linkedKey = ''; // what the linked-orders bar shows

// renderLinked draws the orders linked to the open conversation under its title (loaded by
// convs.js loadLinkedOrders; hidden while there are none).
function renderLinked(id) {
  const l = state.linked && state.linked.convId === id && state.linked.status === 'ok' ? state.linked.list : [];
  const key = state.lang + '|' + id + '|' + l.map((o) => o.order_no + ':' + o.status).join(',');
  if (key === linkedKey) return;
  linkedKey = key;
  el.chatLinked.hidden = l.length === 0;
  el.chatLinked.replaceChildren(...(l.length === 0 ? [] : [
    h('span', { class: 'chat-linked-label', text: t('chatLinkedOrders') }),
    ...l.map((o) => {
      const st = String(o.status || '');
      return h('span', { class: 'chat-linked-no', 'data-order-no': o.order_no || '', text: (o.order_no || '') + (st ? ' · ' + (hasString('order_' + st) ? t('order_' + st) : st) : '') });
    }),
  ]));
}

// systemText words a system message in the console's language from its code
// (docs/protocol.md); unknown codes keep the server's text.
export function systemText(m) {
  if (m.code === 'assigned') return t('sysAssigned', { name: m.sender_name || '' });
  if (m.code === 'closed') return t('sysClosed');
  if (m.code === 'joined') return t('sysJoined', { name: m.sender_name || '' });
  if (m.code === 'left') return t('sysLeft', { name: m.sender_name || '' });
  if (m.code === 'rating_invited') return t('sysRatingInvited');
  return m.text || '';
}

export function render() {
  const id = state.selectedId;
  const conv = id != null ? state.convs.get(id) : null;
  el.chatEmpty.hidden = !!conv;
  el.chat.hidden = !conv;
  const notice = conv || !state.notice ? '' : t(state.notice);
  if (el.chatNotice.textContent !== notice) el.chatNotice.textContent = notice;
  el.chatNotice.hidden = !notice;
  handover.render();
  if (!conv) {
    if (renderedId != null) {
      el.msgList.replaceChildren();
      rows.clear();
      renderedId = null;
    }
    return;
  }
  const mine = isMine(conv);

  // header
  el.chatTitle.textContent = buyerName(conv);
  el.chatStatus.textContent = t('status_' + conv.status);
  el.chatStatus.className = 'chip chip-' + conv.status;
  el.chatSub.textContent = t('conversationNo', { id: conv.id });
  el.chatAccept.hidden = conv.status !== 'queued';
  el.chatAccept.disabled = state.accepting.has(id);
  renderRating(conv);

  renderLinked(id);

  let banner = '';
  if (conv.status === 'closed') banner = t('closedBanner');
  else if (conv.status === 'queued') banner = t('queuedBanner');
  else if (!mine) banner = t('otherAgentBanner', { name: conv.agent_name || t('agent') });
  el.chatBanner.textContent = banner;
  el.chatBanner.hidden = !banner;

  // messages
  const scroller = el.chatScroll;
  let forceBottom = state.scrollToBottom;
  if (renderedId !== id) {
    el.msgList.replaceChildren();
    rows.clear();
    renderedId = id;
    forceBottom = true;
  }
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const prevHeight = scroller.scrollHeight;
  const prevTop = scroller.scrollTop;

  const log = state.logs.get(id);
  const els = [];
  const used = new Set();
  if (log) {
    for (const msg of log.sorted()) {
      const key = 's' + msg.seq;
      used.add(key);
      els.push(messageEl(key, msg, conv));
    }
  }
  for (const item of state.outbox.forConversation(id)) {
    const key = 'p' + item.client_msg_id;
    used.add(key);
    els.push(pendingEl(key, item, mine));
  }
  for (const key of rows.keys()) if (!used.has(key)) rows.delete(key);
  reconcile(el.msgList, els);

  let note = '';
  if (!log) note = state.loadError === id ? t('loadFailed') : t('loading');
  else if (log.loading) note = t('loading');
  else if (els.length === 0) note = t('noMessagesYet');
  el.chatNote.textContent = note;
  el.chatNote.hidden = !note;
  el.loadOlder.hidden = !log || log.loading || !log.hasOlder();
  el.loadOlder.disabled = !!(log && log.loadingOlder);
  el.loadOlder.textContent = log && log.loadingOlder ? t('loading') : t('loadEarlier');

  if (forceBottom || (atBottom && !state.prepending)) {
    scroller.scrollTop = scroller.scrollHeight;
  } else if (state.prepending) {
    scroller.scrollTop = prevTop + (scroller.scrollHeight - prevHeight);
  }
  state.scrollToBottom = false;
  state.prepending = false;

  // typing
  const ty = state.typing.get(id);
  const typingText = ty && ty.until > Date.now() ? t('typing', { name: ty.name || buyerName(conv) }) : '';
  if (el.typing.textContent !== typingText) el.typing.textContent = typingText;
}

// renderRating shows the buyer's stars (and comment) on a rated conversation, "invited" while
// an invitation waits, and the invite button where one may be sent.
function renderRating(conv) {
  const text = conv.rating ? t('ratingLine', { stars: starsText(conv.rating) }) + (conv.rating_comment ? ' · ' + conv.rating_comment : '')
    : conv.rating_invited ? t('ratingInvitedLine') : '';
  if (el.rating.textContent !== text) el.rating.textContent = text;
  el.rating.title = conv.rating ? t('ratingStars', { n: conv.rating }) : '';
  el.rating.setAttribute('data-stars', String(conv.rating || 0));
  el.rating.hidden = !text;
  el.inviteRating.hidden = !canInviteRating(conv, me());
}

function senderName(msg) {
  if (msg.sender === 'agent' && msg.sender_id === meId()) return msg.sender_name || t('me');
  if (msg.sender_name) return msg.sender_name;
  return t(msg.sender === 'buyer' ? 'buyer' : msg.sender === 'bot' ? 'bot' : msg.sender === 'system' ? 'system' : 'agent');
}

function messageEl(key, msg, conv) {
  const system = msg.kind === 'system' || msg.sender === 'system';
  const fromShop = msg.sender === 'agent' || msg.sender === 'bot';
  const read = msg.sender === 'agent' && (conv.buyer_read_seq || 0) >= msg.seq;
  const sig = state.lang + '|' + (msg.sender === 'agent' ? (read ? 'r' : 'u') : '');
  const entry = rows.get(key);
  if (entry && entry.sig === sig) return entry.el;
  const li = entry ? entry.el : h('li', {});
  li.setAttribute('data-testid', 'chat-message');
  li.setAttribute('data-seq', String(msg.seq));
  li.setAttribute('data-sender', String(msg.sender || ''));
  li.className = 'msg ' + (system ? 'msg-system' : fromShop ? 'msg-out' : 'msg-in') + ' msg-' + (msg.sender || 'unknown');
  if (system) {
    li.replaceChildren(h('span', { class: 'msg-system-text', 'data-testid': 'chat-text', text: systemText(msg) }));
  } else {
    setChildren(li,
      h('div', { class: 'msg-meta' }, [
        h('span', { class: 'msg-name', text: senderName(msg) }),
        h('time', { datetime: msg.created_at || null, title: fmtDateTime(msg.created_at), text: fmtTime(msg.created_at) }),
      ]),
      h('div', { class: 'msg-bubble' + (isCard(msg) ? ' msg-bubble-card' : '') }, [
        isCard(msg) ? cardEl(msg) : h('p', { class: 'msg-text', 'data-testid': 'chat-text', text: msg.text || '' }),
      ]),
      msg.sender === 'agent' ? h('div', { class: 'msg-status' + (read ? ' is-read' : ''), text: read ? t('read') : t('unread') }) : null,
    );
  }
  rows.set(key, { el: li, sig });
  return li;
}

function isCard(msg) {
  return (msg.kind === 'product' || msg.kind === 'order') && !!msg.card;
}

// cardEl draws a product or order card from its fields (docs/protocol.md), as text only. The
// server let the image through only if https or from the shop's origins; it loads with no referrer.
function cardEl(msg) {
  const c = msg.card;
  const order = msg.kind === 'order';
  const link = !order && /^https?:\/\//i.test(c.url || '') ? c.url : null;
  const status = c.status && (hasString('order_' + c.status) ? t('order_' + c.status) : c.status);
  const lines = order
    ? [
        h('strong', { class: 'card-title', text: t('orderNo', { no: c.order_no }) }),
        c.title ? h('span', { class: 'card-sub', text: c.title + (c.item_count > 0 ? ' ×' + c.item_count : '') }) : null,
        h('span', { class: 'card-price' }, [money(c.price_cents, c.currency), status ? h('span', { class: 'card-status', text: ' · ' + status }) : null]),
      ]
    : [
        h('strong', { class: 'card-title', text: c.title || '' }),
        h('span', { class: 'card-price', text: money(c.price_cents, c.currency) }),
      ];
  const img = c.image_url && /^https?:\/\//i.test(c.image_url)
    ? h('img', { class: 'card-img', referrerpolicy: 'no-referrer', alt: '', src: c.image_url })
    : null;
  return h(link ? 'a' : 'div', {
    class: 'card', 'data-testid': 'chat-card', 'data-kind': msg.kind, href: link,
    target: link ? '_blank' : null, rel: link ? 'noopener noreferrer' : null,
  }, [img, h('span', { class: 'card-body' }, lines)]);
}

function pendingEl(key, item, mine) {
  const sig = state.lang + '|' + item.state + '|' + item.error + '|' + mine;
  const entry = rows.get(key);
  if (entry && entry.sig === sig) return entry.el;
  const li = entry ? entry.el : h('li', {});
  li.setAttribute('data-testid', 'chat-message');
  li.setAttribute('data-sender', 'agent');
  li.setAttribute('data-status', item.state);
  li.setAttribute('data-client-msg-id', item.client_msg_id);
  li.className = 'msg msg-out msg-agent is-' + item.state;
  const a = state.session && state.session.agent;
  let status;
  if (item.state === 'failed') {
    const cmid = item.client_msg_id;
    status = h('div', { class: 'msg-status is-failed' }, [
      h('span', { text: item.error ? t('sendFailedWhy', { why: errText({ code: item.error }) }) : t('sendFailed') }),
      mine ? h('button', { type: 'button', class: 'btn-link', text: t('edit'), title: t('editLabel'), onclick: () => editOutbox(cmid) }) : null,
      h('button', { type: 'button', class: 'btn-link', text: t('discard'), onclick: () => removeOutbox(cmid) }),
    ]);
  } else {
    status = h('div', { class: 'msg-status is-pending' }, [h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('sending')]);
  }
  setChildren(li,
    h('div', { class: 'msg-meta' }, [h('span', { class: 'msg-name', text: (a && a.name) || t('me') })]),
    h('div', { class: 'msg-bubble' }, [h('p', { class: 'msg-text', 'data-testid': 'chat-text', text: item.text })]),
    status,
  );
  rows.set(key, { el: li, sig });
  return li;
}
