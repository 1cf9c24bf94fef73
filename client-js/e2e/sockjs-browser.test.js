// The official sockjs-client (npm, pinned in package.json) in headless
// Chromium against examples/sockjs-conformance, every transport it has in a
// browser forced in turn: open, an echo of text with `%`, U+2028, newlines
// and quotes, and the /close service closing with 3000 "Go away!".
//
// The example runs with -client set to the npm copy, so the page at / and
// the iframe page (which the iframe-* transports load) take sockjs-client
// from /sockjs.js on the server; no request may leave loopback.
//
// Each transport runs twice: from a page on the server's origin
// (http://127.0.0.1:PORT/), and from a page on another origin
// (http://localhost:PORT/) talking to 127.0.0.1, which makes sockjs-client
// use CORS for the XHR transports and a cross-origin iframe for the
// iframe-* ones. The requests each test makes (every frame's, and
// WebSocket handshakes) are checked: only the forced transport's.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Page, launchBrowser } from './lib.js';
import { EVERY, SOCKJS_VERSION, TEXT, startConformance } from './sockjs-lib.js';

// transport → what it requests within a session: receive (the request that
// brings frames), send (the one that carries messages; none for
// websocket), iframe (whether it loads iframe.html first).
const TRANSPORTS = {
  websocket: { receive: 'websocket' },
  'xhr-streaming': { receive: 'xhr_streaming', send: 'xhr_send' },
  'xdr-streaming': { xdr: true },
  eventsource: { receive: 'eventsource', send: 'xhr_send' },
  'iframe-eventsource': { receive: 'eventsource', send: 'xhr_send', iframe: true },
  htmlfile: { receive: 'htmlfile', send: 'xhr_send', sameOriginOnly: true },
  'iframe-htmlfile': { receive: 'htmlfile', send: 'xhr_send', iframe: true },
  'xhr-polling': { receive: 'xhr', send: 'xhr_send' },
  'xdr-polling': { xdr: true },
  'iframe-xhr-polling': { receive: 'xhr', send: 'xhr_send', iframe: true },
  'jsonp-polling': { receive: 'jsonp', send: 'jsonp_send' },
};

// One page error is sockjs-client's own race, not the server's: its
// HtmlfileReceiver._cleanup deletes the page's callback at once and
// removes the iframe a tick later (lib/utils/iframe.js, cleanup), so when
// the client closes just after the receiver re-opened (each htmlfile
// answer ends at the 128 KiB response limit, which the echo of every
// character crosses), the fresh answer's first script can run in that
// tick and read the deleted callback. Only that message is let through,
// and only for the transports that use that receiver.
const HTMLFILE_CLEANUP_RACE = "TypeError: Cannot read properties of undefined (reading 'start')";

const XDR_SKIP =
  'XDomainRequest exists only in Internet Explorer 8-10; sockjs-client enables the xdr-* transports only where it does ' +
  '(XDRObject.enabled = !!global.XDomainRequest), and Chromium has none';
const HTMLFILE_SKIP =
  'sockjs-client enables htmlfile only for a same-origin server (HtmlFileTransport.enabled: info.sameOrigin); ' +
  'from other origins it is iframe-htmlfile';

/**
 * open loads pageURL in a fresh context and returns a lib.js Page whose
 * requests are every request's full URL, WebSocket handshakes included
 * (as ws://...). connect(url, transport) then opens the page's SockJS
 * as window.t, with window.events (open with the transport sockjs-client
 * chose, close with code, reason and wasClean) and window.msgs.
 */
async function open(browser, pageURL) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(pageURL, { timeout: 15000 });
  const p = new Page(page, context, requests, pageErrors);
  p.connect = (url, transport) =>
    page.evaluate(
      ([u, tr]) => {
        window.events = [];
        window.msgs = [];
        const t = new SockJS(u, null, { transports: [tr] });
        window.t = t;
        t.onopen = () => window.events.push({ type: 'open', transport: t.transport });
        t.onmessage = (e) => window.msgs.push(e.data);
        t.onclose = (e) => window.events.push({ type: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean });
      },
      [url, transport]
    );
  return p;
}

describe(`sockjs-client ${SOCKJS_VERSION} in Chromium`, () => {
  let server;
  let browser;
  let xdrType;
  before(async () => {
    assert.equal(SOCKJS_VERSION, '1.6.1');
    server = await startConformance();
    browser = await launchBrowser();
    const p = await open(browser, server.url + '/');
    xdrType = await p.eval(() => typeof window.XDomainRequest);
    await p.close();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the iframe page loads the local sockjs-client copy', async () => {
    const body = await (await fetch(server.url + '/echo/iframe.html')).text();
    const scripts = [...body.matchAll(/<script[^>]*\ssrc="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, ['/sockjs.js'], body);
    const page = await (await fetch(server.url + '/')).text();
    assert.match(page, /<script src="\/sockjs.js"><\/script>/);
    assert.doesNotMatch(page, /cdn|jsdelivr/i);
  });

  for (const cross of [false, true]) {
    describe(cross ? 'from another origin (localhost → 127.0.0.1)' : 'from the same origin', () => {
      const pageURL = () => (cross ? `http://localhost:${server.port}/` : server.url + '/');
      const loopback = () => [`127.0.0.1:${server.port}`, `localhost:${server.port}`];

      for (const [transport, want] of Object.entries(TRANSPORTS)) {
        describe(transport, () => {
          // One page for both tests: the second one's SockJS opens after
          // the first one's closed.
          let p;
          let skip = '';
          before(async () => {
            if (want.xdr) {
              skip = XDR_SKIP;
              assert.equal(xdrType, 'undefined', 'Chromium has XDomainRequest now: test the xdr transports');
            } else if (want.sameOriginOnly && cross) {
              skip = HTMLFILE_SKIP;
            } else {
              p = await open(browser, pageURL());
            }
          });
          after(async () => {
            await p?.close();
          });
          const run = async (t, service, body) => {
            if (skip) return t.skip(skip);
            const from = p.requests.length;
            await p.connect(server.url + service, transport);
            await body(p);
            checkRequests(p.requests.slice(from), service, transport, want, loopback());
            const errors =
              want.receive === 'htmlfile' ? p.pageErrors.filter((e) => e !== HTMLFILE_CLEANUP_RACE) : p.pageErrors;
            assert.deepEqual(errors, []);
          };

          test('open and echo', { timeout: 20000 }, (t) =>
            run(t, '/echo', async (p) => {
              const opened = await p.event('open');
              assert.deepEqual(opened, { type: 'open', transport });
              await p.send(TEXT);
              await p.send('second');
              await p.until('two echoes', () => window.msgs.length >= 2);
              assert.deepEqual(await p.msgs(), [TEXT, 'second'], 'the text came back exactly');
              await p.eval(() => window.t.close());
              const close = await p.event('close');
              assert.deepEqual(close, { type: 'close', code: 1000, reason: 'Normal closure', wasClean: true });
            })
          );

          test('echo of every character', { timeout: 20000 }, (t) =>
            run(t, '/echo', async (p) => {
              await p.event('open');
              await p.eval((ms) => ms.forEach((m) => window.t.send(m)), EVERY);
              await p.until('the echoes', (n) => window.msgs.length >= n, EVERY.length);
              const msgs = await p.msgs();
              assert.equal(msgs.length, EVERY.length);
              for (let i = 0; i < EVERY.length; i++) assert.equal(msgs[i], EVERY[i], `message ${i} came back exactly`);
              await p.eval(() => window.t.close());
              await p.event('close');
            })
          );

          test('server close with code and reason', { timeout: 20000 }, (t) =>
            run(t, '/close', async (p) => {
              await p.event('close');
              assert.deepEqual(await p.events(), [
                { type: 'open', transport },
                { type: 'close', code: 3000, reason: 'Go away!', wasClean: true },
              ]);
              assert.deepEqual(await p.msgs(), []);
            })
          );
        });
      }
    });
  }
});

// checkRequests: nothing left loopback; the session's requests are the
// forced transport's (receive, and send where it sent), and the iframe-*
// ones loaded the iframe page, which loaded /sockjs.js from the server.
function checkRequests(urls, service, transport, want, hosts) {
  for (const u of urls) assert.ok(hosts.includes(new URL(u).host), `a request off the test server: ${u}`);
  const session = [];
  for (const u of urls) {
    const m = new RegExp(`^${service}/[^/.]+/[^/.]+/([a-z_]+)$`).exec(new URL(u).pathname);
    if (m) session.push(m[1]);
  }
  const all = urls.join(' ');
  assert.ok(session.includes(want.receive), `a ${want.receive} request: ${all}`);
  for (const s of session) {
    assert.ok(s === want.receive || s === want.send, `only ${want.receive} and ${want.send} requests: ${all}`);
  }
  if (transport === 'websocket') {
    assert.ok(urls.some((u) => u.startsWith('ws://') && u.endsWith('/websocket')), all);
  } else {
    assert.ok(!urls.some((u) => u.startsWith('ws:')), `no WebSocket: ${all}`);
  }
  const iframes = urls.filter((u) => new URL(u).pathname === service + '/iframe.html');
  if (want.iframe) {
    assert.equal(iframes.length, 1, `one iframe page: ${all}`);
    const origin = new URL(iframes[0]).origin;
    assert.ok(urls.includes(origin + '/sockjs.js'), `the iframe page's sockjs-client from ${origin}/sockjs.js: ${all}`);
  } else {
    assert.deepEqual(iframes, [], 'no iframe page');
  }
}
