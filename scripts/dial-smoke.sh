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

# A random port may be taken (the server then exits at once): try
# another, a few times, and say so clearly if none works.
up=no
for _ in 1 2 3 4 5; do
  port=$(( 20000 + RANDOM % 20000 ))
  "$bin/echo" -addr "127.0.0.1:$port" 2>"$bin/echo.log" &
  server=$!
  for _ in $(seq 100); do
    if curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1; then
      up=yes
      break
    fi
    kill -0 "$server" 2>/dev/null || break # it exited: the port was taken
    sleep 0.1
  done
  [ "$up" = yes ] && break
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
done
if [ "$up" != yes ]; then
  echo "dial-smoke: examples/echo did not come up on a loopback port; its log:" >&2
  cat "$bin/echo.log" >&2
  exit 1
fi

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
