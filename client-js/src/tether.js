// Tether: a WebSocket-like object over a tether/1 session (protocol/SPEC.md)
// that negotiates a carrier, falls back, reconnects and resumes without
// losing or repeating a message.

import { Emitter } from './emitter.js';
import { core, CONNECTING, OPEN, CLOSING, CLOSED } from './core.js';

const EVENTS = ['open', 'message', 'close', 'error', 'reconnecting', 'reconnected', 'transport'];

export class Tether extends Emitter {
  /**
   * url is the http(s) URL of the tether mount ("/chat",
   * "https://example.com/chat"); options are documented in README.md.
   */
  constructor(url, options) {
    super();
    EVENTS.forEach((e) => {
      this['on' + e] = null;
    });
    this._core = core(this, url, options || {});
  }

  /** readyState is CONNECTING (also while reconnecting), OPEN, CLOSING or CLOSED. */
  get readyState() {
    return this._core.state();
  }

  /** transport is the name of the carrier in use (or last used), null before the first open. */
  get transport() {
    return this._core.transport();
  }

  /** id is the session id, null before the first open. */
  get id() {
    return this._core.id();
  }

  /** url is the resolved URL of the mount. */
  get url() {
    return this._core.url();
  }

  /** bufferedAmount is the bytes of messages sent but not yet acknowledged by the server. */
  get bufferedAmount() {
    return this._core.buffered();
  }

  /**
   * send queues a message: a string, or an ArrayBuffer or typed array
   * (sent as binary). It returns false, and fires an error event, when the
   * message cannot be queued (the queue is full, the message is over the
   * server's limit); after close() it returns false.
   */
  send(data) {
    return this._core.send(data);
  }

  /** close ends the session with code (1000, or 3000-4999) and reason. */
  close(code, reason) {
    this._core.close(code, reason);
  }
}

[
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
].forEach(([name, v]) => {
  Tether[name] = v;
  Tether.prototype[name] = v;
});
