// Losing the network and losing the server, in headless Chromium.
//
// Offline: playwright's context.setOffline, which is DevTools network
// emulation (Network.emulateNetworkConditions offline). Chromium cuts open
// WebSockets and streams and fails every new request while it is on, so
// every carrier is exercised the same way; each runs in its own page, at
// the same time, against one server. Both sides keep sending numbered
// messages across the cut: after it, each must have arrived exactly once,
// in order, and the client must report recovered: true. Chromium usually
// closes a WebSocket when the page goes offline, but it may also keep it
// and hold its frames; the cut outlasts the server's 3 s dead-peer
// timeout (which the client applies too), so that a held carrier is
// declared dead and the session resumed on a new one in every case.
//
// Restart: the server process is killed (SIGKILL) and started again on the
// same port: the session is gone, so the client opens a new one and
// reports recovered: false, and the page chats again.
//
// Carrier after a reconnection: when the resume's WebSocket attempt fails
// (the network came back just after it), the session lands on a fallback;
// having carried on WebSocket before, the client probes it and moves back.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HB, launchBrowser, openPage, sleep, startServer } from './lib.js';

const CARRIERS = ['websocket', 'streaming', 'eventsource', 'longpoll', 'polling', 'jsonp'];
const N = 60; // numbered messages each way, one every 100 ms
const FAST = { reconnectDelay: 100, maxReconnectDelay: 1000 };

describe('offline, then online: nothing lost or repeated, recovered: true', { concurrency: true }, () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer(['-hb', '1s', '-hb-timeout', '3s']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const name of CARRIERS) {
    test(name, { timeout: 60000 }, async () => {
      const p = await openPage(browser, server.url + '/');
      try {
        // transports: websocket is the default order; the others forced.
        await p.connect(name === 'websocket' ? FAST : { transports: [name], ...FAST });
        await p.event('open');
        await p.message('Welcome');
        assert.equal(await p.transport(), name);

        // Server: tick 1…N; client: n 1…N, echoed; both every 100 ms.
        await p.send(`tick ${N} 100`);
        await p.eval((n) => {
          let i = 0;
          const id = setInterval(() => {
            window.t.send('n ' + ++i);
            if (i === n) clearInterval(id);
          }, 100);
        }, N);
        await sleep(1000);
        await p.context.setOffline(true);
        await sleep(500); // what was already on its way to the page
        const before = (await p.msgs()).length;
        await sleep(3500);
        const during = await p.msgs();
        await p.context.setOffline(false);
        assert.equal(during.length, before, 'nothing arrives while offline');
        await p.event('reconnected', 20000);

        await p.message(`tick ${N}`, 20000);
        await p.message(`new message: n ${N}`, 20000);
        await p.send('check');
        await p.message(`check ok ${N}`);

        const got = await p.msgs();
        const ticks = got.filter((m) => m.startsWith('tick '));
        const echoes = got.filter((m) => m.startsWith('new message: n '));
        const seq = (prefix) => Array.from({ length: N }, (_, i) => prefix + (i + 1));
        assert.deepEqual(ticks, seq('tick '), 'server messages: each once, in order');
        assert.deepEqual(echoes, seq('new message: n '), 'client messages: each once, in order');
        assert.ok(ticks.indexOf(during.filter((m) => m.startsWith('tick ')).pop()) < N - 30, 'ticks were sent while offline');

        const events = await p.events();
        const types = events.map((e) => e.type);
        assert.ok(types.includes('reconnecting'), types.join());
        assert.ok(!types.includes('close'), types.join());
        for (const e of events.filter((e) => e.type === 'reconnected')) assert.equal(e.recovered, true, 'the same session');
        // Should the network come back in the middle of a round, after the
        // websocket attempt, the client lands on a fallback and moves back.
        await p.until(`back on ${name}`, (n) => window.t.transport === n, name);
        assert.deepEqual(p.pageErrors, []);
      } finally {
        await p.close();
      }
    });
  }
});

describe('the server process restarts', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('reconnected with recovered: false, and the page works again', { timeout: 60000 }, async () => {
    let server = await startServer(HB);
    const addr = `${server.host}:${server.port}`;
    // Two pages: the default order (ends on websocket) and longpoll.
    const pages = [];
    try {
      for (const transports of [undefined, ['longpoll']]) {
        const p = await openPage(browser, server.url + '/');
        pages.push(p);
        await p.connect(transports ? { transports, ...FAST } : FAST);
        await p.event('open');
        await p.echo('before');
      }
      const ids = await Promise.all(pages.map((p) => p.eval(() => window.t.id)));

      await server.kill();
      await Promise.all(pages.map((p) => p.event('reconnecting', 15000)));
      // Sent while the server is down: queued, then delivered to the new session.
      await Promise.all(pages.map((p) => p.send('while down')));
      await sleep(500);
      server = await startServer(HB, addr);

      for (const [i, p] of pages.entries()) {
        const ev = await p.event('reconnected', 20000);
        assert.equal(ev.recovered, false);
        await p.message('new message: while down');
        await p.echo('after');
        const msgs = await p.msgs();
        assert.deepEqual(msgs, [
          'Welcome',
          'new message: before',
          'Welcome', // the new session's greeting
          'new message: while down',
          'new message: after',
        ]);
        assert.notEqual(await p.eval(() => window.t.id), ids[i], 'a new session');
        const types = (await p.events()).map((e) => e.type);
        assert.ok(!types.includes('close'), types.join());
        assert.equal(types.filter((t) => t === 'reconnected').length, 1, types.join());
        assert.deepEqual(p.pageErrors, []);
      }
    } finally {
      for (const p of pages) await p.close();
      await server.stop();
    }
  });
});

describe('the carrier after a reconnection', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('a reconnection that misses WebSocket lands on a fallback, then moves back to WebSocket', { timeout: 60000 }, async () => {
    const server = await startServer(HB);
    const p = await openPage(browser, server.url + '/');
    try {
      // Every WebSocket goes through playwright, which lets the test cut
      // the live one and refuse the next attempt.
      let refuse = 0;
      let attempts = 0;
      let live = null;
      await p.page.routeWebSocket(/\/echo\/websocket$/, (ws) => {
        attempts++;
        if (refuse > 0) {
          refuse--;
          ws.close({ code: 1011, reason: 'refused by the test' });
        } else {
          live = { page: ws, server: ws.connectToServer() };
        }
      });
      await p.connect(FAST);
      await p.event('open');
      await p.echo('before');
      assert.equal(await p.transport(), 'websocket');

      refuse = 1; // the resume's WebSocket attempt fails: the round goes on to streaming
      live.server.close();
      live.page.close({ code: 1001, reason: 'cut by the test' });
      const ev = await p.event('reconnected', 15000);
      assert.equal(ev.recovered, true);
      await p.until('back on websocket', () => window.t.transport === 'websocket', undefined, 15000);
      await p.echo('after');
      const moves = (await p.events()).filter((e) => e.type === 'transport').map((e) => e.previous + '>' + e.transport);
      assert.deepEqual(moves, ['websocket>streaming', 'streaming>websocket']);
      // The first, the refused one, then the probes: one normally, more
      // when a probe meets the poller still attached (4103) and retries,
      // at most 3 (the client's documented limit).
      assert.ok(attempts >= 3 && attempts <= 5, `${attempts} WebSocket attempts: the first, the refused one, 1 to 3 probes`);
      assert.deepEqual(await p.msgs(), ['Welcome', 'new message: before', 'new message: after']);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.close();
      await server.stop();
    }
  });
});
