// The global object and the clock, looked up lazily so that a page may
// delete XMLHttpRequest, fetch or WebSocket before or after loading the
// client (the jsonp carrier needs none of them).

/* global self, window, global */
export const G =
  typeof self !== 'undefined' ? self : typeof window !== 'undefined' ? window : typeof global !== 'undefined' ? global : {};

/** realClock is the clock every Tether uses unless a test injects another. */
export const realClock = {
  setTimeout: (fn, ms) => G.setTimeout(fn, ms),
  clearTimeout: (id) => G.clearTimeout(id),
  now: () => Date.now(),
};
