// Shared by the sockjs-*.test.js files: build and run
// examples/sockjs-conformance (tether's SockJS dialect with /echo, /close,
// /disabled_websocket_echo and /cookie_needed_echo), serving the npm copy of
// sockjs-client at /sockjs.js, so that the page and the iframe page load it
// from the server and never from a CDN.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort, repoRoot, tempDir, waitPort } from './lib.js';

const require = createRequire(import.meta.url);

/** SOCKJS_CLIENT is the npm sockjs-client's browser build. */
export const SOCKJS_CLIENT = path.join(path.dirname(require.resolve('sockjs-client/package.json')), 'dist', 'sockjs.min.js');

/** SOCKJS_VERSION is the version of the npm sockjs-client (pinned in package.json). */
export const SOCKJS_VERSION = require('sockjs-client/package.json').version;

// TEXT is the echo every transport must carry unchanged: `%` (which the
// EventSource and htmlfile framings escape), U+2028 (which SockJS escapes
// and which ends a line in older JavaScript), newlines, quotes of both
// kinds, a backslash, and text beyond ASCII.
export const TEXT = '100% sure \u2028 line 1\nline 2\r\n"double" \'single\' back\\slash %22 h\u00e9llo \u2713';

// EVERY is every UTF-16 code unit but the surrogates (which Go strings
// cannot hold alone), and two characters beyond the BMP, in messages of
// 1,000: the control characters and the ranges SockJS escapes (U+200C-
// U+200F, U+2028-U+202F, U+2060-U+206F, U+FFF0-U+FFFF, ...) included.
export const EVERY = (() => {
  let s = '';
  for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) s += String.fromCharCode(c);
  s += '\u{1F600}\u{10FFFF}';
  const chunks = [];
  for (let i = 0; i < s.length; i += 1000) chunks.push(s.slice(i, i + 1000));
  return chunks;
})();

let built = null;

/** buildConformance builds examples/sockjs-conformance once per test process. */
export function buildConformance() {
  if (built) return built;
  const out = path.join(tempDir('tether-e2e-sockjs-bin-'), 'sockjs-conformance');
  const r = spawnSync('go', ['build', '-o', out, './examples/sockjs-conformance'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 180000,
  });
  if (r.status !== 0) throw new Error('go build of examples/sockjs-conformance failed: ' + (r.error || r.stderr));
  built = out;
  return out;
}

/**
 * startConformance runs the example on a free loopback port with
 * -client set to the npm sockjs-client and resolves once it accepts
 * connections: {url, host, port, logs(), stop()}.
 *
 * The example has no stdin watch of its own, so it runs under a small sh
 * that prints its pid and sends it SIGTERM when its stdin (a pipe from
 * this process) reaches EOF: on stop(), and also when this process dies
 * in any way, SIGKILL included. stop() SIGKILLs it if it is not gone 6 s
 * later.
 */
export async function startConformance() {
  if (!fs.existsSync(SOCKJS_CLIENT)) throw new Error(SOCKJS_CLIENT + ' is missing: npm install');
  const bin = buildConformance();
  const host = '127.0.0.1';
  const port = await freePort(host);
  // (A background list's stdin is /dev/null in sh, hence fd 3.)
  const script = 'exec 3<&0; "$@" </dev/null & p=$!; echo "pid $p"; (cat <&3 >/dev/null; kill $p 2>/dev/null) & exec 3<&-; wait $p';
  const proc = spawn('sh', ['-c', script, 'sh', bin, '-addr', `${host}:${port}`, '-client', SOCKJS_CLIENT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  let out = '';
  proc.stderr.on('data', (d) => {
    log += d;
    if (process.env.TETHER_E2E_VERBOSE) process.stderr.write('[sockjs-conformance] ' + d);
  });
  proc.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig)));
  const pid = () => Number((/pid (\d+)/.exec(out) || [])[1]) || 0;
  const alive = (p) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = async () => {
    const p = pid();
    proc.stdin.end();
    let timer;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 6000)))]);
    clearTimeout(timer);
    if (p && alive(p)) process.kill(p, 'SIGKILL');
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([
      waitPort(host, port, 15000),
      exited.then((code) => {
        throw new Error(`sockjs-conformance exited (${code}) at start: ${log}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://${host}:${port}`, host, port, logs: () => log, stop };
}
