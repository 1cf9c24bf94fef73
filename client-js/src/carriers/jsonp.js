// The jsonp carrier (SPEC.md §4.1, §5), for pages without usable XHR,
// fetch or WebSocket: every request is a <script> whose answer calls
// back into the page, held by the server like a long poll; sends are form
// POSTs into a hidden iframe. Neither can send headers, so the token goes
// in the query (receive) or the form body (send). The answers to sends
// cannot be read: acknowledgements come on the receive answers.

import { helloFields, openAnswer, recvText } from '../http.js';
import { encodeMessage } from '../frames.js';

let counter = 0;

// callbacks holds the pending callbacks, reachable from the answers as
// __tether.j<n> (letters, digits, '_' and '.' only: SPEC.md §5).
function callbacks(g) {
  return g.__tether || (g.__tether = {});
}

function attach(doc, el) {
  (doc.body || doc.getElementsByTagName('head')[0] || doc.documentElement).appendChild(el);
}

function detach(el) {
  if (el.parentNode) el.parentNode.removeChild(el);
}

/**
 * script loads url(callbackName) as a script and calls done(err, text)
 * with the string the answer passes to its callback. It returns an abort
 * function.
 */
export function script(ctx, url, done) {
  const env = ctx.env;
  const doc = env.document;
  if (!doc) {
    done(new Error('tether: jsonp needs a document'));
    return () => {};
  }
  const reg = callbacks(env);
  const id = 'j' + ++counter;
  const el = doc.createElement('script');
  let called = false;
  const cleanup = () => {
    el.onload = el.onerror = null;
    detach(el);
    // A late answer still finds a function to call.
    reg[id] = () => delete reg[id];
  };
  const finish = (err, text) => {
    if (called) return;
    called = true;
    cleanup();
    done(err, text);
  };
  reg[id] = (text) => finish(null, String(text));
  el.async = true;
  el.src = url('__tether.' + id);
  el.onerror = () => finish(new Error('tether: jsonp request failed'));
  // load fires after the script ran: no call means an answer of another kind.
  el.onload = () => finish(new Error('tether: jsonp answer without a callback'));
  attach(doc, el);
  return () => {
    called = true;
    cleanup();
  };
}

/**
 * formPost posts fields to url as application/x-www-form-urlencoded
 * through a form aimed at a hidden iframe, and calls done() when the
 * iframe has loaded the answer. It returns an abort function.
 */
export function formPost(ctx, url, fields, done) {
  const doc = ctx.env.document;
  const name = '__tether_f' + ++counter;
  const frame = doc.createElement('iframe');
  const form = doc.createElement('form');
  frame.name = name;
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  frame.style.display = form.style.display = 'none';
  form.method = 'POST';
  form.action = url;
  form.target = name;
  form.setAttribute('accept-charset', 'UTF-8');
  for (const k in fields) {
    const input = doc.createElement('textarea');
    input.name = k;
    input.value = fields[k];
    form.appendChild(input);
  }
  attach(doc, frame);
  attach(doc, form);
  const cleanup = () => {
    frame.onload = frame.onerror = null;
    detach(form);
    // Removing the iframe at once would cancel a post still in flight.
    ctx.timer(() => detach(frame), 0);
  };
  form.submit();
  // Set after the submit, so the iframe's initial about:blank load does not count.
  frame.onload = () => {
    cleanup();
    done(null);
  };
  frame.onerror = () => {
    cleanup();
    done(new Error('tether: jsonp send failed'));
  };
  return cleanup;
}

export default function jsonp(ctx) {
  let open = null;
  let abort = () => {};
  let abortSend = () => {};
  const poll = () => {
    abort = script(
      ctx,
      (c) => ctx.url('jsonp', { sid: open.sid, ack: ctx.ack(), token: open.token, c }),
      (err, text) => {
        if (err) return ctx.fail(err);
        if (recvText(ctx, text) && !ctx.dead) poll();
      }
    );
  };
  abort = script(
    ctx,
    (c) => {
      const h = helloFields(ctx, false);
      return ctx.url('handshake', { transport: 'jsonp', v: 1, c, sid: h.sid, token: h.token, last: h.last });
    },
    (err, text) => {
      if (err) return ctx.fail(err);
      open = openAnswer(ctx, text);
      if (!open || ctx.dead) return;
      ctx.ready();
      if (!ctx.dead) poll();
    }
  );
  return {
    // Browsers turn every "\n" of a form field into "\r\n" (HTML's form
    // encoding), which would corrupt a batch, so each frame goes in a post
    // of its own, without a newline: a batch of one frame, in order, one
    // post at a time. Acks need no post: every poll carries one.
    send(items, done) {
      const frames = items.filter((it) => typeof it !== 'string' || it[0] !== 'a');
      const next = (i) => {
        if (i >= frames.length) return done(null);
        const f = typeof frames[i] === 'string' ? frames[i] : encodeMessage(frames[i]);
        abortSend = formPost(ctx, ctx.url('send', { sid: open.sid }), { token: open.token, d: f }, (err) =>
          err ? done(err) : next(i + 1)
        );
      };
      next(0);
    },
    close() {
      abort();
      abortSend();
    },
  };
}
