// Pure rules of the workbench, in one place (docs/protocol.md §3 "Who may do what", §5): which
// conversations are for me, what I may do in them, and how "my conversations" are ordered and
// previewed. No DOM, no state: every function takes the conversation and me ({id, role}), so
// node:test can cover them (agent/jstest/access.test.js).

// isPrivileged: owners and supervisors see and act on the whole shop.
export function isPrivileged(me) {
  return !!me && (me.role === 'owner' || me.role === 'supervisor');
}

// holds: the conversation is assigned to me.
export function holds(conv, me) {
  return !!conv && !!me && conv.status === 'assigned' && conv.agent_id === me.id;
}

// helps: I was invited into the conversation (多方洽谈) and have not left.
export function helps(conv, me) {
  return !!conv && !!me && conv.status === 'assigned' && conv.agent_id !== me.id &&
    Array.isArray(conv.helper_ids) && conv.helper_ids.includes(me.id);
}

// isMine: a conversation of "my conversations": held by me or helped in.
export function isMine(conv, me) {
  return holds(conv, me) || helps(conv, me);
}

// isListed: the lists show it: mine, waiting, or (owners and supervisors) anyone's open one.
// Anything else (a colleague's, closed) is kept only while on screen.
export function isListed(conv, me) {
  if (!conv) return false;
  if (conv.status === 'queued') return true;
  if (conv.status !== 'assigned') return false;
  return isMine(conv, me) || isPrivileged(me);
}

// canWrite: the message box is open. Helpers write like the agent holding it.
export function canWrite(conv, me) {
  return isMine(conv, me);
}

// canLinkOrders: link and unlink the buyer's orders to the conversation (docs/orders.md §7), as
// the server's mayWrite: the agent holding it (or who held it, once closed), a helper, or an
// owner or supervisor. Wider than canWrite: a closed conversation's last agent still may.
export function canLinkOrders(conv, me) {
  if (!conv || !me) return false;
  if (isPrivileged(me)) return true;
  if (conv.status === 'queued') return false;
  return conv.agent_id === me.id || (Array.isArray(conv.helper_ids) && conv.helper_ids.includes(me.id));
}

// canClose: the holder, or an owner or supervisor, of an open conversation; never a helper.
export function canClose(conv, me) {
  if (!conv || conv.status === 'closed') return false;
  return holds(conv, me) || isPrivileged(me);
}

// canHandOver: transfer and invite, by the holder or an owner or supervisor.
export function canHandOver(conv, me) {
  return !!conv && conv.status === 'assigned' && (holds(conv, me) || isPrivileged(me));
}

// canInviteRating: ask the buyer to rate an assigned conversation nobody rated or invited a
// rating of yet, as the server's mayWrite: its holder, a helper, or an owner or supervisor.
export function canInviteRating(conv, me) {
  return !!conv && conv.status === 'assigned' && !conv.rating && !conv.rating_invited &&
    (holds(conv, me) || helps(conv, me) || isPrivileged(me));
}

// canLeave: a helper steps out.
export function canLeave(conv, me) {
  return helps(conv, me);
}

// canTakeOver: an owner or supervisor takes a colleague's (or a waiting) conversation.
export function canTakeOver(conv, me) {
  return !!conv && isPrivileged(me) && conv.status !== 'closed' && !holds(conv, me);
}

function isSystem(m) {
  return !!m && (m.kind === 'system' || m.sender === 'system');
}

// nextAwaiting is awaiting_since after message m (§3): a buyer's message sets it when absent,
// an agent's clears it, anything else (system lines, the bot) leaves it as it was.
export function nextAwaiting(current, m) {
  if (!m) return current;
  if (m.sender === 'buyer') return current || m.created_at || null;
  if (m.sender === 'agent') return null;
  return current;
}

// previewMessage is what a row shows: the last message, unless it is a system line and we
// know a later-or-earlier real one (words), so "客服 小王 为您服务" never hides the buyer's question.
export function previewMessage(last, words) {
  if (isSystem(last) && words && !isSystem(words)) return words;
  return last || words || null;
}

// newerWords is the later of two non-system messages (by seq), for previewMessage.
export function newerWords(held, m) {
  if (!m || isSystem(m)) return held || null;
  if (!held || (m.seq || 0) >= (held.seq || 0)) return m;
  return held;
}

function time(iso) {
  const v = Date.parse(iso || '');
  return isNaN(v) ? 0 : v;
}

// compareMine orders "my conversations": those awaiting an answer first, longest waiting
// first; then the rest, newest activity (_t) first.
export function compareMine(a, b) {
  const wa = a.awaiting_since ? time(a.awaiting_since) || 1 : 0;
  const wb = b.awaiting_since ? time(b.awaiting_since) || 1 : 0;
  if (wa && wb) return wa - wb || a.id - b.id;
  if (wa || wb) return wa ? -1 : 1;
  return (b._t || 0) - (a._t || 0) || b.id - a.id;
}

// waited is how long since iso, at now (ms), as {unit: 'sec'|'min'|'hour', n}: whole units,
// so a row is redrawn only when the number changes.
export function waited(iso, now) {
  const s = Math.max(0, Math.floor((now - time(iso)) / 1000));
  if (s < 60) return { unit: 'sec', n: s };
  if (s < 3600) return { unit: 'min', n: Math.floor(s / 60) };
  return { unit: 'hour', n: Math.floor(s / 3600) };
}

// rankAgents orders colleagues for a transfer: online with a free slot first, then by load
// (fewest open relative to their limit), then by name; disabled ones and me are left out.
export function rankAgents(agents, me) {
  const room = (a) => a.presence === 'online' && (a.active_count || 0) < (a.max_concurrent || 0);
  const load = (a) => (a.active_count || 0) / Math.max(1, a.max_concurrent || 0);
  return (agents || [])
    .filter((a) => !a.disabled && (!me || a.id !== me.id))
    .sort((a, b) => (room(b) - room(a)) || (load(a) - load(b)) || String(a.name).localeCompare(String(b.name)) || a.id - b.id);
}

// invitable: colleagues who may be invited (a console open: online or away; not the holder,
// not helping already).
export function invitable(agents, conv, me) {
  const helpers = (conv && conv.helper_ids) || [];
  return rankAgents(agents, me).filter((a) => (a.presence === 'online' || a.presence === 'away') &&
    a.id !== (conv && conv.agent_id) && !helpers.includes(a.id));
}
