import test from 'node:test';
import assert from 'node:assert/strict';
import { backoff } from '../src/backoff.js';

test('backoff: full jitter under a bound that doubles from base to the cap', () => {
  const top = () => 0.9999999;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoff(n, 500, 10000, top)),
    [499, 999, 1999, 3999, 7999, 9999, 9999, 9999]
  );
  assert.equal(backoff(3, 500, 10000, () => 0), 0, 'full jitter reaches zero');
  assert.equal(backoff(3, 500, 10000, () => 0.5), 1000);
  assert.equal(backoff(1, 500, 300, top), 299, 'the cap applies from the start');
});
