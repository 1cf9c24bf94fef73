#!/usr/bin/env bash
# Runs every test of tether: formatting, vet, the Go suite with the race
# detector, and the documented commands against the real example server.
# It installs what the tests need when it is missing and says clearly what
# it could not install. Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "test.sh: $*" >&2; exit 1; }

command -v go >/dev/null || fail "Go is not installed (https://go.dev/doc/install); tether needs Go 1.26 or newer"

echo "== gofmt"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || fail "files not gofmt-formatted:"$'\n'"$unformatted"

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 ./...

echo "== examples/echo with tether dial"
./scripts/dial-smoke.sh

echo "== client-js: node unit tests and the committed build"
command -v node >/dev/null && command -v npm >/dev/null ||
  fail "Node.js 20+ with npm is needed for the browser client's tests (Debian: apt-get install nodejs npm)"
(
  cd client-js
  # Install when node_modules is missing or older than the lock file.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund || fail "npm ci failed in client-js: is the npm registry reachable?"
  fi
  npm test
  node scripts/check-build.mjs
)

echo "test.sh: all tests passed"
