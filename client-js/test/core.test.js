// The core over fake carriers: events, queueing, acks, resume,
// de-duplication, close codes, fallback, upgrade.

import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, OPEN_FRAME } from './fakes.js';
import { Tether } from '../src/index.js';

test('opens on the first carrier: open event, readyState, transport, id', () => {
  const { t, net, types } = setup();
  assert.equal(t.readyState, Tether.CONNECTING);
  assert.equal(t.transport, null);
  assert.deepEqual(net.names(), ['websocket']);
  assert.deepEqual(net.last().helloAtStart, {}, 'a new session: no sid in the hello');
  net.last().connect();
  assert.deepEqual(types(), ['open']);
  assert.equal(t.readyState, Tether.OPEN);
  assert.equal(t.readyState, t.OPEN);
  assert.equal(t.transport, 'websocket');
  assert.equal(t.id, 's1');
});

test('the constructor lets handlers be set before anything happens', () => {
  const net = { made: 0 };
  const t = new Tether('http://x.invalid/a', {
    _clock: { setTimeout: () => 1, clearTimeout() {}, now: () => 0 },
    _carriers: {
      websocket: () => {
        net.made++;
      },
    },
    transports: ['websocket'],
  });
  assert.equal(net.made, 0, 'no carrier before the first timer');
  assert.equal(t.url, 'http://x.invalid/a');
});

test('relative URLs resolve against the page; unknown transports throw', () => {
  const loc = { protocol: 'https:', host: 'example.com', pathname: '/app/page.html' };
  const clock = { setTimeout: () => 1, clearTimeout() {}, now: () => 0 };
  assert.equal(new Tether('/chat', { _env: { location: loc }, _clock: clock }).url, 'https://example.com/chat');
  assert.equal(new Tether('chat/', { _env: { location: loc }, _clock: clock }).url, 'https://example.com/app/chat');
  assert.equal(new Tether('wss://h.example/c?room=1', { _clock: clock }).url, 'https://h.example/c?room=1');
  assert.throws(() => new Tether('/chat', { _env: {}, _clock: clock }), /relative URL/);
  assert.throws(() => new Tether('http://h/c', { transports: ['carrier-pigeon'], _clock: clock }), /unknown transport/);
});

test('messages: text and binary, in order, duplicates dropped', () => {
  const { t, net, of } = setup();
  const car = net.last();
  car.connect();
  car.recv('m1:"a"\nm2:"b\\nc"\n');
  car.recv('m1:"a"\nm2:"b\\nc"\nm3:"d"\n'); // a replay after an ack was lost
  car.recv('b4:AAEC/w==\n');
  const data = of('message').map((e) => e.data);
  assert.deepEqual(data.slice(0, 3), ['a', 'b\nc', 'd']);
  assert.ok(data[3] instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(data[3])), [0, 1, 2, 255]);
  assert.equal(data.length, 4);
  assert.equal(t.readyState, Tether.OPEN);
});

test('a gap in server numbers abandons the carrier and resumes from the last delivered', () => {
  const { net, clock, of } = setup();
  const car = net.last();
  car.connect();
  car.recv('m1:"a"\n');
  car.recv('m3:"c"\n');
  assert.ok(car.closed);
  assert.equal(of('message').length, 1);
  assert.deepEqual(of('reconnecting').map((e) => [e.attempt, e.delay]), [[1, 0]]);
  clock.advance(0);
  assert.deepEqual(net.last().helloAtStart, { sid: 's1', token: 't1', last: 1 });
});

test('client messages are numbered from 1, batched with an ack, and kept until acked', () => {
  const { t, net } = setup();
  const car = net.last();
  car.connect();
  assert.equal(t.send('x'), true);
  assert.deepEqual(car.lastSent(), ['m1:"x"'], 'no ack before any server message');
  car.recv('m1:"hi"\n');
  t.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(car.lastSent(), ['a1', 'b2:AQID']);
  t.send(new Uint16Array([1]).buffer);
  assert.equal(t.bufferedAmount, 1 + 3 + 2);
  car.recv('a2\n');
  assert.equal(t.bufferedAmount, 2, 'messages 1 and 2 released');
  car.recv('a1\n'); // acks only grow
  car.recv('a9\n'); // never past what was sent
  assert.equal(t.bufferedAmount, 2);
});

test('typed array views send only their own bytes', () => {
  const { t, net } = setup();
  const car = net.last();
  car.connect();
  const buf = new Uint8Array([9, 9, 1, 2, 9]);
  t.send(buf.subarray(2, 4));
  assert.deepEqual(car.lastSent(), ['b1:AQI=']);
});

test('messages sent while connecting or disconnected are queued and sent once, in one batch', () => {
  const { t, net, clock } = setup();
  t.send('1');
  t.send('2');
  assert.equal(net.last().sent.length, 0);
  net.last().connect();
  assert.deepEqual(net.last().lastSent(), ['m1:"1"', 'm2:"2"']);
  net.last().recv('a2\nm1:"x"\n');
  net.last().fail();
  t.send('3');
  t.send('4');
  clock.advance(0);
  const car = net.last();
  assert.equal(car.sent.length, 0);
  car.connect({ ack: 2, resumed: true });
  assert.deepEqual(car.sent, ['a1\nm3:"3"\nm4:"4"\n']);
});

test('the queue is bounded: overflow fires error and send returns false', () => {
  const { t, of } = setup({ maxQueue: 2, maxQueueBytes: 10 });
  assert.equal(t.send('a'), true);
  assert.equal(t.send('b'), true);
  assert.equal(t.send('c'), false);
  assert.equal(of('error').length, 1);
  assert.match(of('error')[0].message, /queue full/);
  assert.ok(of('error')[0].error instanceof Error);
  const b = setup({ maxQueueBytes: 5 });
  assert.equal(b.t.send('abc'), true);
  assert.equal(b.t.send('abc'), false, 'bytes bound');
  assert.equal(b.t.send('ab'), true);
});

test('a message over the server limit is refused with an error event', () => {
  const { t, net, of } = setup();
  net.last().connect({ maxMessage: 4 });
  assert.equal(t.send('12345'), false);
  assert.match(of('error')[0].message, /over the server limit/);
  assert.equal(t.send('1234'), true);
});

test('a batch holds at most maxSend bytes; a larger message goes alone', () => {
  const { t, net } = setup();
  net.manualSend = true;
  const car = net.last();
  car.connect({ maxSend: 20 });
  t.send('aaaaa'); // m1:"aaaaa"\n = 11 bytes
  t.send('bbbbb');
  t.send('c'.repeat(30));
  assert.deepEqual(car.sent, ['m1:"aaaaa"\n'], 'one send in flight at a time');
  car.pending.shift()(null);
  assert.deepEqual(car.sent[1], 'm2:"bbbbb"\n');
  car.pending.shift()(null);
  assert.deepEqual(car.sent[2], 'm3:"' + 'c'.repeat(30) + '"\n');
});

test('resume re-sends everything above the ack of the open frame', () => {
  const { t, net, clock, of } = setup();
  const first = net.last();
  first.connect();
  for (const s of ['1', '2', '3', '4']) t.send(s);
  first.recv('a1\nm1:"x"\nm2:"y"\n');
  first.fail('network');
  assert.equal(t.readyState, Tether.CONNECTING);
  assert.deepEqual(of('reconnecting').map((e) => [e.attempt, e.delay]), [[1, 0]], 'at once: the carrier had carried');
  clock.advance(0);
  const second = net.last();
  assert.equal(second.name, 'websocket', 'the carrier that worked comes first');
  assert.deepEqual(second.helloAtStart, { sid: 's1', token: 't1', last: 2 });
  second.connect({ ack: 2, resumed: true });
  assert.deepEqual(second.lastSent(), ['a2', 'm3:"3"', 'm4:"4"']);
  second.recv('m2:"y"\nm3:"z"\n'); // the server replays what was not acked
  assert.deepEqual(of('message').map((e) => e.data), ['x', 'y', 'z']);
  assert.deepEqual(of('reconnected').map((e) => e.recovered), [true]);
  assert.equal(of('reconnected')[0].unconfirmed, undefined);
  assert.equal(of('transport').length, 0, 'same carrier: no transport event');
  assert.equal(t.readyState, Tether.OPEN);
});

test('a lost session: a new one, reconnected with recovered false, unconfirmed messages handed back', () => {
  const { t, net, clock, of } = setup();
  const first = net.last();
  first.connect();
  t.send('seen');
  t.send('maybe');
  first.recv('a1\nm1:"x"\n');
  first.fail();
  t.send('queued'); // never sent to the lost session
  clock.advance(0);
  const second = net.last();
  second.recv('c4200:"session lost"\n'); // the answer to the resume
  assert.equal(t.readyState, Tether.CONNECTING);
  const rec = of('reconnecting');
  assert.deepEqual(rec[1], { ...rec[1], attempt: 2, delay: 250 }, 'backs off first: 0.5 × 500 ms');
  clock.advance(249);
  assert.equal(net.made.length, 2);
  clock.advance(1);
  const third = net.last();
  assert.deepEqual(third.helloAtStart, {}, 'no sid: a new session');
  third.connect({ sid: 's2', token: 't2' });
  assert.equal(t.id, 's2');
  const ev = of('reconnected');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].recovered, false);
  assert.deepEqual(ev[0].unconfirmed, ['maybe']);
  assert.deepEqual(third.lastSent(), ['m1:"queued"'], 'renumbered from 1, no ack of the old session');
  third.recv('m1:"fresh"\n');
  assert.deepEqual(of('message').map((e) => e.data), ['x', 'fresh'], 'numbering restarts on the new session');
});

test('an open frame naming another session is a new session too', () => {
  const { net, clock, of } = setup();
  net.last().connect();
  net.last().recv('m1:"x"\n');
  net.last().fail();
  clock.advance(0);
  net.last().connect({ sid: 'other' });
  assert.equal(of('reconnected')[0].recovered, false);
  net.last().recv('m1:"again"\n');
  assert.equal(of('message').length, 2);
});

test('close codes: 1000, 3xxx and 40xx stop', () => {
  for (const [frame, code, reason] of [
    ['c1000:"bye"', 1000, 'bye'],
    ['c3001:"kicked"', 3001, 'kicked'],
    ['c4001:"message too big"', 4001, 'message too big'],
  ]) {
    const { t, net, clock, of } = setup();
    net.last().connect();
    net.last().recv(frame + '\n');
    assert.equal(t.readyState, Tether.CLOSED);
    assert.deepEqual(
      of('close').map((e) => [e.code, e.reason, e.wasClean]),
      [[code, reason, true]]
    );
    clock.advance(60000);
    assert.equal(net.made.length, 1, 'no reconnection');
    assert.equal(of('reconnecting').length, 0);
    assert.equal(t.send('late'), false);
  }
});

test('close codes: 41xx resume the same session at once', () => {
  const { net, clock, of } = setup();
  net.last().connect();
  net.last().recv('m1:"x"\nc4102:"heartbeat timeout"\n');
  assert.deepEqual(of('reconnecting').map((e) => e.delay), [0]);
  clock.advance(0);
  assert.deepEqual(net.last().helloAtStart, { sid: 's1', token: 't1', last: 1 });
});

test('close codes: 42xx and the reserved 43xx-49xx open a new session after a backoff', () => {
  for (const code of [4201, 4202, 4300, 4999]) {
    const { net, clock, of } = setup();
    net.last().connect();
    net.last().recv('m1:"x"\nc' + code + ':"gone"\n');
    assert.deepEqual(of('reconnecting').map((e) => e.delay), [250]);
    clock.advance(250);
    assert.deepEqual(net.last().helloAtStart, {});
    net.last().connect({ sid: 's2' });
    assert.equal(of('reconnected')[0].recovered, false);
  }
});

test('a refusal before the session exists (4203 too many sessions) backs off and retries', () => {
  const { t, net, clock, of, types } = setup();
  net.last().recv('c4203:"too many sessions"\n');
  assert.equal(t.readyState, Tether.CONNECTING);
  assert.deepEqual(of('reconnecting').map((e) => e.delay), [250]);
  clock.advance(250);
  net.last().connect();
  assert.deepEqual(types(), ['reconnecting', 'open'], 'the first success is open, not reconnected');
});

test('backoff: exponential with full jitter, capped, and a limit on attempts', () => {
  const rnd = [0.999, 0.5, 0.999, 0.999, 0.999, 0.999, 0.999, 0];
  let i = 0;
  const { net, clock, of } = setup(
    { transports: ['longpoll'], maxReconnectAttempts: 8, _random: () => rnd[i++] },
    { longpoll: (car) => car.fail('refused') }
  );
  for (let k = 0; k < 10; k++) clock.advance(20000);
  assert.deepEqual(
    of('reconnecting').map((e) => e.delay),
    [499, 500, 1998, 3996, 7992, 9990, 9990, 0]
  );
  assert.deepEqual(of('reconnecting').map((e) => e.attempt), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(net.made.length, 9, 'the first try and 8 reconnection attempts');
  assert.equal(of('error').length, 9, 'an error event per failed round');
  assert.match(of('error')[0].message, /could not connect: broken|could not connect: refused/);
  const close = of('close');
  assert.equal(close.length, 1);
  assert.equal(close[0].code, 1006);
  assert.equal(close[0].wasClean, false);
});

test('backoff honours reconnectDelay and maxReconnectDelay', () => {
  const { clock, of } = setup(
    { transports: ['polling'], reconnectDelay: 100, maxReconnectDelay: 300, _random: () => 0.999999 },
    { polling: (car) => car.fail() }
  );
  for (let k = 0; k < 5; k++) clock.advance(1000);
  assert.deepEqual(of('reconnecting').slice(0, 5).map((e) => e.delay), [99, 199, 299, 299, 299]);
});

test('fallback: a carrier that fails is abandoned for the next, in the configured order', () => {
  const { net, of, t } = setup({}, { websocket: (car) => car.fail('no websocket'), streaming: (car) => car.fail() });
  assert.deepEqual(net.names(), ['websocket', 'streaming', 'eventsource']);
  net.last().connect();
  assert.equal(t.transport, 'eventsource');
  assert.equal(of('error').length, 0, 'fallback within a round is silent');
  assert.deepEqual(of('open').length, 1);
});

test('fallback: a carrier that carries nothing within connectTimeout is abandoned', () => {
  const { net, clock, t } = setup({ transports: ['streaming', 'longpoll'], connectTimeout: 3000 });
  const stream = net.last();
  stream.open(); // the handshake worked, but the stream never shows up (a buffering proxy)
  clock.advance(2999);
  assert.equal(net.made.length, 1);
  clock.advance(1);
  assert.ok(stream.closed);
  assert.deepEqual(net.names(), ['streaming', 'longpoll']);
  assert.deepEqual(net.last().helloAtStart, { sid: 's1', token: 't1', last: 0 }, 'the next one resumes the session');
  net.last().connect({ resumed: true });
  assert.equal(t.transport, 'longpoll');
});

test('fallback: the choice is remembered for the page, per URL', () => {
  const a = setup({}, { websocket: (car) => car.fail() });
  a.net.last().connect();
  assert.equal(a.t.transport, 'streaming');
  const b = setup({ url: a.url });
  assert.deepEqual(b.net.names(), ['streaming'], 'starts on the remembered carrier');
  b.net.last().fail();
  assert.deepEqual(b.net.names(), ['streaming', 'websocket'], 'then the others, in order');
  const c = setup();
  assert.deepEqual(c.net.names(), ['websocket'], 'another URL starts from the top');
});

test('fallback: every carrier failing is one failed round: error, then backoff', () => {
  const all = {};
  for (const n of ['websocket', 'streaming', 'eventsource', 'longpoll', 'polling', 'jsonp']) all[n] = (car) => car.fail();
  const { net, of, clock, t } = setup({}, all);
  assert.equal(net.made.length, 6);
  assert.deepEqual(of('error').length, 1);
  assert.deepEqual(of('reconnecting').map((e) => [e.attempt, e.delay]), [[1, 250]]);
  assert.equal(t.readyState, Tether.CONNECTING);
  clock.advance(250);
  assert.equal(net.made.length, 12);
});

test('a refusal by origin or auth (HTTP 401/403) ends the connection', () => {
  const { t, net, of } = setup({}, { websocket: (car) => car.fail() });
  const err = new Error('tether: HTTP 403: origin not allowed');
  err.status = 403;
  err.fatal = true;
  net.last().ctx.fail(err);
  assert.equal(t.readyState, Tether.CLOSED);
  assert.equal(of('error')[0].error, err);
  assert.deepEqual(of('close').map((e) => [e.code, e.wasClean]), [[1008, false]]);
  assert.match(of('close')[0].reason, /403/);
});

test('a 41xx refusal of a resume (another receiver attached) waits and retries the same carrier', () => {
  const { net, clock, of } = setup({ transports: ['longpoll', 'polling'] });
  net.last().connect();
  net.last().recv('m1:"x"\n');
  net.last().fail();
  clock.advance(0);
  net.last().recv('c4103:"another receiver is attached"\n');
  assert.deepEqual(net.names(), ['longpoll', 'longpoll'], 'not on to polling');
  assert.deepEqual(of('reconnecting').map((e) => e.delay), [0, 250]);
  assert.equal(of('error').length, 0, 'the refusal is a step of the resume, not an error');
  clock.advance(250);
  assert.deepEqual(net.names(), ['longpoll', 'longpoll', 'longpoll']);
});

test('dead carrier: nothing received for the open frame timeout resumes on a new one', () => {
  const { net, clock, of } = setup();
  const car = net.last();
  car.connect({ timeout: 10000 });
  car.recv('m1:"x"\n');
  clock.advance(6000);
  car.recv('h\n');
  clock.advance(6000);
  assert.ok(!car.closed, 'a heartbeat 6 s ago keeps it alive');
  clock.advance(4000);
  assert.ok(car.closed);
  assert.equal(of('reconnecting').length, 1);
  clock.advance(0);
  assert.equal(net.made.length, 2);
  assert.deepEqual(net.last().helloAtStart.last, 1);
});

test('websocket acks: at least once per heartbeat interval, on h, and every 32 messages', () => {
  const { t, net, clock } = setup();
  const car = net.last();
  car.connect({ hb: 1000 });
  clock.advance(499);
  assert.equal(car.sent.length, 0);
  clock.advance(1);
  assert.deepEqual(car.sent, ['a0\n'], 'nothing written for half the interval: an ack');
  clock.advance(100);
  t.send('x');
  clock.advance(400);
  assert.equal(car.sent.length, 2, 'a write within the half interval: no ack needed');
  car.recv('h\n');
  assert.deepEqual(car.lastSent(), ['a0'], 'a heartbeat is answered with an ack');
  let text = '';
  for (let i = 1; i <= 32; i++) text += 'm' + i + ':"' + i + '"\n';
  car.recv(text);
  assert.deepEqual(car.lastSent(), ['a32']);
  car.recv('m33:"33"\n');
  assert.deepEqual(car.lastSent(), ['a32'], 'no ack for one more');
  car.recv('m33:"33"\n');
  assert.deepEqual(car.lastSent(), ['a33'], 'a replay is acked again');
  car.recv('m34:"' + 'x'.repeat(16 << 10) + '"\n');
  assert.deepEqual(car.lastSent(), ['a34'], '16 KiB unacked');
});

test('HTTP polling carriers ack in their queries, not with extra sends', () => {
  const { net } = setup({ transports: ['longpoll'] });
  const car = net.last();
  car.connect();
  let text = '';
  for (let i = 1; i <= 40; i++) text += 'm' + i + ':"' + i + '"\n';
  car.recv(text);
  assert.equal(car.sent.length, 0);
  assert.equal(car.ctx.ack(), 40);
});

test('streaming carriers send an ack every 32 messages', () => {
  const { net } = setup({ transports: ['eventsource'] });
  const car = net.last();
  car.connect();
  for (let i = 1; i <= 32; i++) car.recv('m' + i + ':"' + i + '"\n');
  assert.deepEqual(car.sent, ['a32\n']);
});

test('one send in flight on HTTP carriers; a failed send resumes and re-sends', () => {
  const { t, net, clock } = setup({ transports: ['longpoll'] });
  net.manualSend = true;
  const car = net.last();
  car.connect();
  t.send('1');
  t.send('2');
  assert.deepEqual(car.sent, ['m1:"1"\n']);
  car.pending.shift()(null);
  assert.deepEqual(car.sent[1], 'm2:"2"\n');
  car.recv('a1\n');
  car.pending.shift()(new Error('network'));
  assert.ok(car.closed);
  clock.advance(0);
  net.last().connect({ ack: 1, resumed: true });
  assert.deepEqual(net.last().sent, ['m2:"2"\n']);
});

test('close(): the close frame follows the queued messages; close event when it was sent', () => {
  const { t, net, of } = setup({ transports: ['longpoll'] });
  net.manualSend = true;
  const car = net.last();
  car.connect();
  car.recv('m1:"x"\n');
  t.send('last words');
  t.close(3000, 'done');
  assert.equal(t.readyState, Tether.CLOSING);
  assert.equal(t.send('too late'), false);
  assert.deepEqual(car.lastSent(), ['a1', 'm1:"last words"']);
  car.pending.shift()(null);
  assert.deepEqual(car.lastSent(), ['a1', 'c3000:"done"']);
  assert.equal(of('close').length, 0);
  car.pending.shift()(null);
  assert.equal(t.readyState, Tether.CLOSED);
  assert.deepEqual(of('close').map((e) => [e.code, e.reason, e.wasClean]), [[3000, 'done', true]]);
  assert.ok(car.closed);
  t.close(); // closing twice does nothing
  assert.equal(of('close').length, 1);
});

test('close(): defaults to 1000, refuses other codes, and closes at once when not connected', () => {
  const { t, of, net } = setup();
  assert.throws(() => t.close(1001), RangeError);
  assert.throws(() => t.close(2999), RangeError);
  t.close();
  assert.deepEqual(of('close').map((e) => [e.code, e.reason, e.wasClean]), [[1000, '', false]]);
  assert.ok(net.last().closed);
  const b = setup();
  b.net.last().connect();
  b.t.close();
  assert.deepEqual(b.net.last().lastSent(), ['c1000:""']);
  assert.deepEqual(b.of('close').map((e) => [e.code, e.wasClean]), [[1000, true]]);
});

test('close(): gives up waiting after connectTimeout', () => {
  const { t, net, clock, of } = setup({ transports: ['longpoll'], connectTimeout: 1000 });
  net.manualSend = true;
  net.last().connect();
  t.close(1000, 'bye');
  clock.advance(1000);
  assert.deepEqual(of('close').map((e) => [e.code, e.wasClean]), [[1000, false]]);
});

test('events: on… properties and listeners both fire; removeEventListener works; a throwing listener does not break the client', () => {
  const { t, net } = setup();
  const seen = [];
  t.onmessage = (e) => seen.push('on:' + e.data);
  const l = (e) => seen.push('l:' + e.data);
  t.addEventListener('message', l);
  t.addEventListener('message', l); // once only, as on EventTarget
  t.addEventListener('message', { handleEvent: (e) => seen.push('h:' + e.data) });
  t.addEventListener('message', () => {
    throw new Error('app bug');
  });
  const thrown = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (fn) => thrown.push(fn);
  try {
    net.last().connect();
  net.last().recv('m1:"a"\n');
  t.removeEventListener('message', l);
  t.onmessage = null;
  net.last().recv('m2:"b"\n');
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.deepEqual(seen, ['on:a', 'l:a', 'h:a', 'h:b']);
  assert.equal(thrown.length, 2);
  assert.throws(thrown[0], /app bug/, 'rethrown from a timer');
  assert.equal(t.readyState, Tether.OPEN);
});

test('events: event objects carry type and target', () => {
  const { t, net, of } = setup();
  net.last().connect();
  const e = of('open')[0];
  assert.equal(e.type, 'open');
  assert.equal(e.target, t);
});

test('transport event when a reconnection lands on another carrier', () => {
  const { net, clock, of, types } = setup({ transports: ['websocket', 'longpoll'] });
  net.last().connect();
  net.last().recv('m1:"x"\n');
  net.last().fail();
  clock.advance(0);
  net.last().fail(); // websocket no longer gets through
  net.last().connect({ resumed: true });
  assert.deepEqual(of('transport').map((e) => [e.transport, e.previous]), [['longpoll', 'websocket']]);
  assert.deepEqual(types(), ['open', 'message', 'reconnecting', 'transport', 'reconnected']);
});

test('a reconnection that lands off websocket where websocket carried probes it and moves back', () => {
  const { t, net, clock, of } = setup({ transports: ['websocket', 'longpoll'] });
  net.last().connect();
  net.last().recv('m1:"x"\n');
  net.last().fail(); // the network went away
  clock.advance(0);
  net.last().fail(); // and came back just after the websocket attempt
  net.last().connect({ resumed: true });
  assert.equal(t.transport, 'longpoll');
  clock.advance(0);
  const ws = net.last();
  assert.equal(ws.name, 'websocket');
  assert.equal(ws.ctx.probe, true);
  ws.ctx.probeOpen();
  ws.connect({ resumed: true });
  assert.equal(t.transport, 'websocket');
  assert.deepEqual(
    of('transport').map((e) => [e.transport, e.previous]),
    [
      ['longpoll', 'websocket'],
      ['websocket', 'longpoll'],
    ]
  );
});

test('no websocket probe without the upgrade option when websocket never carried here', () => {
  const { t, net, clock } = setup({ transports: ['websocket', 'longpoll'] });
  net.last().fail(); // refused
  net.last().connect();
  net.last().recv('h\n');
  clock.advance(5000);
  assert.equal(t.transport, 'longpoll');
  assert.deepEqual(net.names(), ['websocket', 'longpoll']);
});

test('upgrade: starts on an HTTP carrier, probes websocket, moves the session there', () => {
  const { t, net, clock, of, types } = setup({ upgrade: true });
  assert.deepEqual(net.names(), ['streaming'], 'websocket skipped at first');
  const poller = net.last();
  poller.connect();
  poller.recv('m1:"x"\n');
  t.send('1');
  assert.equal(t.transport, 'streaming');
  clock.advance(0);
  const ws = net.last();
  assert.equal(ws.name, 'websocket');
  assert.equal(ws.ctx.probe, true);
  assert.equal(ws.helloSent, null, 'no hello before the WebSocket is open');
  ws.ctx.probeOpen();
  assert.ok(poller.closed, 'the poller stops first: one receiver at a time');
  assert.deepEqual(ws.helloSent, { sid: 's1', token: 't1', last: 1 });
  t.send('2');
  ws.connect({ resumed: true, ack: 0 });
  assert.deepEqual(ws.lastSent(), ['a1', 'm1:"1"', 'm2:"2"'], 'unacked messages follow the session');
  assert.equal(t.transport, 'websocket');
  assert.deepEqual(of('transport').map((e) => [e.transport, e.previous]), [['websocket', 'streaming']]);
  assert.deepEqual(types(), ['open', 'message', 'transport'], 'no reconnecting/reconnected for an upgrade');
  assert.equal(t.readyState, Tether.OPEN);
  const again = setup({ upgrade: true, url: undefined });
  assert.deepEqual(again.net.names(), ['streaming']);
});

test('upgrade: remembered websocket is used directly next time', () => {
  const a = setup({ upgrade: true });
  a.net.last().connect();
  a.clock.advance(0);
  a.net.last().ctx.probeOpen();
  a.net.last().connect({ resumed: true });
  const b = setup({ upgrade: true, url: a.url });
  assert.deepEqual(b.net.names(), ['websocket']);
});

test('upgrade: a probe that cannot open leaves the poller alone for good', () => {
  const { t, net, clock } = setup({ upgrade: true, connectTimeout: 1000 });
  const poller = net.last();
  poller.connect();
  clock.advance(0);
  const ws = net.last();
  clock.advance(1000);
  assert.ok(ws.closed);
  assert.ok(!poller.closed);
  assert.equal(t.transport, 'streaming');
  for (let i = 0; i < 10; i++) {
    clock.advance(10000);
    poller.recv('h\n');
  }
  assert.equal(net.made.length, 2, 'no more probes');
});

test('upgrade: a refused hello falls back to the poller, then probes again', () => {
  const { t, net, clock, types } = setup({ upgrade: true });
  net.last().connect();
  clock.advance(0);
  net.last().ctx.probeOpen();
  net.last().recv('c4103:"another receiver is attached"\n');
  const back = net.last();
  assert.equal(back.name, 'streaming');
  assert.deepEqual(back.helloAtStart, { sid: 's1', token: 't1', last: 0 });
  back.connect({ resumed: true });
  assert.equal(t.transport, 'streaming');
  assert.deepEqual(types(), ['open']);
  clock.advance(1000);
  assert.equal(net.last().name, 'websocket', 'another probe, later');
});

test('upgrade: waits for the send in flight before switching', () => {
  const { t, net, clock } = setup({ upgrade: true, transports: ['longpoll', 'websocket'] });
  net.manualSend = true;
  const poller = net.last();
  poller.connect();
  t.send('1');
  clock.advance(0);
  const ws = net.last();
  ws.ctx.probeOpen();
  assert.ok(!poller.closed);
  poller.recv('a1\n');
  poller.pending.shift()(null);
  assert.ok(poller.closed);
  assert.ok(ws.helloSent);
});

test('maxReconnectAttempts 0: a lost carrier closes at once', () => {
  const { net, of, t } = setup({ maxReconnectAttempts: 0 });
  net.last().connect();
  net.last().recv('h\n');
  net.last().fail('gone');
  assert.equal(t.readyState, Tether.CLOSED);
  assert.deepEqual(of('close').map((e) => [e.code, e.wasClean]), [[1006, false]]);
});

test('a carrier that fails right after opening, repeatedly, backs off instead of spinning', () => {
  const { net, clock, of } = setup({ transports: ['websocket'] });
  net.last().connect();
  net.last().fail();
  clock.advance(250);
  net.last().connect({ resumed: true });
  net.last().fail();
  assert.deepEqual(of('reconnecting').map((e) => e.delay), [250, 500]);
  assert.deepEqual(of('reconnecting').map((e) => e.attempt), [1, 2]);
});

test('upgrade: a probe pending when the poller is lost is dropped, and tried again later', () => {
  const { net, clock } = setup({ upgrade: true });
  const poller = net.last();
  poller.connect();
  poller.recv('h\n');
  clock.advance(0);
  const ws = net.last();
  assert.equal(ws.name, 'websocket');
  poller.fail();
  assert.ok(ws.closed, 'the probe goes with the carrier it would have replaced');
  clock.advance(0);
  net.last().connect({ resumed: true });
  clock.advance(1000);
  assert.equal(net.last().name, 'websocket', 'a new probe');
  assert.equal(net.last().ctx.probe, true);
});
