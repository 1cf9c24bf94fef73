// The eventsource carrier (SPEC.md §5): server-sent events, for browsers
// whose streaming XHR is buffered. Message events carry their sequence
// number as the event id, so when the browser reconnects by itself (the
// answer ends at the server's byte limit) Last-Event-ID resumes after the
// last message received. EventSource cannot send headers: the token goes
// in the query. Sends do not ask carry=1, for the reason streaming.js
// gives: the stream already brings each message at once.

import { decodeFrame } from '../frames.js';
import { handshake, sender } from '../http.js';

export default function eventsource(ctx) {
  let open = null;
  let es = null;
  const end = () => {
    if (es) {
      es.onopen = es.onmessage = es.onerror = null;
      es.close();
      es = null;
    }
  };
  const fail = (err) => {
    end();
    ctx.fail(err);
  };
  const abort = handshake(ctx, (o) => {
    open = o;
    const E = ctx.env.EventSource;
    if (!E) return fail(new Error('tether: EventSource is not available'));
    let live = false; // opened since the last error
    try {
      es = new E(ctx.url('eventsource', { sid: o.sid, ack: ctx.ack(), token: o.token }), {
        withCredentials: !!ctx.withCredentials,
      });
    } catch (err) {
      return fail(err);
    }
    // Not ready on open: a proxy may pass the headers at once and buffer
    // the body. The server's first event (data: h, right after the
    // prelude) is what shows that the stream reaches the page.
    es.onopen = () => {
      live = true;
    };
    es.onmessage = (e) => {
      let f;
      try {
        f = decodeFrame(String(e.data));
      } catch (err) {
        return fail(err);
      }
      // A close frame ends the session's use of this stream: stop the
      // browser from reconnecting to an answer that would only repeat it.
      if (f.t === 'c') end();
      ctx.ready();
      if (!ctx.dead) ctx.recv(f.t === 'h' ? [] : [f]);
    };
    es.onerror = () => {
      // The answer ended. The browser reconnects once by itself (with
      // Last-Event-ID); a second error without an open in between, or a
      // closed EventSource (an HTTP error status), fails the carrier.
      if (!es) return;
      if (es.readyState === 2 || !live) return fail(new Error('tether: EventSource failed'));
      live = false;
    };
  });
  const out = sender(ctx, () => open);

  return {
    stream: true,
    send: out.send,
    close() {
      abort();
      end();
      out.close();
    },
  };
}
