// The settings area: a "设置" button in the top bar swaps the workbench for it, and back
// (state.area is 'settings' while it is open; the reports page is the other such area). Its
// pages, one module each in views/settings/: for owners and supervisors team, groups, routing,
// quick phrases, auto-reply rules and the assistant, and for the owner only widget origins and
// the identity secret; a plain agent sees only the quick phrases (their own, and the shop's to
// read). What they show is
// loaded when the area opens (agents, groups, shop) and changed by the answers to their own
// calls; it is private to this view, since no other part of the console needs it.
//
// A page module exports draw(ctx) -> Node and reset(). ctx has the data, the viewer, and
// redraw/reload/put*/focus. Pages are redrawn only when their data or the tab changes, never on
// the console's frequent renders, so a form being typed in survives a new chat message.
import { state, meId, scheduleRender } from '../state.js';
import { t } from '../strings.js';
import { h, byId, setChildren, toast } from '../dom.js';
import { api } from '../api.js';
import { updateAgent } from '../session.js';
import { setErrText } from './settings/forms.js';
import * as team from './settings/team.js';
import * as groups from './settings/groups.js';
import * as routing from './settings/routing.js';
import * as origins from './settings/origins.js';
import * as secret from './settings/secret.js';
import * as phrases from './settings/phrases.js';
import * as autoreplies from './settings/autoreplies.js';
import * as assistant from './settings/assistant.js';

// everyone: a plain agent sees the tab too; ownerOnly: only the owner does; the rest are for
// owners and supervisors.
const TABS = [
  { id: 'team', page: team },
  { id: 'groups', page: groups },
  { id: 'routing', page: routing },
  { id: 'phrases', page: phrases, everyone: true },
  { id: 'autoreplies', page: autoreplies },
  { id: 'assistant', page: assistant },
  { id: 'origins', page: origins, ownerOnly: true },
  { id: 'secret', page: secret, ownerOnly: true },
];

let el = {};
let tab = 'team';
let data = null; // {agents, groups, shop} once loaded
let loading = null; // the load under way (a promise), if any
let loadError = null;
let drawnFor = ''; // the role and language the area was drawn in

export function init() {
  el = {
    toggle: byId('settings-toggle'),
    area: byId('settings'),
    workbench: byId('workbench'),
  };
  el.tabs = h('div', { class: 'set-tabs', role: 'group' });
  el.panel = h('div', { class: 'set-panel', 'data-testid': 'settings-panel' });
  el.title = h('h1', { class: 'set-title', id: 'settings-title', tabindex: '-1' });
  el.area.setAttribute('aria-labelledby', 'settings-title');
  setChildren(el.area, h('div', { class: 'set-inner' }, [
    h('div', { class: 'set-top' }, [el.title, h('nav', { class: 'set-nav', 'data-i18n-aria-label': 'set_tabsLabel' }, [el.tabs])]),
    el.panel,
  ]));
  el.toggle.addEventListener('click', () => (isOpen() ? closeSettings() : openSettings()));
}

function isOpen() {
  return state.area === 'settings';
}

function viewer() {
  return state.session && state.session.agent;
}

function allowed() {
  return !!viewer();
}

function privileged() {
  const a = viewer();
  return !!a && (a.role === 'owner' || a.role === 'supervisor');
}

export function render() {
  const ok = allowed();
  el.toggle.hidden = !ok;
  if (isOpen() && !ok) state.area = null; // demoted while here
  const open = isOpen();
  el.toggle.textContent = t(open ? 'set_backToWorkbench' : 'set_open');
  el.workbench.hidden = state.area != null;
  el.area.hidden = !open;
  if (open && drawnFor !== viewer().role + ' ' + state.lang) draw();
}

export function reset() {
  data = null;
  loading = null;
  loadError = null;
  tab = 'team';
  drawnFor = '';
  for (const x of TABS) x.page.reset();
  if (el.area) {
    el.area.hidden = true;
    el.toggle.hidden = true;
    setChildren(el.panel);
  }
}

function openSettings() {
  state.area = 'settings';
  drawnFor = '';
  render();
  scheduleRender();
  el.title.focus();
  load();
}

function closeSettings() {
  state.area = null;
  render();
  scheduleRender(); // the workbench is in view again: read marks, scroll
  el.toggle.focus();
}

function tabsFor() {
  const owner = viewer() && viewer().role === 'owner';
  if (!privileged()) return TABS.filter((x) => x.everyone);
  return TABS.filter((x) => owner || !x.ownerOnly);
}

// load fetches what the pages show; a second call while one is under way joins it.
function load() {
  if (loading) return loading;
  const gen = state.sessionGen;
  loadError = null;
  if (!data) draw();
  loading = Promise.all([api('GET', '/api/v1/agents'), api('GET', '/api/v1/groups'), api('GET', '/api/v1/shop')])
    .then(([a, g, s]) => {
      data = { agents: a.agents || [], groups: g.groups || [], shop: s.shop || {} };
    })
    .catch((err) => {
      if (err.cancelled || gen !== state.sessionGen) return;
      loadError = err;
      if (data) toast(setErrText(err), 'error');
    })
    .finally(() => {
      if (gen !== state.sessionGen) return;
      loading = null;
      draw();
    });
  return loading;
}

function draw() {
  const a = viewer();
  if (!a) return;
  drawnFor = a.role + ' ' + state.lang;
  el.title.textContent = t('set_title');
  const visible = tabsFor();
  if (!visible.some((x) => x.id === tab)) tab = visible[0].id;
  setChildren(el.tabs, ...visible.map((x) => h('button', {
    type: 'button',
    class: 'set-tab' + (x.id === tab ? ' is-active' : ''),
    'data-testid': 'settings-tab-' + x.id,
    'aria-current': x.id === tab ? 'page' : null,
    text: t('set_tab_' + x.id),
    onclick: () => {
      if (tab === x.id) return;
      tab = x.id;
      draw();
      el.tabs.querySelector('[aria-current=page]').focus();
    },
  })));
  if (!data) {
    setChildren(el.panel, loadError
      ? h('div', { class: 'set-page' }, [
        h('p', { class: 'set-error', role: 'alert', text: t('set_loadFailed', { msg: setErrText(loadError) }) }),
        h('button', { type: 'button', class: 'btn btn-outline', text: t('set_retry'), onclick: load }),
      ])
      : h('p', { class: 'set-empty', role: 'status', text: t('set_loading') }));
    return;
  }
  const page = visible.find((x) => x.id === tab).page;
  setChildren(el.panel, page.draw(context()));
}

// context is what a page may read and do.
function context() {
  return {
    data,
    viewer: viewer(),
    redraw: draw,
    reload: load,
    // focus moves the keyboard to a control of the page just drawn (after a save the form is
    // new, so the old focus is gone).
    focus(selector) {
      const target = el.panel.querySelector(selector);
      if (target) target.focus();
    },
    fail(err) {
      if (!err.cancelled) toast(setErrText(err), 'error');
    },
    putAgent(agent) {
      const i = data.agents.findIndex((x) => x.id === agent.id);
      if (i >= 0) data.agents[i] = agent;
      else data.agents.push(agent);
      if (agent.id === meId()) updateAgent({ name: agent.name, max_concurrent: agent.max_concurrent });
    },
    putGroup(group) {
      const i = data.groups.findIndex((x) => x.id === group.id);
      if (i >= 0) data.groups[i] = group;
      else data.groups.push(group);
      data.groups.sort((x, y) => (x.slug < y.slug ? -1 : x.slug > y.slug ? 1 : 0));
    },
    dropGroup(id) {
      data.groups = data.groups.filter((x) => x.id !== id);
    },
    setShop(shop) {
      data.shop = shop;
    },
  };
}
