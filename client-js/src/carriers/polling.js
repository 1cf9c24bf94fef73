// The polling carrier (SPEC.md §5): a GET answered at once, repeated every
// `poll` milliseconds (the interval the open frame suggests), for networks
// that cut requests held open. An answer with messages in it is followed
// by the next poll at once, to drain what the server still holds.
// Sends ask carry=1 (SPEC.md §5): the app's reply to a message comes back
// in the send's own answer instead of waiting for the next poll.

import { handshake, receive, sender } from '../http.js';
import { decodeBatch } from '../frames.js';

export default function polling(ctx) {
  let open = null;
  let abort = () => {};
  let cancelTimer = () => {};
  const poll = () => {
    abort = receive(ctx, open, 'polling', (text) => {
      let frames;
      try {
        frames = decodeBatch(text);
      } catch (err) {
        return ctx.fail(err);
      }
      ctx.recv(frames);
      if (ctx.dead) return;
      const more = frames.some((f) => f.t === 'm' || f.t === 'b');
      cancelTimer = ctx.timer(poll, more ? 0 : open.poll > 0 ? open.poll : 1000);
    });
  };
  abort = handshake(ctx, (o) => {
    open = o;
    ctx.ready();
    if (!ctx.dead) poll();
  });
  const out = sender(ctx, () => open, { carry: true });
  return {
    send: out.send,
    close() {
      abort();
      cancelTimer();
      out.close();
    },
  };
}
