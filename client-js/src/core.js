// The session as the client sees it (SPEC.md §1, §3, §6, §7): numbering
// and keeping outgoing messages until acknowledged, de-duplicating and
// acknowledging incoming ones, choosing a carrier (negotiation, fallback,
// upgrade), and resuming the session on a new carrier when one is lost.
// Every carrier is reached through the small interface of carriers/index.js.

import { backoff } from './backoff.js';
import { encodeClose, encodeMessage, truncateReason, utf8Length } from './frames.js';
import { endpoint, mount, wsEndpoint } from './url.js';
import { carriers as builtin, DEFAULT_TRANSPORTS } from './carriers/index.js';
import { G, realClock } from './env.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

// On carriers that answer with one long stream, acknowledge before the
// server's log of unacknowledged messages grows large (SPEC.md §3).
const ACK_EVERY_MESSAGES = 32;
const ACK_EVERY_BYTES = 16 << 10;
// Upgrade probes after a probe was refused (the poller still attached).
const MAX_PROBES = 3;

// What the client does after a close code (SPEC.md §7).
const STOP = 0;
const RESUME = 1;
const RENEW = 2;

function actionOf(code) {
  if (code === 1000 || (code >= 3000 && code <= 4099)) return STOP;
  if (code >= 4200 && code <= 4999) return RENEW;
  return RESUME;
}

/** defaults are the options' default values (README.md documents them). */
export const defaults = {
  transports: DEFAULT_TRANSPORTS,
  upgrade: false,
  connectTimeout: 5000,
  reconnectDelay: 500,
  maxReconnectDelay: 10000,
  maxReconnectAttempts: Infinity,
  maxQueue: 1000,
  maxQueueBytes: 1 << 20,
  withCredentials: true,
};

// remembered maps a mount URL to the carrier that last worked for it, for
// the page's life: later connections to it start there.
const remembered = {};
// wsCarried holds the mount URLs where a WebSocket carried in this page. A
// connection there that lands on another carrier (a reconnection whose
// round met the network a moment before it came back, say) probes
// WebSocket and moves back to it, as the upgrade option does, instead of
// staying on the fallback for the page's life.
const wsCarried = {};

function toArrayBuffer(u8) {
  return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8.buffer : u8.slice().buffer;
}

function isArrayBuffer(d) {
  return d instanceof ArrayBuffer || Object.prototype.toString.call(d) === '[object ArrayBuffer]';
}

/**
 * core runs one client for t (which has _emit) and returns its methods.
 * options may hold, besides the public ones, _carriers (a map of carrier
 * factories), _env (the global object carriers use), _clock ({setTimeout,
 * clearTimeout, now}) and _random, for tests.
 */
export function core(t, url, options) {
  const opts = {};
  for (const k in defaults) opts[k] = options[k] !== undefined ? options[k] : defaults[k];
  const env = options._env || G;
  const clock = options._clock || realClock;
  const random = options._random || Math.random;
  const factories = options._carriers || builtin;
  const m = mount(url, env.location);
  const key = m.base + '?' + m.query;
  if (!opts.transports.length) throw new Error('tether: no transports');
  opts.transports.forEach((n) => {
    if (!factories[n]) throw new Error('tether: unknown transport ' + JSON.stringify(n));
  });
  const emit = (type, props) => t._emit(type, props);
  const after = (ms, fn) => clock.setTimeout(fn, ms);
  const cancel = (id) => id !== undefined && clock.clearTimeout(id);

  let state = CONNECTING;
  let everOpened = false; // the open event fired
  let lost = false; // reconnecting: reconnected fires on the next carrier
  let sid = null;
  let token = null;
  let info = null; // the open frame: hb, timeout, maxMessage, maxSend, …
  let carrierName = null; // the carrier that last carried

  // Server to client: last message delivered, last one acknowledged.
  let last = 0;
  let ackSent = 0;
  let unackedBytes = 0;
  let ackDue = false;

  // Client to server: messages kept until acknowledged, seq acked+1 on.
  let outbox = [];
  let outBytes = 0;
  let nextSeq = 1;
  let acked = 0;
  let sentUpTo = 0; // sent on the current carrier
  let transmitted = 0; // ever handed to a carrier in this session
  let sending = false; // a send is in flight (one at a time, SPEC.md §3)
  let closing = null; // {code, reason, sent}
  let unconfirmed = null; // data of messages a lost session may have had

  let cur = null; // the carrier in use or being tried
  let probe = null; // a websocket probe (the upgrade option)
  let round = null; // {list, i, upgrading}: carriers to try in turn
  let fails = 0; // failures in a row, for the backoff
  let attempt = 0; // reconnection attempts since the last carrier that carried
  let probes = 0;
  let probeOff = false;
  let retryTimer;
  let deadTimer;
  let ackTimer;
  let closeTimer;
  let probeTimer;
  let lastRecv = 0;
  let lastWrite = 0;

  function newCtx(name, isProbe) {
    const ctx = {
      name,
      env,
      probe: isProbe,
      withCredentials: opts.withCredentials,
      dead: false,
      opened: false,
      carrying: false, // ready was called: the carrier carries
      progressed: false,
      car: null,
      url: (n, params) => endpoint(m, n, params),
      wsUrl: () => wsEndpoint(m),
      hello: () => (sid ? { sid, token, last } : {}),
      ack: () => last,
      timer: (fn, ms) => {
        const id = after(ms, fn);
        return () => cancel(id);
      },
      open: (o) => onOpen(ctx, o),
      ready: () => onReady(ctx),
      recv: (frames) => onRecv(ctx, frames),
      fail: (err) => onFail(ctx, err),
      probeOpen: () => onProbeOpen(ctx),
    };
    return ctx;
  }

  function launch(ctx, what) {
    ctx.ct = after(opts.connectTimeout, () =>
      onFail(ctx, new Error('tether: ' + what + ' carried nothing within ' + opts.connectTimeout + ' ms'))
    );
    try {
      ctx.car = factories[ctx.name](ctx);
    } catch (err) {
      onFail(ctx, err);
    }
    if (ctx.dead && ctx.car) ctx.car.close(); // it failed while being made
  }

  function kill(ctx) {
    if (ctx.dead) return;
    ctx.dead = true;
    cancel(ctx.ct);
    if (ctx === cur) {
      sending = false;
      cancel(deadTimer);
      cancel(ackTimer);
    }
    if (ctx.car) {
      try {
        ctx.car.close();
      } catch (e) {
        // closing is best effort
      }
    }
  }

  // Choosing a carrier ---------------------------------------------------

  function startRound() {
    if (state === CLOSED) return;
    let list = opts.transports.slice();
    const r = remembered[key];
    if (opts.upgrade && r !== 'websocket' && list.length > 1) list = list.filter((n) => n !== 'websocket');
    if (r && list.indexOf(r) > 0) list = [r].concat(list.filter((n) => n !== r));
    round = { list, i: 0 };
    tryNext();
  }

  function tryNext(err) {
    if (closing) return finish(closing.code, closing.reason, false);
    if (!round || round.i >= round.list.length) return roundFailed(err);
    const ctx = newCtx(round.list[round.i++], false);
    cur = ctx;
    launch(ctx, ctx.name);
  }

  // roundFailed gives up this round and schedules the next. quiet leaves
  // out the error event, for a refusal that is a step of recovering.
  function roundFailed(err, quiet) {
    round = null;
    if (closing) return finish(closing.code, closing.reason, false);
    const e = new Error('tether: could not connect' + (err ? ': ' + err.message : ''));
    if (!quiet) emit('error', { error: e, message: e.message });
    if (state === CLOSED) return;
    if (everOpened) {
      lost = true;
      state = CONNECTING;
    }
    schedule(backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), e);
  }

  function schedule(delay, cause) {
    round = null;
    cancel(probeTimer); // an upgrade probe waits for the next carrier
    if (probe) kill(probe);
    probe = null;
    if (++attempt > opts.maxReconnectAttempts) {
      return finish(1006, truncateReason(cause ? cause.message : 'could not reconnect'), false);
    }
    emit('reconnecting', { attempt, delay });
    if (state === CLOSED) return;
    cancel(retryTimer);
    retryTimer = after(delay, startRound);
  }

  // A carrier that carried was lost: resume the session on a new one, at
  // once if it had carried something, after a backoff if it had not.
  function lose(ctx, err) {
    if (closing) return finish(closing.code, closing.reason, false);
    lost = true;
    state = CONNECTING;
    if (ctx.progressed) fails = 0;
    schedule(ctx.progressed ? 0 : backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), err);
  }

  // The session is gone (42xx): forget it. Messages it may have received
  // go back to the app with reconnected; the others go to the next session.
  function renew() {
    const u = [];
    const keep = [];
    outbox.forEach((msg) => (msg.seq <= transmitted ? u : keep).push(msg));
    unconfirmed = (unconfirmed || []).concat(u.map((msg) => (typeof msg.data === 'string' ? msg.data : msg.data.buffer)));
    outbox = keep;
    outBytes = 0;
    keep.forEach((msg, i) => {
      msg.seq = i + 1;
      msg.f = msg.w = undefined;
      outBytes += msg.size;
    });
    nextSeq = keep.length + 1;
    acked = sentUpTo = transmitted = 0;
    sid = token = info = null;
    last = ackSent = unackedBytes = 0;
    ackDue = false;
  }

  // Carrier callbacks ------------------------------------------------------

  function onOpen(ctx, o) {
    if (ctx !== cur || ctx.dead || ctx.opened) return;
    if (!o || o.v !== 1 || !o.sid || !o.token) return onFail(ctx, new Error('tether: malformed open frame'));
    if (sid && o.sid !== sid) renew(); // a new session instead of the one resumed
    sid = o.sid;
    token = o.token;
    info = o;
    ctx.opened = true;
    ackUpTo(o.ack || 0);
    sentUpTo = acked; // re-send everything the server has not accepted
    ackSent = last; // the hello told the server what we have
  }

  function onReady(ctx) {
    if (ctx !== cur || ctx.dead || ctx.carrying || !ctx.opened) return;
    ctx.carrying = true;
    cancel(ctx.ct);
    remembered[key] = ctx.name;
    if (ctx.name === 'websocket') wsCarried[key] = true;
    const prev = carrierName;
    carrierName = ctx.name;
    round = null;
    lastRecv = lastWrite = clock.now();
    armDead(ctx);
    if (ctx.car && ctx.car.duplex) armAck(ctx);
    if (state === CONNECTING) state = OPEN;
    if (!everOpened) {
      everOpened = true;
      lost = false;
      unconfirmed = null;
      emit('open', {});
    } else {
      if (prev !== ctx.name) emit('transport', { transport: ctx.name, previous: prev });
      if (lost && ctx === cur) {
        lost = false;
        const u = unconfirmed;
        unconfirmed = null;
        emit('reconnected', u ? { recovered: false, unconfirmed: u } : { recovered: true });
      }
    }
    if (ctx !== cur || ctx.dead) return;
    pump();
    planProbe();
  }

  function onRecv(ctx, frames) {
    if (ctx !== cur || ctx.dead) return;
    if (!ctx.opened) {
      // Before the open frame only a refusal may come.
      const c = frames.filter((f) => f.t === 'c')[0];
      return c ? verdict(ctx, c.code, c.reason) : onFail(ctx, new Error('tether: frames before the open frame'));
    }
    if (!ctx.carrying) onReady(ctx);
    if (ctx !== cur || ctx.dead) return;
    lastRecv = clock.now();
    if (!ctx.progressed) {
      ctx.progressed = true;
      fails = attempt = 0;
    }
    const duplex = ctx.car && ctx.car.duplex;
    for (let i = 0; i < frames.length; i++) {
      if (ctx !== cur || ctx.dead || state === CLOSED) return;
      const f = frames[i];
      if (f.t === 'm' || f.t === 'b') {
        if (f.seq <= last) {
          ackDue = true; // a replay: our ack evidently did not arrive
          continue;
        }
        if (f.seq !== last + 1) {
          // The server skipped a number: resuming replays from last+1.
          return onFail(ctx, new Error('tether: message ' + f.seq + ' after ' + last));
        }
        last = f.seq;
        unackedBytes += f.data.length;
        emit('message', { data: f.t === 'm' ? f.data : toArrayBuffer(f.data) });
      } else if (f.t === 'a') {
        ackUpTo(f.seq);
      } else if (f.t === 'h') {
        if (duplex) ackDue = true; // answer, so the server sees us alive (SPEC.md §6)
      } else if (f.t === 'c') {
        return verdict(ctx, f.code, f.reason);
      }
    }
    pump();
  }

  function onFail(ctx, err) {
    if (!ctx || ctx.dead) return;
    if (ctx === probe) {
      // WebSocket does not get through here: stay on the current carrier.
      kill(ctx);
      probe = null;
      probeOff = true;
      return;
    }
    if (ctx !== cur) return;
    kill(ctx);
    if (ctx.carrying) return lose(ctx, err);
    if (err && err.fatal) {
      // Refused by origin or auth: every carrier would be refused too.
      emit('error', { error: err, message: err.message });
      return finish(1008, truncateReason(err.message), false);
    }
    tryNext(err);
  }

  // verdict acts on a close frame (SPEC.md §7).
  function verdict(ctx, code, reason) {
    if (ctx !== cur || ctx.dead) return;
    kill(ctx);
    if (closing) return finish(closing.code, closing.reason, closing.sent);
    const action = actionOf(code);
    if (action === STOP) return finish(code, reason, true);
    const err = new Error('tether: closed by the server: ' + code + ' ' + reason);
    err.code = code;
    if (action === RESUME) {
      if (ctx.carrying) return lose(ctx, err);
      // Refused for now (another receiver still attached): try again
      // later, not on another carrier, unless this was an upgrade. A
      // receiver the server still holds is the one this client lost; it
      // gives way (a stream) or is found dead (a WebSocket's ping), so
      // this refusal is a step of the resume, not an error for the app.
      return round && round.upgrading ? tryNext(err) : roundFailed(err, code === 4103);
    }
    renew();
    if (everOpened) {
      lost = true;
      state = CONNECTING;
    }
    schedule(backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), err);
  }

  // Timers of a carrier that carries ------------------------------------------

  // armDead fails the carrier when nothing arrives for the server's timeout.
  function armDead(ctx) {
    const limit = (info && info.timeout) || 50000;
    const check = () => {
      if (ctx !== cur || ctx.dead) return;
      const idle = clock.now() - lastRecv;
      if (idle >= limit) onFail(ctx, new Error('tether: nothing received for ' + idle + ' ms'));
      else deadTimer = after(limit - idle, check);
    };
    cancel(deadTimer);
    deadTimer = after(limit, check);
  }

  // armAck makes sure a duplex carrier writes at least once per heartbeat
  // interval: an ack when nothing else went out for half of it.
  function armAck(ctx) {
    const every = ((info && info.hb) || 25000) / 2;
    const tick = () => {
      if (ctx !== cur || ctx.dead) return;
      ackTimer = after(every, tick);
      if (clock.now() - lastWrite >= every) pump(true);
    };
    cancel(ackTimer);
    ackTimer = after(every, tick);
  }

  // Upgrade: from an HTTP carrier to websocket -----------------------------------

  function planProbe() {
    if (
      !(opts.upgrade || wsCarried[key]) ||
      probeOff ||
      probe ||
      probes >= MAX_PROBES ||
      state !== OPEN ||
      carrierName === 'websocket' ||
      opts.transports.indexOf('websocket') < 0
    ) {
      return;
    }
    cancel(probeTimer);
    probeTimer = after(1000 * probes, () => {
      if (state !== OPEN || probe || !cur || !cur.carrying || carrierName === 'websocket') return;
      probes++;
      probe = newCtx('websocket', true);
      launch(probe, 'websocket probe');
    });
  }

  // onProbeOpen: the probe's WebSocket is open, so upgrades get through.
  // Stop the poller (one receiver at a time, SPEC.md §5), then resume the
  // session on the WebSocket; if that fails, fall back to the poller.
  function onProbeOpen(ctx) {
    if (ctx !== probe || ctx.dead) return;
    cancel(ctx.ct);
    ctx.switchWanted = true;
    pump(); // switches once no send is in flight
  }

  function switchToProbe() {
    const ctx = probe;
    const old = cur;
    probe = null;
    kill(old);
    cur = ctx;
    round = { list: ['websocket', old.name], i: 1, upgrading: true };
    ctx.ct = after(opts.connectTimeout, () => onFail(ctx, new Error('tether: no answer to the websocket hello')));
    ctx.car.hello();
  }

  // Client to server --------------------------------------------------------------

  function ackUpTo(n) {
    if (n <= acked || n >= nextSeq) return; // acks only grow; never past what we sent
    let k = 0;
    while (k < outbox.length && outbox[k].seq <= n) outBytes -= outbox[k++].size;
    outbox.splice(0, k);
    acked = n;
    if (sentUpTo < n) sentUpTo = n;
  }

  function wireSize(msg) {
    if (msg.w === undefined) {
      msg.w =
        typeof msg.data === 'string'
          ? utf8Length(encodeMessage(msg)) + 1
          : String(msg.seq).length + 3 + Math.ceil(msg.data.length / 3) * 4;
    }
    return msg.w;
  }

  // pump sends what is due: unsent messages (up to maxSend bytes a batch),
  // the close frame after them, and acks (force: the heartbeat's).
  function pump(force) {
    const ctx = cur;
    if (!ctx || !ctx.carrying || ctx.dead || !ctx.car || sending || state === CLOSED) return;
    if (probe && probe.switchWanted) return switchToProbe();
    const car = ctx.car;
    const wantClose = closing && !closing.sent;
    const needAck =
      car.stream && (force || ackDue || last - ackSent >= ACK_EVERY_MESSAGES || unackedBytes >= ACK_EVERY_BYTES);
    if (sentUpTo >= nextSeq - 1 && !wantClose && !needAck) return;
    const items = [];
    let size = 0;
    if (last > 0 || needAck) {
      items.push('a' + last);
      size = String(last).length + 2;
      ackSent = last;
      unackedBytes = 0;
      ackDue = false;
    }
    const max = (info && info.maxSend) || 65536;
    for (let i = sentUpTo - acked, n = 0; i < outbox.length; i++, n++) {
      const s = wireSize(outbox[i]);
      if (n > 0 && size + s > max) break;
      items.push(outbox[i]);
      size += s;
      sentUpTo = outbox[i].seq;
    }
    if (sentUpTo > transmitted) transmitted = sentUpTo;
    let closeSent = false;
    if (wantClose && sentUpTo === nextSeq - 1) {
      items.push(encodeClose(closing.code, closing.reason));
      closing.sent = closeSent = true;
    }
    sending = true;
    lastWrite = clock.now();
    car.send(items, (err) => {
      if (ctx !== cur || ctx.dead) return;
      sending = false;
      lastWrite = clock.now();
      if (err) return onFail(ctx, err);
      if (closeSent) return finish(closing.code, closing.reason, true);
      pump();
    });
  }

  function error(msg) {
    const e = new Error(msg);
    emit('error', { error: e, message: msg });
  }

  function finish(code, reason, wasClean) {
    if (state === CLOSED) return;
    state = CLOSED;
    [retryTimer, deadTimer, ackTimer, closeTimer, probeTimer].forEach(cancel);
    if (cur) kill(cur);
    if (probe) kill(probe);
    cur = probe = round = null;
    outbox = [];
    outBytes = 0;
    emit('close', { code, reason, wasClean });
  }

  retryTimer = after(0, startRound);

  return {
    state: () => state,
    transport: () => carrierName,
    id: () => sid,
    url: () => m.base + (m.query ? '?' + m.query : ''),
    buffered: () => outBytes,

    send(data) {
      if (state === CLOSING || state === CLOSED) return false;
      let d;
      if (typeof data === 'string') d = data;
      else if (isArrayBuffer(data)) d = new Uint8Array(data.slice(0));
      else if (ArrayBuffer.isView(data)) d = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      else d = String(data);
      const size = typeof d === 'string' ? utf8Length(d) : d.length;
      if (info && info.maxMessage && size > info.maxMessage) {
        error('tether: a message of ' + size + ' bytes is over the server limit of ' + info.maxMessage);
        return false;
      }
      if (outbox.length >= opts.maxQueue || outBytes + size > opts.maxQueueBytes) {
        error('tether: send queue full (' + outbox.length + ' messages, ' + outBytes + ' bytes)');
        return false;
      }
      outbox.push({ seq: nextSeq++, data: d, size });
      outBytes += size;
      pump();
      return true;
    },

    close(code, reason) {
      code = code === undefined ? 1000 : +code;
      if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new RangeError('tether: close code must be 1000 or in 3000-4999, not ' + code);
      }
      reason = truncateReason(reason === undefined ? '' : reason);
      if (state === CLOSING || state === CLOSED) return;
      if (state === CONNECTING) return finish(code, reason, false);
      state = CLOSING;
      closing = { code, reason, sent: false };
      cancel(probeTimer);
      if (probe) kill(probe);
      probe = null;
      closeTimer = after(opts.connectTimeout, () => finish(code, reason, false));
      pump();
    },
  };
}
