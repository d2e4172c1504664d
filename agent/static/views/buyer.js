// The right column: who the buyer of the open conversation is, and the order panel: the
// buyer's recent orders with those linked to the conversation on top, a one-click link/unlink
// for an agent who may (access.js canLinkOrders), and each order's status history on hover.
import { state, me } from '../state.js';
import { t, hasString } from '../strings.js';
import { h, byId, fmtDateTime, money, avatarEl, toast, saveFile } from '../dom.js';
import { buyerName, loadOrders, loadLinkedOrders, setOrderLink } from '../convs.js';
import { canLinkOrders, isPrivileged } from '../access.js';
import { api } from '../api.js';
import { arrangeOrders, historyLines } from '../orders.js';

let el = {};
let renderedKey = ''; // what the panel shows; it is rebuilt only when that changes

export function init() {
  el = { body: byId('buyer-body') };
}

export function reset() {
  renderedKey = '';
}

export const langChanged = reset;

export function render() {
  const id = state.selectedId;
  const conv = id != null ? state.convs.get(id) : null;
  const b = conv && conv.buyer;
  const mayLink = canLinkOrders(conv, me());
  const key = [state.lang, id, conv && conv.status, conv && conv.agent_name, b && b.id, b && b.name, b && b.identified, b && b.external_id, state.ordersV, mayLink].join('|');
  if (key === renderedKey) return;
  renderedKey = key;
  if (!conv) {
    el.body.replaceChildren(h('p', { class: 'panel-empty', text: t('noBuyer') }));
    return;
  }
  const name = buyerName(conv);
  const facts = [];
  const fact = (label, value) => {
    if (value == null || value === '') return;
    facts.push(h('dt', { text: label }), h('dd', { text: String(value) }));
  };
  if (b && b.external_id) fact(t('buyerExternalId'), b.external_id);
  else if (b) fact(t('buyerInternalId'), b.id);
  fact(t('conversation'), '#' + conv.id + ' · ' + t('status_' + conv.status));
  if (conv.agent_name) fact(t('servedBy'), conv.agent_name);
  fact(t('startedAt'), fmtDateTime(conv.created_at));

  const card = h('div', { class: 'buyer-card' }, [
    avatarEl(name, b && b.id, 'avatar-lg'),
    h('div', { class: 'buyer-id' }, [
      h('div', { class: 'buyer-name', 'data-testid': 'buyer-name', text: name }),
      b && b.identified
        ? h('span', { class: 'tag tag-verified', 'data-testid': 'buyer-identified', 'data-identified': 'true', text: t('identified') })
        : h('span', { class: 'tag tag-guest', 'data-testid': 'buyer-identified', 'data-identified': 'false', text: t('visitor') }),
    ]),
  ]);

  const o = state.orders && b && state.orders.buyerId === b.id ? state.orders : null;
  const l = state.linked && state.linked.convId === id ? state.linked : null;
  const ordersHead = h('h3', { class: 'panel-subheading' }, [
    t('orders'),
    o && o.status === 'ok' ? h('span', { class: 'count', text: String(o.list.length) }) : null,
  ]);
  const notes = [];
  if (state.linkError) notes.push(h('p', { class: 'panel-note is-error', role: 'alert', 'data-testid': 'order-link-error', text: state.linkError }));
  if (l && l.status === 'error') {
    notes.push(h('p', { class: 'panel-note is-error', 'data-testid': 'linked-orders-error' }, [
      t('linkedError') + ' ',
      h('button', { type: 'button', class: 'btn-link', text: t('reload'), onclick: () => loadLinkedOrders(id) }),
    ]));
  }
  const linked = l && l.status === 'ok' ? l.list : [];
  let ordersBody;
  if (!o || o.status === 'loading') {
    ordersBody = h('p', { class: 'panel-note', text: t('ordersLoading') });
  } else if (o.status === 'error') {
    const buyerId = b.id;
    ordersBody = h('p', { class: 'panel-note is-error' }, [
      t('ordersError') + ' ',
      h('button', { type: 'button', class: 'btn-link', text: t('reload'), onclick: () => loadOrders(buyerId) }),
    ]);
  } else {
    const shown = arrangeOrders(o.list, linked);
    ordersBody = shown.length === 0
      ? h('p', { class: 'panel-note', text: t('noOrders') })
      : h('ul', { class: 'order-list', 'data-testid': 'order-list' }, shown.map((x) => orderEl(x.order, x.linked, mayLink ? id : null)));
  }

  el.body.replaceChildren(card, h('dl', { class: 'facts' }, facts), ordersHead, ...notes, ordersBody);
}

function statusWord(status) {
  const s = String(status || '');
  return hasString('order_' + s) ? t('order_' + s) : s;
}

// orderEl is one order of the panel; convId, when the agent may link, adds the link button.
function orderEl(o, linked, convId) {
  const status = String(o.status || '');
  const items = Array.isArray(o.items) ? o.items : [];
  const no = o.order_no || '';
  const lines = historyLines(o.history, statusWord, fmtDateTime);
  const historyTitle = t('statusHistory') + '\n' + (lines.length ? lines.join('\n') : t('noStatusHistory'));
  const busy = state.linking.get(no);
  return h('li', { class: 'order' + (linked ? ' is-linked' : ''), 'data-testid': 'order-item', 'data-order-no': no, 'data-linked': linked ? 'true' : 'false' }, [
    linked ? h('div', { class: 'order-linked-tag', 'data-testid': 'order-linked', text: t('linkedHere') }) : null,
    h('div', { class: 'order-head' }, [
      h('span', { class: 'order-no', text: t('orderNo', { no: no || o.id || '' }) }),
      h('span', {
        class: 'order-status status-' + status.replace(/[^a-z_-]/gi, ''),
        'data-testid': 'order-status',
        title: historyTitle,
        tabindex: '0',
        text: statusWord(status),
      }),
    ]),
    items.length ? h('ul', { class: 'order-items' }, items.map((it) => h('li', { class: 'order-line' }, [
      h('span', { class: 'item-title', text: it.title || '' }),
      h('span', { class: 'item-qty', text: t('itemQty', { n: it.quantity != null ? it.quantity : 1 }) }),
      h('span', { class: 'item-price', text: money(it.price_cents, o.currency) }),
    ]))) : null,
    o.tracking_no ? h('div', { class: 'order-tracking', 'data-testid': 'order-tracking', text: t('trackingNo', { no: o.tracking_no }) }) : null,
    h('div', { class: 'order-foot' }, [
      h('time', { class: 'order-time', datetime: o.created_at || null, text: o.created_at ? t('orderedAt') + ' ' + fmtDateTime(o.created_at) : '' }),
      h('span', { class: 'order-amount' }, [
        h('span', { class: 'order-amount-label', text: t('orderTotal') + ' ' }),
        h('strong', { 'data-testid': 'order-amount', text: money(o.amount_cents, o.currency) }),
      ]),
    ]),
    (convId != null || isPrivileged(me())) && no ? h('div', { class: 'order-actions' }, [
      convId != null ? h('button', {
        type: 'button',
        class: 'btn btn-sm ' + (linked ? 'btn-ghost' : 'btn-outline-accent'),
        'data-testid': 'order-link-toggle',
        'aria-label': t(linked ? 'unlinkOrderLabel' : 'linkOrderLabel', { no }),
        disabled: !!busy,
        text: t(linked ? 'unlinkOrder' : 'linkOrder'),
        onclick: () => setOrderLink(convId, no, !linked),
      }) : null,
      isPrivileged(me()) ? h('button', {
        type: 'button',
        class: 'btn btn-sm btn-ghost',
        'data-testid': 'order-export',
        title: t('exportOrderLabel', { no }),
        text: t('exportOrder'),
        onclick: (ev) => downloadExport(no, ev.currentTarget),
      }) : null,
    ]) : null,
  ]);
}

// downloadExport saves the order's dispute export (docs/orders.md §10) as a page for people, in
// the console's language; `kefu verify-export` or POST /api/v1/exports/verify checks the file.
async function downloadExport(no, button) {
  button.disabled = true;
  try {
    const q = '?format=html' + (state.lang === 'en' ? '&lang=en' : '');
    const blob = await api('GET', '/api/v1/orders/' + encodeURIComponent(no) + '/export' + q, undefined, { blob: true });
    saveFile(blob, 'kefu-order-' + no + '.html');
  } catch (err) {
    if (!err.cancelled) toast(t('exportFailed', { no, why: err.message || String(err) }));
  } finally {
    button.disabled = false;
  }
}
