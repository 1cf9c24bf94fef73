// The committed builds load and expose Tether (scripts/check-build.mjs
// checks that they are the build of src/).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const dist = new URL('../dist/', import.meta.url);

for (const file of ['tether.js', 'tether.min.js']) {
  test(`dist/${file} defines the global Tether, touching nothing else at load`, () => {
    const page = { setTimeout: () => 1, clearTimeout() {}, location: { protocol: 'https:', host: 'h.test', pathname: '/' } };
    page.self = page; // no XMLHttpRequest, fetch, WebSocket or document: nothing may need them yet
    vm.runInNewContext(readFileSync(new URL(file, dist), 'utf8'), page);
    assert.equal(typeof page.Tether, 'function');
    assert.equal(page.Tether.OPEN, 1);
    assert.deepEqual(Object.keys(page).sort(), ['Tether', 'clearTimeout', 'location', 'self', 'setTimeout']);
    const t = new page.Tether('/chat');
    assert.equal(t.url, 'https://h.test/chat');
    assert.equal(t.readyState, 0);
  });
}

test('dist/tether.mjs exports Tether, named and default', async () => {
  const mod = await import(new URL('tether.mjs', dist));
  assert.equal(mod.default, mod.Tether);
  assert.equal(mod.Tether.CLOSED, 3);
});
