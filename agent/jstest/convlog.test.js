// Unit tests of the console's message log and outbox rules (static/convlog.js), run by
// `node --test agent/jstest/` and by go test (TestConsoleModules). Not embedded or served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageLog, Outbox, FINAL_CODES, isFinal, isLost, isMessage, openingBase, retryDelay } from '../static/convlog.js';

const msg = (seq, text) => ({ conversation_id: 7, seq, text: text || 'm' + seq });
const seqs = (log) => log.sorted().map((m) => m.seq);

test('messages come out in seq order whatever order they arrived in', () => {
  const log = new MessageLog(0);
  for (const s of [3, 1, 2]) log.add(msg(s));
  assert.deepEqual(seqs(log), [1, 2, 3]);
  assert.equal(log.top, 3);
  assert.equal(log.hi, 3);
});

test('a seq already held is dropped and the first copy stays', () => {
  const log = new MessageLog(0);
  assert.equal(log.add(msg(1, 'first')), true);
  assert.equal(log.add(msg(1, 'again')), false);
  assert.equal(log.msgs.size, 1);
  assert.equal(log.sorted()[0].text, 'first');
});

test('a message beyond a missing one is a gap; what to fetch is after top', () => {
  const log = new MessageLog(0);
  for (const s of [1, 2, 5]) log.add(msg(s));
  assert.equal(log.hasGap(), true);
  assert.equal(log.top, 2, 'after_seq to fetch');
  assert.equal(log.hi, 5);
  log.add(msg(3));
  assert.equal(log.hasGap(), true);
  assert.equal(log.top, 3);
  log.add(msg(4));
  assert.equal(log.hasGap(), false);
  assert.equal(log.top, 5);
});

test('no gap is chased while the first page is loading', () => {
  const log = new MessageLog(10);
  log.loading = true;
  log.add(msg(15));
  assert.equal(log.hasGap(), false);
  log.loading = false;
  assert.equal(log.hasGap(), true);
  assert.equal(log.top, 10);
});

test('a log opened on a long conversation starts at its newest page', () => {
  assert.equal(openingBase(120, 50), 70);
  assert.equal(openingBase(30, 50), 0);
  assert.equal(openingBase(undefined, 50), 0);
  const log = new MessageLog(openingBase(120, 50));
  assert.equal(log.lo, 71);
  assert.equal(log.hasOlder(), true);
  assert.equal(new MessageLog(0).hasOlder(), false);
});

test('"load earlier" pages back to seq 1 and then stops', () => {
  const log = new MessageLog(70);
  assert.deepEqual(log.olderPage(50), { after: 20, limit: 50 });
  log.olderLoaded(20);
  assert.equal(log.lo, 21);
  assert.deepEqual(log.olderPage(50), { after: 0, limit: 20 });
  log.olderLoaded(0);
  assert.equal(log.olderPage(50), null);
});

test('older messages extend lo without moving top', () => {
  const log = new MessageLog(70);
  for (const s of [71, 72]) log.add(msg(s));
  for (const s of [69, 70]) log.add(msg(s));
  assert.equal(log.lo, 69);
  assert.equal(log.top, 72);
  assert.deepEqual(seqs(log), [69, 70, 71, 72]);
});

test('prune keeps the newest messages, not while loading', () => {
  const log = new MessageLog(0);
  for (let s = 1; s <= 10; s++) log.add(msg(s));
  log.loading = true;
  log.prune(4);
  assert.equal(log.msgs.size, 10);
  log.loading = false;
  log.prune(4);
  assert.deepEqual(seqs(log), [7, 8, 9, 10]);
  assert.equal(log.lo, 7);
  assert.equal(log.hasOlder(), true);
});

test('the same sync is not sent twice while it is in flight', () => {
  const log = new MessageLog(0);
  assert.equal(log.claimSync(5), true);
  assert.equal(log.claimSync(5), false);
  assert.equal(log.claimSync(8), true);
  log.syncing = null; // its history came back
  assert.equal(log.claimSync(8), true);
});

test('only frames with a seq and a conversation are messages', () => {
  assert.equal(isMessage(msg(1)), true);
  assert.equal(isMessage({ conversation_id: 7, seq: '1' }), false);
  assert.equal(isMessage({ seq: 1 }), false);
  assert.equal(isMessage(null), false);
});

test('which refusals are final (protocol.md)', () => {
  for (const code of ['text_empty', 'text_too_long', 'text_invalid_characters', 'invalid_client_msg_id', 'invalid_frame', 'invalid_json',
    'conversation_closed', 'not_found', 'forbidden', 'not_queued']) {
    assert.equal(isFinal(code), true, code);
  }
  assert.equal(FINAL_CODES.size, 10);
  for (const code of ['internal', 'rate_limited', 'something_newer', undefined]) assert.equal(isFinal(code), false, String(code));
  assert.equal(isLost('conversation_closed'), true);
  assert.equal(isLost('forbidden'), true);
  assert.equal(isLost('not_queued'), true);
  assert.equal(isLost('text_too_long'), false);
});

test('a final refusal takes a message out of the resend loop; a retryable one keeps it', () => {
  const box = new Outbox();
  const a = box.add(7, 'a_1', 'hello');
  const b = box.add(7, 'a_2', 'world');
  a.sentGen = 1;
  b.sentGen = 1;

  const fa = box.refuse('a_1', 'text_too_long');
  assert.deepEqual(fa, { item: a, final: true });
  assert.equal(a.state, 'failed');
  assert.equal(a.error, 'text_too_long');

  const fb = box.refuse('a_2', 'internal');
  assert.deepEqual(fb, { item: b, final: false });
  assert.equal(b.state, 'pending');
  assert.equal(b.tries, 1);

  // A new socket (generation 2) resends the pending one only.
  assert.deepEqual(box.unsent(2), [b]);
  // Both are still shown in the conversation, in the order written.
  assert.deepEqual(box.forConversation(7), [a, b]);
  assert.equal(box.refuse('a_unknown', 'internal'), null);
});

test('what a socket has carried is not sent on it again', () => {
  const box = new Outbox();
  const a = box.add(7, 'a_1', 'x');
  assert.deepEqual(box.unsent(1), [a]);
  a.sentGen = 1;
  assert.deepEqual(box.unsent(1), []);
  assert.deepEqual(box.unsent(2), [a]);
});

test('acked, discarded, and forgotten conversations leave the outbox', () => {
  const box = new Outbox();
  const a = box.add(7, 'a_1', 'x');
  box.add(7, 'a_2', 'y');
  box.add(8, 'a_3', 'z');
  box.refuse('a_2', 'forbidden');
  box.refuse('a_3', 'forbidden');
  assert.equal(box.remove('a_1'), a);
  assert.equal(box.remove('a_1'), null);
  assert.equal(box.has(a), false);
  box.dropFailed(7);
  assert.deepEqual(box.items.map((x) => x.client_msg_id), ['a_3']);
});

test('restored items count as unsent on the new socket', () => {
  const box = new Outbox();
  const a = box.add(7, 'a_1', 'x');
  a.sentGen = 4;
  const kept = box.clear();
  assert.equal(box.size, 0);
  const next = new Outbox();
  next.restore(kept);
  assert.deepEqual(next.unsent(4), [a]);
});

test('retries wait longer each time, up to 30 s, jittered over the upper half', () => {
  assert.equal(retryDelay(1, 0), 1000);
  assert.equal(retryDelay(1, 0.999999) < 2000, true);
  assert.equal(retryDelay(2, 0), 2000);
  assert.equal(retryDelay(3, 0), 4000);
  assert.equal(retryDelay(20, 0), 15000);
  assert.equal(retryDelay(20, 0.999999) <= 30000, true);
});
