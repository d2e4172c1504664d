// Unit tests of the reports page's rules (static/reports.js): day ranges, how figures are
// worded (null is "—", never 0), and the agent table's sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NONE, parseDay, addDays, todayIn, lastDays, rangeProblem, quickRange,
  fmtRate, fmtDuration, fmtHM, fmtYuan, fmtDecimal, fmtCount, format,
  CARDS, AGENT_COLUMNS, nextSort, sortRows, ariaSort, query,
} from '../static/reports.js';

test('days: parse, add across months, years and a DST change, reject non-days', () => {
  assert.equal(addDays('2026-12-03', -6), '2026-11-27');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(addDays('2024-03-01', -1), '2024-02-29');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(addDays('2026-03-29', 1), '2026-03-30'); // Europe's DST change: still one day
  for (const bad of ['', '2026-02-31', '2026-13-01', '2026-1-1', 'x', null]) assert.ok(isNaN(parseDay(bad)), String(bad));
});

test('today is the shop time zone\'s', () => {
  const now = new Date('2026-12-03T17:30:00Z'); // 01:30 on the 4th in Shanghai
  assert.equal(todayIn('Asia/Shanghai', now), '2026-12-04');
  assert.equal(todayIn('UTC', now), '2026-12-03');
  assert.equal(todayIn('America/Los_Angeles', now), '2026-12-03');
  assert.match(todayIn('Not/AZone', now), /^\d{4}-\d{2}-\d{2}$/); // falls back to the browser's
});

test('quick ranges: the last n days, today included, and which button a range is', () => {
  assert.deepEqual(lastDays('2026-12-03', 1), { from: '2026-12-03', to: '2026-12-03' });
  assert.deepEqual(lastDays('2026-12-03', 7), { from: '2026-11-27', to: '2026-12-03' });
  assert.deepEqual(lastDays('2026-12-03', 30), { from: '2026-11-04', to: '2026-12-03' });
  const choices = [1, 7, 30];
  assert.equal(quickRange('2026-11-27', '2026-12-03', '2026-12-03', choices), 7);
  assert.equal(quickRange('2026-12-03', '2026-12-03', '2026-12-03', choices), 1);
  assert.equal(quickRange('2026-11-27', '2026-12-02', '2026-12-03', choices), 0);
  assert.equal(quickRange('2026-11-20', '2026-12-03', '2026-12-03', choices), 0);
});

test('rangeProblem: real days, in order, at most 366 of them', () => {
  assert.equal(rangeProblem('2026-11-27', '2026-12-03'), '');
  assert.equal(rangeProblem('2026-12-03', '2026-12-03'), '');
  assert.equal(rangeProblem('2026-12-04', '2026-12-03'), 'rep_rangeReversed');
  assert.equal(rangeProblem('', '2026-12-03'), 'rep_rangeInvalid');
  assert.equal(rangeProblem('2025-01-01', '2026-01-01'), ''); // 366 days
  assert.equal(rangeProblem('2025-01-01', '2026-01-02'), 'rep_rangeTooLong');
});

test('rates: one decimal, no trailing .0, null is none', () => {
  const cases = [[0.753, '75.3%'], [1, '100%'], [0, '0%'], [2 / 3, '66.7%'], [0.0004, '0%'], [0.5, '50%'], [null, NONE], [undefined, NONE], [NaN, NONE]];
  for (const [v, want] of cases) assert.equal(fmtRate(v), want, String(v));
});

test('durations: seconds, minutes and seconds, hours and minutes, in both languages', () => {
  const cases = [
    [0, '0秒', '0s'], [2.46, '2.5秒', '2.5s'], [9.96, '10秒', '10s'], [45.4, '45秒', '45s'],
    [59.6, '1分00秒', '1m 00s'], [185, '3分05秒', '3m 05s'], [3599.6, '1小时00分', '1h 00m'],
    [3720, '1小时02分', '1h 02m'], [90000, '25小时00分', '25h 00m'], [-3, '0秒', '0s'],
    [null, NONE, NONE],
  ];
  for (const [v, zh, en] of cases) {
    assert.equal(fmtDuration(v, 'zh-CN'), zh, String(v));
    assert.equal(fmtDuration(v, 'en'), en, String(v));
  }
});

test('h:mm, money, means and counts', () => {
  assert.equal(fmtHM(0), '0:00');
  assert.equal(fmtHM(5400), '1:30');
  assert.equal(fmtHM(59), '0:00');
  assert.equal(fmtHM(36 * 3600 + 5 * 60 + 59), '36:05');
  assert.equal(fmtHM(null), NONE);
  assert.equal(fmtYuan(0), '¥0.00');
  assert.equal(fmtYuan(5), '¥0.05');
  assert.equal(fmtYuan(11800), '¥118.00');
  assert.equal(fmtYuan(123456789), '¥1,234,567.89');
  assert.equal(fmtYuan(-1990), '-¥19.90');
  assert.equal(fmtYuan(null), NONE);
  assert.equal(fmtDecimal(4.666), '4.67');
  assert.equal(fmtDecimal(4.25, 1), '4.3');
  assert.equal(fmtDecimal(null), NONE);
  assert.equal(fmtCount(1234567), '1,234,567');
  assert.equal(fmtCount(0), '0');
  assert.equal(format('text', ''), NONE);
  assert.equal(format('money', 100), '¥1.00');
  assert.equal(format('duration', 61, 'en'), '1m 01s');
});

const report = {
  summary: {
    conversations: 12, buyers: 9, response_rate_3m: 0.75, abandonment_rate: null,
    first_response: { count: 8, mean_seconds: 40, median_seconds: 31, p90_seconds: 200 },
    queue_wait: { count: 0, mean_seconds: null, median_seconds: null, p90_seconds: null },
    csat: { ratings: 2, mean: 4.5 },
    conversion: { inquiring_buyers: 8, converted_buyers: 2, rate: 0.25, orders: 3, revenue_cents: 45600 },
  },
  silent: null,
};

test('cards read their figures; a null figure is none', () => {
  const shown = Object.fromEntries(CARDS.map((c) => [c.key, format(c.kind, c.value(report), 'zh-CN')]));
  assert.deepEqual(shown, {
    conversations: '12', buyers: '9', first_response_median: '31秒', response_rate_3m: '75%',
    queue_wait_mean: NONE, abandonment_rate: NONE, csat_mean: '4.5', conversion_rate: '25%',
    revenue: '¥456.00', silent_share: NONE,
  });
  assert.equal(CARDS.find((c) => c.key === 'silent_share').value({ silent: { share: 0.1 } }), 0.1);
  // An empty answer breaks nothing.
  for (const c of CARDS) assert.equal(format(c.kind, c.value({}), 'en'), NONE, c.key);
});

const A = (id, name, fig) => Object.assign({ agent_id: id, name, conversations: 0, online_seconds: 0, concurrent_mean: null,
  first_response: { median_seconds: null }, response_rate_3m: null, csat: { mean: null }, conversion: { rate: null, revenue_cents: 0 } }, fig);
const agents = [
  A(1, '小王', { conversations: 5, response_rate_3m: 0.8, conversion: { rate: 0.5, revenue_cents: 100 } }),
  A(2, '小丽', { conversations: 9, response_rate_3m: null, conversion: { rate: 0.2, revenue_cents: 900 } }),
  A(3, '阿丽', { conversations: 5, response_rate_3m: 0.6, conversion: { rate: null, revenue_cents: 0 } }),
  A(4, '店主', { conversations: 0 }),
];
const names = (rows) => rows.map((a) => a.name);

test('sortRows: by a figure either way, nulls last both ways, ties by name', () => {
  assert.deepEqual(names(sortRows(agents, { key: 'conversations', order: 'desc' })), ['小丽', '阿丽', '小王', '店主']);
  assert.deepEqual(names(sortRows(agents, { key: 'conversations', order: 'asc' })), ['店主', '阿丽', '小王', '小丽']);
  assert.deepEqual(names(sortRows(agents, { key: 'response_rate_3m', order: 'desc' })), ['小王', '阿丽', '店主', '小丽']);
  assert.deepEqual(names(sortRows(agents, { key: 'response_rate_3m', order: 'asc' })), ['阿丽', '小王', '店主', '小丽']);
  assert.deepEqual(names(sortRows(agents, { key: 'revenue', order: 'desc' })), ['小丽', '小王', '阿丽', '店主']);
  assert.deepEqual(names(sortRows(agents, { key: 'conversion_rate', order: 'asc' })), ['小丽', '小王', '阿丽', '店主']);
  const byName = names(sortRows(agents, { key: 'name', order: 'asc' }));
  assert.equal(byName[0], '阿丽');
  assert.deepEqual(names(sortRows(agents, { key: 'name', order: 'desc' })), byName.slice().reverse());
  assert.deepEqual(names(sortRows(agents, null)), byName);
  assert.equal(agents[0].name, '小王', 'sortRows sorts a copy');
});

test('nextSort toggles the sorted column; a new column starts largest first, names A to Z', () => {
  assert.deepEqual(nextSort(null, 'revenue'), { key: 'revenue', order: 'desc' });
  assert.deepEqual(nextSort({ key: 'revenue', order: 'desc' }, 'revenue'), { key: 'revenue', order: 'asc' });
  assert.deepEqual(nextSort({ key: 'revenue', order: 'asc' }, 'revenue'), { key: 'revenue', order: 'desc' });
  assert.deepEqual(nextSort({ key: 'revenue', order: 'asc' }, 'name'), { key: 'name', order: 'asc' });
  assert.equal(ariaSort({ key: 'name', order: 'asc' }, 'name'), 'ascending');
  assert.equal(ariaSort({ key: 'name', order: 'desc' }, 'name'), 'descending');
  assert.equal(ariaSort({ key: 'name', order: 'desc' }, 'revenue'), null);
});

test('the agent columns are the CSV table\'s keys, each once', () => {
  const keys = AGENT_COLUMNS.map((c) => c.key);
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(keys, ['name', 'conversations', 'first_response_median', 'response_rate_3m', 'csat_mean',
    'inquiring_buyers', 'converted_buyers', 'conversion_rate', 'revenue', 'online_seconds', 'concurrent_mean']);
});

test('query: the range and the extra parameters that are set', () => {
  assert.equal(query({ from: '2026-11-27', to: '2026-12-03' }), '?from=2026-11-27&to=2026-12-03');
  assert.equal(query({ from: '2026-11-27', to: '2026-12-03' }, { sort: 'revenue', order: 'asc', lang: '' }), '?from=2026-11-27&to=2026-12-03&sort=revenue&order=asc');
  assert.equal(query(null), '');
});
