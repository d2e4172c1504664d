// Unit tests of the conversation search's rules (static/search.js): what a text asks the server
// and how highlights cut a snippet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeOrderNo, searchParams, markParts } from '../static/search.js';

test('an order number is ASCII letters, digits and -, six or more, with a digit', () => {
  for (const s of ['2026111100123', 'SO-20261111', ' 123456 ', 'ab1234']) assert.equal(looksLikeOrderNo(s), true, s);
  for (const s of ['', '12345', 'refund', '发货 123456', '2026 1111', '１２３４５６', 'abc_123456']) assert.equal(looksLikeOrderNo(s), false, s);
});

test('an order number is searched as order_no, words as q; empty text is no search', () => {
  assert.equal(searchParams('2026111100123', 20).toString(), 'order_no=2026111100123&limit=20');
  assert.equal(searchParams(' 什么时候 发货 ').toString(), 'q=%E4%BB%80%E4%B9%88%E6%97%B6%E5%80%99+%E5%8F%91%E8%B4%A7');
  assert.equal(searchParams('   '), null);
});

test('highlights cut the text in code points, merged and clipped', () => {
  assert.deepEqual(markParts('请问什么时候发货呀', [{ start: 6, end: 8 }]),
    [{ text: '请问什么时候', mark: false }, { text: '发货', mark: true }, { text: '呀', mark: false }]);
  // 😀 is two UTF-16 units but one code point.
  assert.deepEqual(markParts('😀ab', [{ start: 1, end: 2 }]),
    [{ text: '😀', mark: false }, { text: 'a', mark: true }, { text: 'b', mark: false }]);
  assert.deepEqual(markParts('abcdef', [{ start: 3, end: 5 }, { start: 0, end: 2 }, { start: 1, end: 3 }, { start: 5, end: 99 }]),
    [{ text: 'abcdef', mark: true }]);
  assert.deepEqual(markParts('abc', [{ start: 2, end: 1 }, null]), [{ text: 'abc', mark: false }]);
  assert.deepEqual(markParts('', [{ start: 0, end: 1 }]), []);
});
