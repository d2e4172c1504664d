// The per-conversation bookkeeping that is easy to get wrong: which messages we hold and in
// what order (seq), where a gap is and what to fetch to fill it, and the outbox of messages not
// yet stored with which refusals are final. Pure: no DOM, no timers, no module state, so that
// agent/jstest/convlog.test.js runs it under node (go test runs that too).
// Protocol terms (seq, after_seq, client_msg_id, refusal codes): docs/protocol.md.

// Refusals of a `send` that resending with the same client_msg_id cannot fix (protocol.md,
// "Which refusals are final"); any other code (internal) is retried.
export const FINAL_CODES = new Set(['text_empty', 'text_too_long', 'text_invalid_characters', 'invalid_client_msg_id', 'invalid_frame', 'invalid_json',
  'conversation_closed', 'not_found', 'forbidden', 'not_queued']);

// Final refusals that mean the conversation is no longer ours to write to (closed, or a
// colleague's): the console then asks the server what became of it.
const LOST_CODES = new Set(['conversation_closed', 'forbidden', 'not_queued']);

const RETRY_MAX_MS = 30000;

// isFinal says whether a refusal of a `send` is final (never storable by resending).
export function isFinal(code) {
  return FINAL_CODES.has(code);
}

// isLost says whether a final refusal means the conversation left us.
export function isLost(code) {
  return LOST_CODES.has(code);
}

// isMessage says whether a frame or REST answer holds a message we can place (it has a seq and
// a conversation); anything else is ignored rather than breaking the log.
export function isMessage(msg) {
  return !!msg && typeof msg.seq === 'number' && msg.conversation_id != null;
}

// openingBase is the seq after which a conversation opened on screen starts loading: its newest
// pageSize messages, "load earlier" fetching the rest.
export function openingBase(lastSeq, pageSize) {
  return Math.max(0, (lastSeq || 0) - pageSize);
}

// retryDelay is how long to wait before resending after the tries-th retryable refusal: a growing
// cap (2 s, 4 s, … 30 s) with jitter over its upper half, so consoles refused together (a server
// restart) do not come back together. rand is a number in [0, 1).
export function retryDelay(tries, rand) {
  const cap = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, Math.min(tries, 10)));
  return cap / 2 + rand * cap / 2;
}

// MessageLog holds the messages we show for one conversation, keyed by seq. Everything from lo
// to top is held ("highest seq shown" is top); hi is the highest seq held at all, so hi > top
// means a gap to fill, fetched as the messages after top.
export class MessageLog {
  // base: the seq the log starts after (nothing at or below it is expected yet).
  constructor(base) {
    this.msgs = new Map();
    this.lo = base + 1;
    this.top = base;
    this.hi = base;
    // Fetch bookkeeping, kept here so that a replaced log (reopened conversation) drops it too.
    this.loading = false; // the first page is on its way; gaps are not chased until it is in
    this.loadingOlder = false;
    this.syncing = null; // after_seq of the socket `sync` in flight, so the same one is not sent twice
    this.restBusy = false;
  }

  // add records one message exactly once, whatever the source (live, history, REST, ack); it
  // answers false for a seq already held (the first copy stays).
  add(msg) {
    if (this.msgs.has(msg.seq)) return false;
    this.msgs.set(msg.seq, msg);
    if (msg.seq < this.lo) this.lo = msg.seq;
    if (msg.seq > this.hi) this.hi = msg.seq;
    while (this.msgs.has(this.top + 1)) this.top++;
    return true;
  }

  // hasGap says a message beyond a missing one arrived: fetch what follows top. Not while the
  // first page loads, which would fill it anyway.
  hasGap() {
    return !this.loading && this.hi > this.top;
  }

  // sorted is the messages held, oldest first.
  sorted() {
    return Array.from(this.msgs.keys()).sort((a, b) => a - b).map((seq) => this.msgs.get(seq));
  }

  // claimSync marks a socket sync after `after` as sent; false if that one is in flight already.
  claimSync(after) {
    if (this.syncing === after) return false;
    this.syncing = after;
    return true;
  }

  // hasOlder says there are messages before lo to offer with "load earlier".
  hasOlder() {
    return this.lo > 1;
  }

  // olderPage is the REST page before lo ({after, limit}), or null at the conversation's start.
  olderPage(pageSize) {
    if (!this.hasOlder()) return null;
    const after = Math.max(0, this.lo - 1 - pageSize);
    return { after, limit: this.lo - 1 - after };
  }

  // olderLoaded records that the page after `after` is in, even if some of its seqs never came
  // back, so "load earlier" moves on instead of asking for the same page again.
  olderLoaded(after) {
    this.lo = Math.min(this.lo, after + 1);
  }

  // prune keeps only the newest `keep` messages of a conversation no longer on screen (a shift
  // is long); it leaves a log alone while its first page loads.
  prune(keep) {
    if (this.msgs.size <= keep || this.loading) return;
    const cut = this.top - keep + 1;
    for (const seq of Array.from(this.msgs.keys())) if (seq < cut) this.msgs.delete(seq);
    this.lo = Math.max(this.lo, cut);
  }
}

// Outbox holds the agent's messages the server has not stored yet, in the order written. An
// item is pending (sent, or waiting for a socket, and resent on every new one until acked) or
// failed (finally refused: shown with why, to edit or discard, never resent).
// Items are plain objects: {client_msg_id, conversation_id, text, state, error, sentGen, tries};
// the caller may hang its own fields on them (a retry timer).
export class Outbox {
  constructor() {
    this.items = [];
  }

  // add queues a new message as pending.
  add(conversationId, clientMsgId, text) {
    const item = { client_msg_id: clientMsgId, conversation_id: conversationId, text, state: 'pending', error: '', sentGen: 0, tries: 0 };
    this.items.push(item);
    return item;
  }

  // restore takes back items kept over a forced sign-in; none counts as sent on the new socket.
  restore(items) {
    for (const item of items) this.items.push(Object.assign(item, { sentGen: 0 }));
  }

  get(clientMsgId) {
    return this.items.find((x) => x.client_msg_id === clientMsgId) || null;
  }

  has(item) {
    return this.items.includes(item);
  }

  get size() {
    return this.items.length;
  }

  // remove takes an item out (acked, echoed back, discarded) and answers it, or null.
  remove(clientMsgId) {
    const i = this.items.findIndex((x) => x.client_msg_id === clientMsgId);
    if (i < 0) return null;
    return this.items.splice(i, 1)[0];
  }

  // clear empties the outbox and answers what it held.
  clear() {
    const items = this.items;
    this.items = [];
    return items;
  }

  // forConversation is the conversation's items in the order written.
  forConversation(id) {
    return this.items.filter((x) => x.conversation_id === id);
  }

  // unsent is what to transmit on socket generation gen: pending items not yet sent on it.
  unsent(gen) {
    return this.items.filter((x) => x.state === 'pending' && x.sentGen !== gen);
  }

  // dropFailed forgets a conversation's failed items (the conversation left the console);
  // pending ones stay, the server decides their fate.
  dropFailed(id) {
    this.items = this.items.filter((x) => x.conversation_id !== id || x.state !== 'failed');
  }

  // refuse records an `error` frame answering item clientMsgId. A final code fails the item
  // (out of the resend loop; {item, final: true}); any other keeps it pending and counts a try,
  // for retryDelay ({item, final: false}). null: no such item (the answer to a resend of a
  // message already stored or discarded).
  refuse(clientMsgId, code) {
    const item = this.get(clientMsgId);
    if (!item) return null;
    if (isFinal(code)) {
      item.state = 'failed';
      item.error = code || '';
      return { item, final: true };
    }
    item.tries = (item.tries || 0) + 1;
    return { item, final: false };
  }
}
