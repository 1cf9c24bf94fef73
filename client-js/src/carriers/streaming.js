// The streaming carrier (SPEC.md §5): one chunked text/plain answer read
// as it arrives. It starts with 2 KiB of `h` lines, so a page sees the
// stream only if nothing between buffers it; at MaxStreamBytes the server
// ends it with c4101 and the carrier re-opens it on the same session.
// Sends do not ask carry=1 (SPEC.md §5): the stream brings each message
// as soon as the server has it, so carrying would save nothing, and a
// message streamed after a carried one could overtake the send answer,
// which the client can only take as a gap (and resume).

import { decodeBatch } from '../frames.js';
import { handshake, receive, sender } from '../http.js';

export default function streaming(ctx) {
  let open = null;
  let abort = () => {};
  abort = handshake(ctx, (o) => {
    open = o;
    stream();
  });
  const out = sender(ctx, () => open);

  function stream() {
    let seen = 0; // characters of responseText already read
    let tail = ''; // an unfinished line
    let limit = false; // c4101 seen: re-open when this answer ends
    const feed = (text) => {
      if (limit || !text || text.length <= seen) return;
      const chunk = tail + text.slice(seen);
      seen = text.length;
      const nl = chunk.lastIndexOf('\n');
      tail = chunk.slice(nl + 1);
      let frames;
      try {
        frames = decodeBatch(chunk.slice(0, nl + 1));
      } catch (err) {
        return ctx.fail(err);
      }
      const keep = [];
      for (let i = 0; i < frames.length && !limit; i++) {
        const f = frames[i];
        if (f.t === 'c' && f.code === 4101) limit = true;
        else if (f.t !== 'h') keep.push(f); // heartbeats and the prelude only prove the stream alive
      }
      ctx.ready();
      if (!ctx.dead) ctx.recv(keep);
    };
    abort = receive(
      ctx,
      open,
      'streaming',
      (text) => {
        feed(text);
        if (ctx.dead) return;
        if (limit) stream();
        else ctx.fail(new Error('tether: the stream ended without a close frame'));
      },
      (x) => feed(x.responseText)
    );
  }

  return {
    stream: true,
    send: out.send,
    close() {
      abort();
      out.close();
    },
  };
}
