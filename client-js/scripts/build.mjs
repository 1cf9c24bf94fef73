// Builds dist/ from src/: the ES module, the readable and the minified
// script (global Tether), and the TypeScript declarations. The output
// depends on the sources and the pinned esbuild only (no dates, no paths),
// so scripts/check-build.mjs can compare a fresh build with the committed one.
//
// Usage: node scripts/build.mjs [outdir]   (default: dist)

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] || join(root, 'dist'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const banner = `/*! ${pkg.name} ${pkg.version} | https://github.com/tether-rt/tether */`;

const common = {
  absWorkingDir: root,
  bundle: true,
  target: 'es2015',
  platform: 'browser',
  charset: 'utf8',
  legalComments: 'none',
  banner: { js: banner },
  logLevel: 'warning',
};

mkdirSync(out, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/index.js'], format: 'esm', outfile: join(out, 'tether.mjs') }),
  build({ ...common, entryPoints: ['src/global.js'], format: 'iife', outfile: join(out, 'tether.js') }),
  build({ ...common, entryPoints: ['src/global.js'], format: 'iife', minify: true, outfile: join(out, 'tether.min.js') }),
]);
copyFileSync(join(root, 'src/tether.d.ts'), join(out, 'tether.d.ts'));
