// The conversation every carrier must carry, shared by the tests.

import assert from 'node:assert/strict';

export const UNICODE = 'héllo\n"wörld" ✓ \u2028 <b>&amp;</b>';
export const BYTES = [0, 1, 2, 10, 13, 127, 128, 255];

/**
 * converse runs, on a page already connected, the echo app's whole
 * repertoire: greeting, echo (with newlines, quotes, markup and non-ASCII
 * text), a burst of server push, timed server push, binary both ways, and
 * finally a close by the server with code 3005, which must reach onclose
 * with its code and reason. It checks that nothing was lost or repeated.
 */
export async function converse(p, { push = 200 } = {}) {
  await p.event('open');
  await p.message('Welcome');
  await p.echo('hello');
  await p.echo(UNICODE);
  await p.send('push ' + push);
  await p.message('push ' + push);
  await p.send('tick 3 150');
  await p.message('tick 3');
  await p.sendBytes(BYTES);
  await p.message('bin:' + BYTES.join(','));
  await p.send('close 3005 bye');
  const close = await p.event('close');
  assert.deepEqual(
    { code: close.code, reason: close.reason, wasClean: close.wasClean },
    { code: 3005, reason: 'bye', wasClean: true }
  );
  const want = ['Welcome', 'new message: hello', 'new message: ' + UNICODE];
  for (let i = 1; i <= push; i++) want.push('push ' + i);
  want.push('tick 1', 'tick 2', 'tick 3', 'bin:' + BYTES.join(','));
  assert.deepEqual(await p.msgs(), want, 'every message once, in order');
  assert.equal(await p.eval(() => window.t.readyState), 3);
}
