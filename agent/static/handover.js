// Handing conversations over (docs/protocol.md §5): transfer to a colleague or a group, invite
// a colleague to help, leave as a helper, take over as an owner or supervisor; and the shop's
// agents and groups they pick from. Who may do which is access.js.
import { state, scheduleRender, isMine } from './state.js';
import { t } from './strings.js';
import { toast } from './dom.js';
import { api, report } from './api.js';
import { upsertConv, loseAccess, selectConversation } from './convs.js';
import { catchUp } from './messages.js';

const AGENTS_RETRY_MS = 30000; // a failed look-up of names is not retried on every render

let agentsJob = null;
let agentsTriedAt = 0;

// loadAgents fetches the shop's agents (names, presence, load); answers the list. Several
// callers at once share one request.
export function loadAgents() {
  if (agentsJob) return agentsJob;
  const gen = state.sessionGen;
  agentsJob = api('GET', '/api/v1/agents')
    .then((r) => {
      if (gen !== state.sessionGen) return [];
      state.agents = Array.isArray(r.agents) ? r.agents : [];
      scheduleRender();
      return state.agents;
    })
    .finally(() => { agentsJob = null; });
  return agentsJob;
}

// loadGroups fetches the shop's groups.
export async function loadGroups() {
  const r = await api('GET', '/api/v1/groups');
  return Array.isArray(r.groups) ? r.groups : [];
}

// agentName is a colleague's name by id from the agents we know; unknown ones are fetched once
// (the caller's next render shows the name).
export function agentName(id) {
  if (id == null) return '';
  const a = state.agents && state.agents.find((x) => x.id === id);
  if (a) return a.name || a.username || '';
  if (!state.agents && state.session && Date.now() - agentsTriedAt > AGENTS_RETRY_MS) {
    agentsTriedAt = Date.now();
    loadAgents().catch(() => {});
  }
  return t('agent') + ' #' + id;
}

function path(id, verb) {
  return '/api/v1/conversations/' + encodeURIComponent(id) + '/' + verb;
}

// transferConversation hands it to {agent_id} or {group_id} with a note; it throws ApiError
// for the panel to word (agent_unavailable, not_assigned, ...).
export async function transferConversation(id, target, note) {
  const rev = state.rev;
  const body = Object.assign({}, target, note ? { note } : {});
  const r = await api('POST', path(id, 'transfer'), body);
  const conv = r.conversation ? upsertConv(r.conversation, false, rev) : null;
  // No longer mine (an owner or supervisor keeps seeing it): the chat area says where it went.
  if (!conv || !isMine(conv)) loseAccess(id, 'transferDone');
  else toast(t('transferDone'));
}

// inviteAgent brings a colleague in to help.
export async function inviteAgent(id, agentId) {
  const rev = state.rev;
  const r = await api('POST', path(id, 'invite'), { agent_id: agentId });
  if (r.conversation) upsertConv(r.conversation, false, rev);
  toast(t('inviteDone', { name: agentName(agentId) }));
}

// leaveConversation: a helper steps out; the conversation leaves my list and the screen.
export async function leaveConversation(id) {
  try {
    const r = await api('POST', path(id, 'leave'));
    if (r.conversation) upsertConv(r.conversation, false);
    if (!isMine(state.convs.get(id))) loseAccess(id, 'leftConversation');
  } catch (err) {
    if (err.code === 'not_helping') loseAccess(id, 'leftConversation');
    else report(err);
  }
}

// takeOver: an owner or supervisor takes the conversation themselves.
export async function takeOver(id) {
  const rev = state.rev;
  try {
    const r = await api('POST', path(id, 'takeover'));
    if (r.conversation) upsertConv(r.conversation, false, rev);
    selectConversation(id);
    catchUp(id);
  } catch (err) {
    report(err);
  }
}
