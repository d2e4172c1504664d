// Unit tests of the workbench's rules (static/access.js): who a conversation is for, what
// they may do in it, awaiting_since, the order and preview of "my conversations".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isMine, isListed, canWrite, canClose, canHandOver, canLeave, canTakeOver, helps, holds,
  nextAwaiting, previewMessage, newerWords, compareMine, waited, rankAgents, invitable, canInviteRating,
} from '../static/access.js';

const wang = { id: 2, role: 'agent' };
const li = { id: 3, role: 'agent' };
const boss = { id: 1, role: 'owner' };
const sup = { id: 4, role: 'supervisor' };
const conv = (o) => Object.assign({ id: 9, status: 'assigned', agent_id: 2 }, o);

test('the holder and a helper see and write; a colleague does not', () => {
  const c = conv({ helper_ids: [3] });
  assert.equal(holds(c, wang), true);
  assert.equal(helps(c, li), true);
  for (const me of [wang, li]) {
    assert.equal(isMine(c, me), true);
    assert.equal(isListed(c, me), true);
    assert.equal(canWrite(c, me), true);
  }
  const other = { id: 5, role: 'agent' };
  assert.equal(isMine(c, other), false);
  assert.equal(isListed(c, other), false);
  assert.equal(canWrite(c, other), false);
});

test('helper_ids absent or naming someone else is not helping', () => {
  assert.equal(helps(conv({}), li), false);
  assert.equal(helps(conv({ helper_ids: [7] }), li), false);
  assert.equal(helps(conv({ helper_ids: [3], status: 'closed' }), li), false, 'helpers go when it closes');
});

test('only the holder and owners or supervisors close, transfer and invite; helpers leave', () => {
  const c = conv({ helper_ids: [3] });
  assert.equal(canClose(c, wang), true);
  assert.equal(canClose(c, li), false);
  assert.equal(canClose(c, boss), true);
  assert.equal(canClose(conv({ status: 'closed' }), wang), false);
  assert.equal(canHandOver(c, wang), true);
  assert.equal(canHandOver(c, li), false);
  assert.equal(canHandOver(c, sup), true);
  assert.equal(canHandOver(conv({ status: 'queued', agent_id: null }), sup), false);
  assert.equal(canLeave(c, li), true);
  assert.equal(canLeave(c, wang), false);
});

test('owners and supervisors take over anything open but their own', () => {
  assert.equal(canTakeOver(conv({}), boss), true);
  assert.equal(canTakeOver(conv({ status: 'queued', agent_id: null }), sup), true);
  assert.equal(canTakeOver(conv({ agent_id: 1 }), boss), false);
  assert.equal(canTakeOver(conv({ status: 'closed' }), boss), false);
  assert.equal(canTakeOver(conv({}), li), false);
});

test('a frame that no longer names me takes it off my list, but not off a supervisor\'s', () => {
  const transferred = conv({ agent_id: 3 });
  assert.equal(isListed(transferred, wang), false);
  assert.equal(isListed(conv({ agent_id: 3, helper_ids: [2] }), wang), true, 'invited back');
  assert.equal(isListed(transferred, sup), true);
  assert.equal(isListed(conv({ status: 'queued', agent_id: null }), wang), true, 'the queue is everyone\'s');
  assert.equal(isListed(conv({ status: 'closed' }), boss), false, 'closed ones are history');
});

test('awaiting_since: a buyer sets it when absent, an agent clears it, system lines do nothing', () => {
  const t1 = '2026-12-01T10:00:00Z';
  const t2 = '2026-12-01T10:01:00Z';
  assert.equal(nextAwaiting(null, { sender: 'buyer', created_at: t1 }), t1);
  assert.equal(nextAwaiting(t1, { sender: 'buyer', created_at: t2 }), t1, 'the oldest unanswered one counts');
  assert.equal(nextAwaiting(t1, { sender: 'system', kind: 'system', created_at: t2 }), t1);
  assert.equal(nextAwaiting(t1, { sender: 'agent', created_at: t2 }), null);
  assert.equal(nextAwaiting(undefined, { sender: 'system', kind: 'system' }), undefined);
});

test('the preview is the last real words when the last message is a system line', () => {
  const q = { seq: 1, sender: 'buyer', kind: 'text', text: '有货吗？' };
  const sys = { seq: 2, sender: 'system', kind: 'system', code: 'assigned', text: '客服 小王 为您服务' };
  assert.equal(previewMessage(sys, q), q);
  assert.equal(previewMessage(sys, null), sys, 'nothing else known: the system line');
  assert.equal(previewMessage(q, null), q);
  assert.equal(previewMessage(null, q), q);
  assert.equal(previewMessage(null, null), null);
  assert.equal(newerWords(q, sys), q, 'system lines are not words');
  const a = { seq: 3, sender: 'agent', kind: 'text', text: '有的' };
  assert.equal(newerWords(q, a), a);
  assert.equal(newerWords(a, q), a, 'an older message does not replace a newer one');
});

test('my conversations: awaiting ones first, longest waiting first, then newest activity', () => {
  const list = [
    { id: 1, _t: 50 },
    { id: 2, _t: 10, awaiting_since: '2026-12-01T10:05:00Z' },
    { id: 3, _t: 90 },
    { id: 4, _t: 20, awaiting_since: '2026-12-01T10:01:00Z' },
  ];
  assert.deepEqual(list.sort(compareMine).map((c) => c.id), [4, 2, 3, 1]);
});

test('the time waited is in whole seconds, minutes or hours', () => {
  const at = Date.parse('2026-12-01T10:00:00Z');
  assert.deepEqual(waited('2026-12-01T10:00:00Z', at + 42000), { unit: 'sec', n: 42 });
  assert.deepEqual(waited('2026-12-01T10:00:00Z', at + 150000), { unit: 'min', n: 2 });
  assert.deepEqual(waited('2026-12-01T10:00:00Z', at + 7300000), { unit: 'hour', n: 2 });
  assert.deepEqual(waited('2026-12-01T10:00:00Z', at - 5000), { unit: 'sec', n: 0 }, 'clock skew is not negative');
});

test('transfer targets: online with room first, then by load; me and disabled ones left out', () => {
  const agents = [
    { id: 2, name: '小王', presence: 'online', active_count: 0, max_concurrent: 5 },
    { id: 3, name: '小丽', presence: 'online', active_count: 5, max_concurrent: 5 },
    { id: 5, name: '阿强', presence: 'offline', active_count: 0, max_concurrent: 5 },
    { id: 6, name: '阿美', presence: 'online', active_count: 1, max_concurrent: 5 },
    { id: 7, name: '停用', presence: 'offline', active_count: 0, max_concurrent: 5, disabled: true },
    { id: 8, name: '大刘', presence: 'away', active_count: 3, max_concurrent: 5 },
  ];
  assert.deepEqual(rankAgents(agents, wang).map((a) => a.id), [6, 5, 8, 3]);
  assert.deepEqual(invitable(agents, conv({ agent_id: 2, helper_ids: [6] }), wang).map((a) => a.id), [8, 3]);
});

test('a rating is invited once, of an assigned conversation, by whoever writes to it', () => {
  const c = conv({ helper_ids: [3] });
  for (const me of [wang, li, sup, boss]) assert.equal(canInviteRating(c, me), true, me.role + ' ' + me.id);
  assert.equal(canInviteRating(c, { id: 5, role: 'agent' }), false, 'a colleague');
  assert.equal(canInviteRating(conv({ rating_invited: true }), wang), false, 'invited already');
  assert.equal(canInviteRating(conv({ rating: 4 }), wang), false, 'rated already');
  assert.equal(canInviteRating(conv({ status: 'closed' }), wang), false, 'closed: the widget asks by itself');
  assert.equal(canInviteRating(conv({ status: 'queued', agent_id: null }), sup), false, 'waiting');
});
