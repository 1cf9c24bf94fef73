// Package clientjs holds the built browser client of tether, so a Go
// server can serve it without a JavaScript toolchain: the router answers
// <prefix>/tether.js and <prefix>/tether.min.js from these bytes.
//
// The files are built from src/ by `npm run build` and committed;
// scripts/check-build.mjs fails when they differ from a fresh build. See
// README.md for the client's API.
package clientjs

import _ "embed" // for go:embed

// The builds, unexported so no importer can change what every other one
// serves; the functions below hand out copies.
var (
	//go:embed dist/tether.js
	script []byte
	//go:embed dist/tether.min.js
	minScript []byte
	//go:embed dist/tether.mjs
	module []byte
)

// Script returns dist/tether.js: the readable build, a classic script that
// defines the global Tether.
func Script() []byte { return clone(script) }

// MinScript returns dist/tether.min.js: the minified build of Script, for
// production pages.
func MinScript() []byte { return clone(minScript) }

// Module returns dist/tether.mjs: the ES module build, exporting Tether
// (named and default), for `<script type="module">` and bundlers.
func Module() []byte { return clone(module) }

func clone(b []byte) []byte { return append([]byte(nil), b...) }
