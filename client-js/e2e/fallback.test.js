// Negotiation with the default transports: WebSocket refused by the server
// (router Transports without websocket), and a page with no XHR, fetch,
// WebSocket or EventSource, where only jsonp can work.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { converse } from './checks.js';
import { HB, launchBrowser, openPage, startServer } from './lib.js';

describe('fallback', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('WebSocket refused by the server: the page falls back and still chats', { timeout: 60000 }, async () => {
    const server = await startServer([...HB, '-no-websocket']);
    const p = await openPage(browser, server.url + '/');
    try {
      const sockets = [];
      p.page.on('websocket', (ws) => sockets.push(ws.url()));
      const t0 = Date.now();
      // Default transports, websocket first; a connectTimeout long enough
      // to tell a refusal acted on at once from a carrier timed out.
      await p.connect({ connectTimeout: 20000 });
      await p.event('open');
      const took = Date.now() - t0;
      assert.equal(sockets.length, 1, 'a WebSocket was tried first');
      assert.equal(await p.transport(), 'streaming', 'the next carrier in the default order');
      assert.ok(took < 10000, `a refused WebSocket is abandoned at once, not after connectTimeout (${took} ms)`);
      await converse(p);
      assert.deepEqual(
        (await p.events()).map((e) => e.type),
        ['open', 'close']
      );

      // The carrier that worked is remembered for the page's life: the
      // next connection does not try WebSocket again.
      await p.eval(() => {
        window.events = [];
        window.msgs = [];
      });
      await p.connect();
      await p.event('open');
      await p.echo('again');
      assert.equal(sockets.length, 1, 'no second WebSocket attempt');
      assert.equal(await p.transport(), 'streaming');
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.close();
      await server.stop();
    }
  });

  test('jsonp in a page without XHR, fetch, WebSocket and EventSource', { timeout: 60000 }, async () => {
    const server = await startServer(HB);
    const p = await openPage(browser, server.url + '/bare');
    try {
      assert.equal(await p.eval(() => window.bare), 'undefinedundefinedundefinedundefined');
      await p.connect(); // default transports: every other carrier fails at once
      await converse(p, { push: 300 });
      assert.equal(await p.transport(), 'jsonp');
      assert.deepEqual(
        (await p.events()).map((e) => e.type),
        ['open', 'close']
      );
      const paths = p.requests.filter((r) => r.startsWith('/echo/') && !r.endsWith('.js'));
      assert.ok(paths.includes('/echo/jsonp') && paths.includes('/echo/send'), paths.join(' '));
      assert.ok(!paths.some((r) => /\/(websocket|streaming|eventsource|longpoll|polling)$/.test(r)), paths.join(' '));
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.close();
      await server.stop();
    }
  });
});
