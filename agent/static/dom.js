// Building the page and wording values for it. Rule of the house: data from the server is only
// ever put into the page with textContent / text nodes, never as HTML; h() is how views do it.
export const TOAST_MS = 5000;

// h builds an element. Strings among children become text nodes, never HTML.
export function h(tag, props, children) {
  const e = document.createElement(tag);
  if (props) {
    for (const k of Object.keys(props)) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (children) for (const c of children) if (c != null && c !== false) e.append(c);
  return e;
}

// setChildren replaces el's children, skipping null/false (replaceChildren would print "null").
export function setChildren(el, ...kids) {
  el.replaceChildren(...kids.filter((k) => k != null && k !== false));
}

// reconcile puts exactly `items` into `container`, in order, moving as few nodes as it can
// (so focus and scroll survive updates).
export function reconcile(container, items) {
  let next = container.firstChild;
  for (const el of items) {
    if (el === next) {
      next = next.nextSibling;
      continue;
    }
    container.insertBefore(el, next);
  }
  while (next) {
    const n = next.nextSibling;
    next.remove();
    next = n;
  }
}

// byId looks up an element of index.html; views take theirs once, when they start.
export function byId(id) {
  return document.getElementById(id);
}

// toast shows a short note in the corner (at most four at a time). A toast with a key replaces
// the one of the same key still shown (and shows for TOAST_MS again), so notices of one kind
// (new conversations) do not pile up over the chat.
export function toast(text, kind, key) {
  if (!text) return;
  const box = byId('toasts');
  let el = key ? Array.from(box.children).find((c) => c.dataset.key === key) : null;
  if (el) {
    el.textContent = text;
    clearTimeout(el._timer);
  } else {
    el = h('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), 'data-key': key || null, text });
    box.append(el);
    while (box.children.length > 4) box.firstChild.remove();
  }
  el._timer = setTimeout(() => el.remove(), TOAST_MS);
}

// windowActive says the agent can see the workbench now (for read marks and unread counts):
// the tab is in front and the settings area is not over it.
export function windowActive() {
  return document.visibilityState === 'visible' && document.hasFocus() && !byId('workbench').hidden;
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

// fmtTime is a short time: "12:03" today, "11-26 12:03" this year, else with the year.
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const now = new Date();
  const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  if (d.toDateString() === now.toDateString()) return hm;
  const md = pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  if (d.getFullYear() === now.getFullYear()) return md + ' ' + hm;
  return d.getFullYear() + '-' + md + ' ' + hm;
}

export function fmtDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes());
}

// money formats integer cents without floating point: 11800 -> ¥118.00.
export function money(cents, currency) {
  const n = Math.round(Number(cents) || 0);
  const a = Math.abs(n);
  const s = Math.floor(a / 100) + '.' + pad2(a % 100);
  const sym = !currency || String(currency).toUpperCase() === 'CNY' || currency === 'RMB' ? '¥' : currency + ' ';
  return (n < 0 ? '-' : '') + sym + s;
}

// charCount counts code points, as the server counts characters.
export function charCount(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function avatarText(name) {
  const s = String(name || '?').trim();
  return s ? Array.from(s)[0].toUpperCase() : '?';
}

// avatarEl is a round initial, its colour fixed by id so a buyer keeps theirs.
export function avatarEl(name, id, extra) {
  const a = h('span', { class: 'avatar' + (extra ? ' ' + extra : ''), 'aria-hidden': 'true', text: avatarText(name) });
  a.style.setProperty('--hue', String(((Number(id) || 0) * 47) % 360));
  return a;
}

// saveFile hands a downloaded Blob to the browser as a file named name.
export function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000); // the download has read it by then
}
