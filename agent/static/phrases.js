// Quick phrases (快捷短语) without the page: where a `/query` is being typed, which phrases it
// finds and in what order, filling a phrase's variables, and which variables are still unfilled
// in a text about to be sent. The picker (views/picker.js) draws what these answer.

// VARIABLES are the variables a phrase may hold (docs/openapi.yaml, Phrase.text).
export const VARIABLES = ['buyer.name', 'agent.name', 'shop.name', 'order.no', 'order.status', 'order.tracking_no'];

const KNOWN = new Set(VARIABLES);
const VARIABLE = /\{([a-z_]+\.[a-z_]+)\}/g;

// digitPicks says whether typing digit d picks the d-th phrase shown rather than continuing
// the query: not when a phrase's shortcut goes on with it (a shortcut such as "a1" stays
// typeable).
export function digitPicks(phrases, query, d) {
  const next = (query + d).toLowerCase();
  return !phrases.some((p) => (p.shortcut || '').toLowerCase().startsWith(next));
}

// PICKER_SIZE is how many phrases the picker shows, numbered 1–9.
export const PICKER_SIZE = 9;

// slashQuery finds the `/query` the caret ends: a `/` at the start of the text or after white
// space, then no white space up to the caret. A Chinese input method in Chinese punctuation
// types `、` or the full-width `／` for the `/` key: either opens it too. It answers {start,
// query} (start: the index of the trigger), or null when the caret is not in one.
export function slashQuery(text, caret) {
  const before = text.slice(0, caret);
  const m = /(^|\s)[\/、／](\S*)$/.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, query: m[2] };
}

// rankPhrases answers the phrases query finds, at most limit: first those whose shortcut starts
// with it, then those whose category or text contains it (case-insensitive for ASCII; Chinese as
// plain substrings); within each, most used first, else in the order given. An empty query
// finds them all.
export function rankPhrases(phrases, query, limit = PICKER_SIZE) {
  const q = query.toLowerCase();
  const tiers = [[], []];
  phrases.forEach((p, i) => {
    const shortcut = (p.shortcut || '').toLowerCase();
    if (q === '' || (shortcut !== '' && shortcut.startsWith(q))) tiers[0].push({ p, i });
    else if ((p.category || '').toLowerCase().includes(q) || (p.text || '').toLowerCase().includes(q)) tiers[1].push({ p, i });
  });
  const byUses = (a, b) => (b.p.uses || 0) - (a.p.uses || 0) || a.i - b.i;
  return tiers[0].sort(byUses).concat(tiers[1].sort(byUses)).slice(0, limit).map((x) => x.p);
}

// fillVariables puts values (name -> text, e.g. {'buyer.name': '张三'}) in place of text's
// variables; a variable without a value (absent or empty) stays as written.
export function fillVariables(text, values) {
  return text.replace(VARIABLE, (m, name) => {
    const v = KNOWN.has(name) ? values[name] : null;
    return v == null || v === '' ? m : String(v);
  });
}

// unfilledVariables answers the known variables text still holds, each once, as written
// ("{order.no}"), in the order they first appear.
export function unfilledVariables(text) {
  const out = [];
  for (const m of text.matchAll(VARIABLE)) {
    if (KNOWN.has(m[1]) && !out.includes(m[0])) out.push(m[0]);
  }
  return out;
}

// replaceQuery puts insert in place of text's `/query` from start to caret and answers the new
// text with the caret just after what was inserted.
export function replaceQuery(text, start, caret, insert) {
  return { text: text.slice(0, start) + insert + text.slice(caret), caret: start + insert.length };
}

// previewLine is a phrase's text on one line, for the picker.
export function previewLine(text) {
  return text.replace(/\s+/g, ' ').trim();
}
