// Settings › Widget origins (owner only): the store sites allowed to open the shop's widget
// (PUT /api/v1/shop/origins). Typed one per line; what the server stored, normalized and sorted,
// is shown back.
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { field, errorLine, submitting } from './forms.js';

let saved = false; // the page shows the answer to a save just made

export function reset() {
  saved = false;
}

export function draw(ctx) {
  const origins = (ctx.data.shop && ctx.data.shop.origins) || [];
  const status = h('p', { class: 'set-status', role: 'status', 'data-testid': 'origins-status', text: saved ? t('set_saved') : '' });
  saved = false;
  const text = h('textarea', { rows: '6', class: 'set-textarea', spellcheck: 'false', autocapitalize: 'off', 'data-testid': 'origins-input' });
  text.value = origins.join('\n');
  text.addEventListener('input', () => { status.textContent = ''; });
  const err = errorLine('origins-error');
  const form = h('form', { class: 'set-form', 'data-testid': 'origins-form', novalidate: true }, [
    field('origins-input', t('set_originsLabel'), text),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'origins-save', text: t('set_save') }), status]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const list = text.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    let shop;
    const ok = await submitting(form, err, async () => {
      shop = (await api('PUT', '/api/v1/shop/origins', { origins: list })).shop;
    });
    if (!ok) return;
    ctx.setShop(shop);
    saved = true;
    toast(t('set_originsSaved'));
    ctx.redraw();
    ctx.focus('[data-testid=origins-save]');
  });
  return h('div', { class: 'set-page' }, [
    h('h2', { class: 'set-heading', text: t('set_originsHeading') }),
    h('p', { class: 'set-intro', text: t('set_originsIntro') }),
    h('section', { class: 'set-card' }, [
      form,
      h('h3', { class: 'set-subheading', text: t('set_originsCurrent', { n: origins.length }) }),
      origins.length
        ? h('ul', { class: 'set-list', 'data-testid': 'origins-list' }, origins.map((o) => h('li', { class: 'set-mono', text: o })))
        : h('p', { class: 'set-empty', 'data-testid': 'origins-list', text: t('set_originsNone') }),
    ]),
  ]);
}
