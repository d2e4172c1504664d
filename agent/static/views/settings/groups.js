// Settings › Groups: the shop's agent groups with their members and weights; creating, changing
// (the slug stays: store pages name it) and deleting one (POST/PUT/DELETE /api/v1/groups).
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { field, select, errorLine, submitting, confirmDialog, parseWhole } from './forms.js';

const SCOPES = ['', 'presales', 'aftersales'];

let editingId = null; // the group in the form; null: the form makes a new one

export function reset() {
  editingId = null;
}

function scopeName(scope) {
  return t('set_scope_' + (scope || ''));
}

export function draw(ctx) {
  const { data } = ctx;
  if (editingId != null && !data.groups.some((g) => g.id === editingId)) editingId = null;
  const agentById = new Map(data.agents.map((a) => [a.id, a]));
  const list = data.groups.length
    ? h('div', { class: 'set-table-wrap' }, [h('table', { class: 'set-table', 'data-testid': 'groups-table' }, [
      h('thead', null, [h('tr', null, ['set_colName', 'set_colSlug', 'set_colScope', 'set_colMembers', 'set_colActions']
        .map((k) => h('th', { scope: 'col', text: t(k) })))]),
      h('tbody', null, data.groups.map((g) => groupRow(ctx, g, agentById))),
    ])])
    : h('p', { class: 'set-empty', 'data-testid': 'groups-empty', text: t('set_noGroupsYet') });
  const editing = data.groups.find((g) => g.id === editingId);
  return h('div', { class: 'set-page' }, [
    h('div', { class: 'set-page-head' }, [
      h('h2', { class: 'set-heading', text: t('set_groupsHeading') }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('set_refresh'), onclick: () => ctx.reload() }),
    ]),
    h('p', { class: 'set-intro', text: t('set_groupsIntro') }),
    list,
    groupForm(ctx, editing),
  ]);
}

function groupRow(ctx, g, agentById) {
  const members = (g.members || []).map((m) => {
    const a = agentById.get(m.agent_id);
    return t('set_memberWeight', { name: a ? a.name : '#' + m.agent_id, weight: m.weight });
  });
  return h('tr', { 'data-testid': 'group-row', 'data-slug': g.slug }, [
    h('td', { class: 'set-strong', text: g.name }),
    h('td', { class: 'set-mono', text: g.slug }),
    h('td', null, [
      g.scope ? scopeName(g.scope) : t('set_none'),
      g.menu ? h('span', { class: 'tag set-tag', 'data-testid': 'group-in-menu', text: t('set_inMenuTag') }) : null,
    ]),
    h('td', { 'data-testid': 'group-members', text: members.length ? members.join(t('set_listSep')) : t('set_noMembers') }),
    h('td', { class: 'set-row-actions' }, [
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'group-edit',
        'aria-label': t('set_editGroup', { name: g.name }), text: t('set_edit'),
        onclick: () => {
          editingId = g.id;
          ctx.redraw();
          ctx.focus('#group-name');
        },
      }),
      h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'group-delete',
        'aria-label': t('set_deleteLabel', { name: g.name }), text: t('set_delete'),
        onclick: () => deleteGroup(ctx, g),
      }),
    ]),
  ]);
}

async function deleteGroup(ctx, g) {
  if (!(await confirmDialog(t('set_confirmDeleteGroup', { name: g.name, slug: g.slug }), t('set_delete')))) return;
  try {
    await api('DELETE', '/api/v1/groups/' + encodeURIComponent(g.id));
  } catch (err) {
    ctx.fail(err);
    return;
  }
  ctx.dropGroup(g.id);
  toast(t('set_groupDeleted', { name: g.name }));
  ctx.redraw();
}

// groupForm makes a new group, or changes `editing` when given.
function groupForm(ctx, editing) {
  const name = h('input', { type: 'text', maxlength: '32', autocomplete: 'off', required: true });
  const slug = h('input', { type: 'text', maxlength: '32', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: !editing, readonly: !!editing });
  const scope = select(SCOPES.map((s) => [s, scopeName(s)]), editing ? editing.scope || '' : '');
  name.value = editing ? editing.name : '';
  slug.value = editing ? editing.slug : '';
  const menu = h('input', { type: 'checkbox', id: 'group-menu', 'data-testid': 'group-menu' });
  menu.checked = !!(editing && editing.menu);
  const weightOf = new Map(((editing && editing.members) || []).map((m) => [m.agent_id, m.weight]));
  const rows = ctx.data.agents.map((a) => {
    const on = h('input', { type: 'checkbox', id: 'group-member-' + a.id, 'data-testid': 'group-member', 'data-username': a.username });
    on.checked = weightOf.has(a.id);
    const weight = h('input', {
      type: 'number', min: '1', max: '100', step: '1', class: 'set-weight', id: 'group-weight-' + a.id,
      'data-testid': 'group-weight', 'data-username': a.username, 'aria-label': t('set_weightLabel', { name: a.name }),
    });
    weight.value = String(weightOf.get(a.id) || 1);
    const row = h('li', { class: 'set-member' }, [
      on,
      h('label', { for: on.id, text: t('set_memberLabel', { name: a.name, username: a.username }) }),
      a.disabled ? h('span', { class: 'tag set-tag set-tag-off', text: t('set_disabled') }) : null,
      weight,
    ]);
    return { a, on, weight, row };
  });
  const err = errorLine('group-error');
  const form = h('form', { class: 'set-form', 'data-testid': 'group-form', novalidate: true }, [
    field('group-name', t('set_groupName'), name, t('set_groupNameHint')),
    field('group-slug', t('set_groupSlug'), slug, t('set_slugHint')),
    field('group-scope', t('set_groupScope'), scope, t('set_scopeHint')),
    h('div', { class: 'set-check' }, [
      menu,
      h('label', { for: 'group-menu', text: t('set_groupMenu') }),
      h('p', { class: 'set-hint', text: t('set_groupMenuHint') }),
    ]),
    h('fieldset', { class: 'set-fieldset' }, [
      h('legend', { text: t('set_groupMembers') }),
      h('p', { class: 'set-hint', text: t('set_weightHint') }),
      h('ul', { class: 'set-members' }, rows.map((r) => r.row)),
    ]),
    err,
    h('div', { class: 'set-actions' }, [
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'group-submit', text: editing ? t('set_save') : t('set_create') }),
      editing ? h('button', { type: 'button', class: 'btn btn-outline', text: t('set_cancel'), onclick: () => { editingId = null; ctx.redraw(); } }) : null,
    ]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), scope: scope.value, menu: menu.checked, members: [] };
    if (!body.name) {
      err.show(t('set_err_invalid_name'));
      name.focus();
      return;
    }
    if (!editing) {
      body.slug = slug.value.trim();
      if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(body.slug)) {
        err.show(t('set_err_invalid_slug'));
        slug.focus();
        return;
      }
    }
    for (const r of rows) {
      if (!r.on.checked) continue;
      const w = parseWhole(r.weight.value, 1, 100);
      if (w == null) {
        err.show(t('set_err_invalid_weight'));
        r.weight.focus();
        return;
      }
      body.members.push({ agent_id: r.a.id, weight: w });
    }
    let group;
    const ok = await submitting(form, err, async () => {
      const r = editing
        ? await api('PUT', '/api/v1/groups/' + encodeURIComponent(editing.id), body)
        : await api('POST', '/api/v1/groups', body);
      group = r.group;
    });
    if (!ok) return;
    ctx.putGroup(group);
    toast(t(editing ? 'set_groupSaved' : 'set_groupCreated', { name: group.name }));
    editingId = null;
    ctx.redraw();
    ctx.focus('#group-name');
  });
  const headingId = 'group-form-heading';
  return h('section', { class: 'set-card', 'aria-labelledby': headingId }, [
    h('h3', { class: 'set-subheading', id: headingId, text: editing ? t('set_editGroup', { name: editing.name }) : t('set_newGroup') }),
    form,
  ]);
}
