// Each of the six carriers forced in turn (options.transports = [name]) in
// headless Chromium against the Go test server: open, echo, server push,
// binary both ways, and a server close with code 3005 reaching onclose.
// A small MaxStreamBytes makes streaming and eventsource answers end
// (and re-open) in the middle of the push burst.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { converse } from './checks.js';
import { HB, launchBrowser, openPage, startServer } from './lib.js';

const CARRIERS = ['websocket', 'streaming', 'eventsource', 'longpoll', 'polling', 'jsonp'];

describe('each carrier forced in turn', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer([...HB, '-max-stream-bytes', '8192']);
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
        await p.connect({ transports: [name] });
        await converse(p, { push: 600 });
        assert.equal(await p.transport(), name);
        assert.deepEqual(
          (await p.events()).map((e) => e.type),
          ['open', 'close'],
          'no error, reconnection or transport change'
        );
        const paths = p.requests.filter((r) => r.startsWith('/echo/') && !r.endsWith('.js'));
        for (const other of CARRIERS) {
          if (other !== name) assert.ok(!paths.includes('/echo/' + other), `no ${other} request: ${paths}`);
        }
        if (name === 'streaming' || name === 'eventsource') {
          const n = paths.filter((r) => r === '/echo/' + name).length;
          assert.ok(n >= 2, `the ${name} answer reached MaxStreamBytes and was re-opened (${n} requests)`);
        }
        assert.deepEqual(p.pageErrors, []);
      } finally {
        await p.close();
      }
    });
  }
});
