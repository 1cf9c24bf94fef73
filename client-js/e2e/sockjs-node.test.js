// The official sockjs-client (npm, pinned in package.json) in Node against
// examples/sockjs-conformance, each of the transports it has in Node forced
// in turn: open, an echo of text with `%`, U+2028, newlines and quotes, and
// the /close service closing with 3000 "Go away!".
//
// In Node sockjs-client uses its drivers (lib/transport/driver: http for
// xhr, faye-websocket, the eventsource package); its location is
// http://localhost:80, so every request is a cross-origin one. The HTTP
// requests it makes are recorded (by wrapping http.request, which its
// drivers call) to check that the forced transport, and only it, was used.

import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { EVERY, SOCKJS_VERSION, TEXT, startConformance } from './sockjs-lib.js';

const require = createRequire(import.meta.url);
const SockJS = require('sockjs-client');

// transport name → the last segment of its receive request.
const TRANSPORTS = {
  websocket: 'websocket',
  'xhr-streaming': 'xhr_streaming',
  'xhr-polling': 'xhr',
  eventsource: 'eventsource',
};

// Every HTTP request sockjs-client's drivers make, as paths.
const requests = [];
const request = http.request;
http.request = function (options, ...rest) {
  requests.push(typeof options === 'string' || options instanceof URL ? new URL(options).pathname : options.path);
  return request.call(this, options, ...rest);
};

/**
 * connect opens a SockJS client on url forced to transport and returns a
 * recorder: {sock, events, msgs, until(what, fn, ms)}; events holds open
 * (with the transport name sockjs-client chose) and close (code, reason,
 * wasClean).
 */
function connect(url, transport) {
  const sock = new SockJS(url, null, { transports: [transport] });
  const events = [];
  const msgs = [];
  const waiters = new Set();
  const changed = () => {
    for (const w of waiters) w();
  };
  sock.onopen = () => {
    events.push({ type: 'open', transport: sock.transport });
    changed();
  };
  sock.onmessage = (e) => {
    msgs.push(e.data);
    changed();
  };
  sock.onclose = (e) => {
    events.push({ type: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean });
    changed();
  };
  const until = (what, fn, ms = 10000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!fn()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify({ events, msgs })}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { sock, events, msgs, until };
}

describe(`sockjs-client ${SOCKJS_VERSION} in Node`, () => {
  let server;
  before(async () => {
    assert.equal(SOCKJS_VERSION, '1.6.1');
    server = await startConformance();
  });
  after(async () => {
    http.request = request;
    await server?.stop();
  });

  for (const [transport, receive] of Object.entries(TRANSPORTS)) {
    describe(transport, () => {
      test('open and echo', { timeout: 20000 }, async () => {
        const from = requests.length;
        const c = connect(server.url + '/echo', transport);
        try {
          await c.until('open', () => c.events.length > 0);
          assert.deepEqual(c.events, [{ type: 'open', transport }]);
          c.sock.send(TEXT);
          c.sock.send('second');
          await c.until('the echoes', () => c.msgs.length >= 2);
          assert.deepEqual(c.msgs, [TEXT, 'second'], 'the text came back exactly');
          c.sock.close();
          await c.until('close', () => c.events.length > 1);
          assert.deepEqual(c.events[1], { type: 'close', code: 1000, reason: 'Normal closure', wasClean: true });
        } finally {
          c.sock.close();
        }
        checkRequests(requests.slice(from), transport, receive);
      });

      test('echo of every character', { timeout: 20000 }, async () => {
        const c = connect(server.url + '/echo', transport);
        try {
          await c.until('open', () => c.events.length > 0);
          for (const m of EVERY) c.sock.send(m);
          await c.until('the echoes', () => c.msgs.length >= EVERY.length);
          assert.equal(c.msgs.length, EVERY.length);
          for (let i = 0; i < EVERY.length; i++) assert.equal(c.msgs[i], EVERY[i], `message ${i} came back exactly`);
          assert.deepEqual(c.events, [{ type: 'open', transport }]);
        } finally {
          c.sock.close();
        }
      });

      test('server close with code and reason', { timeout: 20000 }, async () => {
        const from = requests.length;
        const c = connect(server.url + '/close', transport);
        try {
          await c.until('close', () => c.events.some((e) => e.type === 'close'));
          assert.deepEqual(c.events, [
            { type: 'open', transport },
            { type: 'close', code: 3000, reason: 'Go away!', wasClean: true },
          ]);
          assert.deepEqual(c.msgs, []);
        } finally {
          c.sock.close();
        }
        checkRequests(requests.slice(from), transport, receive);
      });
    });
  }
});

// checkRequests: /info first, then only the forced transport's receive
// requests (and xhr_send, for the HTTP ones that sent).
function checkRequests(paths, transport, receive) {
  assert.match(paths[0] || '', /^\/(echo|close)\/info(\?t=\d+)?$/, `the first request is /info: ${paths}`);
  const session = paths.slice(1).map((p) => /^\/(?:echo|close)\/[^/]+\/[^/]+\/([a-z_]+)$/.exec(p)?.[1] || p);
  if (transport === 'websocket') {
    assert.deepEqual(session, [], 'the websocket transport makes no HTTP request after /info');
    return;
  }
  assert.ok(session.includes(receive), `a ${receive} request: ${paths}`);
  for (const s of session) assert.ok(s === receive || s === 'xhr_send', `only ${receive} and xhr_send requests: ${paths}`);
}
