/*! @tether-rt/client 0.1.0 | https://github.com/tether-rt/tether */
(() => {
  // src/env.js
  var G = typeof self !== "undefined" ? self : typeof window !== "undefined" ? window : typeof global !== "undefined" ? global : {};
  var realClock = {
    setTimeout: (fn, ms) => G.setTimeout(fn, ms),
    clearTimeout: (id) => G.clearTimeout(id),
    now: () => Date.now()
  };

  // src/emitter.js
  var Emitter = class {
    constructor() {
      this._listeners = {};
    }
    addEventListener(type, fn) {
      const list = this._listeners[type] || (this._listeners[type] = []);
      if (fn && list.indexOf(fn) < 0) list.push(fn);
    }
    removeEventListener(type, fn) {
      const list = this._listeners[type];
      const i = list ? list.indexOf(fn) : -1;
      if (i >= 0) list.splice(i, 1);
    }
    _emit(type, props) {
      const ev = { type, target: this, currentTarget: this };
      for (const k in props) ev[k] = props[k];
      const on = this["on" + type];
      const list = (typeof on === "function" ? [on] : []).concat(this._listeners[type] || []);
      for (let i = 0; i < list.length; i++) {
        try {
          if (typeof list[i] === "function") list[i].call(this, ev);
          else list[i].handleEvent(ev);
        } catch (err) {
          G.setTimeout(() => {
            throw err;
          }, 0);
        }
      }
    }
  };

  // src/backoff.js
  var BACKOFF_FACTOR = 2;
  function backoff(n, base, max, random) {
    let bound = base;
    for (let i = 1; i < n && bound < max; i++) bound *= BACKOFF_FACTOR;
    return Math.floor(random() * Math.min(bound, max));
  }

  // src/frames.js
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var B64_INDEX = {};
  for (let i = 0; i < 64; i++) B64_INDEX[B64[i]] = i;
  var MAX_SEQ = 9007199254740991;
  var MAX_REASON_BYTES = 123;
  function protocolError(msg, line) {
    return new Error("tether: malformed frame " + JSON.stringify(String(line).slice(0, 32)) + ": " + msg);
  }
  function quote(s) {
    return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16));
  }
  function unquote(s, line) {
    let v;
    if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) {
      throw protocolError("payload is not a JSON string", line);
    }
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw protocolError("payload is not a JSON string", line);
    }
    return v;
  }
  function base64(bytes) {
    let out = "";
    const n = bytes.length;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
      out += B64[v >> 18] + B64[v >> 12 & 63] + B64[v >> 6 & 63] + B64[v & 63];
    }
    if (i < n) {
      const v = bytes[i] << 16 | (i + 1 < n ? bytes[i + 1] << 8 : 0);
      out += B64[v >> 18] + B64[v >> 12 & 63] + (i + 1 < n ? B64[v >> 6 & 63] : "=") + "=";
    }
    return out;
  }
  function unbase64(s, line) {
    const n = s.length;
    const pad = n && s[n - 1] === "=" ? s[n - 2] === "=" ? 2 : 1 : 0;
    if (n % 4) throw protocolError("malformed base64", line);
    const out = new Uint8Array(n / 4 * 3 - pad);
    let o = 0;
    for (let i = 0; i < n; i += 4) {
      let v = 0;
      for (let j = 0; j < 4; j++) {
        const c = s[i + j];
        const d = B64_INDEX[c];
        if (d === void 0 && !(c === "=" && i + j >= n - pad)) throw protocolError("malformed base64", line);
        v = v << 6 | (d || 0);
      }
      out[o++] = v >> 16;
      if (o < out.length) out[o++] = v >> 8 & 255;
      if (o < out.length) out[o++] = v & 255;
    }
    return out;
  }
  function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) n += 1;
      else if (c < 2048) n += 2;
      else if (c >= 55296 && c < 56320 && i + 1 < s.length && (s.charCodeAt(i + 1) & 64512) === 56320) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }
  function truncateReason(s) {
    s = String(s);
    while (utf8Length(s) > MAX_REASON_BYTES) {
      const cut = s.length - 1;
      s = s.slice(0, (s.charCodeAt(cut) & 64512) === 56320 ? cut - 1 : cut);
    }
    return s;
  }
  function parseSeq(s, allowZero, line) {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) throw protocolError("malformed sequence number", line);
    const n = +s;
    if (n > MAX_SEQ || n === 0 && !allowZero) throw protocolError("sequence number out of range", line);
    return n;
  }
  function decodeFrame(line) {
    const t = line[0];
    const body = line.slice(1);
    switch (t) {
      case "h":
        if (body) throw protocolError("heartbeat with a body", line);
        return { t };
      case "a":
        return { t, seq: parseSeq(body, true, line) };
      case "m":
      case "b":
      case "c": {
        const i = body.indexOf(":");
        if (i < 0) throw protocolError("missing ':'", line);
        const head = body.slice(0, i);
        const payload = body.slice(i + 1);
        if (t === "c") {
          if (!/^[1-4][0-9]{3}$/.test(head)) throw protocolError("close code outside 1000-4999", line);
          return { t, code: +head, reason: unquote(payload, line) };
        }
        const seq = parseSeq(head, false, line);
        return { t, seq, data: t === "m" ? unquote(payload, line) : unbase64(payload, line) };
      }
      case "o":
      case "H": {
        let obj;
        try {
          obj = body[0] === "{" ? JSON.parse(body) : null;
        } catch (e) {
          obj = null;
        }
        if (!obj || typeof obj !== "object") throw protocolError("expected a JSON object", line);
        return { t, obj };
      }
    }
    throw protocolError("unknown frame type", line);
  }
  function decodeBatch(text) {
    const out = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]) out.push(decodeFrame(lines[i]));
    }
    return out;
  }
  function decodeWSBinary(buf) {
    const bytes = new Uint8Array(buf);
    let i = 0;
    while (i < bytes.length && i < 17 && bytes[i] !== 58) i++;
    if (bytes[i] !== 58) throw protocolError("binary message without ':'", "binary");
    const seq = parseSeq(String.fromCharCode.apply(null, bytes.subarray(0, i)), false, "binary");
    return { t: "b", seq, data: bytes.subarray(i + 1) };
  }
  function encodeWSBinary(seq, bytes) {
    const head = seq + ":";
    const out = new Uint8Array(head.length + bytes.length);
    for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
    out.set(bytes, head.length);
    return out;
  }
  function encodeMessage(m) {
    if (!m.f) {
      m.f = typeof m.data === "string" ? "m" + m.seq + ":" + quote(m.data) : "b" + m.seq + ":" + base64(m.data);
    }
    return m.f;
  }
  function encodeClose(code, reason) {
    return "c" + code + ":" + quote(truncateReason(reason));
  }
  function encodeBatch(items) {
    let s = "";
    for (let i = 0; i < items.length; i++) {
      s += (typeof items[i] === "string" ? items[i] : encodeMessage(items[i])) + "\n";
    }
    return s;
  }

  // src/url.js
  function mount(url, loc) {
    let u = String(url).replace(/#.*$/, "");
    if (/^wss?:/i.test(u)) u = "http" + u.slice(2);
    if (!/^https?:\/\//i.test(u)) {
      if (!loc || !loc.host) throw new Error("tether: a relative URL needs a page location: " + url);
      if (u.slice(0, 2) === "//") u = loc.protocol + u;
      else if (u[0] === "/") u = loc.protocol + "//" + loc.host + u;
      else u = loc.protocol + "//" + loc.host + loc.pathname.replace(/[^/]*$/, "") + u;
    }
    const q = u.indexOf("?");
    return {
      base: (q < 0 ? u : u.slice(0, q)).replace(/\/+$/, ""),
      query: q < 0 ? "" : u.slice(q + 1)
    };
  }
  function endpoint(m, name, params) {
    const parts = [];
    for (const k in params) {
      if (params[k] !== void 0 && params[k] !== null) parts.push(k + "=" + encodeURIComponent(params[k]));
    }
    if (m.query) parts.push(m.query);
    return m.base + "/" + name + (parts.length ? "?" + parts.join("&") : "");
  }
  function wsEndpoint(m) {
    return m.base.replace(/^http/i, "ws") + "/websocket" + (m.query ? "?" + m.query : "");
  }

  // src/http.js
  function httpError(status, text) {
    const err = new Error("tether: HTTP " + status + (text ? ": " + String(text).slice(0, 200).trim() : ""));
    err.status = status;
    err.fatal = status === 401 || status === 403;
    return err;
  }
  function request(ctx, o, done) {
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
      if (!X) throw new Error("tether: XMLHttpRequest is not available");
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
          const where = o.method + " " + o.url.replace(/\?.*/, "");
          finish(status ? null : new Error("tether: network error on " + where), status, text);
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
        }
      }
    };
  }
  function helloFields(ctx, withTransport) {
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
  function openAnswer(ctx, text) {
    let frames;
    try {
      frames = decodeBatch(text || "");
    } catch (err) {
      ctx.fail(err);
      return null;
    }
    const f = frames[0];
    if (f && f.t === "o") {
      ctx.open(f.obj);
      return f.obj;
    }
    if (f && f.t === "c") ctx.recv([f]);
    else ctx.fail(new Error("tether: the handshake answer is not an open frame"));
    return null;
  }
  function handshake(ctx, opened) {
    return request(
      ctx,
      {
        method: "POST",
        url: ctx.url("handshake"),
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(helloFields(ctx, true))
      },
      (err, status, text) => {
        if (err) return ctx.fail(err);
        if (status !== 200) return ctx.fail(httpError(status, text));
        const o = openAnswer(ctx, text);
        if (o && !ctx.dead) opened(o);
      }
    );
  }
  function receive(ctx, open, name, done, progress) {
    return request(
      ctx,
      {
        method: "GET",
        url: ctx.url(name, { sid: open.sid, ack: ctx.ack() }),
        headers: { "X-Tether-Token": open.token },
        progress
      },
      (err, status, text) => {
        if (err) return ctx.fail(err);
        if (status !== 200) return ctx.fail(httpError(status, text));
        done(text);
      }
    );
  }
  function recvText(ctx, text) {
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
  var hasMessages = (frames) => frames.some((f) => f.t === "m" || f.t === "b");
  function sender(ctx, getOpen, o) {
    const carry = o && o.carry ? 1 : void 0;
    const more = o && o.more || null;
    let abort = null;
    return {
      send(items, done) {
        const open = getOpen();
        abort = request(
          ctx,
          {
            method: "POST",
            url: ctx.url("send", { sid: open.sid, carry }),
            headers: { "Content-Type": "text/plain;charset=UTF-8", "X-Tether-Token": open.token },
            body: encodeBatch(items),
            timeout: open.timeout || 0
          },
          (err, status, text) => {
            abort = null;
            if (err) return done(err);
            if (status === 413 || status === 400) {
              ctx.recv([{ t: "c", code: status === 413 ? 4001 : 4e3, reason: String(text || "").trim().slice(0, 100) }]);
              return;
            }
            if (status !== 200) return done(httpError(status, text));
            const frames = recvText(ctx, text);
            if (!frames) return;
            done(null);
            if (more && !ctx.dead && frames.length > 1 && frames[frames.length - 1].t === "h" && hasMessages(frames)) more();
          }
        );
      },
      close() {
        if (abort) abort();
      }
    };
  }

  // src/carriers/websocket.js
  function websocket(ctx) {
    let ws = null;
    let opened = false;
    let ended = false;
    const end = () => {
      const w = ws;
      ended = true;
      ws = null;
      if (w) {
        w.onopen = w.onmessage = w.onerror = w.onclose = null;
        try {
          w.close(1e3);
        } catch (e) {
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
        ws.send("H" + JSON.stringify(helloFields(ctx, false)));
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
        let text = "";
        try {
          for (let i = 0; i < items.length; i++) {
            const it = items[i];
            if (typeof it !== "string" && typeof it.data !== "string") {
              if (text) ws.send(text);
              text = "";
              ws.send(encodeWSBinary(it.seq, it.data));
            } else {
              text += (typeof it === "string" ? it : encodeMessage(it)) + "\n";
            }
          }
          if (text) ws.send(text);
        } catch (err) {
          return done(err);
        }
        done(null);
      },
      close: end
    };
    const W = ctx.env.WebSocket;
    try {
      if (!W) throw new Error("tether: WebSocket is not available");
      ws = new W(ctx.wsUrl());
      ws.binaryType = "arraybuffer";
    } catch (err) {
      fail(err);
      return car;
    }
    ws.onopen = () => ctx.probe ? ctx.probeOpen() : hello();
    ws.onmessage = (e) => {
      let frames;
      try {
        frames = typeof e.data === "string" ? decodeBatch(e.data) : [decodeWSBinary(e.data)];
      } catch (err) {
        return fail(err);
      }
      if (!opened && frames[0] && frames[0].t === "o") {
        opened = true;
        ctx.open(frames.shift().obj);
        if (ended) return;
        ctx.ready();
      }
      if (ended) return;
      for (let i = 0; i < frames.length; i++) {
        if (frames[i].t === "c") ended = true;
      }
      if (frames.length) ctx.recv(frames);
      if (ended) end();
    };
    ws.onerror = () => fail(new Error("tether: WebSocket error"));
    ws.onclose = (e) => {
      if (ended) return;
      if (e.code >= 3e3 && e.code <= 4999) {
        end();
        ctx.recv([{ t: "c", code: e.code, reason: e.reason || "" }]);
      } else {
        fail(new Error("tether: WebSocket closed (" + e.code + ")"));
      }
    };
    return car;
  }

  // src/carriers/streaming.js
  function streaming(ctx) {
    let open = null;
    let abort = () => {
    };
    abort = handshake(ctx, (o) => {
      open = o;
      stream();
    });
    const out = sender(ctx, () => open);
    function stream() {
      let seen = 0;
      let tail = "";
      let limit = false;
      const feed = (text) => {
        if (limit || !text || text.length <= seen) return;
        const chunk = tail + text.slice(seen);
        seen = text.length;
        const nl = chunk.lastIndexOf("\n");
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
          if (f.t === "c" && f.code === 4101) limit = true;
          else if (f.t !== "h") keep.push(f);
        }
        ctx.ready();
        if (!ctx.dead) ctx.recv(keep);
      };
      abort = receive(
        ctx,
        open,
        "streaming",
        (text) => {
          feed(text);
          if (ctx.dead) return;
          if (limit) stream();
          else ctx.fail(new Error("tether: the stream ended without a close frame"));
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
      }
    };
  }

  // src/carriers/eventsource.js
  function eventsource(ctx) {
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
      if (!E) return fail(new Error("tether: EventSource is not available"));
      let live = false;
      try {
        es = new E(ctx.url("eventsource", { sid: o.sid, ack: ctx.ack(), token: o.token }), {
          withCredentials: !!ctx.withCredentials
        });
      } catch (err) {
        return fail(err);
      }
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
        if (f.t === "c") end();
        ctx.ready();
        if (!ctx.dead) ctx.recv(f.t === "h" ? [] : [f]);
      };
      es.onerror = () => {
        if (!es) return;
        if (es.readyState === 2 || !live) return fail(new Error("tether: EventSource failed"));
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
      }
    };
  }

  // src/carriers/longpoll.js
  function longpoll(ctx) {
    let open = null;
    let abort = () => {
    };
    const poll = () => {
      abort = receive(ctx, open, "longpoll", (text) => {
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
      }
    };
  }

  // src/carriers/polling.js
  function polling(ctx) {
    let open = null;
    let abort = () => {
    };
    let cancelTimer = null;
    let hurry = false;
    const poll = () => {
      cancelTimer = null;
      hurry = false;
      abort = receive(ctx, open, "polling", (text) => {
        const frames = recvText(ctx, text);
        if (!frames || ctx.dead) return;
        const now = hurry || hasMessages(frames);
        cancelTimer = ctx.timer(poll, now ? 0 : open.poll > 0 ? open.poll : 1e3);
      });
    };
    abort = handshake(ctx, (o) => {
      open = o;
      ctx.ready();
      if (!ctx.dead) poll();
    });
    const more = () => {
      if (!cancelTimer) {
        hurry = true;
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
      }
    };
  }

  // src/carriers/jsonp.js
  var counter = 0;
  function callbacks(g) {
    return g.__tether || (g.__tether = {});
  }
  function attach(doc, el) {
    (doc.body || doc.getElementsByTagName("head")[0] || doc.documentElement).appendChild(el);
  }
  function detach(el) {
    if (el.parentNode) el.parentNode.removeChild(el);
  }
  function script(ctx, url, done) {
    const env = ctx.env;
    const doc = env.document;
    if (!doc) {
      done(new Error("tether: jsonp needs a document"));
      return () => {
      };
    }
    const reg = callbacks(env);
    const id = "j" + ++counter;
    const el = doc.createElement("script");
    let called = false;
    const cleanup = () => {
      el.onload = el.onerror = null;
      detach(el);
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
    el.src = url("__tether." + id);
    el.onerror = () => finish(new Error("tether: jsonp request failed"));
    el.onload = () => finish(new Error("tether: jsonp answer without a callback"));
    attach(doc, el);
    return () => {
      called = true;
      cleanup();
    };
  }
  function formPost(ctx, url, fields, done) {
    const doc = ctx.env.document;
    const name = "__tether_f" + ++counter;
    const frame = doc.createElement("iframe");
    const form = doc.createElement("form");
    frame.name = name;
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.style.display = form.style.display = "none";
    form.method = "POST";
    form.action = url;
    form.target = name;
    form.setAttribute("accept-charset", "UTF-8");
    for (const k in fields) {
      const input = doc.createElement("textarea");
      input.name = k;
      input.value = fields[k];
      form.appendChild(input);
    }
    attach(doc, frame);
    attach(doc, form);
    const cleanup = () => {
      frame.onload = frame.onerror = null;
      detach(form);
      ctx.timer(() => detach(frame), 0);
    };
    form.submit();
    frame.onload = () => {
      cleanup();
      done(null);
    };
    frame.onerror = () => {
      cleanup();
      done(new Error("tether: jsonp send failed"));
    };
    return cleanup;
  }
  function jsonp(ctx) {
    let open = null;
    let abort = () => {
    };
    let abortSend = () => {
    };
    const poll = () => {
      abort = script(
        ctx,
        (c) => ctx.url("jsonp", { sid: open.sid, ack: ctx.ack(), token: open.token, c }),
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
        return ctx.url("handshake", { transport: "jsonp", v: 1, c, sid: h.sid, token: h.token, last: h.last });
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
        const frames = items.filter((it) => typeof it !== "string" || it[0] !== "a");
        const next = (i) => {
          if (i >= frames.length) return done(null);
          const f = typeof frames[i] === "string" ? frames[i] : encodeMessage(frames[i]);
          abortSend = formPost(
            ctx,
            ctx.url("send", { sid: open.sid }),
            { token: open.token, d: f },
            (err) => err ? done(err) : next(i + 1)
          );
        };
        next(0);
      },
      close() {
        abort();
        abortSend();
      }
    };
  }

  // src/carriers/index.js
  var carriers = { websocket, streaming, eventsource, longpoll, polling, jsonp };
  var DEFAULT_TRANSPORTS = ["websocket", "streaming", "eventsource", "longpoll", "polling", "jsonp"];

  // src/core.js
  var CONNECTING = 0;
  var OPEN = 1;
  var CLOSING = 2;
  var CLOSED = 3;
  var ACK_EVERY_MESSAGES = 32;
  var ACK_EVERY_BYTES = 16 << 10;
  var MAX_PROBES = 3;
  var STOP = 0;
  var RESUME = 1;
  var RENEW = 2;
  function actionOf(code) {
    if (code === 1e3 || code >= 3e3 && code <= 4099) return STOP;
    if (code >= 4200 && code <= 4999) return RENEW;
    return RESUME;
  }
  var defaults = {
    transports: DEFAULT_TRANSPORTS,
    upgrade: false,
    connectTimeout: 5e3,
    reconnectDelay: 500,
    maxReconnectDelay: 1e4,
    maxReconnectAttempts: Infinity,
    maxQueue: 1e3,
    maxQueueBytes: 1 << 20,
    withCredentials: true
  };
  var remembered = {};
  var wsCarried = {};
  function toArrayBuffer(u8) {
    return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8.buffer : u8.slice().buffer;
  }
  function isArrayBuffer(d) {
    return d instanceof ArrayBuffer || Object.prototype.toString.call(d) === "[object ArrayBuffer]";
  }
  function core(t, url, options) {
    const opts = {};
    for (const k in defaults) opts[k] = options[k] !== void 0 ? options[k] : defaults[k];
    const env = options._env || G;
    const clock = options._clock || realClock;
    const random = options._random || Math.random;
    const factories = options._carriers || carriers;
    const m = mount(url, env.location);
    const key = m.base + "?" + m.query;
    if (!opts.transports.length) throw new Error("tether: no transports");
    opts.transports.forEach((n) => {
      if (!factories[n]) throw new Error("tether: unknown transport " + JSON.stringify(n));
    });
    const emit = (type, props) => t._emit(type, props);
    const after = (ms, fn) => clock.setTimeout(fn, ms);
    const cancel = (id) => id !== void 0 && clock.clearTimeout(id);
    let state = CONNECTING;
    let everOpened = false;
    let lost = false;
    let sid = null;
    let token = null;
    let info = null;
    let carrierName = null;
    let last = 0;
    let ackSent = 0;
    let unackedBytes = 0;
    let ackDue = false;
    let outbox = [];
    let outBytes = 0;
    let nextSeq = 1;
    let acked = 0;
    let sentUpTo = 0;
    let transmitted = 0;
    let sending = false;
    let closing = null;
    let unconfirmed = null;
    let cur = null;
    let probe = null;
    let round = null;
    let fails = 0;
    let attempt = 0;
    let probes = 0;
    let probeOff = false;
    let retryTimer;
    let deadTimer;
    let ackTimer;
    let closeTimer;
    let probeTimer;
    let lastRecv = 0;
    let lastWrite = 0;
    function newCtx(name, isProbe) {
      const ctx = {
        name,
        env,
        probe: isProbe,
        withCredentials: opts.withCredentials,
        dead: false,
        opened: false,
        carrying: false,
        // ready was called: the carrier carries
        progressed: false,
        car: null,
        url: (n, params) => endpoint(m, n, params),
        wsUrl: () => wsEndpoint(m),
        hello: () => sid ? { sid, token, last } : {},
        ack: () => last,
        timer: (fn, ms) => {
          const id = after(ms, fn);
          return () => cancel(id);
        },
        open: (o) => onOpen(ctx, o),
        ready: () => onReady(ctx),
        recv: (frames) => onRecv(ctx, frames),
        fail: (err) => onFail(ctx, err),
        probeOpen: () => onProbeOpen(ctx)
      };
      return ctx;
    }
    function launch(ctx, what) {
      ctx.ct = after(
        opts.connectTimeout,
        () => onFail(ctx, new Error("tether: " + what + " carried nothing within " + opts.connectTimeout + " ms"))
      );
      try {
        ctx.car = factories[ctx.name](ctx);
      } catch (err) {
        onFail(ctx, err);
      }
      if (ctx.dead && ctx.car) ctx.car.close();
    }
    function kill(ctx) {
      if (ctx.dead) return;
      ctx.dead = true;
      cancel(ctx.ct);
      if (ctx === cur) {
        sending = false;
        cancel(deadTimer);
        cancel(ackTimer);
      }
      if (ctx.car) {
        try {
          ctx.car.close();
        } catch (e) {
        }
      }
    }
    function startRound() {
      if (state === CLOSED) return;
      let list = opts.transports.slice();
      const r = remembered[key];
      if (opts.upgrade && r !== "websocket" && list.length > 1) list = list.filter((n) => n !== "websocket");
      if (r && list.indexOf(r) > 0) list = [r].concat(list.filter((n) => n !== r));
      round = { list, i: 0 };
      tryNext();
    }
    function tryNext(err) {
      if (closing) return finish(closing.code, closing.reason, false);
      if (!round || round.i >= round.list.length) return roundFailed(err);
      const ctx = newCtx(round.list[round.i++], false);
      cur = ctx;
      launch(ctx, ctx.name);
    }
    function roundFailed(err, quiet) {
      round = null;
      if (closing) return finish(closing.code, closing.reason, false);
      const e = new Error("tether: could not connect" + (err ? ": " + err.message : ""));
      if (!quiet) emit("error", { error: e, message: e.message });
      if (state === CLOSED) return;
      if (everOpened) {
        lost = true;
        state = CONNECTING;
      }
      schedule(backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), e);
    }
    function schedule(delay, cause) {
      round = null;
      cancel(probeTimer);
      if (probe) kill(probe);
      probe = null;
      if (++attempt > opts.maxReconnectAttempts) {
        return finish(1006, truncateReason(cause ? cause.message : "could not reconnect"), false);
      }
      emit("reconnecting", { attempt, delay });
      if (state === CLOSED) return;
      cancel(retryTimer);
      retryTimer = after(delay, startRound);
    }
    function lose(ctx, err) {
      if (closing) return finish(closing.code, closing.reason, false);
      lost = true;
      state = CONNECTING;
      if (ctx.progressed) fails = 0;
      schedule(ctx.progressed ? 0 : backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), err);
    }
    function renew() {
      const u = [];
      const keep = [];
      outbox.forEach((msg) => (msg.seq <= transmitted ? u : keep).push(msg));
      unconfirmed = (unconfirmed || []).concat(u.map((msg) => typeof msg.data === "string" ? msg.data : msg.data.buffer));
      outbox = keep;
      outBytes = 0;
      keep.forEach((msg, i) => {
        msg.seq = i + 1;
        msg.f = msg.w = void 0;
        outBytes += msg.size;
      });
      nextSeq = keep.length + 1;
      acked = sentUpTo = transmitted = 0;
      sid = token = info = null;
      last = ackSent = unackedBytes = 0;
      ackDue = false;
    }
    function onOpen(ctx, o) {
      if (ctx !== cur || ctx.dead || ctx.opened) return;
      if (!o || o.v !== 1 || !o.sid || !o.token) return onFail(ctx, new Error("tether: malformed open frame"));
      if (sid && o.sid !== sid) renew();
      sid = o.sid;
      token = o.token;
      info = o;
      ctx.opened = true;
      ackUpTo(o.ack || 0);
      sentUpTo = acked;
      ackSent = last;
    }
    function onReady(ctx) {
      if (ctx !== cur || ctx.dead || ctx.carrying || !ctx.opened) return;
      ctx.carrying = true;
      cancel(ctx.ct);
      remembered[key] = ctx.name;
      if (ctx.name === "websocket") wsCarried[key] = true;
      const prev = carrierName;
      carrierName = ctx.name;
      round = null;
      lastRecv = lastWrite = clock.now();
      armDead(ctx);
      if (ctx.car && ctx.car.duplex) armAck(ctx);
      if (state === CONNECTING) state = OPEN;
      if (!everOpened) {
        everOpened = true;
        lost = false;
        unconfirmed = null;
        emit("open", {});
      } else {
        if (prev !== ctx.name) emit("transport", { transport: ctx.name, previous: prev });
        if (lost && ctx === cur) {
          lost = false;
          const u = unconfirmed;
          unconfirmed = null;
          emit("reconnected", u ? { recovered: false, unconfirmed: u } : { recovered: true });
        }
      }
      if (ctx !== cur || ctx.dead) return;
      pump();
      planProbe();
    }
    function onRecv(ctx, frames) {
      if (ctx !== cur || ctx.dead) return;
      if (!ctx.opened) {
        const c = frames.filter((f) => f.t === "c")[0];
        return c ? verdict(ctx, c.code, c.reason) : onFail(ctx, new Error("tether: frames before the open frame"));
      }
      if (!ctx.carrying) onReady(ctx);
      if (ctx !== cur || ctx.dead) return;
      lastRecv = clock.now();
      if (!ctx.progressed) {
        ctx.progressed = true;
        fails = attempt = 0;
      }
      const duplex = ctx.car && ctx.car.duplex;
      for (let i = 0; i < frames.length; i++) {
        if (ctx !== cur || ctx.dead || state === CLOSED) return;
        const f = frames[i];
        if (f.t === "m" || f.t === "b") {
          if (f.seq <= last) {
            ackDue = true;
            continue;
          }
          if (f.seq !== last + 1) {
            return onFail(ctx, new Error("tether: message " + f.seq + " after " + last));
          }
          last = f.seq;
          unackedBytes += f.data.length;
          emit("message", { data: f.t === "m" ? f.data : toArrayBuffer(f.data) });
        } else if (f.t === "a") {
          ackUpTo(f.seq);
        } else if (f.t === "h") {
          if (duplex) ackDue = true;
        } else if (f.t === "c") {
          return verdict(ctx, f.code, f.reason);
        }
      }
      pump();
    }
    function onFail(ctx, err) {
      if (!ctx || ctx.dead) return;
      if (ctx === probe) {
        kill(ctx);
        probe = null;
        probeOff = true;
        return;
      }
      if (ctx !== cur) return;
      kill(ctx);
      if (ctx.carrying) return lose(ctx, err);
      if (err && err.fatal) {
        emit("error", { error: err, message: err.message });
        return finish(1008, truncateReason(err.message), false);
      }
      tryNext(err);
    }
    function verdict(ctx, code, reason) {
      if (ctx !== cur || ctx.dead) return;
      kill(ctx);
      if (closing) return finish(closing.code, closing.reason, closing.sent);
      const action = actionOf(code);
      if (action === STOP) return finish(code, reason, true);
      const err = new Error("tether: closed by the server: " + code + " " + reason);
      err.code = code;
      if (action === RESUME) {
        if (ctx.carrying) return lose(ctx, err);
        return round && round.upgrading ? tryNext(err) : roundFailed(err, code === 4103);
      }
      renew();
      if (everOpened) {
        lost = true;
        state = CONNECTING;
      }
      schedule(backoff(++fails, opts.reconnectDelay, opts.maxReconnectDelay, random), err);
    }
    function armDead(ctx) {
      const limit = info && info.timeout || 5e4;
      const check = () => {
        if (ctx !== cur || ctx.dead) return;
        const idle = clock.now() - lastRecv;
        if (idle >= limit) onFail(ctx, new Error("tether: nothing received for " + idle + " ms"));
        else deadTimer = after(limit - idle, check);
      };
      cancel(deadTimer);
      deadTimer = after(limit, check);
    }
    function armAck(ctx) {
      const every = (info && info.hb || 25e3) / 2;
      const tick = () => {
        if (ctx !== cur || ctx.dead) return;
        ackTimer = after(every, tick);
        if (clock.now() - lastWrite >= every) pump(true);
      };
      cancel(ackTimer);
      ackTimer = after(every, tick);
    }
    function planProbe() {
      if (!(opts.upgrade || wsCarried[key]) || probeOff || probe || probes >= MAX_PROBES || state !== OPEN || carrierName === "websocket" || opts.transports.indexOf("websocket") < 0) {
        return;
      }
      cancel(probeTimer);
      probeTimer = after(1e3 * probes, () => {
        if (state !== OPEN || probe || !cur || !cur.carrying || carrierName === "websocket") return;
        probes++;
        probe = newCtx("websocket", true);
        launch(probe, "websocket probe");
      });
    }
    function onProbeOpen(ctx) {
      if (ctx !== probe || ctx.dead) return;
      cancel(ctx.ct);
      ctx.switchWanted = true;
      pump();
    }
    function switchToProbe() {
      const ctx = probe;
      const old = cur;
      probe = null;
      kill(old);
      cur = ctx;
      round = { list: ["websocket", old.name], i: 1, upgrading: true };
      ctx.ct = after(opts.connectTimeout, () => onFail(ctx, new Error("tether: no answer to the websocket hello")));
      ctx.car.hello();
    }
    function ackUpTo(n) {
      if (n <= acked || n >= nextSeq) return;
      let k = 0;
      while (k < outbox.length && outbox[k].seq <= n) outBytes -= outbox[k++].size;
      outbox.splice(0, k);
      acked = n;
      if (sentUpTo < n) sentUpTo = n;
    }
    function wireSize(msg) {
      if (msg.w === void 0) {
        msg.w = typeof msg.data === "string" ? utf8Length(encodeMessage(msg)) + 1 : String(msg.seq).length + 3 + Math.ceil(msg.data.length / 3) * 4;
      }
      return msg.w;
    }
    function pump(force) {
      const ctx = cur;
      if (!ctx || !ctx.carrying || ctx.dead || !ctx.car || sending || state === CLOSED) return;
      if (probe && probe.switchWanted) return switchToProbe();
      const car = ctx.car;
      const wantClose = closing && !closing.sent;
      const needAck = car.stream && (force || ackDue || last - ackSent >= ACK_EVERY_MESSAGES || unackedBytes >= ACK_EVERY_BYTES);
      if (sentUpTo >= nextSeq - 1 && !wantClose && !needAck) return;
      const items = [];
      let size = 0;
      if (last > 0 || needAck) {
        items.push("a" + last);
        size = String(last).length + 2;
        ackSent = last;
        unackedBytes = 0;
        ackDue = false;
      }
      const max = info && info.maxSend || 65536;
      for (let i = sentUpTo - acked, n = 0; i < outbox.length; i++, n++) {
        const s = wireSize(outbox[i]);
        if (n > 0 && size + s > max) break;
        items.push(outbox[i]);
        size += s;
        sentUpTo = outbox[i].seq;
      }
      if (sentUpTo > transmitted) transmitted = sentUpTo;
      let closeSent = false;
      if (wantClose && sentUpTo === nextSeq - 1) {
        items.push(encodeClose(closing.code, closing.reason));
        closing.sent = closeSent = true;
      }
      sending = true;
      lastWrite = clock.now();
      car.send(items, (err) => {
        if (ctx !== cur || ctx.dead) return;
        sending = false;
        lastWrite = clock.now();
        if (err) return onFail(ctx, err);
        if (closeSent) return finish(closing.code, closing.reason, true);
        pump();
      });
    }
    function error(msg) {
      const e = new Error(msg);
      emit("error", { error: e, message: msg });
    }
    function finish(code, reason, wasClean) {
      if (state === CLOSED) return;
      state = CLOSED;
      [retryTimer, deadTimer, ackTimer, closeTimer, probeTimer].forEach(cancel);
      if (cur) kill(cur);
      if (probe) kill(probe);
      cur = probe = round = null;
      outbox = [];
      outBytes = 0;
      emit("close", { code, reason, wasClean });
    }
    retryTimer = after(0, startRound);
    return {
      state: () => state,
      transport: () => carrierName,
      id: () => sid,
      url: () => m.base + (m.query ? "?" + m.query : ""),
      buffered: () => outBytes,
      send(data) {
        if (state === CLOSING || state === CLOSED) return false;
        let d;
        if (typeof data === "string") d = data;
        else if (isArrayBuffer(data)) d = new Uint8Array(data.slice(0));
        else if (ArrayBuffer.isView(data)) d = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
        else d = String(data);
        const size = typeof d === "string" ? utf8Length(d) : d.length;
        if (info && info.maxMessage && size > info.maxMessage) {
          error("tether: a message of " + size + " bytes is over the server limit of " + info.maxMessage);
          return false;
        }
        if (outbox.length >= opts.maxQueue || outBytes + size > opts.maxQueueBytes) {
          error("tether: send queue full (" + outbox.length + " messages, " + outBytes + " bytes)");
          return false;
        }
        outbox.push({ seq: nextSeq++, data: d, size });
        outBytes += size;
        pump();
        return true;
      },
      close(code, reason) {
        code = code === void 0 ? 1e3 : +code;
        if (code !== 1e3 && !(code >= 3e3 && code <= 4999)) {
          throw new RangeError("tether: close code must be 1000 or in 3000-4999, not " + code);
        }
        reason = truncateReason(reason === void 0 ? "" : reason);
        if (state === CLOSING || state === CLOSED) return;
        if (state === CONNECTING) return finish(code, reason, false);
        state = CLOSING;
        closing = { code, reason, sent: false };
        cancel(probeTimer);
        if (probe) kill(probe);
        probe = null;
        closeTimer = after(opts.connectTimeout, () => finish(code, reason, false));
        pump();
      }
    };
  }

  // src/tether.js
  var EVENTS = ["open", "message", "close", "error", "reconnecting", "reconnected", "transport"];
  var Tether = class extends Emitter {
    /**
     * url is the http(s) URL of the tether mount ("/chat",
     * "https://example.com/chat"); options are documented in README.md.
     */
    constructor(url, options) {
      super();
      EVENTS.forEach((e) => {
        this["on" + e] = null;
      });
      this._core = core(this, url, options || {});
    }
    /** readyState is CONNECTING (also while reconnecting), OPEN, CLOSING or CLOSED. */
    get readyState() {
      return this._core.state();
    }
    /** transport is the name of the carrier in use (or last used), null before the first open. */
    get transport() {
      return this._core.transport();
    }
    /** id is the session id, null before the first open. */
    get id() {
      return this._core.id();
    }
    /** url is the resolved URL of the mount. */
    get url() {
      return this._core.url();
    }
    /** bufferedAmount is the bytes of messages sent but not yet acknowledged by the server. */
    get bufferedAmount() {
      return this._core.buffered();
    }
    /**
     * send queues a message: a string, or an ArrayBuffer or typed array
     * (sent as binary). It returns false, and fires an error event, when the
     * message cannot be queued (the queue is full, the message is over the
     * server's limit); after close() it returns false.
     */
    send(data) {
      return this._core.send(data);
    }
    /** close ends the session with code (1000, or 3000-4999) and reason. */
    close(code, reason) {
      this._core.close(code, reason);
    }
  };
  [
    ["CONNECTING", CONNECTING],
    ["OPEN", OPEN],
    ["CLOSING", CLOSING],
    ["CLOSED", CLOSED]
  ].forEach(([name, v]) => {
    Tether[name] = v;
    Tether.prototype[name] = v;
  });

  // src/global.js
  G.Tether = Tether;
})();
