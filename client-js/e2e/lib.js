// Shared by the end-to-end tests: build and run the Go test server
// (e2e/server), run Debian's nginx with a generated config, drive Debian's
// Chromium headless through playwright-core. Everything listens on
// loopback, every process started here is killed when the test process
// ends, and every wait is bounded.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export const CHROMIUM = process.env.TETHER_E2E_CHROMIUM || '/usr/bin/chromium';
export const NGINX = process.env.TETHER_E2E_NGINX || findNginx();

function findNginx() {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) {
    if (fs.existsSync(p)) return p;
  }
  return 'nginx';
}

// Every child process and temp dir, so that nothing outlives the test
// process even when a test fails half-way.
const children = new Set();
const tempDirs = new Set();
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(sig, () => process.exit(128 + n)); // runs the exit handler below
}
process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The Go test server ---------------------------------------------------------

// HB is the heartbeat the tests run the server with: a heartbeat every
// second keeps every carrier busy, and a dead-peer timeout (which the
// client uses too) far above it keeps a busy machine from looking like a
// dead network.
export const HB = ['-hb', '1s', '-hb-timeout', '10s'];

let built = null;

/** buildServer builds e2e/server once per test process and returns the binary's path. */
export function buildServer() {
  if (built) return built;
  const out = path.join(tempDir('tether-e2e-bin-'), 'server');
  const r = spawnSync('go', ['build', '-o', out, './client-js/e2e/server'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 180000,
  });
  if (r.status !== 0) throw new Error('go build of the e2e server failed: ' + (r.error || r.stderr));
  built = out;
  return out;
}

/**
 * startServer runs the Go test server with args (its flags) and resolves
 * once it prints its address: {url, host, port, proc, logs(), stop(), kill()}.
 * addr defaults to a free loopback port.
 */
export async function startServer(args = [], addr = '127.0.0.1:0') {
  const bin = buildServer();
  // Its stdin is a pipe from this process: should this process die
  // without its exit handler, the server sees EOF and exits too.
  const verbose = process.env.TETHER_E2E_VERBOSE ? ['-v'] : [];
  const proc = spawn(bin, ['-exit-on-stdin-eof', ...verbose, '-addr', addr, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(proc);
  let log = '';
  proc.stderr.on('data', (d) => {
    log += d;
    if (process.env.TETHER_E2E_VERBOSE) process.stderr.write('[server] ' + d);
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig)));
  exited.then(() => children.delete(proc));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the e2e server did not start within 15 s: ' + log)), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error('the e2e server exited (' + code + ') before listening: ' + log));
    });
  });
  const u = new URL(url);
  const stopWith = async (sig) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  return {
    url,
    host: u.hostname,
    port: Number(u.port),
    proc,
    logs: () => log,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}

/** freePort returns a loopback TCP port that was free a moment ago. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** waitPort resolves once host:port accepts TCP connections. */
export async function waitPort(host, port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect({ host, port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
    await sleep(50);
  }
}

// nginx ---------------------------------------------------------------------

/**
 * startNginx runs Debian's nginx in the foreground (daemon off, a single
 * process) with serverBlock as the contents of its http block (listen
 * lines included); everything it writes goes to a temp dir given with -p,
 * -c and -e. It resolves once nginx listens on host:port:
 * {dir, conf, stop(), errors()}.
 */
export async function startNginx(serverBlock, host, port) {
  const dir = tempDir('tether-e2e-nginx-');
  const conf = path.join(dir, 'nginx.conf');
  // One process, no workers: killing it (even with SIGKILL, when the test
  // process dies) leaves nothing behind listening.
  fs.writeFileSync(
    conf,
    `# generated by client-js/e2e/lib.js
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${serverBlock}
}
`
  );
  const proc = spawn(NGINX, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig)));
  exited.then(() => children.delete(proc));
  const errors = () => out + readIf(path.join(dir, 'error.log'));
  await Promise.race([
    waitPort(host, port),
    exited.then((code) => {
      throw new Error(`nginx exited (${code}) at start: ${errors()}`);
    }),
  ]);
  return {
    dir,
    conf,
    errors,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM'); // fast shutdown
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

function readIf(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

// Chromium ------------------------------------------------------------------

// The flags the machine rules ask for; playwright adds a fresh --user-data-dir.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** launchBrowser starts Debian's Chromium headless (never a downloaded one). */
export function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(CHROMIUM + ' is missing: apt-get install chromium');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
}

/**
 * openPage opens url in a fresh browser context (its own cache and
 * cookies) and returns a Page helper: the playwright page, the context,
 * the request paths seen, and waits over window.events and window.msgs.
 */
export async function openPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(url, { timeout: 15000 });
  return new Page(page, context, requests, pageErrors);
}

export class Page {
  constructor(page, context, requests, pageErrors) {
    this.page = page;
    this.context = context;
    this.requests = requests;
    this.pageErrors = pageErrors;
  }

  connect(options) {
    return this.page.evaluate((o) => window.connect(o), options || {});
  }

  send(text) {
    return this.page.evaluate((s) => window.t.send(s), text);
  }

  sendBytes(bytes) {
    return this.page.evaluate((b) => window.sendBytes(b), bytes);
  }

  eval(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  msgs() {
    return this.page.evaluate(() => window.msgs.slice());
  }

  events() {
    return this.page.evaluate(() => window.events.slice());
  }

  transport() {
    return this.page.evaluate(() => window.t.transport);
  }

  /** until waits (bounded) for fn(arg) to be truthy in the page. */
  async until(what, fn, arg, ms = 15000) {
    try {
      await this.page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
    } catch (err) {
      const state = await this.page
        .evaluate(() => ({ events: window.events, msgs: window.msgs.slice(-20), transport: window.t && window.t.transport }))
        .catch(() => '(page gone)');
      throw new Error(`timed out after ${ms} ms waiting for ${what}; page: ${JSON.stringify(state)}`);
    }
  }

  /** event waits for the n-th (1-based) event of a type and returns it. */
  async event(type, ms = 15000, n = 1) {
    await this.until(
      `event ${type} #${n}`,
      ([t, k]) => window.events.filter((e) => e.type === t).length >= k,
      [type, n],
      ms
    );
    return (await this.events()).filter((e) => e.type === type)[n - 1];
  }

  /** message waits for a message equal to text. */
  message(text, ms = 15000) {
    return this.until(`message ${JSON.stringify(text)}`, (s) => window.msgs.indexOf(s) >= 0, text, ms);
  }

  /** echo sends text and waits for the echo app's answer. */
  async echo(text, ms = 15000) {
    await this.send(text);
    await this.message('new message: ' + text, ms);
  }

  close() {
    return this.context.close();
  }
}
