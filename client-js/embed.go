// Package clientjs holds the built browser client of tether, so a Go
// server can serve it without a JavaScript toolchain: the router answers
// <prefix>/tether.js and <prefix>/tether.min.js from these bytes.
//
// The files are built from src/ by `npm run build` and committed;
// scripts/check-build.mjs fails when they differ from a fresh build. See
// README.md for the client's API.
package clientjs

import _ "embed" // for go:embed

// Script is dist/tether.js: the readable build, a classic script that
// defines the global Tether.
//
//go:embed dist/tether.js
var Script []byte

// MinScript is dist/tether.min.js: the minified build of Script, for
// production pages.
//
//go:embed dist/tether.min.js
var MinScript []byte

// Module is dist/tether.mjs: the ES module build, exporting Tether (named
// and default), for `<script type="module">` and bundlers.
//
//go:embed dist/tether.mjs
var Module []byte
