// Fails when the committed dist/ differs from a fresh build of src/, so
// the files the Go module embeds are always the sources' build.
//
// Usage: node scripts/check-build.mjs   (needs `npm ci` first, for esbuild)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'node_modules', 'esbuild'))) {
  console.error('check-build: esbuild is not installed; run `npm ci` in client-js first');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'tether-build-'));
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), tmp], { stdio: 'inherit' });
  const fresh = readdirSync(tmp).sort();
  const committed = readdirSync(join(root, 'dist')).sort();
  const problems = [];
  for (const f of new Set([...fresh, ...committed])) {
    if (!fresh.includes(f)) problems.push(`dist/${f} is not produced by the build (remove it)`);
    else if (!committed.includes(f)) problems.push(`dist/${f} is missing`);
    else if (!readFileSync(join(tmp, f)).equals(readFileSync(join(root, 'dist', f)))) problems.push(`dist/${f} differs`);
  }
  if (problems.length) {
    console.error('check-build: dist/ is not the build of src/:\n  ' + problems.join('\n  '));
    console.error('run `npm run build` in client-js and commit dist/');
    process.exit(1);
  }
  console.log('check-build: dist/ matches a fresh build (' + fresh.join(', ') + ')');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
