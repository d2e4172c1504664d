// The chat header's hand-over part (drawn by views/chat.js): 转接 / 邀请 / 退出协助 / 接管
// buttons as access.js allows, the panel to pick a colleague or group with a note, the inline
// "close it?" confirmation, who helps, and the note of a transfer to me.
import { state, me } from '../state.js';
import { t } from '../strings.js';
import { h, byId, charCount } from '../dom.js';
import { errText } from '../api.js';
import { canHandOver, canLeave, canTakeOver, canClose, holds, rankAgents, invitable } from '../access.js';
import { closeConversation } from '../convs.js';
import { loadAgents, loadGroups, agentName, transferConversation, inviteAgent, leaveConversation, takeOver } from '../handover.js';

const MAX_NOTE = 500;

let el = {};
// The open panel: {mode: 'transfer'|'invite', id, groups, busy, error, loaded}; null when shut.
let panel = null;
let confirmFor = null; // the conversation whose close waits for a confirmation

export function init() {
  el = {
    helpers: byId('chat-helpers'),
    transfer: byId('chat-transfer'),
    invite: byId('chat-invite'),
    leave: byId('chat-leave'),
    takeover: byId('chat-takeover'),
    close: byId('close-conversation'),
    confirm: byId('close-confirm'),
    yes: byId('close-yes'),
    no: byId('close-no'),
    form: byId('handover-panel'),
    label: byId('handover-label'),
    target: byId('handover-target'),
    note: byId('handover-note'),
    error: byId('handover-error'),
    cancel: byId('handover-cancel'),
    send: byId('handover-send'),
    banner: byId('transfer-banner'),
  };
  el.transfer.addEventListener('click', () => openPanel('transfer'));
  el.invite.addEventListener('click', () => openPanel('invite'));
  el.leave.addEventListener('click', () => {
    if (state.selectedId != null) leaveConversation(state.selectedId);
  });
  el.takeover.addEventListener('click', () => {
    if (state.selectedId != null) takeOver(state.selectedId);
  });
  el.close.addEventListener('click', () => {
    confirmFor = state.selectedId;
    render();
    el.yes.focus();
  });
  el.yes.addEventListener('click', () => {
    const id = confirmFor;
    confirmFor = null;
    if (id != null && id === state.selectedId) closeConversation(id);
    render();
  });
  el.no.addEventListener('click', () => {
    confirmFor = null;
    render();
    el.close.focus();
  });
  el.confirm.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') el.no.click();
  });
  el.cancel.addEventListener('click', shutPanel);
  el.form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') shutPanel();
  });
  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  el.note.addEventListener('input', () => {
    if (panel && panel.error) {
      panel.error = '';
      render();
    }
  });
}

export function reset() {
  panel = null;
  confirmFor = null;
}

export function langChanged() {
  if (panel) panel.sig = '';
}

function openPanel(mode) {
  const id = state.selectedId;
  if (id == null) return;
  if (panel && panel.mode === mode && panel.id === id) {
    shutPanel();
    return;
  }
  panel = { mode, id, groups: [], busy: false, error: '', loaded: false, sig: '' };
  el.note.value = '';
  const p = panel;
  Promise.all([loadAgents(), mode === 'transfer' ? loadGroups() : Promise.resolve([])])
    .then(([, groups]) => {
      if (panel !== p) return;
      p.groups = groups;
      p.loaded = true;
      render();
      el.target.focus();
    })
    .catch((err) => {
      if (err.cancelled || panel !== p) return;
      p.error = errText(err);
      render();
    });
  render();
}

function shutPanel() {
  const was = panel;
  panel = null;
  render();
  if (was) (was.mode === 'transfer' ? el.transfer : el.invite).focus();
}

async function submit() {
  const p = panel;
  if (!p || p.busy || !p.loaded) return;
  const v = el.target.value;
  if (!v) {
    p.error = t('handoverPick');
    render();
    return;
  }
  const [kind, raw] = v.split(':');
  const target = Number(raw);
  const note = el.note.value.trim();
  if (p.mode === 'transfer' && charCount(note) > MAX_NOTE) {
    p.error = t('noteTooLong', { max: MAX_NOTE, n: charCount(note) });
    render();
    return;
  }
  p.busy = true;
  p.error = '';
  render();
  try {
    if (p.mode === 'transfer') await transferConversation(p.id, kind === 'g' ? { group_id: target } : { agent_id: target }, note);
    else await inviteAgent(p.id, target);
    if (panel === p) panel = null;
  } catch (err) {
    if (err.cancelled || panel !== p) return;
    p.error = errText(err);
    // Loads change by the second: the next try picks from fresh ones.
    loadAgents().catch(() => {});
  } finally {
    p.busy = false;
    render();
  }
}

function agentLabel(a) {
  const presence = t('presence_' + (a.presence || 'offline'));
  return (a.name || a.username) + ' · ' + presence + ' · ' + t('agentLoad', { n: a.active_count || 0, max: a.max_concurrent || 0 });
}

function fillTargets(conv) {
  const mine = me();
  const agents = panel.mode === 'transfer' ? rankAgents(state.agents || [], mine).filter((a) => a.id !== conv.agent_id) : invitable(state.agents || [], conv, mine);
  const sig = [state.lang, panel.mode, panel.loaded, JSON.stringify(agents.map((a) => [a.id, a.name, a.presence, a.active_count, a.max_concurrent])), JSON.stringify(panel.groups.map((g) => [g.id, g.name]))].join('|');
  if (panel.sig === sig) return;
  panel.sig = sig;
  const keep = el.target.value;
  const kids = [h('option', { value: '', text: panel.loaded ? t('handoverPick') : t('loading') })];
  if (agents.length) kids.push(h('optgroup', { label: t('handoverAgents') }, agents.map((a) => h('option', { value: 'a:' + a.id, text: agentLabel(a) }))));
  if (panel.groups.length) kids.push(h('optgroup', { label: t('handoverGroups') }, panel.groups.map((g) => h('option', { value: 'g:' + g.id, text: g.name || g.slug }))));
  el.target.replaceChildren(...kids);
  if (keep && Array.from(el.target.options).some((o) => o.value === keep)) el.target.value = keep;
}

// render draws the hand-over part for the conversation on screen (views/chat.js calls it).
export function render() {
  const id = state.selectedId;
  const conv = id != null ? state.convs.get(id) : null;
  const mine = me();
  if (!conv) {
    panel = null;
    confirmFor = null;
  }
  if (panel && (!conv || panel.id !== id || (panel.mode === 'transfer' || panel.mode === 'invite') && !canHandOver(conv, mine))) panel = null;
  if (confirmFor != null && (confirmFor !== id || !canClose(conv, mine))) confirmFor = null;

  el.transfer.hidden = !canHandOver(conv, mine);
  el.invite.hidden = !canHandOver(conv, mine);
  el.leave.hidden = !canLeave(conv, mine);
  el.takeover.hidden = !canTakeOver(conv, mine) || !conv || conv.status !== 'assigned';
  el.transfer.setAttribute('aria-expanded', panel && panel.mode === 'transfer' ? 'true' : 'false');
  el.invite.setAttribute('aria-expanded', panel && panel.mode === 'invite' ? 'true' : 'false');
  el.close.hidden = confirmFor != null;
  el.close.disabled = !canClose(conv, mine) || state.closing.has(id);
  el.confirm.hidden = confirmFor == null;

  // Who helps (协助：小李).
  const helpers = conv && conv.status === 'assigned' && Array.isArray(conv.helper_ids) ? conv.helper_ids : [];
  const helpText = helpers.length ? t('helpersLine', { names: helpers.map(agentName).join('、') }) : '';
  if (el.helpers.textContent !== helpText) el.helpers.textContent = helpText;
  el.helpers.hidden = !helpText;

  // The note of a transfer to me: "小王 转给你：…".
  let banner = '';
  const tr = conv && conv.transfer;
  if (tr && holds(conv, mine) && tr.from_agent_id && tr.from_agent_id !== mine.id) {
    banner = tr.note ? t('transferNote', { name: agentName(tr.from_agent_id), note: tr.note }) : t('transferNoNote', { name: agentName(tr.from_agent_id) });
  }
  if (el.banner.textContent !== banner) el.banner.textContent = banner;
  el.banner.hidden = !banner;

  el.form.hidden = !panel;
  if (!panel) return;
  el.label.textContent = panel.mode === 'transfer' ? t('transferTo') : t('inviteWho');
  el.note.hidden = panel.mode !== 'transfer';
  el.send.textContent = panel.busy ? t('sending') : panel.mode === 'transfer' ? t('transferSend') : t('inviteSend');
  el.send.disabled = panel.busy || !panel.loaded;
  el.target.disabled = panel.busy;
  fillTargets(conv);
  if (el.error.textContent !== panel.error) el.error.textContent = panel.error;
}
