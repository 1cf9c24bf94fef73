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

echo "== client-js: end-to-end tests in headless Chromium, alone and behind nginx"
# Debian's chromium and nginx, driven by playwright-core (which never
# downloads a browser). nginx lives in /usr/sbin, which a non-root PATH may
# lack.
missing=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] ||
    fail "the browser tests need Debian's ${missing[*]}; run ./test.sh as root, or first: sudo apt-get install -y ${missing[*]}"
  echo "test.sh: installing ${missing[*]} with apt-get"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } ||
    fail "apt-get install -y ${missing[*]} failed: are Debian's package mirrors reachable?"
fi
(
  cd client-js
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm run e2e
)

echo "test.sh: all tests passed"
