// Settings › Routing: the shop's routing rules (PUT /api/v1/shop/routing), each with its unit
// and what it does; 0 turns each off. high_value_cents is typed in yuan and sent in cents.
// Beside them, the satisfaction ratings switch (PUT /api/v1/shop/csat).
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { field, errorLine, submitting, parseWhole, yuanToCents, centsToYuan } from './forms.js';

// The rules in the order shown, with the bounds docs/openapi.yaml gives.
const RULES = [
  { key: 'sticky_days', max: 90 },
  { key: 'reassign_seconds', max: 3600 },
  { key: 'slow_reply_seconds', max: 3600 },
  { key: 'auto_close_minutes', max: 10080 },
  { key: 'reopen_hours', max: 72 },
  { key: 'auto_away_minutes', max: 240 },
  { key: 'high_value_cents', max: 1000000000000, yuan: true },
];

let saved = false; // the form shows the answer to a save just made

export function reset() {
  saved = false;
}

export function draw(ctx) {
  const routing = (ctx.data.shop && ctx.data.shop.routing) || {};
  const status = h('p', { class: 'set-status', role: 'status', 'data-testid': 'routing-status', text: saved ? t('set_saved') : '' });
  saved = false;
  const inputs = RULES.map((r) => {
    const input = h('input', r.yuan
      ? { type: 'text', inputmode: 'decimal', class: 'set-number', autocomplete: 'off', 'data-testid': 'routing-' + r.key }
      : { type: 'number', min: '0', max: String(r.max), step: '1', class: 'set-number', 'data-testid': 'routing-' + r.key });
    input.value = r.yuan ? centsToYuan(routing[r.key]) : String(routing[r.key] ?? 0);
    input.addEventListener('input', () => { status.textContent = ''; });
    return { r, input };
  });
  const csat = h('input', { type: 'checkbox', 'data-testid': 'csat-enabled' });
  csat.checked = !ctx.data.shop || ctx.data.shop.csat_enabled !== false;
  csat.addEventListener('input', () => { status.textContent = ''; });
  const err = errorLine('routing-error');
  const form = h('form', { class: 'set-form', 'data-testid': 'routing-form', novalidate: true }, [
    ...inputs.map(({ r, input }) => field('routing-' + r.key, t('set_r_' + r.key), input, t('set_r_' + r.key + '_help'),
      h('span', { class: 'set-unit', text: t('set_r_' + r.key + '_unit') }))),
    field('routing-csat', t('set_csat'), csat, t('set_csat_help')),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'routing-save', text: t('set_save') }), status]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const { r, input } of inputs) {
      const label = t('set_r_' + r.key);
      const v = r.yuan ? yuanToCents(input.value) : parseWhole(input.value, 0, r.max);
      if (v == null || v > r.max) {
        err.show(r.yuan ? t('set_invalidYuan', { label, max: centsToYuan(r.max) }) : t('set_invalidNumber', { label, min: 0, max: r.max }));
        input.focus();
        return;
      }
      body[r.key] = v;
    }
    let shop;
    const ok = await submitting(form, err, async () => {
      shop = (await api('PUT', '/api/v1/shop/routing', body)).shop;
      if (shop && shop.csat_enabled !== csat.checked) shop = (await api('PUT', '/api/v1/shop/csat', { enabled: csat.checked })).shop;
    });
    if (!ok) return;
    ctx.setShop(shop);
    saved = true;
    toast(t('set_routingSaved'));
    ctx.redraw();
    ctx.focus('[data-testid=routing-save]');
  });
  return h('div', { class: 'set-page' }, [
    h('h2', { class: 'set-heading', text: t('set_routingHeading') }),
    h('p', { class: 'set-intro', text: t('set_routingIntro') }),
    h('section', { class: 'set-card' }, [form]),
  ]);
}
