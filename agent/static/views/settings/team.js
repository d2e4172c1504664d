// Settings › Team: the shop's agents, adding one (owner), and changing one. Who may change what
// follows PATCH /api/v1/agents/{id} (docs/openapi.yaml): name and cap, an owner of anyone and a
// supervisor of anyone but owners; role, disabling and passwords, owners only, and nobody
// demotes or disables themselves. What the viewer may not do is not shown; the server checks
// it all the same.
import { t, hasString } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { field, select, errorLine, submitting, confirmDialog, parseWhole } from './forms.js';

let editingId = null; // the agent whose edit form is open

export function reset() {
  editingId = null;
}

function roleName(role) {
  return hasString('role_' + role) ? t('role_' + role) : role;
}

function roleOptions() {
  return ['agent', 'supervisor', 'owner'].map((r) => [r, roleName(r)]);
}

// canEdit says the viewer may change the agent's name and cap.
function canEdit(viewer, a) {
  return viewer.role === 'owner' || (viewer.role === 'supervisor' && a.role !== 'owner');
}

export function draw(ctx) {
  const { data, viewer } = ctx;
  if (editingId != null && !data.agents.some((a) => a.id === editingId)) editingId = null;
  const groupsOf = new Map();
  for (const g of data.groups) {
    for (const m of g.members || []) {
      if (!groupsOf.has(m.agent_id)) groupsOf.set(m.agent_id, []);
      groupsOf.get(m.agent_id).push(g.name);
    }
  }
  const rows = data.agents.map((a) => agentRow(ctx, a, groupsOf.get(a.id) || []));
  const table = h('table', { class: 'set-table', 'data-testid': 'agents-table' }, [
    h('thead', null, [h('tr', null, ['set_colName', 'set_colUsername', 'set_colRole', 'set_colPresence', 'set_colCap', 'set_colGroups', 'set_colActions']
      .map((k) => h('th', { scope: 'col', text: t(k) })))]),
    h('tbody', null, rows),
  ]);
  const editing = data.agents.find((a) => a.id === editingId);
  return h('div', { class: 'set-page' }, [
    h('div', { class: 'set-page-head' }, [
      h('h2', { class: 'set-heading', text: t('set_teamHeading') }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('set_refresh'), onclick: () => ctx.reload() }),
    ]),
    h('div', { class: 'set-table-wrap' }, [table]),
    viewer.role !== 'owner' ? h('p', { class: 'set-hint', text: t('set_ownerOnlyNote') }) : null,
    editing ? editSection(ctx, editing) : null,
    viewer.role === 'owner' ? addForm(ctx) : null,
  ]);
}

function agentRow(ctx, a, groupNames) {
  const me = a.id === ctx.viewer.id;
  const p = a.disabled ? 'offline' : a.presence || 'offline';
  const nameCell = h('td', null, [
    h('span', { class: 'set-strong', text: a.name }),
    me ? h('span', { class: 'tag tag-guest set-tag', text: t('set_you') }) : null,
    a.disabled ? h('span', { class: 'tag set-tag set-tag-off', 'data-testid': 'agent-disabled', text: t('set_disabled') }) : null,
  ]);
  const cap = t('set_capCell', { active: a.active_count || 0, cap: a.max_concurrent });
  return h('tr', { 'data-testid': 'agent-row', 'data-username': a.username, class: a.disabled ? 'is-disabled' : null }, [
    nameCell,
    h('td', { class: 'set-mono', text: a.username }),
    h('td', { 'data-testid': 'agent-role', text: roleName(a.role) }),
    h('td', null, [h('span', { class: 'presence-dot set-dot is-' + p, 'aria-hidden': 'true' }), t('presence_' + p)]),
    h('td', { 'data-testid': 'agent-cap', title: t('set_capCellLabel', { active: a.active_count || 0, cap: a.max_concurrent }), text: cap }),
    h('td', { text: groupNames.length ? groupNames.join(t('set_listSep')) : t('set_none') }),
    h('td', null, [canEdit(ctx.viewer, a)
      ? h('button', {
        type: 'button', class: 'btn btn-outline btn-sm', 'data-testid': 'agent-edit',
        'aria-label': t('set_editLabel', { name: a.name }), 'aria-expanded': String(editingId === a.id), text: t('set_edit'),
        onclick: () => {
          editingId = editingId === a.id ? null : a.id;
          ctx.redraw();
          if (editingId != null) ctx.focus('#agent-edit-name');
        },
      })
      : null]),
  ]);
}

// patch sends the change and takes the agent the server answers with.
async function patch(ctx, a, body) {
  const r = await api('PATCH', '/api/v1/agents/' + encodeURIComponent(a.id), body);
  ctx.putAgent(r.agent);
  return r.agent;
}

function editSection(ctx, a) {
  const { viewer } = ctx;
  const owner = viewer.role === 'owner';
  const me = a.id === viewer.id;
  const name = h('input', { type: 'text', maxlength: '64', required: true, autocomplete: 'off' });
  name.value = a.name;
  const cap = h('input', { type: 'number', min: '1', max: '100', step: '1', class: 'set-number', required: true });
  cap.value = String(a.max_concurrent);
  const role = owner && !me ? select(roleOptions(), a.role) : null;
  const err = errorLine('agent-edit-error');
  const form = h('form', { class: 'set-form', 'data-testid': 'agent-edit-form', novalidate: true }, [
    field('agent-edit-name', t('set_agentName'), name, t('set_nameHint')),
    field('agent-edit-cap', t('set_agentCap'), cap, t('set_capEditHint')),
    role ? field('agent-edit-role', t('set_agentRole'), role) : null,
    err,
    h('div', { class: 'set-actions' }, [
      h('button', { type: 'submit', class: 'btn btn-primary', text: t('set_save') }),
      h('button', { type: 'button', class: 'btn btn-outline', text: t('set_close'), onclick: () => { editingId = null; ctx.redraw(); } }),
    ]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    const n = name.value.trim();
    if (n !== a.name) body.name = n;
    const c = parseWhole(cap.value, 1, 100);
    if (c == null) {
      err.show(t('set_err_invalid_max_concurrent'));
      cap.focus();
      return;
    }
    if (c !== a.max_concurrent) body.max_concurrent = c;
    if (role && role.value !== a.role) body.role = role.value;
    if (!Object.keys(body).length) {
      err.show(t('set_noChanges'));
      return;
    }
    let saved;
    const ok = await submitting(form, err, async () => {
      saved = await patch(ctx, a, body);
    });
    if (ok) {
      toast(t('set_agentSaved', { name: saved.name }));
      ctx.redraw();
    }
  });

  const parts = [h('h3', { class: 'set-subheading', text: t('set_editAgent', { name: a.name }) }), form];
  if (owner) parts.push(passwordForm(ctx, a));
  if (owner && !me) parts.push(accountBox(ctx, a));
  return h('section', { class: 'set-card', 'data-testid': 'agent-edit', 'aria-label': t('set_editAgent', { name: a.name }) }, parts);
}

function passwordForm(ctx, a) {
  const pw = h('input', { type: 'password', minlength: '8', maxlength: '72', autocomplete: 'new-password', required: true });
  const err = errorLine('agent-password-error');
  const form = h('form', { class: 'set-form set-form-inline', novalidate: true }, [
    field('agent-edit-password', t('set_newPassword'), pw, t('set_resetHint')),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-outline', text: t('set_resetPassword') })]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (new TextEncoder().encode(pw.value).length < 8 || new TextEncoder().encode(pw.value).length > 72) {
      err.show(t('set_err_weak_password'));
      pw.focus();
      return;
    }
    const ok = await submitting(form, err, () => patch(ctx, a, { password: pw.value }));
    if (ok) {
      pw.value = '';
      toast(t('set_passwordReset', { name: a.name }));
    }
  });
  return form;
}

function accountBox(ctx, a) {
  const err = errorLine('agent-account-error');
  const label = a.disabled ? t('set_enableAgent') : t('set_disableAgent');
  const btn = h('button', { type: 'submit', class: 'btn ' + (a.disabled ? 'btn-outline' : 'btn-danger'), 'data-testid': 'agent-toggle-disabled', text: label });
  const form = h('form', { class: 'set-form set-form-inline', novalidate: true }, [
    h('p', { class: 'set-label', text: t('set_accountHeading') }),
    a.disabled ? null : h('p', { class: 'set-hint', text: t('set_disableHint') }),
    err,
    h('div', { class: 'set-actions' }, [btn]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const disable = !a.disabled;
    if (disable && !(await confirmDialog(t('set_confirmDisable', { name: a.name }), t('set_disableAgent')))) return;
    const ok = await submitting(form, err, () => patch(ctx, a, { disabled: disable }));
    if (ok) {
      toast(t(disable ? 'set_agentDisabled' : 'set_agentEnabled', { name: a.name }));
      ctx.redraw();
      ctx.focus('[data-testid=agent-toggle-disabled]');
    }
  });
  return form;
}

function addForm(ctx) {
  const username = h('input', { type: 'text', maxlength: '32', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true });
  const name = h('input', { type: 'text', maxlength: '64', autocomplete: 'off', required: true });
  const role = select(roleOptions(), 'agent');
  const pw = h('input', { type: 'password', minlength: '8', maxlength: '72', autocomplete: 'new-password', required: true });
  const cap = h('input', { type: 'number', min: '1', max: '100', step: '1', class: 'set-number', placeholder: '5' });
  const err = errorLine('agent-add-error');
  const form = h('form', { class: 'set-form set-form-grid', 'data-testid': 'agent-add-form', novalidate: true }, [
    field('agent-add-username', t('set_agentUsername'), username, t('set_usernameHint')),
    field('agent-add-name', t('set_agentName'), name, t('set_nameHint')),
    field('agent-add-role', t('set_agentRole'), role),
    field('agent-add-password', t('set_agentPassword'), pw, t('set_passwordHint')),
    field('agent-add-cap', t('set_agentCap'), cap, t('set_capHint')),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'agent-add-submit', text: t('set_addAgent') })]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { username: username.value.trim(), name: name.value.trim(), role: role.value, password: pw.value };
    if (!/^[a-z0-9_.-]{2,32}$/.test(body.username)) {
      err.show(t('set_err_invalid_username'));
      username.focus();
      return;
    }
    if (!body.name) {
      err.show(t('set_err_invalid_name'));
      name.focus();
      return;
    }
    if (cap.value.trim() !== '') {
      const c = parseWhole(cap.value, 1, 100);
      if (c == null) {
        err.show(t('set_err_invalid_max_concurrent'));
        cap.focus();
        return;
      }
      body.max_concurrent = c;
    }
    let added;
    const ok = await submitting(form, err, async () => {
      const r = await api('POST', '/api/v1/agents', body);
      added = r.agent;
    });
    if (ok) {
      ctx.putAgent(added);
      toast(t('set_agentAdded', { name: added.name }));
      ctx.redraw();
      ctx.focus('#agent-add-username');
    }
  });
  return h('section', { class: 'set-card', 'aria-labelledby': 'agent-add-heading' }, [
    h('h3', { class: 'set-subheading', id: 'agent-add-heading', text: t('set_addAgent') }),
    form,
  ]);
}
