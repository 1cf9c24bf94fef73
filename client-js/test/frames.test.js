import test from 'node:test';
import assert from 'node:assert/strict';
import {
  base64,
  decodeBatch,
  decodeFrame,
  decodeWSBinary,
  encodeBatch,
  encodeClose,
  encodeMessage,
  encodeWSBinary,
  quote,
  truncateReason,
  unbase64,
  utf8Length,
} from '../src/frames.js';

test('quote escapes what JSON needs, and U+2028/U+2029 for JavaScript', () => {
  assert.equal(quote('hello\nworld'), '"hello\\nworld"');
  assert.equal(quote('say "hi" \\ ok'), '"say \\"hi\\" \\\\ ok"');
  assert.equal(quote('\u0001\t\r'), '"\\u0001\\t\\r"');
  assert.equal(quote('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
  assert.equal(quote('héllo ✓ 😀'), '"héllo ✓ 😀"');
  // A quoted string never holds a raw newline, so it fits in a frame.
  assert.ok(!quote('\n\r\u2028').includes('\n'));
});

test('text frames round-trip', () => {
  for (const s of ['', 'x', 'hello\nworld', '"quoted"', '\u2028\u2029', 'é😀', '\u0000\u001f']) {
    const f = decodeFrame(encodeMessage({ seq: 7, data: s }));
    assert.deepEqual(f, { t: 'm', seq: 7, data: s });
  }
  assert.equal(encodeMessage({ seq: 7, data: 'hello\nworld' }), 'm7:"hello\\nworld"');
});

test('base64 matches the standard encoding, with padding', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    const want = Buffer.from(bytes).toString('base64');
    assert.equal(base64(bytes), want, 'length ' + n);
    assert.deepEqual(unbase64(want), bytes);
  }
  assert.equal(encodeMessage({ seq: 8, data: new Uint8Array([0, 1, 2, 255]) }), 'b8:AAEC/w==');
  assert.deepEqual(decodeFrame('b8:AAEC/w=='), { t: 'b', seq: 8, data: new Uint8Array([0, 1, 2, 255]) });
});

test('malformed base64 is refused', () => {
  for (const bad of ['b1:AAE', 'b1:AA=C', 'b1:A===', 'b1:AA\r=', 'b1:AA-_', 'b1:AAE=AAAA', 'b1:=AAA']) {
    assert.throws(() => decodeFrame(bad), /malformed/, bad);
  }
  assert.deepEqual(decodeFrame('b1:'), { t: 'b', seq: 1, data: new Uint8Array(0) });
});

test('every frame type decodes', () => {
  assert.deepEqual(decodeFrame('h'), { t: 'h' });
  assert.deepEqual(decodeFrame('a0'), { t: 'a', seq: 0 });
  assert.deepEqual(decodeFrame('a12'), { t: 'a', seq: 12 });
  assert.deepEqual(decodeFrame('c1000:"bye"'), { t: 'c', code: 1000, reason: 'bye' });
  assert.deepEqual(decodeFrame('c4200:"session lost"'), { t: 'c', code: 4200, reason: 'session lost' });
  assert.deepEqual(decodeFrame('o{"v":1,"sid":"x"}'), { t: 'o', obj: { v: 1, sid: 'x' } });
  assert.deepEqual(decodeFrame('m9007199254740991:"max"'), { t: 'm', seq: 9007199254740991, data: 'max' });
});

test('malformed frames are protocol errors', () => {
  const bad = [
    'x', // unknown type
    'h1', // heartbeat with a body
    'a', // no number
    'a01', // leading zero
    'a+1',
    'a-1',
    'a12345678901234567', // 17 digits
    'm9007199254740992:"x"', // over 2^53-1
    'm0:"x"', // messages start at 1
    'm1"x"', // missing ':'
    'm1:x', // not a JSON string
    'm1:"x" ', // trailing bytes
    'm1:"x"y"',
    'm1:"\\q"', // bad escape
    'm1:"a\tb"', // raw control character
    'm1:1',
    'c999:"x"', // code outside 1000-4999
    'c5000:"x"',
    'c01000:"x"',
    'c1000', // missing ':'
    'c1000:bye',
    'o[]',
    'o{',
    'o',
  ];
  for (const f of bad) assert.throws(() => decodeFrame(f), /malformed frame/, f);
});

test('a batch is frames each followed by a newline; empty lines are skipped', () => {
  assert.deepEqual(decodeBatch('a3\n\nm4:"x"\nh\n'), [{ t: 'a', seq: 3 }, { t: 'm', seq: 4, data: 'x' }, { t: 'h' }]);
  assert.deepEqual(decodeBatch('h'), [{ t: 'h' }], 'the final newline may be left out');
  assert.deepEqual(decodeBatch(''), []);
  assert.throws(() => decodeBatch('h\nbad\n'));
  assert.equal(encodeBatch(['a3', { seq: 4, data: 'x' }]), 'a3\nm4:"x"\n');
});

test('close frames quote and cut their reason to 123 bytes', () => {
  assert.equal(encodeClose(1000, 'bye'), 'c1000:"bye"');
  const long = 'é'.repeat(100); // 200 bytes
  const cut = truncateReason(long);
  assert.equal(utf8Length(cut), 122);
  assert.equal(truncateReason('😀'.repeat(40)).length, 60, 'never half a surrogate pair');
  assert.equal(decodeFrame(encodeClose(3001, long)).reason, cut);
});

test('utf8Length counts UTF-8 bytes', () => {
  assert.equal(utf8Length('abc'), 3);
  assert.equal(utf8Length('é'), 2);
  assert.equal(utf8Length('✓'), 3);
  assert.equal(utf8Length('😀'), 4);
  assert.equal(utf8Length('\ud800'), 3);
});

test('WebSocket binary form: <seq>: and the raw bytes', () => {
  const msg = encodeWSBinary(7, new Uint8Array([0, 58, 255]));
  assert.deepEqual(Array.from(msg), [55, 58, 0, 58, 255]);
  const f = decodeWSBinary(msg.buffer);
  assert.equal(f.t, 'b');
  assert.equal(f.seq, 7);
  assert.deepEqual(Array.from(f.data), [0, 58, 255]);
  assert.throws(() => decodeWSBinary(new Uint8Array([49, 50]).buffer), /without ':'/);
  assert.throws(() => decodeWSBinary(new Uint8Array([48, 58]).buffer), /out of range/);
  assert.throws(() => decodeWSBinary(new Uint8Array([48, 49, 58]).buffer), /malformed/);
});
