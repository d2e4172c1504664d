// The pieces the settings pages build their forms from: a labelled field, an error line that
// speaks the API's codes, a submit that cannot be sent twice, a confirm dialog, and number
// parsing (yuan to cents without floating point).
import { t, hasString } from '../../strings.js';
import { h } from '../../dom.js';
import { errText } from '../../api.js';

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
