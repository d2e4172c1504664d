// Settings › Quick phrases (快捷短语), for every agent: the shop's phrases and the viewer's own,
// by category, with shortcut, text and uses; adding, changing and deleting them (POST/PUT/DELETE
// /api/v1/phrases), export and import as CSV (GET /phrases/export, POST /phrases/import: all or
// nothing, each refused row named). Anyone changes their own; the shop's are changed by owners
// and supervisors only (docs/openapi.yaml), so a plain agent is offered neither the scope nor
// their buttons. The viewer's own away reply (我的) sits at the foot: this is the page every
// agent reaches. The phrases are loaded by the page itself when first drawn; what it holds is
// also handed to the message box's picker, so a new phrase is there at once.
import { state } from '../../state.js';
import { t } from '../../strings.js';
import { h, toast, saveFile } from '../../dom.js';
import { api } from '../../api.js';
import { VARIABLES } from '../../phrases.js';
import { field, checkedField, select, errorLine, fieldErrors, submitting, confirmDialog, fieldErrText, pageData } from './forms.js';
import { awaySection } from './mine.js';

let list = null; // the phrases as GET /phrases answered, kept up to date by our own changes
let editingId = null; // the phrase in the form; null: the form adds one
let importReport = null; // {imported} or {error, rows} of the last import

export function reset() {
  list = null;
  data.reset();
  editingId = null;
  importReport = null;
}

function privileged(viewer) {
  return viewer.role === 'owner' || viewer.role === 'supervisor';
}

const data = pageData('/api/v1/phrases', (r) => {
  list = r.phrases || [];
  share();
});

// share gives the picker of the message box the list as it is now.
function share() {
  state.phrases = { list: list.slice(), at: Date.now(), error: false };
}

function put(p) {
  const i = list.findIndex((x) => x.id === p.id);
  if (i >= 0) list[i] = p;
  else list.push(p);
  share();
}

export function draw(ctx) {
  if (list == null && !data.error) data.load(ctx);
  const parts = [
    h('div', { class: 'set-page-head' }, [
      h('h2', { class: 'set-heading', text: t('set_phrasesHeading') }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('set_refresh'), onclick: () => { list = null; data.error = null; data.load(ctx); ctx.reload(); } }),
    ]),
    h('p', { class: 'set-intro', text: t('set_phrasesIntro') }),
  ];
  if (list == null) {
    parts.push(data.waiting(ctx, 'phrases-load-error'));
    parts.push(awaySection(ctx));
    return h('div', { class: 'set-page', 'data-testid': 'phrases-page' }, parts);
  }
  if (editingId != null && !list.some((p) => p.id === editingId)) editingId = null;
  const canShop = privileged(ctx.viewer);
  parts.push(
    scopeSection(ctx, 'personal', true),
    scopeSection(ctx, 'shop', canShop),
    phraseForm(ctx, list.find((p) => p.id === editingId)),
    csvSection(ctx, canShop),
    awaySection(ctx),
  );
  return h('div', { class: 'set-page', 'data-testid': 'phrases-page' }, parts);
}

// scopeSection lists one scope's phrases by category (uncategorised last).
function scopeSection(ctx, scope, canChange) {
  const mine = list.filter((p) => p.scope === scope);
  const byCategory = new Map();
  for (const p of mine) {
    if (!byCategory.has(p.category)) byCategory.set(p.category, []);
    byCategory.get(p.category).push(p);
  }
  const cats = [...byCategory.keys()].sort((a, b) => (!a ? 1 : !b ? -1 : a.localeCompare(b)));
  const headingId = 'phrases-' + scope + '-heading';
  return h('section', { class: 'set-card', 'aria-labelledby': headingId, 'data-testid': 'phrases-' + scope }, [
    h('h3', { class: 'set-subheading', id: headingId, text: t('set_phrases_' + scope, { n: mine.length }) }),
    mine.length
      ? h('div', null, cats.map((c) => h('div', { class: 'set-phrase-cat' }, [
        h('h4', { class: 'set-label', 'data-testid': 'phrase-category', text: c || t('set_phraseNoCategory') }),
        h('div', { class: 'set-table-wrap' }, [h('table', { class: 'set-table' }, [
          h('thead', null, [h('tr', null, ['set_colShortcut', 'set_colText', 'set_colUses'].concat(canChange ? ['set_colActions'] : [])
            .map((k) => h('th', { scope: 'col', text: t(k) })))]),
          h('tbody', null, byCategory.get(c).map((p) => phraseRow(ctx, p, canChange))),
        ])]),
      ])))
      : h('p', { class: 'set-empty', text: t('set_phrasesNone_' + scope) }),
  ]);
}

function phraseRow(ctx, p, canChange) {
  const label = p.shortcut ? '/' + p.shortcut : p.text.slice(0, 20);
  return h('tr', { 'data-testid': 'phrase-row', 'data-scope': p.scope, 'data-shortcut': p.shortcut || '' }, [
    h('td', { class: 'set-mono', text: p.shortcut ? '/' + p.shortcut : t('set_none') }),
    h('td', { class: 'set-phrase-text', 'data-testid': 'phrase-text', text: p.text }),
    h('td', { 'data-testid': 'phrase-uses', text: String(p.uses || 0) }),
    !canChange ? null : h('td', { class: 'set-row-actions' }, [
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'phrase-edit',
        'aria-label': t('set_editLabel', { name: label }), text: t('set_edit'),
        onclick: () => {
          editingId = p.id;
          ctx.redraw();
          ctx.focus('#phrase-text');
        },
      }),
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'phrase-delete',
        'aria-label': t('set_deleteLabel', { name: label }), text: t('set_delete'),
        onclick: () => deletePhrase(ctx, p, label),
      }),
    ]),
  ]);
}

async function deletePhrase(ctx, p, label) {
  if (!(await confirmDialog(t('set_confirmDeletePhrase', { name: label }), t('set_delete')))) return;
  try {
    await api('DELETE', '/api/v1/phrases/' + encodeURIComponent(p.id));
  } catch (err) {
    ctx.fail(err);
    return;
  }
  list = list.filter((x) => x.id !== p.id);
  share();
  toast(t('set_phraseDeleted', { name: label }));
  ctx.redraw();
}

// Which input a phrase error is about: the API names none, its codes do.
const FIELD_OF_CODE = {
  shortcut_taken: 'shortcut', invalid_shortcut: 'shortcut', invalid_category: 'category',
  text_empty: 'text', text_too_long: 'text', text_invalid_characters: 'text', unknown_variable: 'text', invalid_scope: 'scope',
};

function phraseForm(ctx, editing) {
  const canShop = privileged(ctx.viewer);
  const scope = select([['personal', t('set_scopePersonal')]].concat(canShop ? [['shop', t('set_scopeShop')]] : []), editing ? editing.scope : 'personal');
  scope.disabled = !!editing; // a phrase stays the shop's or its agent's
  const category = h('input', { type: 'text', maxlength: '32', autocomplete: 'off', list: 'phrase-categories' });
  const shortcut = h('input', { type: 'text', maxlength: '32', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', class: 'set-mono' });
  const text = h('textarea', { rows: '4', class: 'set-textarea', maxlength: '2000' });
  category.value = editing ? editing.category : '';
  shortcut.value = editing ? editing.shortcut : '';
  text.value = editing ? editing.text : '';
  const cats = [...new Set(list.map((p) => p.category).filter(Boolean))].sort();
  const controls = { scope, category, shortcut, text };
  const err = errorLine('phrase-error');
  const errors = fieldErrors(err, (path, e) => {
    const name = parsePathHead(path) || FIELD_OF_CODE[e.code];
    return controls[name] ? { control: controls[name] } : null;
  });
  const form = h('form', { class: 'set-form', 'data-testid': 'phrase-form', novalidate: true }, [
    checkedField('phrase-scope', t('set_phraseScope'), scope, canShop ? t('set_phraseScopeHint') : t('set_phraseScopeAgentHint')),
    checkedField('phrase-category', t('set_phraseCategory'), category, t('set_phraseCategoryHint')),
    h('datalist', { id: 'phrase-categories' }, cats.map((c) => h('option', { value: c }))),
    checkedField('phrase-shortcut', t('set_phraseShortcut'), shortcut, t('set_phraseShortcutHint')),
    checkedField('phrase-text', t('set_phraseText'), text, t('set_variablesHint', { list: VARIABLES.map((v) => '{' + v + '}').join(' ') })),
    err,
    h('div', { class: 'set-actions' }, [
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'phrase-submit', text: editing ? t('set_save') : t('set_addPhrase') }),
      editing ? h('button', { type: 'button', class: 'btn btn-outline', text: t('set_cancel'), onclick: () => { editingId = null; ctx.redraw(); } }) : null,
    ]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { scope: scope.value, category: category.value.trim(), shortcut: shortcut.value.trim().replace(/^\//, ''), text: text.value.trim() };
    if (!body.text) {
      errors.at(text, t('set_err_text_empty'));
      return;
    }
    if (body.shortcut && !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(body.shortcut)) {
      errors.at(shortcut, t('set_err_invalid_shortcut'));
      return;
    }
    let saved;
    const ok = await submitting(form, errors, async () => {
      const r = editing
        ? await api('PUT', '/api/v1/phrases/' + encodeURIComponent(editing.id), body)
        : await api('POST', '/api/v1/phrases', body);
      saved = r.phrase;
    });
    if (!ok) return;
    put(saved);
    toast(t(editing ? 'set_phraseSaved' : 'set_phraseAdded'));
    editingId = null;
    ctx.redraw();
    ctx.focus('#phrase-text');
  });
  const headingId = 'phrase-form-heading';
  return h('section', { class: 'set-card', 'aria-labelledby': headingId }, [
    h('h3', { class: 'set-subheading', id: headingId, text: editing ? t('set_editPhrase') : t('set_newPhrase') }),
    form,
  ]);
}

function parsePathHead(path) {
  const m = /^[a-z_]+/.exec(path || '');
  return m ? m[0] : '';
}

function csvSection(ctx, canShop) {
  const scopes = [['personal', t('set_scopePersonal')]].concat(canShop ? [['shop', t('set_scopeShop')]] : []);
  const exports = scopes.map(([s, label]) => h('button', {
    type: 'button', class: 'btn btn-outline', 'data-testid': 'phrase-export-' + s,
    text: t('set_exportPhrases', { scope: label }),
    onclick: (e) => exportCSV(ctx, s, e.currentTarget),
  }));
  const scope = select(scopes, 'personal');
  const file = h('input', { type: 'file', accept: '.csv,text/csv', 'data-testid': 'phrase-import-file' });
  const err = errorLine('phrase-import-error');
  const report = importReportView();
  importReport = null;
  const form = h('form', { class: 'set-form', 'data-testid': 'phrase-import-form', novalidate: true }, [
    field('phrase-import-scope', t('set_importInto'), scope),
    field('phrase-import-file', t('set_importFile'), file, t('set_importHint')),
    err,
    report,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'phrase-import-submit', text: t('set_import') })]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) {
      err.show(t('set_importChooseFile'));
      file.focus();
      return;
    }
    let r;
    let refused = null;
    const ok = await submitting(form, { show: (x) => { if (x && x.rows) refused = x; else err.show(x); } }, async () => {
      r = await api('POST', '/api/v1/phrases/import?scope=' + encodeURIComponent(scope.value), f, { type: 'text/csv' });
    });
    if (refused) {
      importReport = { rows: refused.rows };
      ctx.redraw();
      ctx.focus('[data-testid=phrase-import-result]');
      return;
    }
    if (!ok) return;
    importReport = { imported: r.imported || 0 };
    toast(t('set_imported', { n: r.imported || 0 }));
    list = null;
    data.load(ctx);
  });
  return h('section', { class: 'set-card', 'aria-labelledby': 'phrase-csv-heading' }, [
    h('h3', { class: 'set-subheading', id: 'phrase-csv-heading', text: t('set_phrasesCSV') }),
    h('p', { class: 'set-hint', text: t('set_exportHint') }),
    h('div', { class: 'set-actions' }, exports),
    form,
  ]);
}

// importReportView says what the last import did: how many were added, or each refused row.
function importReportView() {
  const r = importReport;
  if (!r) return h('div', { 'data-testid': 'phrase-import-result', tabindex: '-1', hidden: true });
  if (r.rows) {
    return h('div', { class: 'set-error', role: 'alert', 'data-testid': 'phrase-import-result', tabindex: '-1' }, [
      h('p', { text: t('set_importRefused', { n: r.rows.length }) }),
      h('ul', { class: 'set-list' }, r.rows.map((row) => h('li', {
        'data-testid': 'phrase-import-row', 'data-line': String(row.line),
        text: t('set_atLine', { n: row.line, msg: fieldErrText(row) }),
      }))),
    ]);
  }
  return h('p', { class: 'set-status', role: 'status', 'data-testid': 'phrase-import-result', tabindex: '-1', text: t('set_imported', { n: r.imported }) });
}

// exportCSV downloads the scope's phrases: the file needs the session's token, so it is fetched
// and handed to the browser as a download of its own.
async function exportCSV(ctx, scope, button) {
  button.disabled = true;
  try {
    const blob = await api('GET', '/api/v1/phrases/export?scope=' + encodeURIComponent(scope), undefined, { blob: true });
    saveFile(blob, 'kefu-phrases-' + scope + '.csv');
  } catch (err) {
    ctx.fail(err);
  } finally {
    button.disabled = false;
  }
}
