// Frames of tether/1 (protocol/SPEC.md §2): encoding what the client sends
// and strict decoding of what the server sends. Pure functions, no I/O.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = {};
for (let i = 0; i < 64; i++) B64_INDEX[B64[i]] = i;

const MAX_SEQ = 9007199254740991; // 2^53-1: sequence numbers fit a JS number

/** MAX_REASON_BYTES bounds a close reason, as WebSocket's close frame does. */
export const MAX_REASON_BYTES = 123;

function protocolError(msg, line) {
  return new Error('tether: malformed frame ' + JSON.stringify(String(line).slice(0, 32)) + ': ' + msg);
}

/**
 * quote returns s as a JSON string. U+2028 and U+2029 are escaped too, as
 * the server does, so the result is also a JavaScript string literal.
 */
export function quote(s) {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16));
}

/** unquote decodes a JSON string that must make up all of s. */
export function unquote(s, line) {
  let v;
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) {
    throw protocolError('payload is not a JSON string', line);
  }
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw protocolError('payload is not a JSON string', line);
  }
  return v;
}

/** base64 encodes bytes as standard base64 with padding (RFC 4648 §4). */
export function base64(bytes) {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  if (i < n) {
    const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + (i + 1 < n ? B64[(v >> 6) & 63] : '=') + '=';
  }
  return out;
}

/** unbase64 decodes standard padded base64 strictly; it throws on anything else. */
export function unbase64(s, line) {
  const n = s.length;
  const pad = n && s[n - 1] === '=' ? (s[n - 2] === '=' ? 2 : 1) : 0;
  if (n % 4) throw protocolError('malformed base64', line);
  const out = new Uint8Array((n / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < n; i += 4) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = s[i + j];
      const d = B64_INDEX[c];
      if (d === undefined && !(c === '=' && i + j >= n - pad)) throw protocolError('malformed base64', line);
      v = (v << 6) | (d || 0);
    }
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/** utf8Length returns the number of bytes s takes in UTF-8. */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** truncateReason cuts a close reason to MAX_REASON_BYTES of UTF-8, never inside a character. */
export function truncateReason(s) {
  s = String(s);
  while (utf8Length(s) > MAX_REASON_BYTES) {
    const cut = s.length - 1;
    // Do not leave half of a surrogate pair.
    s = s.slice(0, (s.charCodeAt(cut) & 0xfc00) === 0xdc00 ? cut - 1 : cut);
  }
  return s;
}

function parseSeq(s, allowZero, line) {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) throw protocolError('malformed sequence number', line);
  const n = +s;
  if (n > MAX_SEQ || (n === 0 && !allowZero)) throw protocolError('sequence number out of range', line);
  return n;
}

/**
 * decodeFrame decodes one frame (a line without its newline) into
 * {t, seq, data, code, reason, obj}: seq for m, b, a; data for m (a
 * string) and b (a Uint8Array); code and reason for c; obj for o and H.
 */
export function decodeFrame(line) {
  const t = line[0];
  const body = line.slice(1);
  switch (t) {
    case 'h':
      if (body) throw protocolError('heartbeat with a body', line);
      return { t };
    case 'a':
      return { t, seq: parseSeq(body, true, line) };
    case 'm':
    case 'b':
    case 'c': {
      const i = body.indexOf(':');
      if (i < 0) throw protocolError("missing ':'", line);
      const head = body.slice(0, i);
      const payload = body.slice(i + 1);
      if (t === 'c') {
        if (!/^[1-4][0-9]{3}$/.test(head)) throw protocolError('close code outside 1000-4999', line);
        return { t, code: +head, reason: unquote(payload, line) };
      }
      const seq = parseSeq(head, false, line);
      return { t, seq, data: t === 'm' ? unquote(payload, line) : unbase64(payload, line) };
    }
    case 'o':
    case 'H': {
      let obj;
      try {
        obj = body[0] === '{' ? JSON.parse(body) : null;
      } catch (e) {
        obj = null;
      }
      if (!obj || typeof obj !== 'object') throw protocolError('expected a JSON object', line);
      return { t, obj };
    }
  }
  throw protocolError('unknown frame type', line);
}

/** decodeBatch decodes every frame of a batch, skipping empty lines; it throws on the first bad frame. */
export function decodeBatch(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]) out.push(decodeFrame(lines[i]));
  }
  return out;
}

/**
 * decodeWSBinary decodes a WebSocket binary message, `<seq>:` and the raw
 * bytes (SPEC.md §2.1), into a b frame.
 */
export function decodeWSBinary(buf) {
  const bytes = new Uint8Array(buf);
  let i = 0;
  while (i < bytes.length && i < 17 && bytes[i] !== 58) i++;
  if (bytes[i] !== 58) throw protocolError("binary message without ':'", 'binary');
  const seq = parseSeq(String.fromCharCode.apply(null, bytes.subarray(0, i)), false, 'binary');
  return { t: 'b', seq, data: bytes.subarray(i + 1) };
}

/** encodeWSBinary builds the WebSocket binary form of message seq. */
export function encodeWSBinary(seq, bytes) {
  const head = seq + ':';
  const out = new Uint8Array(head.length + bytes.length);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  out.set(bytes, head.length);
  return out;
}

/**
 * encodeMessage returns the text frame of an outgoing message
 * {seq, data}, m<seq>:"…" or b<seq>:<base64>, and caches it on the message.
 */
export function encodeMessage(m) {
  if (!m.f) {
    m.f = typeof m.data === 'string' ? 'm' + m.seq + ':' + quote(m.data) : 'b' + m.seq + ':' + base64(m.data);
  }
  return m.f;
}

/** encodeClose returns c<code>:"reason". */
export function encodeClose(code, reason) {
  return 'c' + code + ':' + quote(truncateReason(reason));
}

/** encodeBatch joins frames (strings or outgoing messages), each followed by a newline. */
export function encodeBatch(items) {
  let s = '';
  for (let i = 0; i < items.length; i++) {
    s += (typeof items[i] === 'string' ? items[i] : encodeMessage(items[i])) + '\n';
  }
  return s;
}
