// Reconnection delays: exponential backoff with full jitter, so that
// clients cut off together do not all come back at the same moment.

/** BACKOFF_FACTOR is how much the delay bound grows per failed attempt. */
export const BACKOFF_FACTOR = 2;

/**
 * backoff returns the delay before retry number n (n >= 1) after n
 * consecutive failures: a uniformly random delay in
 * [0, min(max, base × 2^(n-1))), from random, a Math.random-like function.
 */
export function backoff(n, base, max, random) {
  let bound = base;
  for (let i = 1; i < n && bound < max; i++) bound *= BACKOFF_FACTOR;
  return Math.floor(random() * Math.min(bound, max));
}
