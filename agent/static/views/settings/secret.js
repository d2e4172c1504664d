// Settings › Identity secret (owner only): the key the shop's server signs logged-in buyers with,
// masked until asked for, copied to the clipboard, and rotated (POST /api/v1/shop/identity-secret)
// after a warning: the old one stops working at once.
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { errorLine, submitting, confirmDialog } from './forms.js';

let revealed = false;

export function reset() {
  revealed = false;
}

export function draw(ctx) {
  const secret = (ctx.data.shop && ctx.data.shop.identity_secret) || '';
  const value = h('code', { class: 'set-secret', id: 'secret-value', 'data-testid': 'secret-value' });
  const reveal = h('button', { type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'secret-reveal', 'aria-controls': 'secret-value' });
  const show = () => {
    value.textContent = revealed ? secret : '•'.repeat(24);
    if (revealed) value.removeAttribute('aria-label');
    else value.setAttribute('aria-label', t('set_secretMasked'));
    value.classList.toggle('is-masked', !revealed);
    reveal.textContent = revealed ? t('set_hide') : t('set_reveal');
    reveal.setAttribute('aria-pressed', String(revealed));
  };
  show();
  reveal.addEventListener('click', () => {
    revealed = !revealed;
    show();
  });
  const copy = h('button', {
    type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'secret-copy', text: t('set_copy'),
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        toast(t('set_copied'));
      } catch (_) {
        // No clipboard (an insecure origin, a refused permission): select it for Ctrl+C.
        revealed = true;
        show();
        const range = document.createRange();
        range.selectNodeContents(value);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        toast(t('set_copyFailed'), 'error');
      }
    },
  });
  const err = errorLine('secret-error');
  const rotate = h('form', { class: 'set-form set-form-inline', novalidate: true }, [
    h('p', { class: 'set-hint', text: t('set_rotateHint') }),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'secret-rotate', text: t('set_rotate') })]),
  ]);
  rotate.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!(await confirmDialog(t('set_confirmRotate'), t('set_rotate')))) return;
    let shop;
    const ok = await submitting(rotate, err, async () => {
      shop = (await api('POST', '/api/v1/shop/identity-secret')).shop;
    });
    if (!ok) return;
    ctx.setShop(shop);
    revealed = true; // the owner's next step is to copy it to the shop's server
    toast(t('set_rotated'));
    ctx.redraw();
    ctx.focus('[data-testid=secret-copy]');
  });
  return h('div', { class: 'set-page' }, [
    h('h2', { class: 'set-heading', text: t('set_secretHeading') }),
    h('p', { class: 'set-intro', text: t('set_secretIntro') }),
    h('section', { class: 'set-card' }, [
      h('p', { class: 'set-label', text: t('set_secretLabel') }),
      h('div', { class: 'set-secret-row' }, [value, reveal, copy]),
      rotate,
    ]),
  ]);
}
