// The right column: who the buyer of the open conversation is, and their orders.
import { state } from '../state.js';
import { t, hasString } from '../strings.js';
import { h, byId, fmtDateTime, money, avatarEl } from '../dom.js';
import { buyerName, loadOrders } from '../convs.js';

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
  const key = [state.lang, id, conv && conv.status, conv && conv.agent_name, b && b.id, b && b.name, b && b.identified, b && b.external_id, state.ordersV].join('|');
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
  const ordersHead = h('h3', { class: 'panel-subheading' }, [
    t('orders'),
    o && o.status === 'ok' ? h('span', { class: 'count', text: String(o.list.length) }) : null,
  ]);
  let ordersBody;
  if (!o || o.status === 'loading') {
    ordersBody = h('p', { class: 'panel-note', text: t('ordersLoading') });
  } else if (o.status === 'error') {
    const buyerId = b.id;
    ordersBody = h('p', { class: 'panel-note is-error' }, [
      t('ordersError') + ' ',
      h('button', { type: 'button', class: 'btn-link', text: t('reload'), onclick: () => loadOrders(buyerId) }),
    ]);
  } else if (o.list.length === 0) {
    ordersBody = h('p', { class: 'panel-note', text: t('noOrders') });
  } else {
    ordersBody = h('ul', { class: 'order-list', 'data-testid': 'order-list' }, o.list.map(orderEl));
  }

  el.body.replaceChildren(card, h('dl', { class: 'facts' }, facts), ordersHead, ordersBody);
}

function orderEl(o) {
  const status = String(o.status || '');
  const statusText = hasString('order_' + status) ? t('order_' + status) : status;
  const items = Array.isArray(o.items) ? o.items : [];
  return h('li', { class: 'order', 'data-testid': 'order-item', 'data-order-no': o.order_no || '' }, [
    h('div', { class: 'order-head' }, [
      h('span', { class: 'order-no', text: t('orderNo', { no: o.order_no || o.id || '' }) }),
      h('span', { class: 'order-status status-' + status.replace(/[^a-z_-]/gi, ''), 'data-testid': 'order-status', text: statusText }),
    ]),
    items.length ? h('ul', { class: 'order-items' }, items.map((it) => h('li', { class: 'order-line' }, [
      h('span', { class: 'item-title', text: it.title || '' }),
      h('span', { class: 'item-qty', text: t('itemQty', { n: it.quantity != null ? it.quantity : 1 }) }),
      h('span', { class: 'item-price', text: money(it.price_cents, o.currency) }),
    ]))) : null,
    h('div', { class: 'order-foot' }, [
      h('time', { class: 'order-time', datetime: o.created_at || null, text: o.created_at ? t('orderedAt') + ' ' + fmtDateTime(o.created_at) : '' }),
      h('span', { class: 'order-amount' }, [
        h('span', { class: 'order-amount-label', text: t('orderTotal') + ' ' }),
        h('strong', { 'data-testid': 'order-amount', text: money(o.amount_cents, o.currency) }),
      ]),
    ]),
  ]);
}
