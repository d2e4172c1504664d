// Unit tests of the settings pages' number reading (static/views/settings/forms.js): amounts in
// yuan become integer cents without floating point, and back; whole numbers within bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yuanToCents, centsToYuan, parseWhole } from '../static/views/settings/forms.js';

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
