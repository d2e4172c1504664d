// Settings › Auto-replies (自动回复), for owners and supervisors: the shop's keyword rules the
// assistant answers with (GET/POST /api/v1/auto-replies, PUT/DELETE /auto-replies/{id}), in the
// order the server tries them (priority, then id); a rule that would fire on almost any message
// (fires_on_everything) is flagged. The form sends the whole rule; an error that names its input
// (`field`, e.g. "patterns[1]") is shown beside that input, with what was typed kept. 试一试 asks
// the server which rule a message would fire and what the buyer would be told
// (POST /auto-replies/test). The rules are loaded by the page itself when first drawn.
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import {
  checkedField, field, select, checkbox, errorLine, fieldErrors, submitting, confirmDialog, parseWhole,
  parsePath, splitLines, lineOf, unwrap, pageData,
} from './forms.js';

// MATCHES are the match kinds, in the order the form offers them.
const MATCHES = ['any', 'contains', 'exact', 'regex'];
// HANDOFFS are what a rule does after answering: nothing, 转人工, or to a group.
const HANDOFFS = ['', 'human', 'group'];
// RULE_VARIABLES may appear in an answer; the server fills them.
const RULE_VARIABLES = ['buyer.name', 'shop.name', 'order.no', 'order.status', 'order.tracking_no', 'agent.name'];
const MAX_PRIORITY = 1000000;

let rules = null;
let editingId = null; // the rule in the form; null: the form adds one
let tried = null; // {text, groupId, answer} of the last 试一试, or {error}

export function reset() {
  rules = null;
  data.reset();
  editingId = null;
  tried = null;
}

const data = pageData('/api/v1/auto-replies', (r) => { rules = (r && r.rules) || []; });

// sortRules keeps the server's order: priority, highest first, then id.
function sortRules() {
  rules.sort((a, b) => (b.priority || 0) - (a.priority || 0) || a.id - b.id);
}

function put(rule) {
  const i = rules.findIndex((r) => r.id === rule.id);
  if (i >= 0) rules[i] = rule;
  else rules.push(rule);
  sortRules();
}

export function draw(ctx) {
  if (rules == null && !data.error) data.load(ctx);
  const parts = [
    h('div', { class: 'set-page-head' }, [
      h('h2', { class: 'set-heading', text: t('set_rulesHeading') }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('set_refresh'), onclick: () => { rules = null; data.load(ctx); ctx.redraw(); } }),
    ]),
    h('p', { class: 'set-intro', text: t('set_rulesIntro') }),
  ];
  if (rules == null) {
    parts.push(data.waiting(ctx, 'rules-load-error'));
    return h('div', { class: 'set-page', 'data-testid': 'rules-page' }, parts);
  }
  if (editingId != null && !rules.some((r) => r.id === editingId)) editingId = null;
  const groupName = new Map(ctx.data.groups.map((g) => [g.id, g.name]));
  parts.push(
    rules.length
      ? h('div', { class: 'set-table-wrap' }, [h('table', { class: 'set-table', 'data-testid': 'rules-table' }, [
        h('thead', null, [h('tr', null, ['set_colName', 'set_colMatch', 'set_colPatterns', 'set_colPriority', 'set_colGroupScope', 'set_colHits', 'set_colEnabled', 'set_colActions']
          .map((k) => h('th', { scope: 'col', text: t(k) })))]),
        h('tbody', null, rules.map((r) => ruleRow(ctx, r, groupName))),
      ])])
      : h('p', { class: 'set-empty', 'data-testid': 'rules-empty', text: t('set_rulesNone') }),
    ruleForm(ctx, rules.find((r) => r.id === editingId)),
    tryBox(ctx),
  );
  return h('div', { class: 'set-page', 'data-testid': 'rules-page' }, parts);
}

function matchName(m) {
  return t('set_match_' + m);
}

function ruleRow(ctx, r, groupName) {
  const scope = (r.group_ids || []).length
    ? r.group_ids.map((id) => groupName.get(id) || '#' + id).join(t('set_listSep'))
    : t('set_allGroups');
  const enabled = h('input', {
    type: 'checkbox', 'data-testid': 'rule-enabled-toggle', 'aria-label': t('set_ruleEnabledLabel', { name: r.name }),
  });
  enabled.checked = !!r.enabled;
  enabled.addEventListener('change', () => toggleEnabled(ctx, r, enabled));
  return h('tr', { 'data-testid': 'rule-row', 'data-rule-id': String(r.id), 'data-name': r.name, class: r.enabled ? null : 'is-disabled' }, [
    h('td', null, [
      h('span', { class: 'set-strong', text: r.name }),
      r.fires_on_everything
        ? h('span', { class: 'tag set-tag set-tag-warn', 'data-testid': 'rule-warning', title: t('set_firesOnEverythingHint'), text: t('set_firesOnEverything') })
        : null,
    ]),
    h('td', { 'data-testid': 'rule-match', text: matchName(r.match) }),
    h('td', { 'data-testid': 'rule-patterns' }, (r.patterns || []).map((p) => h('span', { class: 'set-chip', text: p }))),
    h('td', { 'data-testid': 'rule-priority', text: String(r.priority || 0) }),
    h('td', { 'data-testid': 'rule-groups', text: scope }),
    h('td', { 'data-testid': 'rule-hits', text: String(r.hits || 0) }),
    h('td', null, [enabled]),
    h('td', { class: 'set-row-actions' }, [
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'rule-edit',
        'aria-label': t('set_editLabel', { name: r.name }), text: t('set_edit'),
        onclick: () => {
          editingId = r.id;
          ctx.redraw();
          ctx.focus('#rule-name');
        },
      }),
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'rule-delete',
        'aria-label': t('set_deleteLabel', { name: r.name }), text: t('set_delete'),
        onclick: () => deleteRule(ctx, r),
      }),
    ]),
  ]);
}

// body is what PUT and POST take: the rule's own fields, none of the server's counters.
function body(r) {
  return {
    name: r.name, match: r.match, patterns: r.patterns || [], group_ids: r.group_ids || [], priority: r.priority || 0,
    answer: r.answer || '', follow_ups: r.follow_ups || [], handoff: r.handoff || '', handoff_group_id: r.handoff_group_id || 0,
    enabled: !!r.enabled,
  };
}

async function toggleEnabled(ctx, r, box) {
  box.disabled = true;
  try {
    const saved = unwrap(await api('PUT', '/api/v1/auto-replies/' + encodeURIComponent(r.id), { ...body(r), enabled: box.checked }), 'rule');
    put(saved);
    toast(t(saved.enabled ? 'set_ruleOn' : 'set_ruleOff', { name: saved.name }));
  } catch (err) {
    box.checked = !!r.enabled;
    ctx.fail(err);
    return;
  } finally {
    box.disabled = false;
  }
  ctx.redraw();
  ctx.focus(`[data-rule-id="${r.id}"] [data-testid=rule-enabled-toggle]`);
}

async function deleteRule(ctx, r) {
  if (!(await confirmDialog(t('set_confirmDeleteRule', { name: r.name }), t('set_delete')))) return;
  try {
    await api('DELETE', '/api/v1/auto-replies/' + encodeURIComponent(r.id));
  } catch (err) {
    ctx.fail(err);
    return;
  }
  rules = rules.filter((x) => x.id !== r.id);
  toast(t('set_ruleDeleted', { name: r.name }));
  ctx.redraw();
}

// Which input an error is about when the server names none: by its code.
const FIELD_OF_CODE = {
  invalid_name: 'name', invalid_match: 'match', invalid_pattern: 'patterns', invalid_regex: 'patterns', regex_too_large: 'patterns',
  empty_answer: 'answer', unknown_variable: 'answer', text_too_long: 'answer', invalid_follow_ups: 'follow_ups',
  invalid_priority: 'priority', invalid_handoff: 'handoff',
};

function ruleForm(ctx, editing) {
  const r = editing || { name: '', match: 'any', patterns: [], group_ids: [], priority: 0, answer: '', follow_ups: [], handoff: '', handoff_group_id: 0, enabled: true };
  const groups = ctx.data.groups;
  const name = h('input', { type: 'text', maxlength: '64', autocomplete: 'off' });
  name.value = r.name;
  const match = select(MATCHES.map((m) => [m, matchName(m)]), r.match || 'any');
  const patterns = h('textarea', { rows: '4', class: 'set-textarea', spellcheck: 'false' });
  patterns.value = (r.patterns || []).join('\n');
  const patternsHint = h('p', { class: 'set-hint', id: 'rule-patterns-hint' });
  patterns.setAttribute('aria-describedby', patternsHint.id);
  const showMatchHint = () => { patternsHint.textContent = t('set_patternsHint_' + match.value); };
  showMatchHint();
  match.addEventListener('change', showMatchHint);
  const answer = h('textarea', { rows: '4', class: 'set-textarea' });
  answer.value = r.answer || '';
  const followUps = h('textarea', { rows: '3', class: 'set-textarea' });
  followUps.value = (r.follow_ups || []).join('\n');
  const priority = h('input', { type: 'number', min: '0', max: String(MAX_PRIORITY), step: '1', class: 'set-number' });
  priority.value = String(r.priority || 0);
  const scope = h('select', { multiple: true, size: String(Math.min(6, Math.max(2, groups.length))) },
    groups.map((g) => h('option', { value: String(g.id), text: g.name })));
  for (const o of scope.options) o.selected = (r.group_ids || []).includes(Number(o.value));
  const handoff = select(HANDOFFS.map((x) => [x, t('set_handoff_' + (x || 'none'))]), r.handoff || '');
  const handoffGroup = select([['0', t('set_chooseGroup')]].concat(groups.map((g) => [String(g.id), g.name])), String(r.handoff_group_id || 0));
  const handoffGroupField = checkedField('rule-handoff-group', t('set_handoffGroup'), handoffGroup);
  const showGroup = () => { handoffGroupField.hidden = handoff.value !== 'group'; };
  showGroup();
  handoff.addEventListener('change', showGroup);
  const enabled = checkbox('rule-enabled', t('set_ruleEnabled'), r.enabled);

  const controls = { name, match, patterns, answer, follow_ups: followUps, priority, group_ids: scope, handoff, handoff_group_id: handoffGroup };
  const err = errorLine('rule-error');
  const errors = fieldErrors(err, (path, e) => {
    const [head, index] = parsePath(path);
    const key = controls[head] ? head : FIELD_OF_CODE[e.code];
    if (!controls[key]) return null;
    if (key === 'handoff_group_id') handoffGroupField.hidden = false;
    const lines = key === 'patterns' ? patterns : key === 'follow_ups' ? followUps : null;
    return { control: controls[key], line: lines && typeof index === 'number' ? lineOf(lines.value, index) : 0 };
  });
  const patternsField = checkedField('rule-patterns', t('set_rulePatterns'), patterns);
  patternsField.insertBefore(patternsHint, patternsField.lastChild); // above its error line
  const form = h('form', { class: 'set-form', 'data-testid': 'rule-form', novalidate: true }, [
    checkedField('rule-name', t('set_ruleName'), name, t('set_ruleNameHint')),
    checkedField('rule-match', t('set_ruleMatch'), match),
    patternsField,
    checkedField('rule-answer', t('set_ruleAnswer'), answer, t('set_variablesHint', { list: RULE_VARIABLES.map((v) => '{' + v + '}').join(' ') })),
    checkedField('rule-follow-ups', t('set_ruleFollowUps'), followUps, t('set_ruleFollowUpsHint')),
    checkedField('rule-priority', t('set_rulePriority'), priority, t('set_rulePriorityHint')),
    groups.length
      ? checkedField('rule-groups', t('set_ruleGroups'), scope, t('set_ruleGroupsHint'))
      : h('p', { class: 'set-hint', text: t('set_ruleNoGroups') }),
    checkedField('rule-handoff', t('set_ruleHandoff'), handoff),
    handoffGroupField,
    enabled,
    err,
    h('div', { class: 'set-actions' }, [
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'rule-submit', text: editing ? t('set_save') : t('set_addRule') }),
      editing ? h('button', { type: 'button', class: 'btn btn-outline', text: t('set_cancel'), onclick: () => { editingId = null; ctx.redraw(); } }) : null,
    ]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = parseWhole(priority.value, 0, MAX_PRIORITY);
    if (p == null) {
      errors.at(priority, t('set_err_invalid_priority'));
      return;
    }
    const out = {
      name: name.value.trim(),
      match: match.value,
      patterns: splitLines(patterns.value),
      group_ids: Array.from(scope.selectedOptions).map((o) => Number(o.value)),
      priority: p,
      answer: answer.value.trim(),
      follow_ups: splitLines(followUps.value),
      handoff: handoff.value,
      handoff_group_id: handoff.value === 'group' ? Number(handoffGroup.value) : 0,
      enabled: enabled.input.checked,
    };
    let saved;
    const ok = await submitting(form, errors, async () => {
      const res = editing
        ? await api('PUT', '/api/v1/auto-replies/' + encodeURIComponent(editing.id), out)
        : await api('POST', '/api/v1/auto-replies', out);
      saved = unwrap(res, 'rule');
    });
    if (!ok) return;
    put(saved);
    toast(t(editing ? 'set_ruleSaved' : 'set_ruleAdded', { name: saved.name }));
    editingId = null;
    ctx.redraw();
    ctx.focus('#rule-name');
  });
  const headingId = 'rule-form-heading';
  return h('section', { class: 'set-card', 'aria-labelledby': headingId }, [
    h('h3', { class: 'set-subheading', id: headingId, text: editing ? t('set_editRule', { name: editing.name }) : t('set_newRule') }),
    form,
  ]);
}

// tryBox asks the server what a message would get: the rule that fires and the filled answer.
function tryBox(ctx) {
  const text = h('input', { type: 'text', maxlength: '2000', autocomplete: 'off', 'data-testid': 'rule-try-text' });
  const groups = ctx.data.groups;
  const group = select([['0', t('set_tryNoGroup')]].concat(groups.map((g) => [String(g.id), g.name])), '0');
  if (tried && tried.text != null) {
    text.value = tried.text;
    group.value = String(tried.groupId || 0);
  }
  const err = errorLine('rule-try-error');
  let result = tryResult();
  const form = h('form', { class: 'set-form', 'data-testid': 'rule-try-form', novalidate: true }, [
    field('rule-try-text', t('set_tryText'), text, t('set_tryHint')),
    groups.length ? field('rule-try-group', t('set_tryGroup'), group) : null,
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-outline', 'data-testid': 'rule-try-submit', text: t('set_trySubmit') })]),
    result,
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = text.value.trim();
    if (!msg) {
      err.show(t('set_tryEmpty'));
      text.focus();
      return;
    }
    let answer;
    const ok = await submitting(form, err, async () => {
      answer = await api('POST', '/api/v1/auto-replies/test', { text: msg, group_id: Number(group.value) || 0 });
    });
    if (!ok) return;
    tried = { text: msg, groupId: Number(group.value) || 0, answer };
    // In place: a rule half typed in the form above stays as it is.
    const next = tryResult();
    result.replaceWith(next);
    result = next;
    next.focus();
  });
  return h('section', { class: 'set-card', 'aria-labelledby': 'rule-try-heading' }, [
    h('h3', { class: 'set-subheading', id: 'rule-try-heading', text: t('set_tryHeading') }),
    form,
  ]);
}

function tryResult() {
  const a = tried && tried.answer;
  if (!a) return h('div', { 'data-testid': 'rule-try-result', tabindex: '-1', hidden: true });
  if (!a.rule) {
    return h('div', { class: 'set-try-result', 'data-testid': 'rule-try-result', tabindex: '-1', role: 'status' }, [
      h('p', { 'data-testid': 'rule-try-rule', text: t('set_tryNoRule') }),
      a.answer ? h('p', { class: 'set-try-answer', 'data-testid': 'rule-try-answer', text: a.answer }) : null,
    ]);
  }
  return h('div', { class: 'set-try-result', 'data-testid': 'rule-try-result', tabindex: '-1', role: 'status' }, [
    h('p', { 'data-testid': 'rule-try-rule', text: t('set_tryFired', { name: a.rule.name }) }),
    h('p', { class: 'set-try-answer', 'data-testid': 'rule-try-answer', text: a.answer || '' }),
    (a.quick_replies || []).length
      ? h('p', { 'data-testid': 'rule-try-quick' }, [t('set_tryQuickReplies'), ...a.quick_replies.map((q) => h('span', { class: 'set-chip', text: q }))])
      : null,
  ]);
}
