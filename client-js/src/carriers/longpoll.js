// The longpoll carrier (SPEC.md §5): a GET held by the server until it has
// something or a heartbeat interval passes, then at once the next one.
// Each poll acknowledges, in its query, what the previous ones brought.
// Sends ask carry=1 (SPEC.md §5): the app's reply to a message comes back
// in the send's own answer, one exchange instead of a send and a poll.

import { handshake, receive, recvText, sender } from '../http.js';

export default function longpoll(ctx) {
  let open = null;
  let abort = () => {};
  const poll = () => {
    abort = receive(ctx, open, 'longpoll', (text) => {
      if (recvText(ctx, text) && !ctx.dead) poll();
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
      out.close();
    },
  };
}
