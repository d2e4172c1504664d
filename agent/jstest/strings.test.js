// Unit tests of the console's string tables (static/strings.js): every key in both languages,
// no key claimed by two concerns, placeholders kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRINGS, LANGS, mergeStrings, t, hasString, normLang } from '../static/strings.js';
import { state } from '../static/state.js';

test('every string exists in every language', () => {
  const [first, ...rest] = LANGS;
  const keys = Object.keys(STRINGS[first]).sort();
  assert.ok(keys.length > 100);
  for (const lang of rest) assert.deepEqual(Object.keys(STRINGS[lang]).sort(), keys, lang);
});

test('a translation keeps the placeholders of the original', () => {
  const names = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const key of Object.keys(STRINGS['zh-CN'])) {
    for (const lang of LANGS) assert.deepEqual(names(STRINGS[lang][key]), names(STRINGS['zh-CN'][key]), lang + '.' + key);
  }
});

test('a key defined by two concerns is refused', () => {
  const a = { 'zh-CN': { x: '甲' }, en: { x: 'a' } };
  const b = { 'zh-CN': { x: '乙' }, en: { x: 'b' } };
  assert.throws(() => mergeStrings([a, b]), /defined twice/);
  assert.deepEqual(mergeStrings([a]), { 'zh-CN': { x: '甲' }, en: { x: 'a' } });
});

test('t speaks Chinese by default and English on request, filling placeholders', () => {
  state.lang = 'zh-CN';
  assert.equal(t('send'), '发送');
  assert.equal(t('unreadCount', { n: 3 }), '3 条未读');
  state.lang = 'en';
  assert.equal(t('send'), 'Send');
  assert.equal(t('unreadCount', { n: 3 }), '3 unread');
  assert.equal(t('no_such_key'), 'no_such_key');
  assert.equal(hasString('err_internal'), true);
  assert.equal(hasString('err_from_the_future'), false);
  state.lang = 'zh-CN';
});

test('language tags map to the two languages spoken', () => {
  assert.equal(normLang('en-US'), 'en');
  assert.equal(normLang('zh-TW'), 'zh-CN');
  assert.equal(normLang('fr'), null);
  assert.equal(normLang(''), null);
});
