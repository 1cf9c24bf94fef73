// The polling carrier (SPEC.md §5): a GET answered at once, repeated every
// `poll` milliseconds (the interval the open frame suggests), for networks
// that cut requests held open. An answer with messages in it is followed
// by the next poll at once, to drain what the server still holds.
// Sends ask carry=1 (SPEC.md §5): the app's reply to a message comes back
// in the send's own answer instead of waiting for the next poll. A send
// answer that ends with `h` stopped at the server's byte bound with more
// waiting: the next poll goes at once then too. When a poll is on its way
// the hurry is kept for its answer, which may have left the server before
// the carried messages were handed out.

import { handshake, receive, recvText, sender, hasMessages } from '../http.js';

export default function polling(ctx) {
  let open = null;
  let abort = () => {};
  let cancelTimer = null; // set while the next poll waits for its timer
  let hurry = false; // a send answer said more is waiting
  const poll = () => {
    cancelTimer = null;
    hurry = false;
    abort = receive(ctx, open, 'polling', (text) => {
      const frames = recvText(ctx, text);
      if (!frames || ctx.dead) return;
      const now = hurry || hasMessages(frames);
      cancelTimer = ctx.timer(poll, now ? 0 : open.poll > 0 ? open.poll : 1000);
    });
  };
  abort = handshake(ctx, (o) => {
    open = o;
    ctx.ready();
    if (!ctx.dead) poll();
  });
  const more = () => {
    if (!cancelTimer) {
      hurry = true; // a poll is on its way
      return;
    }
    cancelTimer();
    cancelTimer = ctx.timer(poll, 0);
  };
  const out = sender(ctx, () => open, { carry: true, more });
  return {
    send: out.send,
    close() {
      abort();
      if (cancelTimer) cancelTimer();
      out.close();
    },
  };
}
