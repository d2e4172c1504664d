// Unit tests of the settings pages' reading of what is typed (static/views/settings/forms.js):
// amounts in yuan become integer cents without floating point, and back; whole numbers within
// bounds; open hours typed as "09:00-18:00, 19:00-22:00"; the API's field paths and the textarea
// line they point at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yuanToCents, centsToYuan, parseWhole, parseSpans, formatSpans, parsePath, splitLines, lineOf, unwrap } from '../static/views/settings/forms.js';

test('yuan typed by the owner become exact cents', () => {
  for (const [typed, cents] of [['0', 0], ['118', 11800], ['118.5', 11850], ['118.50', 11850], ['0.29', 29], ['0.07', 7], [' 500.5 ', 50050], ['9999999999.99', 999999999999]]) {
    assert.equal(yuanToCents(typed), cents, typed);
  }
  for (const bad of ['', '-1', '1.234', '1,5', 'abc', '1e3', '.5', '12345678901']) assert.equal(yuanToCents(bad), null, bad);
});

test('cents are shown as yuan without trailing zeros', () => {
  assert.equal(centsToYuan(0), '0');
  assert.equal(centsToYuan(11800), '118');
  assert.equal(centsToYuan(11850), '118.50');
  assert.equal(centsToYuan(5), '0.05');
  for (const c of [0, 1, 29, 100, 50050, 999999999999]) assert.equal(yuanToCents(centsToYuan(c)), c, String(c));
});

test('whole numbers are read within their bounds', () => {
  assert.equal(parseWhole('90', 0, 3600), 90);
  assert.equal(parseWhole(' 0 ', 0, 3600), 0);
  assert.equal(parseWhole('3601', 0, 3600), null);
  assert.equal(parseWhole('0', 1, 100), null);
  for (const bad of ['', '1.5', '-3', 'x', '1e2']) assert.equal(parseWhole(bad, 0, 100), null, bad);
});

test('open hours are read as minutes after midnight, and written back', () => {
  assert.deepEqual(parseSpans('09:00-18:00, 19:00-22:00'), [{ start: 540, end: 1080 }, { start: 1140, end: 1320 }]);
  assert.deepEqual(parseSpans('9:00–12:30，13:00~24:00'), [{ start: 540, end: 750 }, { start: 780, end: 1440 }]);
  assert.deepEqual(parseSpans('  '), []);
  for (const bad of ['18:00-09:00', '09:00-09:00', '09:00', '9-18', '09:60-10:00', '00:00-24:01', '09:00-18:00, x']) assert.equal(parseSpans(bad), null, bad);
  assert.equal(formatSpans([{ start: 540, end: 1080 }, { start: 0, end: 1440 }]), '09:00-18:00, 00:00-24:00');
  assert.equal(formatSpans(undefined), '');
  for (const typed of ['09:00-18:00', '00:00-24:00', '08:15-11:45, 13:00-17:30']) assert.equal(formatSpans(parseSpans(typed)), typed);
});

test('the API names an input by a JSON path', () => {
  assert.deepEqual(parsePath('patterns[1]'), ['patterns', 1]);
  assert.deepEqual(parsePath('hours.weekly[2][0]'), ['hours', 'weekly', 2, 0]);
  assert.deepEqual(parsePath('answer'), ['answer']);
  assert.deepEqual(parsePath(''), []);
});

test('a one-per-line textarea: its lines, and the line the i-th of them is on', () => {
  const text = 'a\n\n  b \n\nc';
  assert.deepEqual(splitLines(text), ['a', 'b', 'c']);
  assert.equal(lineOf(text, 0), 1);
  assert.equal(lineOf(text, 1), 3);
  assert.equal(lineOf(text, 2), 5);
  assert.equal(lineOf(text, 7), 8);
});

test('an answer is read with or without its wrapper', () => {
  assert.deepEqual(unwrap({ rule: { id: 1 } }, 'rule'), { id: 1 });
  assert.deepEqual(unwrap({ id: 1, name: 'x' }, 'rule'), { id: 1, name: 'x' });
});
