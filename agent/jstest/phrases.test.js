// Unit tests of the quick phrases' rules (static/phrases.js): the `/query` at the caret, the
// picker's order, filling variables and finding the unfilled ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slashQuery, rankPhrases, fillVariables, unfilledVariables, replaceQuery, previewLine, digitPicks } from '../static/phrases.js';

test('slashQuery finds a / at the start or after white space, up to the caret', () => {
  const cases = [
    ['/', 1, { start: 0, query: '' }],
    ['/hi', 3, { start: 0, query: 'hi' }],
    ['/hi', 2, { start: 0, query: 'h' }],
    ['亲 /kd', 5, { start: 2, query: 'kd' }],
    ['第一行\n/发货', 7, { start: 4, query: '发货' }],
    ['a/b', 3, null], // inside a word (a URL, a fraction) is no query
    ['/hi there', 9, null], // a space ended it
    ['hello', 5, null],
    ['', 0, null],
    ['http://x', 8, null],
  ];
  for (const [text, caret, want] of cases) {
    assert.deepEqual(slashQuery(text, caret), want, JSON.stringify([text, caret]));
  }
});

const P = (id, shortcut, category, text, uses) => ({ id, shortcut, category, text, uses });
const phrases = [
  P(1, 'fh', '物流', '亲，下单后 48 小时内发货', 3),
  P(2, 'kd', '物流', '亲，您的订单 {order.no} 已发货，快递单号 {order.tracking_no}', 5),
  P(3, 'hi', '通用', '{buyer.name} 您好', 1),
  P(4, '', '售后', '7 天无理由退换，发货地址见订单', 9),
  P(5, 'kdx', 'KD 专区', 'Express', 0),
];
const ids = (list) => list.map((p) => p.id);

test('rankPhrases: shortcut prefix first, then category or text; most used first in each', () => {
  assert.deepEqual(ids(rankPhrases(phrases, '')), [4, 2, 1, 3, 5]);
  assert.deepEqual(ids(rankPhrases(phrases, 'kd')), [2, 5]); // 5's category matches too but it is a shortcut hit
  assert.deepEqual(ids(rankPhrases(phrases, 'KD')), [2, 5]);
  assert.deepEqual(ids(rankPhrases(phrases, 'h')), [3]);
  assert.deepEqual(ids(rankPhrases(phrases, '发货')), [4, 2, 1]); // text substrings, by uses
  assert.deepEqual(ids(rankPhrases(phrases, '物流')), [2, 1]); // category
  assert.deepEqual(ids(rankPhrases(phrases, 'express')), [5]);
  assert.deepEqual(ids(rankPhrases(phrases, 'f')), [1]);
  assert.deepEqual(ids(rankPhrases(phrases, 'zzz')), []);
});

test('rankPhrases shows at most the limit', () => {
  const many = Array.from({ length: 20 }, (_, i) => P(i, 's' + i, '', 't', i));
  const got = rankPhrases(many, 's');
  assert.equal(got.length, 9);
  assert.equal(got[0].id, 19);
  assert.equal(rankPhrases(many, '', 3).length, 3);
});

test('fillVariables fills what has a value and leaves the rest as written', () => {
  const text = '{buyer.name} 您好，我是 {agent.name}；订单 {order.no}，{shop.name}，{other.x}';
  assert.equal(
    fillVariables(text, { 'buyer.name': '张三', 'agent.name': '小王', 'shop.name': '', 'order.no': null }),
    '张三 您好，我是 小王；订单 {order.no}，{shop.name}，{other.x}',
  );
  assert.equal(fillVariables('{buyer.name}{buyer.name}', { 'buyer.name': '$&' }), '$&$&'); // no replace patterns
});

test('unfilledVariables names each known variable once, in order', () => {
  assert.deepEqual(unfilledVariables('单号 {order.tracking_no}，订单 {order.no}，{order.no}'), ['{order.tracking_no}', '{order.no}']);
  assert.deepEqual(unfilledVariables('{foo.bar} {nope} 价格 {10}'), []);
  assert.deepEqual(unfilledVariables('张三 您好'), []);
});

test('replaceQuery puts the phrase in place of the /query and the caret after it', () => {
  assert.deepEqual(replaceQuery('亲 /kd 谢谢', 2, 5, '单号'), { text: '亲 单号 谢谢', caret: 4 });
  assert.deepEqual(replaceQuery('/hi', 0, 3, '您好'), { text: '您好', caret: 2 });
});

test('previewLine keeps a phrase on one line', () => {
  assert.equal(previewLine(' 第一行\n第二行\t末尾 '), '第一行 第二行 末尾');
});

test('a Chinese input method types 、 or ／ for /: the picker opens for either', () => {
  assert.deepEqual(slashQuery('、hi', 3), { start: 0, query: 'hi' });
  assert.deepEqual(slashQuery('好的 ／kd', 6), { start: 3, query: 'kd' });
  assert.equal(slashQuery('a、b', 3), null);
});

test('a digit continues a shortcut that goes on with it, else picks', () => {
  const ps = [{ shortcut: 'a1' }, { shortcut: 'ab' }];
  assert.equal(digitPicks(ps, 'a', '1'), false);
  assert.equal(digitPicks(ps, 'a', '2'), true);
  assert.equal(digitPicks(ps, '', '1'), true);
});
