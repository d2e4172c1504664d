// The reports page (报表) without the page: the day ranges its quick buttons ask for, how its
// figures are worded (rates, durations, money, h:mm), which figures its cards and agent table
// show, and how the table sorts. views/reports.js draws what these answer; unit-tested under
// node (jstest/reports.test.js). A figure the server could not compute is null (docs/reports.md)
// and is worded NONE, never 0.

// NONE stands for a figure with nothing to compute it from.
export const NONE = '—';

// MAX_DAYS is the longest range a report covers (api.MaxReportDays).
export const MAX_DAYS = 366;

const DAY_MS = 86400000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function pad2(n) {
  return String(n).padStart(2, '0');
}

// parseDay answers the UTC midnight of a YYYY-MM-DD day (in ms), or NaN. Day arithmetic is done
// in UTC so that no DST change moves a day.
export function parseDay(s) {
  const m = DATE.exec(String(s || ''));
  if (!m) return NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  const d = new Date(ms);
  // 2026-02-31 is no day (Date.UTC would roll it over to March).
  if (d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) return NaN;
  return ms;
}

function dayString(ms) {
  const d = new Date(ms);
  return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
}

// addDays answers the day n days after day (YYYY-MM-DD; n may be negative).
export function addDays(day, n) {
  return dayString(parseDay(day) + n * DAY_MS);
}

// todayIn answers today's date (YYYY-MM-DD) in the time zone tz (an IANA name) at now; with no
// usable tz, the browser's own.
export function todayIn(tz, now = new Date()) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz || undefined, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  } catch {
    parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  }
  const v = (type) => parts.find((p) => p.type === type).value;
  return v('year') + '-' + v('month') + '-' + v('day');
}

// lastDays is the range of the n days up to today, today included: {from, to}.
export function lastDays(today, n) {
  return { from: addDays(today, -(n - 1)), to: today };
}

// rangeProblem answers what is wrong with a range, as a string key of strings/reports.js, or ''
// when the server will take it: both days real, to not before from, at most MAX_DAYS days.
export function rangeProblem(from, to) {
  const f = parseDay(from);
  const t = parseDay(to);
  if (isNaN(f) || isNaN(t)) return 'rep_rangeInvalid';
  if (t < f) return 'rep_rangeReversed';
  if ((t - f) / DAY_MS + 1 > MAX_DAYS) return 'rep_rangeTooLong';
  return '';
}

// quickRange answers which quick button (its day count) the range is, or 0: the last n days up
// to today.
export function quickRange(from, to, today, choices) {
  if (to !== today) return 0;
  for (const n of choices) if (lastDays(today, n).from === from) return n;
  return 0;
}

// fmtRate words a fraction as a percentage with one decimal: 0.753 -> "75.3%", 1 -> "100%".
export function fmtRate(v) {
  if (v == null || !isFinite(v)) return NONE;
  const s = (Math.round(v * 1000) / 10).toFixed(1);
  return (s.endsWith('.0') ? s.slice(0, -2) : s) + '%';
}

const UNITS = {
  'zh-CN': { s: '秒', m: '分', h: '小时', sep: '' },
  en: { s: 's', m: 'm', h: 'h', sep: ' ' },
};

// fmtDuration words seconds for reading: "45秒", "3分05秒", "1小时02分" (en: "45s", "3m 05s",
// "1h 02m"). Under a minute it keeps one decimal below 10 s ("2.5秒"); it rounds to whole
// seconds above, and drops the seconds from an hour on.
export function fmtDuration(sec, lang) {
  if (sec == null || !isFinite(sec)) return NONE;
  const u = UNITS[lang] || UNITS['zh-CN'];
  if (sec < 0) sec = 0;
  if (sec < 9.95) {
    const s = (Math.round(sec * 10) / 10).toFixed(1);
    return (s.endsWith('.0') ? s.slice(0, -2) : s) + u.s;
  }
  let n = Math.round(sec);
  if (n < 60) return n + u.s;
  if (n < 3600) return Math.floor(n / 60) + u.m + u.sep + pad2(n % 60) + u.s;
  n = Math.round(n / 60); // minutes
  return Math.floor(n / 60) + u.h + u.sep + pad2(n % 60) + u.m;
}

// fmtHM words seconds as hours and minutes, "h:mm" (online time): 5400 -> "1:30".
export function fmtHM(sec) {
  if (sec == null || !isFinite(sec)) return NONE;
  const m = Math.floor(Math.max(0, sec) / 60);
  return Math.floor(m / 60) + ':' + pad2(m % 60);
}

// fmtYuan words integer cents as yuan with two decimals and thousands separators, without
// floating point: 123456789 -> "¥1,234,567.89".
export function fmtYuan(cents) {
  if (cents == null || !isFinite(cents)) return NONE;
  const n = Math.round(Number(cents));
  const a = Math.abs(n);
  const yuan = String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-' : '') + '¥' + yuan + '.' + pad2(a % 100);
}

// fmtDecimal words a mean with digits decimals: 4.666 -> "4.67" (2).
export function fmtDecimal(v, digits = 2) {
  if (v == null || !isFinite(v)) return NONE;
  return Number(v).toFixed(digits);
}

// fmtCount words a count with thousands separators.
export function fmtCount(v) {
  if (v == null || !isFinite(v)) return NONE;
  return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// format words value v of kind (one of the columns' kinds) in lang.
export function format(kind, v, lang) {
  switch (kind) {
    case 'text': return v == null || v === '' ? NONE : String(v);
    case 'count': return fmtCount(v);
    case 'rate': return fmtRate(v);
    case 'duration': return fmtDuration(v, lang);
    case 'money': return fmtYuan(v);
    case 'hm': return fmtHM(v);
    case 'mean1': return fmtDecimal(v, 1);
    case 'mean2': return fmtDecimal(v, 2);
    default: return v == null ? NONE : String(v);
  }
}

const fig = (f) => f || {};
const stat = (s) => (s ? s.median_seconds : null);

// CARDS are the summary cards: key (data-key, and rep_card_<key> its label), the figure from the
// report and its kind.
export const CARDS = [
  { key: 'conversations', kind: 'count', value: (r) => fig(r.summary).conversations },
  { key: 'buyers', kind: 'count', value: (r) => fig(r.summary).buyers },
  { key: 'first_response_median', kind: 'duration', value: (r) => stat(fig(r.summary).first_response) },
  { key: 'response_rate_3m', kind: 'rate', value: (r) => fig(r.summary).response_rate_3m },
  { key: 'queue_wait_mean', kind: 'duration', value: (r) => (fig(r.summary).queue_wait || {}).mean_seconds },
  { key: 'abandonment_rate', kind: 'rate', value: (r) => fig(r.summary).abandonment_rate },
  { key: 'csat_mean', kind: 'mean1', value: (r) => (fig(r.summary).csat || {}).mean },
  { key: 'conversion_rate', kind: 'rate', value: (r) => (fig(r.summary).conversion || {}).rate },
  { key: 'revenue', kind: 'money', value: (r) => (fig(r.summary).conversion || {}).revenue_cents },
  { key: 'silent_share', kind: 'rate', value: (r) => (r.silent ? r.silent.share : null) },
];

// AGENT_COLUMNS are the agent table's columns: key (the CSV's column key, so an export sorts by
// the same column, rows without a figure last, ties as the server lists them; rep_col_<key> its
// header), the row's value and its kind.
export const AGENT_COLUMNS = [
  { key: 'name', kind: 'text', value: (a) => a.name },
  { key: 'conversations', kind: 'count', value: (a) => a.conversations },
  { key: 'first_response_median', kind: 'duration', value: (a) => stat(a.first_response) },
  { key: 'response_rate_3m', kind: 'rate', value: (a) => a.response_rate_3m },
  { key: 'csat_mean', kind: 'mean1', value: (a) => (a.csat || {}).mean },
  { key: 'inquiring_buyers', kind: 'count', value: (a) => (a.conversion || {}).inquiring_buyers },
  { key: 'converted_buyers', kind: 'count', value: (a) => (a.conversion || {}).converted_buyers },
  { key: 'conversion_rate', kind: 'rate', value: (a) => (a.conversion || {}).rate },
  { key: 'revenue', kind: 'money', value: (a) => (a.conversion || {}).revenue_cents },
  { key: 'online_seconds', kind: 'hm', value: (a) => a.online_seconds },
  { key: 'concurrent_mean', kind: 'mean2', value: (a) => a.concurrent_mean },
];

// firstOrder is the order a header's first click sorts by: names A to Z, figures largest first.
export function firstOrder(column) {
  return column.kind === 'text' ? 'asc' : 'desc';
}

// nextSort answers the sort after a click on the header key: the other order on the sorted
// column, else that column in its first order.
export function nextSort(sort, key, columns = AGENT_COLUMNS) {
  if (sort && sort.key === key) return { key, order: sort.order === 'asc' ? 'desc' : 'asc' };
  const col = columns.find((c) => c.key === key);
  return { key, order: col ? firstOrder(col) : 'desc' };
}

const collator = typeof Intl !== 'undefined' ? new Intl.Collator('zh-CN', { numeric: true }) : null;

function compareValues(x, y) {
  if (typeof x === 'string' || typeof y === 'string') {
    const a = String(x);
    const b = String(y);
    return collator ? collator.compare(a, b) : a < b ? -1 : a > b ? 1 : 0;
  }
  return x - y;
}

// sortRows answers rows sorted by the column sort.key in sort.order ('asc' | 'desc'), a copy.
// Rows without the figure (null) go last in either order; ties keep the agents in name order,
// then by id, so the table does not shuffle on a refresh.
export function sortRows(rows, sort, columns = AGENT_COLUMNS) {
  const list = rows.slice();
  const col = sort && columns.find((c) => c.key === sort.key);
  const byName = (a, b) => compareValues(String(a.name || ''), String(b.name || '')) || (a.agent_id || 0) - (b.agent_id || 0);
  if (!col) return list.sort(byName);
  const dir = sort.order === 'asc' ? 1 : -1;
  return list.sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    const xNone = x == null || (typeof x === 'number' && !isFinite(x));
    const yNone = y == null || (typeof y === 'number' && !isFinite(y));
    if (xNone !== yNone) return xNone ? 1 : -1;
    if (!xNone) {
      const c = compareValues(x, y);
      if (c) return dir * c;
    }
    return byName(a, b);
  });
}

// ariaSort is a header's aria-sort: 'ascending' / 'descending' on the sorted column, else null
// (no attribute).
export function ariaSort(sort, key) {
  if (!sort || sort.key !== key) return null;
  return sort.order === 'asc' ? 'ascending' : 'descending';
}

// query is the report's query string for a range (and the extra parameters, skipped when empty).
export function query(range, extra) {
  const p = new URLSearchParams();
  if (range && range.from) p.set('from', range.from);
  if (range && range.to) p.set('to', range.to);
  for (const [k, v] of Object.entries(extra || {})) if (v != null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? '?' + s : '';
}
