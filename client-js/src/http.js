// What the HTTP carriers share: XHR requests, the JSON handshake
// (SPEC.md §4.1) and the send path, POST /send (SPEC.md §5).

import { decodeBatch, encodeBatch } from './frames.js';

function httpError(status, text) {
  const err = new Error('tether: HTTP ' + status + (text ? ': ' + String(text).slice(0, 200).trim() : ''));
  err.status = status;
  // Refused by the origin check or the Authorize hook: every carrier
  // would be refused the same way, so this ends the connection.
  err.fatal = status === 401 || status === 403;
  return err;
}

/**
 * request runs one XHR: o has method, url, headers, body, timeout and
 * progress (called with the XHR as text arrives). done(err, status, text)
 * is called once, unless the returned abort function is called first.
 */
export function request(ctx, o, done) {
  const X = ctx.env.XMLHttpRequest;
  let x = null;
  let called = false;
  const finish = (err, status, text) => {
    if (called) return;
    called = true;
    if (x) x.onreadystatechange = x.onprogress = null;
    x = null;
    done(err, status, text);
  };
  try {
    if (!X) throw new Error('tether: XMLHttpRequest is not available');
    x = new X();
    x.open(o.method, o.url, true);
    if (ctx.withCredentials) x.withCredentials = true;
    for (const k in o.headers) x.setRequestHeader(k, o.headers[k]);
    if (o.timeout) x.timeout = o.timeout;
    x.onreadystatechange = () => {
      if (!x) return;
      if (x.readyState === 3 && o.progress) o.progress(x);
      if (x && x.readyState === 4) {
        const status = x.status;
        const text = x.responseText;
        const where = o.method + ' ' + o.url.replace(/\?.*/, '');
        finish(status ? null : new Error('tether: network error on ' + where), status, text);
      }
    };
    if (o.progress) x.onprogress = () => x && o.progress(x);
    x.send(o.body || null);
  } catch (err) {
    finish(err);
  }
  return () => {
    const y = x;
    called = true;
    x = null;
    if (y) {
      y.onreadystatechange = y.onprogress = null;
      try {
        y.abort();
      } catch (e) {
        // already done
      }
    }
  };
}

/** helloFields returns the hello of SPEC.md §4 for ctx (a resume when a session is known). */
export function helloFields(ctx, withTransport) {
  const h = ctx.hello();
  const out = { v: 1 };
  if (withTransport) out.transport = ctx.name;
  if (h.sid) {
    out.sid = h.sid;
    out.token = h.token;
    out.last = h.last;
  }
  return out;
}

/**
 * openAnswer handles a handshake answer, a batch of one frame: o{…} opens
 * (ctx.open is called and the open object returned), a close frame is a
 * refusal passed to ctx.recv. Anything else fails the carrier.
 */
export function openAnswer(ctx, text) {
  let frames;
  try {
    frames = decodeBatch(text || '');
  } catch (err) {
    ctx.fail(err);
    return null;
  }
  const f = frames[0];
  if (f && f.t === 'o') {
    ctx.open(f.obj);
    return f.obj;
  }
  if (f && f.t === 'c') ctx.recv([f]);
  else ctx.fail(new Error('tether: the handshake answer is not an open frame'));
  return null;
}

/** handshake runs POST /handshake and calls opened(open) when the session is open. */
export function handshake(ctx, opened) {
  return request(
    ctx,
    {
      method: 'POST',
      url: ctx.url('handshake'),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(helloFields(ctx, true)),
    },
    (err, status, text) => {
      if (err) return ctx.fail(err);
      if (status !== 200) return ctx.fail(httpError(status, text));
      const o = openAnswer(ctx, text);
      if (o && !ctx.dead) opened(o);
    }
  );
}

/**
 * receive runs one receive GET (longpoll, polling, streaming) and calls
 * done(text) with a 200 answer; errors fail the carrier. progress is for
 * streaming.
 */
export function receive(ctx, open, name, done, progress) {
  return request(
    ctx,
    {
      method: 'GET',
      url: ctx.url(name, { sid: open.sid, ack: ctx.ack() }),
      headers: { 'X-Tether-Token': open.token },
      progress,
    },
    (err, status, text) => {
      if (err) return ctx.fail(err);
      if (status !== 200) return ctx.fail(httpError(status, text));
      done(text);
    }
  );
}

/**
 * recvText decodes a batch and passes it to ctx.recv, failing the carrier
 * on a malformed frame (a proxy's error page, say). It returns the frames,
 * or null when it failed the carrier.
 */
export function recvText(ctx, text) {
  let frames;
  try {
    frames = decodeBatch(text);
  } catch (err) {
    ctx.fail(err);
    return null;
  }
  ctx.recv(frames);
  return frames;
}

/** hasMessages reports whether frames hold a message. */
export const hasMessages = (frames) => frames.some((f) => f.t === 'm' || f.t === 'b');

/**
 * sender returns the send method of an HTTP carrier: one POST /send per
 * batch, whose answer (a<in>, perhaps a close frame) goes to ctx.recv.
 * 413 means the session was closed for an oversize message; 400 is a batch
 * the server refused (a bug here): both end the session.
 *
 * With o.carry the query asks carry=1 (SPEC.md §5, "Messages on the send
 * answer"): the server may then put its messages after the a<in> frame,
 * mostly the app's replies to the messages just sent. They need nothing
 * of their own here: the answer goes to ctx.recv as a receive answer
 * does, so the core delivers them in order, drops a number it already has
 * (the same message may come again in a poll answer), counts them in the
 * ack of the next poll and the next send, and takes a number past the
 * next one expected as a lost or overtaken answer: it fails the carrier
 * and resumes, and the server replays from the last one delivered.
 * longpoll and polling ask it, since there a reply otherwise waits for
 * the next poll; see those carriers for why the streams do not. An answer
 * that carried messages and ends with `h` stopped at the server's byte
 * bound with more waiting: o.more is called then, after done.
 */
export function sender(ctx, getOpen, o) {
  const carry = o && o.carry ? 1 : undefined; // endpoint leaves out an undefined param
  const more = (o && o.more) || null;
  let abort = null;
  return {
    send(items, done) {
      const open = getOpen();
      abort = request(
        ctx,
        {
          method: 'POST',
          url: ctx.url('send', { sid: open.sid, carry }),
          headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'X-Tether-Token': open.token },
          body: encodeBatch(items),
          timeout: open.timeout || 0,
        },
        (err, status, text) => {
          abort = null;
          if (err) return done(err);
          if (status === 413 || status === 400) {
            ctx.recv([{ t: 'c', code: status === 413 ? 4001 : 4000, reason: String(text || '').trim().slice(0, 100) }]);
            return;
          }
          if (status !== 200) return done(httpError(status, text));
          const frames = recvText(ctx, text);
          if (!frames) return;
          done(null);
          if (more && !ctx.dead && frames.length > 1 && frames[frames.length - 1].t === 'h' && hasMessages(frames)) more();
        }
      );
    },
    close() {
      if (abort) abort();
    },
  };
}
