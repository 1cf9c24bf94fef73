// The six carriers of SPEC.md §5, by their public names. Each is a
// factory (ctx) => carrier with the same shape:
//
//   ctx: name, env (the global object), withCredentials, probe,
//        url(endpoint, params), wsUrl(), hello() → {sid, token, last},
//        ack() → last server message delivered, timer(fn, ms) → cancel,
//        dead (set once the core dropped the carrier), and the callbacks
//        open(openObject), ready(), recv(frames), fail(error), probeOpen().
//   carrier: send(items, done(err)), close(), and the flags duplex (acks
//        and heartbeats travel in-band: websocket) and stream (one long
//        answer: acks are sent when many messages went unacknowledged).
//
// A carrier calls open when the session's open frame arrives, ready once
// it has shown that it carries (the stream's first bytes, say), recv for
// every batch (an empty one for an empty answer or a heartbeat), and fail
// when it can no longer carry. It never calls anything after close().

import websocket from './websocket.js';
import streaming from './streaming.js';
import eventsource from './eventsource.js';
import longpoll from './longpoll.js';
import polling from './polling.js';
import jsonp from './jsonp.js';

export const carriers = { websocket, streaming, eventsource, longpoll, polling, jsonp };

/** DEFAULT_TRANSPORTS is the default negotiation order. */
export const DEFAULT_TRANSPORTS = ['websocket', 'streaming', 'eventsource', 'longpoll', 'polling', 'jsonp'];
