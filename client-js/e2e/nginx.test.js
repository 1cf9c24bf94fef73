// Debian's nginx in front of the Go test server, with the configurations
// of docs/deploy-nginx.md: every ```nginx block there whose first line is
// "# tested: <name>" is read from the doc and run as it stands, with only
// its addresses replaced (listen 80 → a free loopback port, 127.0.0.1:8080
// and :8081 → the Go servers). Where a test changes a directive, it says so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { converse } from './checks.js';
import { HB, freePort, launchBrowser, openPage, repoRoot, sleep, startNginx, startServer } from './lib.js';

const DOC = path.join(repoRoot, 'docs', 'deploy-nginx.md');

/** block returns the doc's nginx block tested under name. */
function block(name) {
  const doc = fs.readFileSync(DOC, 'utf8');
  const re = /```nginx\n# tested: ([\w-]+)\n([\s\S]*?)```/g;
  for (let m; (m = re.exec(doc)); ) if (m[1] === name) return m[2];
  throw new Error(`${DOC} has no nginx block "# tested: ${name}"`);
}

/**
 * run starts nginx with the doc's block `name` in front of backends (Go
 * servers, in the order of the block's 127.0.0.1:8080, :8081), after
 * edit(text) when given. It returns nginx with its url.
 */
async function run(name, backends, edit = (s) => s) {
  let text = edit(block(name));
  const port = await freePort();
  assert.match(text, /\blisten 80;/);
  text = text.replace(/\blisten 80;/, `listen 127.0.0.1:${port};`);
  backends.forEach((b, i) => {
    const placeholder = `127.0.0.1:${8080 + i}`;
    assert.ok(text.includes(placeholder), `block ${name} names ${placeholder}`);
    text = text.split(placeholder).join(`${b.host}:${b.port}`);
  });
  const nginx = await startNginx(text, '127.0.0.1', port);
  nginx.url = `http://127.0.0.1:${port}`;
  return nginx;
}

/** inLocation adds directives at the end of the block's location. */
const inLocation = (directives) => (text) => {
  const at = text.lastIndexOf('    }\n}');
  assert.ok(at > 0, 'a location block');
  return text.slice(0, at) + directives.map((d) => `        ${d}\n`).join('') + text.slice(at);
};

/** setDirective replaces a directive's value where the block sets it. */
const setDirective = (name, value) => (text) => {
  const re = new RegExp(`(\\b${name}\\s+)[^;]+;`, 'g');
  assert.match(text, re);
  return text.replace(re, `$1${value};`);
};

/** carriersTried lists the receive carriers a page asked for, in order, WebSocket attempts included. */
function carriersTried(p) {
  return p.requests
    .map((r) => /^\/echo\/(websocket|streaming|eventsource|longpoll|polling|jsonp)$/.exec(r))
    .filter(Boolean)
    .map((m) => m[1])
    .filter((n, i, all) => all[i - 1] !== n);
}

describe('behind nginx', { concurrency: true }, () => {
  let browser;
  const cleanups = [];
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    for (const c of cleanups.reverse()) await c();
  });

  /** stack starts Go servers (one per args list) and nginx with a doc block. */
  async function stack(name, serverArgs, edit) {
    const servers = [];
    for (const args of serverArgs) {
      const s = await startServer(args);
      cleanups.push(() => s.stop());
      servers.push(s);
    }
    const nginx = await run(name, servers, edit);
    cleanups.push(() => nginx.stop());
    return { servers, nginx };
  }

  async function page(url) {
    const p = await openPage(browser, url + '/');
    p.page.on('websocket', (ws) => p.requests.push(new URL(ws.url()).pathname));
    return p;
  }

  test('upgrade headers configured: the page ends on websocket; X-Forwarded-For with TrustedProxies', { timeout: 60000 }, async () => {
    // nginx connects to the app from 127.0.0.3 (added proxy_bind), the
    // browser from 127.0.0.1: the app must see 127.0.0.1 through XFF.
    const { nginx } = await stack(
      'recommended',
      [[...HB, '-trusted-proxies', '127.0.0.3']],
      inLocation(['proxy_bind 127.0.0.3;'])
    );
    const p = await page(nginx.url);
    try {
      await p.connect();
      await converse(p, { push: 300 });
      assert.equal(await p.transport(), 'websocket');
      assert.deepEqual(carriersTried(p), ['websocket']);
      assert.deepEqual(
        (await p.events()).map((e) => e.type),
        ['open', 'close']
      );
      // A second connection: what the server sees.
      await p.connect();
      await p.event('open', 15000, 2);
      await p.send('transport');
      await p.message('transport websocket');
      await p.send('whoami');
      await p.message('remote 127.0.0.1');
    } finally {
      await p.close();
    }
  });

  test('no upgrade headers: the page ends on an HTTP carrier by itself and chats', { timeout: 60000 }, async () => {
    const { nginx } = await stack('plain', [HB]);
    const p = await page(nginx.url);
    try {
      const t0 = Date.now();
      await p.connect({ connectTimeout: 20000 }); // long: the refusal must be what moves it on
      await p.event('open');
      const took = Date.now() - t0;
      assert.equal(await p.transport(), 'streaming');
      assert.deepEqual(carriersTried(p), ['websocket', 'streaming']);
      assert.ok(took < 10000, `the refused upgrade is abandoned at once (${took} ms)`);
      await converse(p, { push: 300 });
      assert.deepEqual(
        (await p.events()).map((e) => e.type),
        ['open', 'close']
      );
    } finally {
      await p.close();
    }
  });

  for (const [label, extra] of [
    ['proxy_buffering on, X-Accel-Buffering ignored', []],
    // nginx then sends the headers at once: EventSource fires open, but no event comes.
    ['the same with postpone_output 0 (headers at once, body buffered)', ['postpone_output 0;']],
  ]) {
    test(`${label}: streaming carriers abandoned, the page ends on longpoll and chats`, { timeout: 60000 }, async () => {
      const { nginx } = await stack('buffered', [HB], inLocation(extra));
      const p = await page(nginx.url);
      try {
        await p.connect({ connectTimeout: 4000 });
        await p.event('open', 30000);
        const tried = carriersTried(p);
        assert.deepEqual(tried.slice(0, 3), ['websocket', 'streaming', 'eventsource']);
        assert.ok(['longpoll', 'polling'].includes(tried[3]), tried.join());
        assert.equal(await p.transport(), tried[3]);
        await converse(p, { push: 300 });
        // nginx may notice an abandoned stream's client a moment late, so
        // the first poll may find it still attached (c4103): the client
        // then resumes the same session. Anything else is a failure.
        const types = (await p.events()).filter((e) => e.type !== 'reconnecting' && !(e.type === 'reconnected' && e.recovered));
        assert.deepEqual(
          types.map((e) => e.type),
          ['open', 'close']
        );
        assert.ok(['longpoll', 'polling'].includes(await p.transport()));
      } finally {
        await p.close();
      }
    });
  }

  test('proxy_read_timeout 3s, heartbeat 1s: idle pages stay connected past it', { timeout: 60000 }, async () => {
    const edit = setDirective('proxy_read_timeout', '3s');
    const { nginx } = await stack('recommended', [HB], edit);
    // The control: a heartbeat slower than the proxy's timeout.
    const { nginx: slow } = await stack('recommended', [['-hb', '5s']], edit);
    const names = ['websocket', 'streaming', 'eventsource', 'longpoll'];
    const pages = [];
    try {
      for (const name of names) pages.push(await page(nginx.url));
      const control = await page(slow.url);
      pages.push(control);
      await Promise.all(
        pages.map(async (p, i) => {
          await p.connect({ transports: [names[i] || 'longpoll'] });
          await p.event('open');
          await p.message('Welcome');
        })
      );
      await sleep(8000); // idle
      for (const [i, p] of pages.slice(0, names.length).entries()) {
        const types = (await p.events()).map((e) => e.type);
        assert.deepEqual(types, ['open'], `${names[i]}: no reconnection while idle`);
        assert.equal(await p.transport(), names[i]);
        if (names[i] === 'streaming' || names[i] === 'eventsource') {
          const n = p.requests.filter((r) => r === '/echo/' + names[i]).length;
          assert.equal(n, 1, `${names[i]}: one answer for the whole idle time`);
        }
        await p.echo('still here');
      }
      const types = (await control.events()).map((e) => e.type);
      assert.ok(types.includes('reconnecting'), `control (heartbeat 5s): nginx cut the held poll: ${types}`);
      await control.echo('still here');
    } finally {
      for (const p of pages) await p.close();
    }
  });

  test('load-balanced with ip_hash: a session stays on one backend; when it dies, recovered: false on the other', { timeout: 60000 }, async () => {
    const { servers, nginx } = await stack('load-balanced', [HB, HB]);
    const pages = [];
    try {
      for (const transports of [undefined, ['longpoll'], ['streaming']]) {
        const p = await page(nginx.url);
        pages.push(p);
        await p.connect({ transports, reconnectDelay: 100, maxReconnectDelay: 1000 });
        await p.event('open');
        await p.echo('hello');
        await p.send('server');
        await p.until('the serving backend', () => window.msgs.some((m) => m.startsWith('server ')));
      }
      const serving = async (p) => (await p.msgs()).filter((m) => m.startsWith('server ')).pop().slice(7);
      const first = await serving(pages[0]);
      for (const p of pages) assert.equal(await serving(p), first, 'ip_hash: one backend for one client address');
      const victim = servers.find((s) => `${s.host}:${s.port}` === first);
      const other = servers.find((s) => s !== victim);
      const seen = await Promise.all(pages.map(async (p) => (await p.events()).filter((e) => e.type === 'reconnected').length));
      await victim.kill();
      for (const [i, p] of pages.entries()) {
        const ev = await p.event('reconnected', 20000, seen[i] + 1);
        assert.equal(ev.recovered, false);
        await p.echo('after');
        await p.send('server');
        await p.message(`server ${other.host}:${other.port}`);
      }
    } finally {
      for (const p of pages) await p.close();
    }
  });
});
