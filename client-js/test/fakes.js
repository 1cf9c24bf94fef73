// Test doubles: a manual clock, fake carriers for the core, and fake
// browser globals (XMLHttpRequest, WebSocket, EventSource, document) for
// the real carriers.

import { decodeBatch, encodeBatch } from '../src/frames.js';
import { Tether } from '../src/index.js';

/** FakeClock runs timers only when told to, in order of due time. */
export class FakeClock {
  constructor() {
    this.t = 0;
    this.seq = 0;
    this.timers = new Map();
    this.setTimeout = (fn, ms) => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.t + (ms || 0), fn, id });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
    this.now = () => this.t;
  }
  /** advance moves time forward by ms, running every timer due meanwhile. */
  advance(ms = 0) {
    const end = this.t + ms;
    for (;;) {
      let next = null;
      for (const tm of this.timers.values()) {
        if (tm.at <= end && (!next || tm.at < next.at || (tm.at === next.at && tm.id < next.id))) next = tm;
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

export const OPEN_FRAME = {
  v: 1,
  sid: 's1',
  token: 't1',
  resumed: false,
  ack: 0,
  hb: 25000,
  timeout: 50000,
  poll: 1000,
  maxMessage: 65536,
  maxSend: 266240,
};

/** FakeCarrier is driven by the test: it opens, delivers and fails when told. */
export class FakeCarrier {
  constructor(ctx, net) {
    this.ctx = ctx;
    this.net = net;
    this.name = ctx.name;
    this.duplex = ctx.name === 'websocket';
    this.stream = ['websocket', 'streaming', 'eventsource'].includes(ctx.name);
    this.helloAtStart = ctx.hello();
    this.helloSent = null;
    this.sent = [];
    this.pending = [];
    this.closed = false;
  }
  send(items, done) {
    this.sent.push(encodeBatch(items));
    if (this.net.manualSend) this.pending.push(done);
    else done(null);
  }
  close() {
    this.closed = true;
  }
  hello() {
    this.helloSent = this.ctx.hello();
  }
  // Test drivers.
  open(o) {
    this.ctx.open({ ...OPEN_FRAME, ...o });
  }
  ready() {
    this.ctx.ready();
  }
  connect(o) {
    this.open(o);
    this.ready();
  }
  recv(text) {
    this.ctx.recv(decodeBatch(text));
  }
  fail(msg = 'broken') {
    this.ctx.fail(new Error(msg));
  }
  /** lastSent returns the frames of the last batch sent, as lines. */
  lastSent() {
    return this.sent.length ? this.sent[this.sent.length - 1].trim().split('\n') : [];
  }
}

/**
 * fakeNet returns carrier factories that record every carrier made.
 * behave[name](car) runs as each is made (to fail at once, say).
 */
export function fakeNet(behave = {}) {
  const net = { made: [], manualSend: false, carriers: {} };
  for (const name of ['websocket', 'streaming', 'eventsource', 'longpoll', 'polling', 'jsonp']) {
    net.carriers[name] = (ctx) => {
      const car = new FakeCarrier(ctx, net);
      net.made.push(car);
      if (behave[name]) behave[name](car);
      return car;
    };
  }
  net.last = () => net.made[net.made.length - 1];
  net.names = () => net.made.map((c) => c.name);
  return net;
}

let unique = 0;

/** setup makes a Tether over fake carriers and a fake clock, and logs its events. */
export function setup(options = {}, behave = {}) {
  const clock = new FakeClock();
  const net = fakeNet(behave);
  const url = options.url || 'http://test.invalid/t' + ++unique;
  const t = new Tether(url, { _clock: clock, _carriers: net.carriers, _random: () => 0.5, ...options });
  const log = [];
  for (const type of ['open', 'message', 'close', 'error', 'reconnecting', 'reconnected', 'transport']) {
    t.addEventListener(type, (e) => log.push(e));
  }
  clock.advance(0); // the first attempt starts on a timer
  const types = () => log.map((e) => e.type);
  const of = (type) => log.filter((e) => e.type === type);
  return { t, clock, net, log, types, of, url };
}

// Fake browser globals -----------------------------------------------------------

export class FakeXHR {
  constructor() {
    FakeXHR.all.push(this);
    this.headers = {};
    this.readyState = 0;
    this.status = 0;
    this.responseText = '';
    this.aborted = false;
  }
  open(method, url, async) {
    this.method = method;
    this.url = url;
    this.async = async;
    this.readyState = 1;
  }
  setRequestHeader(k, v) {
    this.headers[k] = v;
  }
  send(body) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
  }
  // Test drivers.
  progress(text) {
    this.readyState = 3;
    this.status = 200;
    this.responseText += text;
    if (this.onprogress) this.onprogress();
    if (this.onreadystatechange) this.onreadystatechange();
  }
  respond(status, text = '') {
    this.status = status;
    this.responseText += text;
    this.readyState = 4;
    if (this.onreadystatechange) this.onreadystatechange();
  }
}
FakeXHR.all = [];

export class FakeWebSocket {
  constructor(url) {
    FakeWebSocket.all.push(this);
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    this.closedWith = null;
  }
  send(data) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }
  close(code) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // Test drivers.
  serverOpen() {
    this.readyState = 1;
    this.onopen && this.onopen({});
  }
  serverSend(data) {
    this.onmessage && this.onmessage({ data });
  }
  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose && this.onclose({ code, reason });
  }
}
FakeWebSocket.all = [];

export class FakeEventSource {
  constructor(url, init) {
    FakeEventSource.all.push(this);
    this.url = url;
    this.init = init;
    this.readyState = 0;
    this.closed = false;
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  serverOpen() {
    this.readyState = 1;
    this.onopen && this.onopen({});
  }
  serverEvent(data) {
    this.onmessage && this.onmessage({ data });
  }
  serverError(readyState) {
    this.readyState = readyState;
    this.onerror && this.onerror({});
  }
}
FakeEventSource.all = [];

/** fakeDocument has just what the jsonp carrier uses. */
export function fakeDocument() {
  const doc = {
    appended: [],
    submitted: [],
    createElement(tag) {
      const el = {
        tagName: tag.toUpperCase(),
        children: [],
        style: {},
        attrs: {},
        parentNode: null,
        setAttribute(k, v) {
          this.attrs[k] = v;
        },
        appendChild(c) {
          this.children.push(c);
          c.parentNode = this;
        },
        removeChild(c) {
          this.children = this.children.filter((x) => x !== c);
          c.parentNode = null;
        },
        submit() {
          doc.submitted.push(this);
        },
      };
      return el;
    },
  };
  doc.body = doc.createElement('body');
  const append = doc.body.appendChild;
  doc.body.appendChild = function (c) {
    doc.appended.push(c);
    append.call(this, c);
  };
  return doc;
}
