// The websocket carrier (SPEC.md §4.2, §5): one WebSocket carries the
// session both ways. The first message is a hello, so the token never
// appears in a URL; binary messages travel as WebSocket binary messages
// (`<seq>:` + bytes, §2.1).

import { decodeBatch, decodeWSBinary, encodeMessage, encodeWSBinary } from '../frames.js';
import { helloFields } from '../http.js';

export default function websocket(ctx) {
  let ws = null;
  let opened = false; // the o frame arrived
  let ended = false;

  const end = () => {
    const w = ws;
    ended = true;
    ws = null;
    if (w) {
      w.onopen = w.onmessage = w.onerror = w.onclose = null;
      try {
        w.close(1000);
      } catch (e) {
        // never opened
      }
    }
  };
  const fail = (err) => {
    if (ended) return;
    end();
    ctx.fail(err);
  };
  const hello = () => {
    try {
      ws.send('H' + JSON.stringify(helloFields(ctx, false)));
    } catch (err) {
      fail(err);
    }
  };

  const car = {
    duplex: true,
    stream: true,
    // hello sends the hello of a probe (the upgrade option), which opens
    // the socket first and resumes the session only when told to.
    hello,
    send(items, done) {
      let text = '';
      try {
        for (let i = 0; i < items.length; i++) {
          const it = items[i];
          if (typeof it !== 'string' && typeof it.data !== 'string') {
            if (text) ws.send(text);
            text = '';
            ws.send(encodeWSBinary(it.seq, it.data));
          } else {
            text += (typeof it === 'string' ? it : encodeMessage(it)) + '\n';
          }
        }
        if (text) ws.send(text);
      } catch (err) {
        return done(err);
      }
      done(null);
    },
    close: end,
  };

  const W = ctx.env.WebSocket;
  try {
    if (!W) throw new Error('tether: WebSocket is not available');
    ws = new W(ctx.wsUrl());
    ws.binaryType = 'arraybuffer';
  } catch (err) {
    fail(err);
    return car;
  }
  ws.onopen = () => (ctx.probe ? ctx.probeOpen() : hello());
  ws.onmessage = (e) => {
    let frames;
    try {
      frames = typeof e.data === 'string' ? decodeBatch(e.data) : [decodeWSBinary(e.data)];
    } catch (err) {
      return fail(err);
    }
    if (!opened && frames[0] && frames[0].t === 'o') {
      opened = true;
      ctx.open(frames.shift().obj);
      if (ended) return;
      ctx.ready();
    }
    if (ended) return;
    for (let i = 0; i < frames.length; i++) {
      if (frames[i].t === 'c') ended = true; // the WebSocket close that follows is expected
    }
    if (frames.length) ctx.recv(frames);
    if (ended) end();
  };
  ws.onerror = () => fail(new Error('tether: WebSocket error'));
  ws.onclose = (e) => {
    if (ended) return;
    // A close code of the session's ranges (4102 heartbeat timeout, say)
    // sent without a close frame means what the frame would have meant.
    if (e.code >= 3000 && e.code <= 4999) {
      end();
      ctx.recv([{ t: 'c', code: e.code, reason: e.reason || '' }]);
    } else {
      fail(new Error('tether: WebSocket closed (' + e.code + ')'));
    }
  };
  return car;
}
