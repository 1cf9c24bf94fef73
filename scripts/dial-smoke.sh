#!/usr/bin/env bash
# Runs the README's commands for real: starts examples/echo on a free
# loopback port and pipes a line through `tether dial` over each carrier,
# checking the greeting, the echo, and the exit status.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/echo" ./examples/echo
go build -o "$bin/tether" ./cmd/tether

port=$(( 20000 + RANDOM % 20000 ))
"$bin/echo" -addr "127.0.0.1:$port" 2>"$bin/echo.log" &
server=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.1
done

passed=0 failed=0
for transport in websocket streaming eventsource longpoll jsonp polling; do
  if out=$(printf 'hi\n' | timeout 20 "$bin/tether" dial "http://127.0.0.1:$port/echo" -transport "$transport" 2>"$bin/err") &&
     [ "$out" = $'Welcome\nnew message: hi' ]; then
    echo "ok   dial -transport $transport"
    passed=$((passed + 1))
  else
    echo "FAIL dial -transport $transport: got [$out], stderr: $(cat "$bin/err")"
    failed=$((failed + 1))
  fi
done
echo "dial: $passed passed, $failed failed"
[ "$failed" = 0 ]
