// The reports page (报表), for owners and supervisors: a "报表" button in the top bar swaps the
// workbench for it (state.area is 'reports'), and back. It shows, for a range of days (the last
// 7 by default; docs/reports.md), the summary cards, the server's SVG charts (fetched with the
// session's token as Blobs and shown in <img>: never inlined), the agent table (sorted here, in
// the browser) with CSV export, the daily table, and a live board refreshed every 10 s while the
// page is in view. What the figures mean and how they are worded: reports.js (unit-tested).
//
// Like the settings area it draws only when its data or the language change, never on the
// console's frequent renders.
import { state, scheduleRender } from '../state.js';
import { t, hasString } from '../strings.js';
import { h, byId, setChildren, toast, saveFile } from '../dom.js';
import { api, errText } from '../api.js';
import {
  CARDS, AGENT_COLUMNS, format, sortRows, nextSort, ariaSort, lastDays, todayIn, rangeProblem,
  quickRange, query, fmtDuration, fmtCount, NONE,
} from '../reports.js';

// CHARTS are the server's charts, in the order shown.
const CHARTS = ['volume_by_day', 'volume_by_hour', 'first_response', 'heatmap', 'conversion'];
// QUICK are the quick ranges' day counts (今天, 近7天, 近30天).
const QUICK = [1, 7, 30];
// LIVE_MS is how often the live board asks again while the page is in view.
const LIVE_MS = 10000;
// INCOMPLETE_RETRY_MS is how soon a report the server could not fold up to date is asked again.
const INCOMPLETE_RETRY_MS = 3000;
const DAY_COLUMNS = [
  { key: 'date', kind: 'text', value: (d) => d.date },
  { key: 'conversations', kind: 'count', value: (d) => d.conversations },
  { key: 'buyers', kind: 'count', value: (d) => d.buyers },
  { key: 'first_response_median', kind: 'duration', value: (d) => (d.first_response || {}).median_seconds },
  { key: 'response_rate_3m', kind: 'rate', value: (d) => d.response_rate_3m },
  { key: 'abandonment_rate', kind: 'rate', value: (d) => d.abandonment_rate },
  { key: 'csat_mean', kind: 'mean1', value: (d) => (d.csat || {}).mean },
  { key: 'conversion_rate', kind: 'rate', value: (d) => (d.conversion || {}).rate },
  { key: 'revenue', kind: 'money', value: (d) => (d.conversion || {}).revenue_cents },
];

let el = {};
let range = null; // {from, to}: what the inputs ask for; null until the first report says
let tz = ''; // the shop's time zone, from the report
let report = null; // the last report drawn
let loadGen = 0; // bumped per load; an older answer is dropped
let again = null; // the timer that asks again for a report the server said was incomplete
let loading = false;
let loadError = null;
let sort = { key: 'conversations', order: 'desc' };
let filter = { group_id: '', agent_id: '' }; // the report's group and agent filters ('' is all)
let choices = null; // {groups, agents} for the filters, once loaded
let charts = {}; // name -> object URL shown
let live = null; // the last live board, with .at
let liveError = false;
let liveTimer = null;
let drawnLang = '';

export function init() {
  el = {
    toggle: byId('reports-toggle'),
    area: byId('reports'),
  };
  el.toggle.addEventListener('click', () => (isOpen() ? close() : open()));
  build();
}

function isOpen() {
  return state.area === 'reports';
}

function allowed() {
  const a = state.session && state.session.agent;
  return !!a && (a.role === 'owner' || a.role === 'supervisor');
}

export function render() {
  const ok = allowed();
  el.toggle.hidden = !ok;
  if (isOpen() && !ok) {
    state.area = null; // demoted while here: the workbench again, on the next render
    scheduleRender();
  }
  const shown = isOpen();
  el.toggle.textContent = t(shown ? 'rep_back' : 'rep_open');
  el.area.hidden = !shown;
  if (shown) {
    byId('workbench').hidden = true;
    if (drawnLang !== state.lang) langChanged();
    if (!liveTimer) startLive();
  } else if (liveTimer) {
    stopLive();
  }
}

export function reset() {
  stopLive();
  clearTimeout(again);
  again = null;
  loadGen++;
  range = null;
  tz = '';
  report = null;
  loading = false;
  loadError = null;
  live = null;
  liveError = false;
  sort = { key: 'conversations', order: 'desc' };
  filter = { group_id: '', agent_id: '' };
  choices = null;
  dropCharts();
  if (el.area) {
    el.area.hidden = true;
    el.toggle.hidden = true;
    drawAll();
  }
}

export function langChanged() {
  if (!el.area) return;
  drawnLang = state.lang;
  build();
  drawAll();
  if (isOpen() && report) load(); // the charts' titles and axes are the server's words
}

function open() {
  state.area = 'reports';
  render();
  scheduleRender();
  el.title.focus();
  load();
  if (!choices) loadChoices();
}

function close() {
  clearTimeout(again);
  again = null;
  state.area = null;
  render();
  scheduleRender(); // the workbench is in view again: read marks, scroll
  el.toggle.focus();
}

// build makes the page's frame in the current language; the parts are filled by the draw*s.
function build() {
  drawnLang = state.lang;
  el.title = h('h1', { class: 'rep-title', id: 'reports-title', tabindex: '-1', text: t('rep_title') });
  el.area.setAttribute('aria-labelledby', 'reports-title');
  el.meta = h('span', { class: 'rep-meta', 'data-testid': 'report-meta' });
  el.from = h('input', { type: 'date', class: 'rep-date', id: 'report-from', 'data-testid': 'report-from', required: true, onchange: onDateChange });
  el.to = h('input', { type: 'date', class: 'rep-date', id: 'report-to', 'data-testid': 'report-to', required: true, onchange: onDateChange });
  el.quick = QUICK.map((n) => h('button', {
    type: 'button',
    class: 'rep-quick',
    'data-testid': 'report-range-' + n,
    'aria-pressed': 'false',
    text: t('rep_range_' + n),
    onclick: () => pickQuick(n),
  }));
  el.group = h('select', { class: 'rep-select', id: 'report-group', 'data-testid': 'report-group', onchange: onFilterChange });
  el.agent = h('select', { class: 'rep-select', id: 'report-agent', 'data-testid': 'report-agent', onchange: onFilterChange });
  el.rangeError = h('p', { class: 'rep-range-error', role: 'alert', 'data-testid': 'report-range-error', hidden: true });
  el.status = h('p', { class: 'rep-status', role: 'status' });
  el.live = h('section', { class: 'rep-live', 'data-testid': 'report-live', 'aria-labelledby': 'report-live-title' });
  el.cards = h('div', { class: 'rep-cards', 'data-testid': 'report-cards' });
  el.charts = h('div', { class: 'rep-charts' }, CHARTS.map((name) => {
    const img = h('img', { class: 'rep-chart-img', 'data-testid': 'report-chart', 'data-chart': name, alt: t('rep_chart_' + name), hidden: true });
    const note = h('p', { class: 'rep-chart-note', text: t('rep_loading') });
    // The server's chart has its title drawn in; the alt text says it again in words.
    return h('figure', { class: 'rep-chart rep-chart-' + name, 'data-name': name }, [img, note]);
  }));
  el.agents = h('table', { class: 'set-table rep-table', 'data-testid': 'report-agents', 'aria-label': t('rep_agentsLabel') });
  el.agentsEmpty = h('p', { class: 'set-empty rep-empty', text: t('rep_agentsEmpty'), hidden: true });
  el.days = h('table', { class: 'set-table rep-table', 'data-testid': 'report-days', 'aria-label': t('rep_days') });
  el.body = h('div', { class: 'rep-body' }, [
    el.cards,
    h('section', { class: 'rep-section', 'aria-labelledby': 'report-charts-title' }, [
      h('h2', { class: 'rep-heading', id: 'report-charts-title', text: t('rep_charts') }), el.charts,
    ]),
    h('section', { class: 'rep-section', 'aria-labelledby': 'report-agents-title' }, [
      h('div', { class: 'rep-section-head' }, [
        h('h2', { class: 'rep-heading', id: 'report-agents-title', text: t('rep_agents') }),
        exportButton('agents', t('rep_exportAgents')),
      ]),
      h('div', { class: 'set-table-wrap' }, [el.agents, el.agentsEmpty]),
    ]),
    h('section', { class: 'rep-section', 'aria-labelledby': 'report-days-title' }, [
      h('div', { class: 'rep-section-head' }, [
        h('h2', { class: 'rep-heading', id: 'report-days-title', text: t('rep_days') }),
        exportButton('days', t('rep_exportDays')),
      ]),
      h('div', { class: 'set-table-wrap' }, [el.days]),
    ]),
  ]);
  setChildren(el.area, h('div', { class: 'rep-inner' }, [
    h('div', { class: 'rep-top' }, [
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm rep-back', 'data-testid': 'report-back', text: '← ' + t('rep_back'), onclick: close }),
      el.title,
      el.meta,
    ]),
    h('div', { class: 'rep-toolbar', role: 'group', 'aria-label': t('rep_rangeLabel') }, [
      h('label', { class: 'rep-date-field', for: 'report-from' }, [h('span', { class: 'sr-only', text: t('rep_from') })]),
      el.from,
      h('span', { class: 'rep-sep', 'aria-hidden': 'true', text: t('rep_rangeSep') }),
      h('label', { class: 'rep-date-field', for: 'report-to' }, [h('span', { class: 'sr-only', text: t('rep_to') })]),
      el.to,
      h('div', { class: 'rep-quicks' }, el.quick),
      h('label', { class: 'sr-only', for: 'report-group', text: t('rep_group') }),
      el.group,
      h('label', { class: 'sr-only', for: 'report-agent', text: t('rep_agent') }),
      el.agent,
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm rep-refresh', 'data-testid': 'report-refresh', text: t('rep_refresh'), onclick: () => load() }),
      el.status,
    ]),
    el.rangeError,
    el.live,
    el.body,
  ]));
  drawChoices();
  // A frame built anew shows the charts already fetched.
  for (const [name, url] of Object.entries(charts)) showChart(name, url);
}

function exportButton(table, label) {
  return h('button', {
    type: 'button',
    class: 'btn btn-ghost btn-sm rep-export',
    'data-testid': 'report-export',
    'data-table': table,
    text: '⤓ ' + t('rep_export'),
    'aria-label': label,
    title: label,
    onclick: (e) => exportCSV(table, e.currentTarget),
  });
}

// loadChoices fetches the shop's groups and agents for the filters; without them the filters
// offer only 全部.
function loadChoices() {
  Promise.all([api('GET', '/api/v1/groups'), api('GET', '/api/v1/agents')])
    .then(([g, a]) => {
      choices = { groups: g.groups || [], agents: a.agents || [] };
      drawChoices();
    })
    .catch(() => {});
}

function drawChoices() {
  const fill = (sel, all, list, idOf, nameOf, value) => {
    setChildren(sel, h('option', { value: '', text: all }), ...list.map((x) => h('option', { value: String(idOf(x)), text: nameOf(x) })));
    sel.value = value;
  };
  const c = choices || { groups: [], agents: [] };
  fill(el.group, t('rep_allGroups'), c.groups, (g) => g.id, (g) => g.name || g.slug, filter.group_id);
  fill(el.agent, t('rep_allAgents'), c.agents, (a) => a.id, (a) => a.name || a.username, filter.agent_id);
}

function onFilterChange() {
  filter = { group_id: el.group.value, agent_id: el.agent.value };
  load();
}

function today() {
  return todayIn(tz);
}

function pickQuick(n) {
  setRange(lastDays(today(), n));
}

function onDateChange() {
  setRange({ from: el.from.value, to: el.to.value });
}

// setRange asks for the report of r if the server will take it, else says what is wrong.
function setRange(r) {
  const problem = rangeProblem(r.from, r.to);
  el.rangeError.hidden = !problem;
  el.rangeError.textContent = problem ? t(problem) : '';
  el.from.setAttribute('aria-invalid', problem ? 'true' : 'false');
  el.to.setAttribute('aria-invalid', problem ? 'true' : 'false');
  if (problem) return;
  range = { from: r.from, to: r.to };
  drawRange();
  load();
}

// load asks for the report of the range (the server's default range the first time) and then
// its charts; a newer load wins over one still under way.
function load() {
  const gen = ++loadGen;
  clearTimeout(again);
  again = null;
  loading = true;
  loadError = null;
  drawStatus();
  const asked = filterKey();
  // One call computes the report and draws its charts (their words in the console's language).
  const extra = Object.assign({}, filter, { charts: 'svg', lang: state.lang === 'en' ? 'en' : '' });
  api('GET', '/api/v1/reports' + query(range, extra))
    .then((r) => {
      if (gen !== loadGen) return;
      report = r;
      report.filterKey = asked;
      tz = r.time_zone || tz;
      range = { from: r.from, to: r.to };
      loading = false;
      // The server was still folding older history into the reports (its first start after an
      // upgrade, or the demo's first seconds): show what there is and ask again shortly.
      if (r.incomplete && isOpen()) again = setTimeout(load, INCOMPLETE_RETRY_MS);
      drawAll();
      showCharts();
    })
    .catch((err) => {
      if (err.cancelled || gen !== loadGen) return;
      loading = false;
      loadError = err;
      drawStatus();
    });
}

// showCharts shows the five charts the report came with (SVG the server drew, charts=svg), each
// through an object URL; the URLs they replace are revoked.
function showCharts() {
  if (!report || !report.charts) return;
  for (const name of CHARTS) {
    const svg = report.charts[name];
    if (!svg) continue;
    const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    const old = charts[name];
    charts[name] = url;
    showChart(name, url);
    if (old) URL.revokeObjectURL(old);
  }
}

function chartFigure(name) {
  return el.charts && el.charts.querySelector('figure[data-name="' + name + '"]');
}

function showChart(name, url) {
  const f = chartFigure(name);
  if (!f) return;
  const img = f.querySelector('img');
  img.src = url;
  img.hidden = false;
  img.setAttribute('data-range', report ? report.from + '..' + report.to : '');
  img.setAttribute('data-filter', report ? report.filterKey : '');
  img.alt = report ? t('rep_chartAlt', { chart: t('rep_chart_' + name), from: report.from, to: report.to }) : t('rep_chart_' + name);
  f.querySelector('.rep-chart-note').hidden = true;
  f.classList.remove('is-loading');
}

function dropCharts() {
  for (const url of Object.values(charts)) URL.revokeObjectURL(url);
  charts = {};
}

// filterKey names the filters asked for, e.g. "group=2 agent=" (the page's data-filter).
function filterKey() {
  return 'group=' + filter.group_id + ' agent=' + filter.agent_id;
}

function drawAll() {
  drawRange();
  drawStatus();
  drawCards();
  drawAgents();
  drawDays();
  drawLive();
}

function drawRange() {
  if (range) {
    el.from.value = range.from;
    el.to.value = range.to;
    el.to.max = today();
    el.from.max = range.to;
  }
  const pick = range ? quickRange(range.from, range.to, today(), QUICK) : 7;
  for (let i = 0; i < QUICK.length; i++) {
    const on = QUICK[i] === pick;
    el.quick[i].setAttribute('aria-pressed', String(on));
    el.quick[i].classList.toggle('is-active', on);
  }
}

function drawStatus() {
  el.area.setAttribute('aria-busy', String(loading));
  el.body.classList.toggle('is-loading', loading && !!report);
  if (report && !loading) {
    el.area.setAttribute('data-range', report.from + '..' + report.to);
    el.area.setAttribute('data-filter', report.filterKey);
  }
  el.area.setAttribute('data-incomplete', String(!!(report && report.incomplete)));
  if (loadError) {
    setChildren(el.status, h('span', { class: 'rep-error', text: t('rep_loadFailed', { msg: errText(loadError) }) }), ' ',
      h('button', { type: 'button', class: 'btn-link', text: t('rep_retry'), onclick: () => load() }));
  } else {
    setChildren(el.status, loading ? t('rep_loading') : report && report.incomplete ? t('rep_incomplete') : '');
  }
  el.meta.textContent = report ? t('rep_meta', { from: report.from, to: report.to, tz: report.time_zone }) : '';
}

function cardSub(key, r) {
  const s = r.summary || {};
  const c = s.conversion || {};
  switch (key) {
    case 'conversations': return t('rep_sub_conversations', { n: fmtCount(s.buyer_messages) });
    case 'response_rate_3m': return t('rep_sub_response_rate_3m', { n: fmtCount(s.answered_in_3m), of: fmtCount(s.waited) });
    case 'abandonment_rate': return t('rep_sub_abandonment_rate', { n: fmtCount(s.abandoned) });
    case 'csat_mean': return t('rep_sub_csat_mean', { n: fmtCount((s.csat || {}).ratings) });
    case 'conversion_rate': return t('rep_sub_conversion_rate', { n: fmtCount(c.converted_buyers), of: fmtCount(c.inquiring_buyers) });
    case 'revenue': return t('rep_sub_revenue', { n: fmtCount(c.orders) });
    case 'silent_share': return r.silent ? t('rep_sub_silent_share', { n: fmtCount(r.silent.orders), of: fmtCount(r.orders_placed) }) : '';
    default: return '';
  }
}

function drawCards() {
  if (!report) {
    setChildren(el.cards, ...(loadError ? [] : [h('p', { class: 'set-empty', text: t('rep_loading') })]));
    return;
  }
  setChildren(el.cards, ...CARDS.map((c) => {
    const v = format(c.kind, c.value(report), state.lang);
    return h('div', { class: 'rep-card' + (v === NONE ? ' is-none' : ''), 'data-testid': 'report-card', 'data-key': c.key }, [
      h('div', { class: 'rep-card-label', text: t('rep_card_' + c.key) }),
      h('div', { class: 'rep-card-value', 'data-testid': 'report-card-value', text: v }),
      h('div', { class: 'rep-card-sub', text: cardSub(c.key, report) }),
    ]);
  }));
}

function headCell(col, sortable) {
  const label = t('rep_col_' + col.key);
  const num = col.kind !== 'text';
  if (!sortable) return h('th', { scope: 'col', class: num ? 'num' : null, text: label });
  const mark = ariaSort(sort, col.key);
  return h('th', { scope: 'col', class: num ? 'num' : null, 'aria-sort': mark, 'data-key': col.key }, [
    h('button', {
      type: 'button',
      class: 'rep-sort' + (mark ? ' is-sorted' : ''),
      'data-testid': 'report-sort',
      'data-key': col.key,
      title: t('rep_sortBy', { col: label }),
      onclick: () => {
        sort = nextSort(sort, col.key);
        drawAgents();
        const again = el.agents.querySelector('button[data-key="' + col.key + '"]');
        if (again) again.focus();
      },
    }, [label, h('span', { class: 'rep-sort-mark', 'aria-hidden': 'true', text: mark === 'ascending' ? '▲' : mark === 'descending' ? '▼' : '↕' })]),
  ]);
}

function bodyCell(col, row) {
  const v = col.value(row);
  return h('td', {
    class: col.kind === 'text' ? 'rep-name' : 'num',
    'data-key': col.key,
    'data-value': v == null ? '' : String(v),
    text: format(col.kind, v, state.lang),
  });
}

function drawAgents() {
  const rows = report ? sortRows(report.agents || [], sort) : [];
  el.agentsEmpty.hidden = !report || rows.length > 0;
  setChildren(el.agents,
    h('thead', null, [h('tr', null, AGENT_COLUMNS.map((c) => headCell(c, true)))]),
    h('tbody', null, rows.map((a) => h('tr', { 'data-testid': 'report-agent-row', 'data-agent-id': a.agent_id },
      AGENT_COLUMNS.map((c) => bodyCell(c, a))))));
}

function drawDays() {
  const rows = report ? (report.days || []).slice().reverse() : []; // the latest day first
  setChildren(el.days,
    h('thead', null, [h('tr', null, DAY_COLUMNS.map((c) => headCell(c, false)))]),
    h('tbody', null, rows.map((d) => h('tr', { 'data-testid': 'report-day-row', 'data-date': d.date },
      DAY_COLUMNS.map((c) => bodyCell(c, d))))));
}

// exportCSV downloads one of the report's tables as the server writes it (UTF-8 with a BOM);
// the agent table in the order shown.
async function exportCSV(table, button) {
  if (!report) return;
  const extra = Object.assign({}, filter, { lang: state.lang === 'en' ? 'en' : '' });
  if (table === 'agents') Object.assign(extra, { sort: sort.key, order: sort.order });
  const r = { from: report.from, to: report.to };
  button.disabled = true;
  try {
    const blob = await api('GET', '/api/v1/reports/tables/' + table + '.csv' + query(r, extra), undefined, { blob: true });
    const name = 'kefu-report-' + table + '-' + r.from + '_' + r.to + '.csv';
    saveFile(blob, name);
    toast(t('rep_exported', { name }));
  } catch (err) {
    if (!err.cancelled) toast(errText(err), 'error');
  } finally {
    button.disabled = false;
  }
}

function startLive() {
  stopLive();
  loadLive();
  liveTimer = setInterval(loadLive, LIVE_MS);
}

function stopLive() {
  if (liveTimer) clearInterval(liveTimer);
  liveTimer = null;
}

function loadLive() {
  api('GET', '/api/v1/reports/live')
    .then((b) => {
      if (!isOpen()) return;
      live = Object.assign({}, b, { at: new Date().toTimeString().slice(0, 8) }); // HH:MM:SS, local
      liveError = false;
      drawLive();
    })
    .catch((err) => {
      if (err.cancelled) return;
      liveError = true;
      drawLive();
    });
}

function liveItem(key, value, sub, hot) {
  return h('div', { class: 'rep-live-item' + (hot ? ' is-hot' : ''), 'data-key': key }, [
    h('div', { class: 'rep-live-value', text: value }),
    h('div', { class: 'rep-live-label', text: t('rep_live_' + key) }),
    sub ? h('div', { class: 'rep-live-sub', text: sub }) : null,
  ]);
}

function drawLive() {
  const head = h('div', { class: 'rep-live-head' }, [
    h('span', { class: 'rep-live-dot' + (live && !liveError ? ' is-on' : ''), 'aria-hidden': 'true' }),
    h('h2', { class: 'rep-live-title', id: 'report-live-title', text: t('rep_live') }),
    h('span', { class: 'rep-live-at', text: liveError ? t('rep_live_failed') : live ? t('rep_live_updated', { time: live.at }) : t('rep_loading') }),
  ]);
  if (!live) {
    setChildren(el.live, head);
    return;
  }
  const stage = live.stage || 'normal';
  const stageSub = [live.surge ? t('rep_live_surge') : '', live.estimated_wait_seconds > 0 ? t('rep_live_estimate', { d: fmtDuration(live.estimated_wait_seconds, state.lang) }) : '']
    .filter(Boolean).join(' · ');
  setChildren(el.live, head, h('div', { class: 'rep-live-items' }, [
    liveItem('waiting', fmtCount(live.waiting), '', live.waiting > 0),
    liveItem('longest', live.waiting > 0 ? fmtDuration(live.longest_wait_seconds, state.lang) : NONE, '', live.longest_wait_seconds >= 180),
    liveItem('online', fmtCount(live.agents_online), t('rep_live_away', { n: fmtCount(live.agents_away) }), false),
    liveItem('inProgress', fmtCount(live.in_progress), '', false),
    liveItem('stage', hasString('rep_stage_' + stage) ? t('rep_stage_' + stage) : stage, stageSub, stage !== 'normal' || live.surge),
  ]));
}
