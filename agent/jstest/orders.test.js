// Unit tests of the order panel's rules (static/orders.js) and who may link orders
// (static/access.js canLinkOrders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrangeOrders, historyLines } from '../static/orders.js';
import { canLinkOrders } from '../static/access.js';

const o = (no, extra) => Object.assign({ order_no: no, status: 'paid' }, extra);

test('linked orders come first, newest link first, each order once', () => {
  const buyer = [o('A'), o('B'), o('C')];
  const linked = [o('C'), o('A')];
  assert.deepEqual(arrangeOrders(buyer, linked).map((x) => [x.order.order_no, x.linked]),
    [['C', true], ['A', true], ['B', false]]);
});

test('a linked order beyond the buyer list still shows; nothing linked keeps the list', () => {
  assert.deepEqual(arrangeOrders([o('A')], [o('Z', { status: 'shipped' })]).map((x) => [x.order.order_no, x.order.status, x.linked]),
    [['Z', 'shipped', true], ['A', 'paid', false]]);
  assert.deepEqual(arrangeOrders([o('A'), o('B')], null).map((x) => x.linked), [false, false]);
  assert.deepEqual(arrangeOrders(null, undefined), []);
});

test('the buyer list copy of a linked order is shown (it has the newest fields)', () => {
  const shown = arrangeOrders([o('A', { tracking_no: 'SF1' })], [o('A')]);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].order.tracking_no, 'SF1');
  assert.equal(shown[0].linked, true);
});

test('history lines are oldest first, status word and time, skipping empty entries', () => {
  const word = (s) => ({ paid: '已付款', shipped: '已发货' })[s] || s;
  const fmt = (iso) => 'T' + iso.slice(11, 16);
  const lines = historyLines([
    { status: 'shipped', at: '2026-11-12T09:00:00Z' },
    { status: '', at: '2026-11-11T00:00:00Z' },
    { status: 'paid', at: '2026-11-11T08:30:00Z' },
    { status: 'odd' },
  ], word, fmt);
  assert.deepEqual(lines, ['odd', '已付款 · T08:30', '已发货 · T09:00']);
  assert.deepEqual(historyLines(undefined, word, fmt), []);
});

test('linking is for the holder (also once closed), a helper, an owner or supervisor', () => {
  const wang = { id: 2, role: 'agent' };
  const li = { id: 3, role: 'agent' };
  const zhao = { id: 5, role: 'agent' };
  const boss = { id: 1, role: 'owner' };
  const sup = { id: 4, role: 'supervisor' };
  const c = { id: 9, status: 'assigned', agent_id: 2, helper_ids: [3] };
  assert.equal(canLinkOrders(c, wang), true);
  assert.equal(canLinkOrders(c, li), true);
  assert.equal(canLinkOrders(c, zhao), false);
  assert.equal(canLinkOrders(c, boss), true);
  assert.equal(canLinkOrders(c, sup), true);
  assert.equal(canLinkOrders({ ...c, status: 'closed' }, wang), true);
  assert.equal(canLinkOrders({ id: 9, status: 'queued' }, wang), false);
  assert.equal(canLinkOrders({ id: 9, status: 'queued' }, sup), true);
  assert.equal(canLinkOrders(null, boss), false);
  assert.equal(canLinkOrders(c, null), false);
});
