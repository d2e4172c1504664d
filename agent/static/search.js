// Pure rules of the conversation search (views/search.js): what a typed text asks the server
// (GET /api/v1/search, docs/search.md) and how a snippet's highlights cut its text. No DOM, so
// node:test covers them (agent/jstest/search.test.js).

// looksLikeOrderNo says the text is an order number rather than words: ASCII letters, digits
// and '-', at least 6 of them, at least one digit (so "refund" stays a word).
export function looksLikeOrderNo(text) {
  const s = String(text || '').trim();
  return /^[A-Za-z0-9-]{6,64}$/.test(s) && /[0-9]/.test(s);
}

// searchParams is the query of a search for text: an order number goes as order_no (it finds
// every conversation mentioning it, with the messages that do as snippets), anything else as q.
// Empty text is no search (null).
export function searchParams(text, limit) {
  const s = String(text || '').trim();
  if (!s) return null;
  const p = new URLSearchParams();
  if (looksLikeOrderNo(s)) p.set('order_no', s);
  else p.set('q', s);
  if (limit) p.set('limit', String(limit));
  return p;
}

// markParts cuts text at its highlights ([start, end) in code points, as docs/search.md gives
// them) into [{text, mark}] pieces, in order. Highlights out of range, overlapping or unordered
// are clipped and merged; an empty text is no pieces.
export function markParts(text, highlights) {
  const cps = Array.from(String(text || ''));
  if (cps.length === 0) return [];
  const spans = (Array.isArray(highlights) ? highlights : [])
    .map((r) => [Math.max(0, Math.floor(Number(r && r.start))), Math.min(cps.length, Math.floor(Number(r && r.end)))])
    .filter(([s, e]) => Number.isFinite(s) && Number.isFinite(e) && e > s)
    .sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const sp of spans) {
    const last = merged[merged.length - 1];
    if (last && sp[0] <= last[1]) last[1] = Math.max(last[1], sp[1]);
    else merged.push(sp.slice());
  }
  const out = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) out.push({ text: cps.slice(at, s).join(''), mark: false });
    out.push({ text: cps.slice(s, e).join(''), mark: true });
    at = e;
  }
  if (at < cps.length) out.push({ text: cps.slice(at).join(''), mark: false });
  return out;
}
