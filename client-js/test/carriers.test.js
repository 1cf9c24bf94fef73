// The real carriers against fake browser globals: the requests they make
// and how they turn answers into open/ready/recv/fail calls.

import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeXHR, FakeWebSocket, FakeEventSource, FakeClock, fakeDocument } from './fakes.js';
import { endpoint, mount, wsEndpoint } from '../src/url.js';
import { carriers } from '../src/carriers/index.js';
import { Tether } from '../src/index.js';

const OPEN = 'o{"v":1,"sid":"S","token":"T","resumed":false,"ack":0,"hb":25000,"timeout":50000,"poll":1000,"maxMessage":65536,"maxSend":266240}\n';

function stub(name, env, over = {}) {
  const m = mount('http://h.test/mnt?room=1');
  const log = [];
  const ctx = {
    name,
    env,
    withCredentials: true,
    probe: false,
    dead: false,
    url: (n, p) => endpoint(m, n, p),
    wsUrl: () => wsEndpoint(m),
    hello: () => ({}),
    ack: () => 0,
    timers: [],
    timer(fn, ms) {
      const tm = { fn, ms, cancelled: false };
      ctx.timers.push(tm);
      return () => (tm.cancelled = true);
    },
    open: (o) => log.push(['open', o.sid]),
    ready: () => log.push(['ready']),
    recv: (frames) => log.push(['recv', frames]),
    fail: (err) => {
      ctx.error = err;
      log.push(['fail', err.message]);
    },
    probeOpen: () => log.push(['probeOpen']),
    log,
    ...over,
  };
  return ctx;
}

function xhrEnv() {
  FakeXHR.all = [];
  return { XMLHttpRequest: FakeXHR };
}

function lastXHR() {
  return FakeXHR.all[FakeXHR.all.length - 1];
}

// The log without the ready calls, which carriers may repeat.
const events = (ctx) => ctx.log.filter((e) => e[0] !== 'ready');

test('websocket: hello first, then open frame, batches and binary messages', () => {
  FakeWebSocket.all = [];
  const ctx = stub('websocket', { WebSocket: FakeWebSocket });
  const car = carriers.websocket(ctx);
  const ws = FakeWebSocket.all[0];
  assert.equal(ws.url, 'ws://h.test/mnt/websocket?room=1', 'no token in the URL');
  assert.equal(ws.binaryType, 'arraybuffer');
  ws.serverOpen();
  assert.deepEqual(ws.sent, ['H{"v":1}']);
  ws.serverSend(OPEN + 'm1:"x"\n');
  assert.deepEqual(ctx.log.slice(0, 3), [['open', 'S'], ['ready'], ['recv', [{ t: 'm', seq: 1, data: 'x' }]]]);
  ws.serverSend(new Uint8Array([50, 58, 7, 8]).buffer);
  const bin = ctx.log[3][1][0];
  assert.equal(bin.t, 'b');
  assert.equal(bin.seq, 2);
  assert.deepEqual(Array.from(bin.data), [7, 8]);

  let done = null;
  car.send(['a2', { seq: 1, data: 'x' }, { seq: 2, data: new Uint8Array([255]) }, { seq: 3, data: 'y' }], (err) => (done = err));
  assert.equal(done, null);
  assert.equal(ws.sent[1], 'a2\nm1:"x"\n');
  assert.deepEqual(Array.from(ws.sent[2]), [50, 58, 255], 'binary as a binary message, §2.1');
  assert.equal(ws.sent[3], 'm3:"y"\n');
});

test('websocket: resume hello; close codes with and without a close frame', () => {
  FakeWebSocket.all = [];
  const ctx = stub('websocket', { WebSocket: FakeWebSocket }, { hello: () => ({ sid: 'S', token: 'T', last: 4 }) });
  carriers.websocket(ctx);
  const ws = FakeWebSocket.all[0];
  ws.serverOpen();
  assert.deepEqual(JSON.parse(ws.sent[0].slice(1)), { v: 1, sid: 'S', token: 'T', last: 4 });
  ws.serverSend(OPEN);
  ws.serverClose(4102, 'heartbeat timeout');
  assert.deepEqual(events(ctx)[1], ['recv', [{ t: 'c', code: 4102, reason: 'heartbeat timeout' }]]);

  const ctx2 = stub('websocket', { WebSocket: FakeWebSocket });
  carriers.websocket(ctx2);
  const ws2 = FakeWebSocket.all[1];
  ws2.serverOpen();
  ws2.serverSend('c4200:"session lost"\n');
  ws2.serverClose(4200, 'session lost');
  assert.deepEqual(events(ctx2), [['recv', [{ t: 'c', code: 4200, reason: 'session lost' }]]], 'the frame only, once');
  assert.equal(ws2.closedWith, 1000);

  const ctx3 = stub('websocket', { WebSocket: FakeWebSocket });
  carriers.websocket(ctx3);
  FakeWebSocket.all[2].serverClose(1006);
  assert.equal(events(ctx3)[0][0], 'fail');

  const ctx4 = stub('websocket', { WebSocket: FakeWebSocket });
  carriers.websocket(ctx4);
  FakeWebSocket.all[3].serverOpen();
  FakeWebSocket.all[3].serverSend('m1:bad\n');
  assert.equal(events(ctx4)[0][0], 'fail', 'a malformed frame fails the carrier');
});

test('websocket: a probe waits to be told before its hello; no WebSocket fails at once', () => {
  FakeWebSocket.all = [];
  const ctx = stub('websocket', { WebSocket: FakeWebSocket }, { probe: true });
  const car = carriers.websocket(ctx);
  const ws = FakeWebSocket.all[0];
  ws.serverOpen();
  assert.deepEqual(ctx.log, [['probeOpen']]);
  assert.equal(ws.sent.length, 0);
  car.hello();
  assert.deepEqual(ws.sent, ['H{"v":1}']);

  const none = stub('websocket', {});
  carriers.websocket(none);
  assert.match(none.log[0][1], /not available/);
});

test('HTTP handshake: POST JSON hello; open frame, refusal frame or error status', () => {
  const env = xhrEnv();
  const ctx = stub('longpoll', env, { hello: () => ({ sid: 'S', token: 'T', last: 3 }) });
  carriers.longpoll(ctx);
  const x = FakeXHR.all[0];
  assert.equal(x.method, 'POST');
  assert.equal(x.url, 'http://h.test/mnt/handshake?room=1');
  assert.equal(x.headers['Content-Type'], 'application/json');
  assert.equal(x.withCredentials, true);
  assert.deepEqual(JSON.parse(x.body), { v: 1, transport: 'longpoll', sid: 'S', token: 'T', last: 3 });
  x.respond(200, 'c4200:"session lost"\n');
  assert.deepEqual(ctx.log, [['recv', [{ t: 'c', code: 4200, reason: 'session lost' }]]]);

  const refused = stub('streaming', env);
  carriers.streaming(refused);
  lastXHR().respond(403, 'origin not allowed\n');
  assert.equal(refused.error.status, 403);
  assert.equal(refused.error.fatal, true);
  assert.match(refused.error.message, /403: origin not allowed/);

  const unavailable = stub('streaming', env);
  carriers.streaming(unavailable);
  lastXHR().respond(400, 'transport not available over HTTP here: streaming');
  assert.equal(unavailable.error.fatal, false, 'another carrier may work');

  const offline = stub('polling', env);
  carriers.polling(offline);
  lastXHR().respond(0);
  assert.match(offline.error.message, /network error/);
});

test('longpoll: polls with sid and ack, the token in a header, one after another', () => {
  const env = xhrEnv();
  let ack = 0;
  const ctx = stub('longpoll', env, { ack: () => ack });
  const car = carriers.longpoll(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  assert.deepEqual(ctx.log.slice(0, 2), [['open', 'S'], ['ready']]);
  const p1 = lastXHR();
  assert.equal(p1.method, 'GET');
  assert.equal(p1.url, 'http://h.test/mnt/longpoll?sid=S&ack=0&room=1');
  assert.equal(p1.headers['X-Tether-Token'], 'T');
  ack = 1;
  p1.respond(200, 'a3\nm1:"x"\n');
  assert.deepEqual(ctx.log[2], ['recv', [{ t: 'a', seq: 3 }, { t: 'm', seq: 1, data: 'x' }]]);
  const p2 = lastXHR();
  assert.equal(p2.url, 'http://h.test/mnt/longpoll?sid=S&ack=1&room=1');
  p2.respond(200, '<html>proxy error</html>');
  assert.match(ctx.log[3][1], /malformed frame/);
  assert.equal(FakeXHR.all.length, 3, 'no poll after a failure');
  car.close();
});

test('send path: POST /send with the batch; its answer acks; 413 closes with 4001', () => {
  const env = xhrEnv();
  const ctx = stub('longpoll', env);
  const car = carriers.longpoll(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  let done = 'pending';
  car.send(['a1', { seq: 1, data: 'hi' }], (err) => (done = err));
  const s = lastXHR();
  assert.equal(s.method, 'POST');
  assert.equal(s.url, 'http://h.test/mnt/send?sid=S&carry=1&room=1');
  assert.equal(s.headers['X-Tether-Token'], 'T');
  assert.match(s.headers['Content-Type'], /^text\/plain/);
  assert.equal(s.body, 'a1\nm1:"hi"\n');
  assert.equal(s.timeout, 50000);
  s.respond(200, 'a1\n');
  assert.equal(done, null);
  assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'a', seq: 1 }]]);

  car.send([{ seq: 2, data: 'x'.repeat(10) }], (err) => (done = err));
  lastXHR().respond(413, 'send body over the limit');
  assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'c', code: 4001, reason: 'send body over the limit' }]]);

  car.send([{ seq: 2, data: 'x' }], (err) => (done = err));
  lastXHR().respond(502, 'bad gateway');
  assert.match(done.message, /502/);
  car.close();
  assert.ok(FakeXHR.all[1].aborted, 'close aborts the poll');
});

test('send path: longpoll and polling ask carry=1, the streams do not; carried messages go to recv', () => {
  const env = xhrEnv();
  env.EventSource = FakeEventSource;
  FakeEventSource.all = [];
  const want = {
    longpoll: 'http://h.test/mnt/send?sid=S&carry=1&room=1',
    polling: 'http://h.test/mnt/send?sid=S&carry=1&room=1',
    streaming: 'http://h.test/mnt/send?sid=S&room=1',
    eventsource: 'http://h.test/mnt/send?sid=S&room=1',
  };
  for (const name in want) {
    const ctx = stub(name, env);
    const car = carriers[name](ctx);
    lastXHR().respond(200, OPEN);
    let done = 'pending';
    car.send(['a1', { seq: 1, data: 'hi' }], (err) => (done = err));
    const s = lastXHR();
    assert.equal(s.method, 'POST', name);
    assert.equal(s.url, want[name], name);
    s.respond(200, 'a1\nm2:"re"\n');
    assert.equal(done, null, name);
    assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'a', seq: 1 }, { t: 'm', seq: 2, data: 're' }]], name);
    car.close();
  }
});

test('streaming: skips the prelude, reads frames as they arrive, re-opens after c4101', () => {
  const env = xhrEnv();
  let ack = 0;
  const ctx = stub('streaming', env, { ack: () => ack });
  carriers.streaming(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  assert.deepEqual(ctx.log, [['open', 'S']], 'not ready before the stream shows up');
  const st = lastXHR();
  assert.equal(st.url, 'http://h.test/mnt/streaming?sid=S&ack=0&room=1');
  assert.equal(st.headers['X-Tether-Token'], 'T');
  st.progress('h\n'.repeat(1024));
  assert.deepEqual(ctx.log.slice(1), [['ready'], ['recv', []]], 'the prelude proves the stream, carries nothing');
  st.progress('m1:"a');
  st.progress('b"\nm2:"c"\n');
  const got = events(ctx)
    .filter((e) => e[0] === 'recv')
    .flatMap((e) => e[1]);
  assert.deepEqual(got, [{ t: 'm', seq: 1, data: 'ab' }, { t: 'm', seq: 2, data: 'c' }], 'a frame split across chunks');
  ack = 2;
  st.progress('c4101:"stream limit"\n');
  assert.equal(FakeXHR.all.length, 2, 're-opened when the answer ends, not before');
  st.respond(200);
  const again = lastXHR();
  assert.equal(again.url, 'http://h.test/mnt/streaming?sid=S&ack=2&room=1');
  assert.ok(!ctx.log.some((e) => e[0] === 'fail'));
  again.progress('h\n');
  again.respond(200);
  assert.match(ctx.log.at(-1)[1], /ended without a close frame/);
});

test('streaming: a close frame other than 4101 goes to the core', () => {
  const env = xhrEnv();
  const ctx = stub('streaming', env);
  carriers.streaming(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  lastXHR().progress('h\nc4200:"session lost"\n');
  assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'c', code: 4200, reason: 'session lost' }]]);
});

test('eventsource: token in the query, events to frames, a close frame stops the browser reconnecting', () => {
  const env = xhrEnv();
  env.EventSource = FakeEventSource;
  FakeEventSource.all = [];
  const ctx = stub('eventsource', env, { ack: () => 3 });
  const car = carriers.eventsource(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  const es = FakeEventSource.all[0];
  assert.equal(es.url, 'http://h.test/mnt/eventsource?sid=S&ack=3&token=T&room=1');
  assert.deepEqual(es.init, { withCredentials: true });
  es.serverOpen();
  assert.deepEqual(ctx.log, [['open', 'S']], 'not ready on open: a proxy may pass the headers and buffer the body');
  es.serverEvent('h');
  assert.deepEqual(ctx.log, [['open', 'S'], ['ready'], ['recv', []]], 'the first event proves the stream');
  es.serverEvent('m4:"x"');
  es.serverEvent('h');
  assert.deepEqual(events(ctx).slice(1), [['recv', []], ['recv', [{ t: 'm', seq: 4, data: 'x' }]], ['recv', []]]);
  es.serverError(0); // the answer ended at the byte limit: the browser reconnects
  assert.ok(!es.closed);
  es.serverOpen();
  es.serverEvent('c1000:"bye"');
  assert.ok(es.closed);
  assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'c', code: 1000, reason: 'bye' }]]);
  car.close();
});

test('eventsource: repeated errors or a closed EventSource fail the carrier', () => {
  const env = xhrEnv();
  env.EventSource = FakeEventSource;
  FakeEventSource.all = [];
  const ctx = stub('eventsource', env);
  carriers.eventsource(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  FakeEventSource.all[0].serverOpen();
  FakeEventSource.all[0].serverError(0);
  FakeEventSource.all[0].serverError(0);
  assert.equal(ctx.log.at(-1)[0], 'fail');
  assert.ok(FakeEventSource.all[0].closed);

  const ctx2 = stub('eventsource', env);
  carriers.eventsource(ctx2);
  lastXHR().respond(200, OPEN);
  FakeEventSource.all[1].serverError(2);
  assert.equal(ctx2.log.at(-1)[0], 'fail');
});

test('polling: polls again after the suggested interval, at once after messages', () => {
  const env = xhrEnv();
  const ctx = stub('polling', env);
  const car = carriers.polling(ctx);
  FakeXHR.all[0].respond(200, OPEN.replace('"poll":1000', '"poll":700'));
  lastXHR().respond(200, '');
  assert.deepEqual(ctx.log.at(-1), ['recv', []]);
  assert.equal(ctx.timers.at(-1).ms, 700);
  assert.equal(FakeXHR.all.length, 2);
  ctx.timers.at(-1).fn();
  assert.equal(lastXHR().url, 'http://h.test/mnt/polling?sid=S&ack=0&room=1');
  lastXHR().respond(200, 'm1:"x"\n');
  assert.equal(ctx.timers.at(-1).ms, 0);
  car.close();
  assert.ok(ctx.timers.at(-1).cancelled);
});

test('polling: a send answer ending with h (more waiting) brings the next poll forward', () => {
  const env = xhrEnv();
  const ctx = stub('polling', env);
  const car = carriers.polling(ctx);
  FakeXHR.all[0].respond(200, OPEN);
  lastXHR().respond(200, '');
  const waiting = ctx.timers.at(-1);
  assert.equal(waiting.ms, 1000);

  car.send([{ seq: 1, data: 'x' }], () => {});
  lastXHR().respond(200, 'a1\nm1:"re"\n');
  assert.equal(ctx.timers.at(-1), waiting, 'an answer that held everything leaves the wait alone');
  assert.ok(!waiting.cancelled);

  car.send([{ seq: 2, data: 'y' }], () => {});
  lastXHR().respond(200, 'a2\nm2:"re"\nh\n');
  assert.ok(waiting.cancelled, 'the wait is cut short');
  assert.equal(ctx.timers.at(-1).ms, 0);
  ctx.timers.at(-1).fn();
  const inFlight = lastXHR();
  assert.equal(inFlight.url, 'http://h.test/mnt/polling?sid=S&ack=0&room=1');

  car.send([{ seq: 3, data: 'z' }], () => {});
  lastXHR().respond(200, 'a3\nm3:"re"\nh\n');
  const timers = ctx.timers.length;
  inFlight.respond(200, ''); // left the server before the carried answer
  assert.equal(ctx.timers.length, timers + 1);
  assert.equal(ctx.timers.at(-1).ms, 0, 'kept for the poll that was on its way, though its answer was empty');
  ctx.timers.at(-1).fn();
  lastXHR().respond(200, '');
  assert.equal(ctx.timers.at(-1).ms, 1000, 'and used once');

  car.send([{ seq: 4, data: 'w' }], () => {});
  lastXHR().respond(200, 'a4\nh\n');
  assert.equal(ctx.timers.at(-1).ms, 1000, 'an h without messages is a heartbeat, no reason to hurry');
  car.close();
});

function jsonpEnv() {
  const env = { document: fakeDocument() };
  return env;
}

function scripts(env) {
  return env.document.appended.filter((e) => e.tagName === 'SCRIPT');
}

function callback(env, el) {
  const name = /[?&]c=([^&]+)/.exec(el.src)[1];
  const id = decodeURIComponent(name).split('.')[1];
  assert.match(decodeURIComponent(name), /^__tether\.j[0-9]+$/);
  return env.__tether[id];
}

test('jsonp: handshake and polls as scripts, sends as form posts into an iframe', () => {
  const env = jsonpEnv();
  let ack = 0;
  const ctx = stub('jsonp', env, { ack: () => ack });
  const car = carriers.jsonp(ctx);
  const hs = scripts(env)[0];
  assert.match(hs.src, /^http:\/\/h\.test\/mnt\/handshake\?transport=jsonp&v=1&c=__tether\.j[0-9]+&room=1$/);
  assert.equal(hs.async, true);
  callback(env, hs)(OPEN);
  assert.equal(hs.parentNode, null, 'the script is removed');
  assert.deepEqual(ctx.log, [['open', 'S'], ['ready']]);
  const p = scripts(env)[1];
  assert.match(p.src, /^http:\/\/h\.test\/mnt\/jsonp\?sid=S&ack=0&token=T&c=__tether\.j[0-9]+&room=1$/);
  ack = 1;
  callback(env, p)('a2\nm1:"x"\n');
  assert.deepEqual(ctx.log.at(-1), ['recv', [{ t: 'a', seq: 2 }, { t: 'm', seq: 1, data: 'x' }]]);
  assert.match(scripts(env)[2].src, /jsonp\?sid=S&ack=1&token=T/);

  let done = 'pending';
  car.send(['a1', { seq: 1, data: 'hello\nworld' }, 'c1000:"bye"'], (err) => (done = err));
  const form = env.document.submitted[0];
  const frame = env.document.appended.find((e) => e.tagName === 'IFRAME');
  assert.equal(form.method, 'POST');
  assert.equal(form.action, 'http://h.test/mnt/send?sid=S&room=1');
  assert.equal(form.target, frame.name);
  assert.equal(frame.style.display, 'none');
  const fields = Object.fromEntries(form.children.map((c) => [c.name, c.value]));
  // One frame per post, no newline: browsers turn "\n" in form fields into "\r\n".
  assert.deepEqual(fields, { token: 'T', d: 'm1:"hello\\nworld"' });
  assert.equal(env.document.submitted.length, 1, 'one post at a time');
  frame.onload();
  assert.equal(form.parentNode, null);
  assert.equal(ctx.timers.length, 1, 'the iframe goes later');
  ctx.timers[0].fn();
  assert.equal(frame.parentNode, null);
  assert.equal(done, 'pending');
  const form2 = env.document.submitted[1];
  assert.equal(form2.children[1].value, 'c1000:"bye"');
  env.document.appended.filter((e) => e.tagName === 'IFRAME')[1].onload();
  assert.equal(done, null);
  car.close();
  assert.equal(scripts(env)[2].parentNode, null, 'close removes the pending script');
  callback(env, scripts(env)[2])('h\n'); // a late answer finds a harmless function
  assert.equal(ctx.log.at(-1)[0], 'recv');
});

test('jsonp: a resume handshake carries sid, token and last; script errors fail', () => {
  const env = jsonpEnv();
  const ctx = stub('jsonp', env, { hello: () => ({ sid: 'S', token: 'T', last: 9 }) });
  carriers.jsonp(ctx);
  const hs = scripts(env)[0];
  assert.match(hs.src, /handshake\?transport=jsonp&v=1&c=__tether\.j[0-9]+&sid=S&token=T&last=9&room=1$/);
  hs.onerror();
  assert.match(ctx.log[0][1], /jsonp request failed/);

  const ctx2 = stub('jsonp', env);
  carriers.jsonp(ctx2);
  scripts(env).at(-1).onload(); // ran, but did not call back: not a jsonp answer
  assert.match(ctx2.log[0][1], /without a callback/);
});

test('a Tether over real carriers and fake XHR: longpoll end to end', () => {
  const env = { XMLHttpRequest: FakeXHR, location: { protocol: 'http:', host: 'h.test', pathname: '/' } };
  FakeXHR.all = [];
  const clock = new FakeClock();
  const t = new Tether('/echo', { transports: ['longpoll'], _env: env, _clock: clock });
  const got = [];
  t.onmessage = (e) => got.push(e.data);
  clock.advance(0);
  FakeXHR.all[0].respond(200, OPEN);
  assert.equal(t.readyState, Tether.OPEN);
  assert.equal(t.transport, 'longpoll');
  t.send('ping');
  const send = FakeXHR.all.find((x) => x.url.includes('/send'));
  assert.equal(send.body, 'm1:"ping"\n');
  send.respond(200, 'a1\n');
  assert.equal(t.bufferedAmount, 0);
  const poll = FakeXHR.all.find((x) => x.url.includes('/longpoll'));
  poll.respond(200, 'm1:"pong"\n');
  assert.deepEqual(got, ['pong']);
  assert.equal(lastXHR().url, 'http://h.test/echo/longpoll?sid=S&ack=1');
  t.close();
  const bye = lastXHR();
  assert.equal(bye.body, 'a1\nc1000:""\n');
  bye.respond(200, 'a1\nc1000:"closed by client"\n');
  assert.equal(t.readyState, Tether.CLOSED);
});

test('a page without XMLHttpRequest, fetch and WebSocket ends up on jsonp', () => {
  const env = jsonpEnv();
  env.location = { protocol: 'https:', host: 'h.test', pathname: '/' };
  const clock = new FakeClock();
  const t = new Tether('/chat', { _env: env, _clock: clock });
  const got = [];
  t.onmessage = (e) => got.push(e.data);
  clock.advance(0);
  const hs = scripts(env)[0];
  assert.match(hs.src, /^https:\/\/h\.test\/chat\/handshake\?transport=jsonp/);
  callback(env, hs)(OPEN);
  assert.equal(t.transport, 'jsonp');
  assert.equal(t.readyState, Tether.OPEN);
  callback(env, scripts(env)[1])('m1:"welcome"\n');
  assert.deepEqual(got, ['welcome']);
  t.send('hi');
  assert.equal(env.document.submitted[0].children[1].value, 'm1:"hi"');
});

// A Tether over the real longpoll or polling carrier, fake XHR and a fake clock.
function httpTether(transport) {
  const env = { XMLHttpRequest: FakeXHR, location: { protocol: 'http:', host: 'h.test', pathname: '/' } };
  FakeXHR.all = [];
  const clock = new FakeClock();
  const t = new Tether('/echo', { transports: [transport], _env: env, _clock: clock, _random: () => 0.5 });
  const got = [];
  const events = [];
  t.onmessage = (e) => got.push(e.data);
  for (const type of ['reconnecting', 'reconnected', 'close']) t.addEventListener(type, (e) => events.push(type));
  clock.advance(0);
  FakeXHR.all[0].respond(200, OPEN);
  assert.equal(t.readyState, Tether.OPEN);
  const sends = () => FakeXHR.all.filter((x) => x.url.includes('/send'));
  const polls = () => FakeXHR.all.filter((x) => x.url.includes('/' + transport + '?'));
  return { t, clock, got, events, sends, polls };
}

test('longpoll: a reply in the send answer reaches the app once, and counts in the next ack', () => {
  const { t, got, sends, polls } = httpTether('longpoll');
  const held = polls()[0];
  assert.equal(held.url, 'http://h.test/echo/longpoll?sid=S&ack=0');
  t.send('ping');
  const s1 = sends()[0];
  assert.equal(s1.url, 'http://h.test/echo/send?sid=S&carry=1');
  s1.respond(200, 'a1\nm1:"pong"\n');
  assert.deepEqual(got, ['pong'], 'delivered with the send answer, before any poll answer');
  assert.equal(t.bufferedAmount, 0);
  t.send('again');
  const s2 = sends()[1];
  assert.equal(s2.body, 'a1\nm2:"again"\n', 'the next send acknowledges the carried message');
  s2.respond(200, 'a2\n');
  held.respond(200, 'm1:"pong"\nm2:"news"\n'); // the poll held since before brings m1 too
  assert.deepEqual(got, ['pong', 'news'], 'the repeated m1 is dropped');
  assert.equal(polls().at(-1).url, 'http://h.test/echo/longpoll?sid=S&ack=2');
  t.send('third');
  sends()[2].respond(200, 'a3\nm3:"r3"\n');
  polls().at(-1).respond(200, 'h\n');
  assert.equal(polls().at(-1).url, 'http://h.test/echo/longpoll?sid=S&ack=3', 'carried messages alone move the poll ack');
  assert.deepEqual(got, ['pong', 'news', 'r3']);
});

test('polling: a reply in the send answer comes before the next poll, which acknowledges it', () => {
  const { t, clock, got, sends, polls } = httpTether('polling');
  polls()[0].respond(200, '');
  assert.equal(polls().length, 1, 'the next poll waits for its timer');
  t.send('ping');
  assert.equal(sends()[0].url, 'http://h.test/echo/send?sid=S&carry=1');
  sends()[0].respond(200, 'a1\nm1:"pong"\n');
  assert.deepEqual(got, ['pong'], 'without waiting for the next poll');
  clock.advance(1000);
  assert.equal(polls().length, 2);
  assert.equal(polls()[1].url, 'http://h.test/echo/polling?sid=S&ack=1');
  polls()[1].respond(200, 'm1:"pong"\nm2:"news"\n');
  assert.deepEqual(got, ['pong', 'news'], 'a repeat of a carried message is dropped');
  clock.advance(0); // after messages, the next poll at once
  assert.equal(polls()[2].url, 'http://h.test/echo/polling?sid=S&ack=2');
});

test('longpoll: a gap in a send answer resumes the session; nothing lost, nothing repeated', () => {
  const { t, clock, got, events, sends, polls } = httpTether('longpoll');
  const held = polls()[0];
  t.send('ping');
  assert.equal(sends()[0].url, 'http://h.test/echo/send?sid=S&carry=1');
  sends()[0].respond(200, 'a1\nm1:"one"\nm3:"three"\n'); // m2 went elsewhere, or is late
  assert.deepEqual(got, ['one'], 'in order up to the gap, nothing after it');
  assert.ok(held.aborted, 'the carrier is abandoned');
  assert.deepEqual(events, ['reconnecting']);
  clock.advance(0); // a carrier that carried is resumed at once
  const hs = FakeXHR.all.at(-1);
  assert.equal(hs.url, 'http://h.test/echo/handshake');
  assert.deepEqual(JSON.parse(hs.body), { v: 1, transport: 'longpoll', sid: 'S', token: 'T', last: 1 });
  hs.respond(200, OPEN.replace('"resumed":false,"ack":0', '"resumed":true,"ack":1'));
  assert.deepEqual(events, ['reconnecting', 'reconnected']);
  assert.equal(sends().length, 1, 'ping was acknowledged in the failed answer: not sent again');
  const poll = polls().at(-1);
  assert.equal(poll.url, 'http://h.test/echo/longpoll?sid=S&ack=1', 'the server replays from m2');
  poll.respond(200, 'm2:"two"\nm3:"three"\n');
  assert.deepEqual(got, ['one', 'two', 'three']);
  assert.equal(t.readyState, Tether.OPEN);
});
