// The pieces the settings pages build their forms from: a labelled field, an error line that
// speaks the API's codes, a submit that cannot be sent twice, a confirm dialog, and number
// parsing (yuan to cents without floating point).
import { state } from '../../state.js';
import { t, hasString } from '../../strings.js';
import { h } from '../../dom.js';
import { api, errText } from '../../api.js';

// field is a label, its control and an optional hint the control is described by.
export function field(id, label, control, hint, extra) {
  control.id = id;
  const kids = [h('label', { for: id, text: label }), extra ? h('div', { class: 'set-control' }, [control, extra]) : control];
  if (hint) {
    control.setAttribute('aria-describedby', id + '-hint');
    kids.push(h('p', { class: 'set-hint', id: id + '-hint', text: hint }));
  }
  return h('div', { class: 'field set-field' }, kids);
}

// select is a <select> of [value, label] pairs with value chosen.
export function select(options, value) {
  const s = h('select', null, options.map(([v, label]) => h('option', { value: v, text: label })));
  s.value = value;
  return s;
}

// setErrText words a failed call for the settings pages: our sentence for its code, else the
// console's, else the server's own.
export function setErrText(err) {
  if (err && err.code && hasString('set_err_' + err.code)) return t('set_err_' + err.code);
  return errText(err);
}

// errorLine is where a form says what went wrong; show(err or text) fills it, show('') clears.
export function errorLine(testid) {
  const p = h('p', { class: 'set-error', role: 'alert', 'data-testid': testid || null, hidden: true });
  p.show = (e) => {
    p.textContent = !e ? '' : typeof e === 'string' ? e : setErrText(e);
    p.hidden = !p.textContent;
  };
  return p;
}

// submitting runs fn with the form's buttons disabled, so a double click sends once; what fn
// throws (a refused call) goes to errLine. It answers whether fn succeeded.
export async function submitting(form, errLine, fn) {
  const buttons = Array.from(form.querySelectorAll('button'));
  const submit = form.querySelector('button[type=submit]');
  const label = submit ? submit.textContent : '';
  for (const b of buttons) b.disabled = true;
  if (submit) submit.textContent = t('set_saving');
  errLine.show('');
  try {
    await fn();
    return true;
  } catch (err) {
    if (!err.cancelled) errLine.show(err);
    return false;
  } finally {
    for (const b of buttons) b.disabled = false;
    if (submit) submit.textContent = label;
  }
}

// confirmDialog asks a yes/no question in a modal <dialog> (focus kept inside, Escape is no);
// it answers true for yes.
export function confirmDialog(message, yesLabel) {
  return new Promise((resolve) => {
    const no = h('button', { type: 'submit', value: 'no', class: 'btn btn-outline', 'data-testid': 'confirm-no', text: t('set_cancel') });
    const yes = h('button', { type: 'submit', value: 'yes', class: 'btn btn-primary', 'data-testid': 'confirm-yes', text: yesLabel || t('set_confirm') });
    const dlg = h('dialog', { class: 'set-dialog', 'data-testid': 'confirm-dialog', 'aria-labelledby': 'set-dialog-text' }, [
      h('form', { method: 'dialog' }, [
        h('p', { id: 'set-dialog-text', class: 'set-dialog-text', text: message }),
        h('div', { class: 'set-actions' }, [no, yes]),
      ]),
    ]);
    const back = document.activeElement;
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (back && back.isConnected) back.focus();
      resolve(dlg.returnValue === 'yes');
    });
    document.body.append(dlg);
    dlg.showModal();
    no.focus(); // the safe answer is the default
  });
}

// parseWhole is the whole number typed in s if it is within [min, max], else null.
export function parseWhole(s, min, max) {
  const v = String(s).trim();
  if (!/^\d{1,13}$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

// yuanToCents reads an amount in yuan ("118", "118.5", "118.50") as integer cents, or null;
// digits are joined as text, so 0.29 is 29 cents, never 28.999….
export function yuanToCents(s) {
  const m = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(String(s).trim());
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

// centsToYuan is the inverse, without trailing zeros: 11800 -> "118", 11850 -> "118.50".
export function centsToYuan(cents) {
  const n = Math.max(0, Math.round(Number(cents) || 0));
  const frac = n % 100;
  return Math.floor(n / 100) + (frac ? '.' + String(frac).padStart(2, '0') : '');
}

// checkedField is field() with an error line of its own under the control, for answers that
// name the input (the API's `field`); control.showError(text) fills it ('' clears) and marks
// the control invalid, so a screen reader reads the reason with it.
export function checkedField(id, label, control, hint, extra) {
  const f = field(id, label, control, hint, extra);
  const p = h('p', { class: 'set-error set-field-error', id: id + '-error', 'data-testid': id + '-error', hidden: true });
  const described = control.getAttribute('aria-describedby');
  control.showError = (text) => {
    p.textContent = text || '';
    p.hidden = !text;
    if (text) {
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', (described ? described + ' ' : '') + p.id);
    } else {
      control.removeAttribute('aria-invalid');
      if (described) control.setAttribute('aria-describedby', described);
      else control.removeAttribute('aria-describedby');
    }
  };
  f.append(p);
  return f;
}

// fieldErrors routes a form's errors: one whose `field` resolve(path, err) maps to a control
// made by checkedField ({control, line}: line is the 1-based line of a one-per-line textarea)
// is shown beside that control, anything else on errLine. Pass it to submitting in place of
// errLine; at(control, text) shows a check of our own the same way. What the user typed stays.
export function fieldErrors(errLine, resolve) {
  const marked = new Set();
  const clear = () => {
    for (const c of marked) c.showError('');
    marked.clear();
    errLine.show('');
  };
  const at = (control, text, line) => {
    clear();
    control.showError(line ? t('set_atLine', { n: line, msg: text }) : text);
    marked.add(control);
    control.focus();
  };
  return {
    at,
    show(e) {
      if (!e) {
        clear();
        return;
      }
      const target = typeof e === 'object' ? resolve(e.field || '', e) : null;
      if (target && target.control && target.control.showError) {
        at(target.control, fieldErrText(e), target.line);
        return;
      }
      clear();
      errLine.show(e);
    },
  };
}

// DETAILED are codes whose server sentence says what exactly is wrong (where the expression
// breaks, which variable): it follows ours.
const DETAILED = new Set(['invalid_regex', 'unknown_variable']);

// fieldErrText words an error shown beside its input: our sentence for its code, else the
// server's own (the input already says where).
export function fieldErrText(err) {
  if (err.code && hasString('set_err_' + err.code)) {
    const ours = t('set_err_' + err.code);
    return DETAILED.has(err.code) && err.message && err.message !== err.code ? ours + t('set_errDetail', { msg: err.message }) : ours;
  }
  if (err.code && hasString('err_' + err.code)) return t('err_' + err.code);
  return err.message || err.code;
}

// parsePath splits an API field path: "hours.weekly[2][0]" -> ['hours', 'weekly', 2, 0].
export function parsePath(path) {
  const out = [];
  for (const m of String(path || '').matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

// splitLines is a textarea's non-empty lines, trimmed.
export function splitLines(s) {
  return String(s).split(/\r?\n/).map((x) => x.trim()).filter(Boolean);
}

// formatClock is minutes after midnight as "09:00" (1440 is "24:00").
export function formatClock(min) {
  return String(Math.floor(min / 60)).padStart(2, '0') + ':' + String(min % 60).padStart(2, '0');
}

// formatSpans is a day's open spans as typed: "09:00-18:00, 19:00-22:00".
export function formatSpans(spans) {
  return (spans || []).map((s) => formatClock(s.start) + '-' + formatClock(s.end)).join(', ');
}

// parseSpans reads "09:00-18:00, 19:00-22:00" (，、; and "–" "~" "至" accepted) as
// [{start, end}] in minutes after midnight, or null when a span is not a time range with start
// before end within the day; an empty text is no spans (closed).
export function parseSpans(s) {
  const parts = String(s).split(/[,，、;；]/).map((x) => x.trim()).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const m = /^(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至)\s*(\d{1,2})[:：](\d{2})$/.exec(p);
    if (!m) return null;
    const start = Number(m[1]) * 60 + Number(m[2]);
    const end = Number(m[3]) * 60 + Number(m[4]);
    if (Number(m[2]) > 59 || Number(m[4]) > 59 || start >= end || end > 1440) return null;
    out.push({ start, end });
  }
  return out;
}

// lineOf is the 1-based line of a textarea's text that holds its i-th non-empty line (the
// index splitLines gave it), so an error about patterns[2] points at the line the user sees.
export function lineOf(text, i) {
  const lines = String(text).split(/\r?\n/);
  let seen = -1;
  for (let n = 0; n < lines.length; n++) {
    if (lines[n].trim() && ++seen === i) return n + 1;
  }
  return i + 1;
}

// unwrap is the object an answer carries under key ({"rule": {...}}), or the answer itself
// when it is the object.
export function unwrap(r, key) {
  return r && typeof r[key] === 'object' && r[key] !== null ? r[key] : r;
}

// checkbox is a labelled checkbox row with an optional hint; it answers the row, with the box
// as .input.
export function checkbox(id, label, checked, hint) {
  const input = h('input', { type: 'checkbox', id, 'data-testid': id });
  input.checked = !!checked;
  const row = h('div', { class: 'set-check' }, [input, h('label', { for: id, text: label }), hint ? h('p', { class: 'set-hint', text: hint }) : null]);
  row.input = input;
  return row;
}

// pageData is what a settings page loads for itself with one GET of path: take(answer) keeps
// it. An answer or a failure that comes after the session it was asked in ended is dropped.
// waiting(ctx, testid) is what the page shows until it has its data: loading, or why it failed
// with a retry.
export function pageData(path, take) {
  let loading = null;
  const d = {
    error: null,
    reset() {
      loading = null;
      d.error = null;
    },
    load(ctx) {
      if (loading) return;
      const gen = state.sessionGen;
      d.error = null;
      loading = api('GET', path)
        .then(take)
        .catch((err) => {
          if (err.cancelled || gen !== state.sessionGen) return;
          d.error = err;
        })
        .finally(() => {
          if (gen !== state.sessionGen) return;
          loading = null;
          ctx.redraw();
        });
    },
    waiting(ctx, testid) {
      return d.error
        ? pageLoadError(d.error, testid, () => { d.error = null; d.load(ctx); ctx.redraw(); })
        : h('p', { class: 'set-empty', role: 'status', text: t('set_loading') });
    },
  };
  return d;
}

// pageLoadError is what a page that loads its own data shows when that failed: a 404 means the
// server does not offer the feature yet (an older kefu), said so rather than as a broken page.
export function pageLoadError(err, testid, retry) {
  const text = err && err.status === 404 ? t('set_featureUnavailable') : t('set_loadFailed', { msg: setErrText(err) });
  return h('div', { class: 'set-page-error' }, [
    h('p', { class: 'set-error', role: 'alert', 'data-testid': testid, text }),
    h('button', { type: 'button', class: 'btn btn-outline', text: t('set_retry'), onclick: retry }),
  ]);
}
