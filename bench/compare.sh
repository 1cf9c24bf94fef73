#!/usr/bin/env bash
# Measure tether's benchserver and every reference server in ../shared/peers
# side by side, one server at a time, on this machine, in one run bounded to
# ten minutes; print the markdown tables of BENCHMARKS.md.
#
#   bench/compare.sh                 # everything (about 9 minutes)
#   BENCH_D=3s BENCH_ROUNDS=1 bench/compare.sh   # quicker, noisier
#   BENCH_ONLY="tether gorilla" bench/compare.sh   # a subset of the servers
#
# Two phases. Memory: each server alone and freshly started for each idle
# measurement (10,000 WebSocket sessions, 10,000 parked polls; tether also
# 100,000 abandoned sessions), so every baseline is clean. Throughput and
# latency: every server up at once (idle ones cost nothing), and the echo
# rows run in BENCH_ROUNDS rounds, the servers interleaved in each, so that
# other work on the machine weighs on every server alike; the tables give
# medians. Each run records the machine's load average (load1).
#
# Environment: BENCH_D (measurement window, default 4s), BENCH_ROUNDS
# (default 3), BENCH_WARM and BENCH_WARM_POLL (each server's unmeasured
# warm-up on WebSocket and on its polling carrier, default 3s and 20s),
# BENCH_LIMIT (total
# seconds, default 600), BENCH_PORT_BASE (default 18100), BENCH_OUT (where
# results, logs and profiles go; default a new temporary directory),
# BENCH_ONLY (servers to run), PEERS (default ../shared/peers beside the
# repository).
#
# Every server listens on 127.0.0.1 only; every server this script started is
# stopped on exit (trap), by its process group id. The results file holds
# one key=value line per run, each after the command that produced it;
# `tether bench report FILE` turns it into the tables again.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$root/../shared/peers}
D=${BENCH_D:-4s}
warm_d=${BENCH_WARM:-3s}
warm_poll=${BENCH_WARM_POLL:-20s}
rounds=${BENCH_ROUNDS:-3}
limit=${BENCH_LIMIT:-600}
base=${BENCH_PORT_BASE:-18100}
out=${BENCH_OUT:-$(mktemp -d /tmp/tether-bench.XXXXXX)}
only=${BENCH_ONLY:-tether gorilla sockjs-go sockjs-node socketio ws engineio}
start_s=$SECONDS
mkdir -p "$out/logs" "$out/profiles"
export PPROF_TMPDIR=$out/profiles # where go tool pprof keeps what it fetches
results=$out/results.txt
: >"$results"

log() { printf '%s [%3ds] %s\n' "$(date +%T)" $((SECONDS - start_s)) "$*" >&2; }
note() { printf '! %s\n' "$*" >>"$results"; log "note: $*"; }
left() { echo $((limit - (SECONDS - start_s))); }

# --- build -------------------------------------------------------------------
bin=$(mktemp -d /tmp/tether-bench-bin.XXXXXX)
log "building tether and benchserver into $bin"
(cd "$root" && go build -o "$bin/tether" ./cmd/tether && go build -o "$bin/benchserver" ./examples/benchserver) || {
  echo "compare.sh: build failed" >&2
  exit 1
}

# --- servers -----------------------------------------------------------------
declare -A port=(
  [tether]=$base [gorilla]=$((base + 90)) [sockjs-go]=$((base + 91)) [sockjs-node]=$((base + 81))
  [socketio]=$((base + 82)) [ws]=$((base + 83)) [engineio]=$((base + 84))
)
pprof_port=$((base + 1))
declare -A pgid=() # process group of each server running now
declare -A spid=() # its listening process (go run's child for Go peers)

stop_server() {
  local g=${pgid[$1]:-}
  [ -n "$g" ] || return 0
  kill -TERM -- "-$g" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 -- "-$g" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$g" 2>/dev/null
  unset "pgid[$1]" "spid[$1]"
}
stop_all() { for n in "${!pgid[@]}"; do stop_server "$n"; done; }
cleanup() {
  stop_all
  rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening_pid() { # the pid of the process listening on port $1
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

# start_server NAME [benchserver flags...]: start it fresh and wait for its port.
start_server() {
  local name=$1 p=${port[$1]}
  shift
  stop_server "$name"
  if ss -ltnH "sport = :$p" | grep -q .; then
    note "$name: port $p is already in use by another process; not run"
    return 1
  fi
  if [ "$name" = tether ]; then
    setsid "$bin/benchserver" -addr "127.0.0.1:$p" -pprof "127.0.0.1:$pprof_port" "$@" \
      >>"$out/logs/$name.log" 2>&1 &
  else
    setsid "$peers/start.sh" "$name" "$p" >>"$out/logs/$name.log" 2>&1 &
  fi
  pgid[$name]=$!
  # Go peers compile on first start and node peers install theirs.
  local pid
  for _ in $(seq 1200); do
    pid=$(listening_pid "$p")
    if [ -n "$pid" ]; then
      spid[$name]=$pid
      return 0
    fi
    kill -0 "${pgid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  note "$name did not start (see $out/logs/$name.log)"
  stop_server "$name"
  return 1
}
up() { [ -n "${spid[$1]:-}" ]; }

# bench LABEL SERVER [flags...]: one measured run against SERVER. It is
# skipped when the time left cannot hold it (BUDGET seconds, default the
# window plus 40).
bench() {
  local label=$1 server=$2
  shift 2
  up "$server" || return 1
  local need=${BUDGET:-$((${D%s} + 40))}
  if [ "$(left)" -lt "$need" ]; then
    note "$label: skipped, the ten minutes are nearly over"
    return 1
  fi
  local cmd=(bench -label "$label" -server-pid "${spid[$server]}" "$@")
  log "run $label: tether ${cmd[*]}"
  printf '# tether %s\n' "${cmd[*]}" >>"$results"
  local line
  if ! line=$(timeout $((need + 60)) "$bin/tether" "${cmd[@]}" 2>>"$out/logs/bench.log"); then
    note "$label: tether bench failed (see $out/logs/bench.log)"
    return 1
  fi
  echo "$line" >>"$results"
  log "    $line"
}

# alias_run LABEL NEWLABEL: the last run of LABEL counted in a second row too.
alias_run() {
  grep "^label=$1 " "$results" | tail -1 | sed "s/^label=$1 /label=$2 /" >>"$results"
}

# warm SECONDS SERVER FLAGS...: an unmeasured echo at the measured
# concurrency, so JITs and pools are warm. A node server's cost per polling
# round trip keeps falling for some 20 s of load (engine.io's: from about
# 140 to 85 µs), so the polling carriers get BENCH_WARM_POLL, the others
# BENCH_WARM.
warm() {
  local d=$1
  up "$2" || return 0
  shift 2
  timeout 60 "$bin/tether" bench -d "$d" -c 50 "$@" >/dev/null 2>>"$out/logs/bench.log"
}

# profile_cpu SECONDS NAME: the benchserver's CPU profile, in the background;
# its process id is in $bg, for wait (a bare wait would wait for the servers).
profile_cpu() {
  (fetch "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$1" "$out/profiles/$2.pb" &&
    go tool pprof -top -nodecount=25 "$out/profiles/$2.pb" >"$out/profiles/$2.txt" 2>/dev/null) &
  bg=$!
}
# goroutine_profile NAME: once the benchserver holds 10,000 sessions (9,000
# goroutines or more, the same count twice half a second apart), its goroutine
# profile, rendered after the run by render_goroutines NAME.
goroutine_profile() {
  (last=0
  for _ in $(seq 600); do
    n=$(curl -sf -m 5 "http://127.0.0.1:$pprof_port/debug/pprof/goroutine?debug=1" | head -1 | sed 's/.*total //')
    if [ "${n:-0}" -ge 9000 ] && [ "$n" = "$last" ]; then
      curl -sf -m 30 -o "$out/profiles/$1.pb" "http://127.0.0.1:$pprof_port/debug/pprof/goroutine"
      break
    fi
    last=${n:-0}
    sleep 0.5
  done) &
  bg=$!
}
render_goroutines() {
  kill "$bg" 2>/dev/null
  wait "$bg" 2>/dev/null
  [ -s "$out/profiles/$1.pb" ] &&
    go tool pprof -top -nodecount=15 "$out/profiles/$1.pb" >"$out/profiles/$1.txt" 2>/dev/null
}
fetch() { curl -sf -m 60 -o "$2" "$1"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
wants() { [[ " $only " == *" $1 "* ]]; }

H=http://127.0.0.1
W=ws://127.0.0.1
pp=http://127.0.0.1:$pprof_port
idle_flags=(-scenario idle -c 10000 -d 4s)
echo_flags=(-scenario echo -c 50 -size 64 -d "$D")
bcast_flags=(-scenario broadcast -c 5000 -size 64 -rate "${BENCH_BCAST_RATE:-2}" -d "$D")
burst_flags=(-scenario burst -c 50 -burst 100 -size 64 -d 3s)
churn_flags=(-scenario churn -c 50 -d 3s)

# target SERVER ROW: the URL and protocol flags of a server for a row.
tt=$H:${port[tether]}
declare -A url=(
  [tether]=$tt/echo [gorilla]=$W:${port[gorilla]}/echo [sockjs-go]=$H:${port[sockjs-go]}/echo
  [sockjs-node]=$H:${port[sockjs-node]}/echo [socketio]=$H:${port[socketio]}/socket.io/
  [ws]=$W:${port[ws]}/ [engineio]=$H:${port[engineio]}/engine.io/
)
declare -A bcast_url=(
  [tether]=$tt/broadcast [gorilla]=$W:${port[gorilla]}/broadcast [sockjs-go]=$H:${port[sockjs-go]}/broadcast
  [sockjs-node]=$H:${port[sockjs-node]}/broadcast [socketio]=$H:${port[socketio]}/socket.io/
)
declare -A proto=(
  [tether]=tether [gorilla]=ws [sockjs-go]=sockjs [sockjs-node]=sockjs [socketio]=socketio [ws]=ws [engineio]=engineio
)
declare -A poll=( # each server's long-polling transport
  [tether]=longpoll [sockjs-go]=xhr-polling [sockjs-node]=xhr-polling [socketio]=polling [engineio]=polling
)
on() { echo -proto "${proto[$1]}" -target "${url[$1]}"; }

log "results in $out"

# --- phase 1: memory, each server alone and fresh ------------------------------
for s in tether gorilla sockjs-go sockjs-node socketio ws engineio; do
  wants "$s" || continue
  if [ "$s" != engineio ]; then # engine.io's peer has no WebSocket-only mode worth holding
    start_server "$s" || continue
    if [ "$s" = tether ]; then goroutine_profile tether-idle-goroutines; fi
    extra=()
    [ "$s" = tether ] && extra=(-server-pprof "$pp")
    bench "idle.$s" "$s" $(on "$s") "${idle_flags[@]}" "${extra[@]}"
    [ "$s" = tether ] && render_goroutines tether-idle-goroutines
  fi
  if [ -n "${poll[$s]:-}" ]; then
    start_server "$s" || continue
    if [ "$s" = tether ]; then goroutine_profile tether-parked-goroutines; fi
    extra=()
    [ "$s" = tether ] && extra=(-server-pprof "$pp")
    bench "parked.$s" "$s" $(on "$s") -transport "${poll[$s]}" "${idle_flags[@]}" "${extra[@]}"
    [ "$s" = tether ] && render_goroutines tether-parked-goroutines
  fi
  if [ "$s" = tether ] && start_server tether -disconnect-delay 10s; then
    BUDGET=150 bench abandon.tether tether -scenario churn -abandon -count 100000 -c 50 -d 60s -settle 30s \
      -transport longpoll -target "$tt/echo"
    # What the heap still holds once the abandoned sessions were collected
    # (gc=1: after a collection), and the RSS a few seconds after that.
    go tool pprof -top -nodecount=15 -sample_index=inuse_space "$pp/debug/pprof/heap?gc=1" \
      >"$out/profiles/tether-abandon-heap-inuse.txt" 2>/dev/null
    sleep 5
    note "abandon.tether: RSS $(rss_kib "${spid[tether]}") KiB 5 s after a forced GC (heap profile with gc=1)"
    # Where the settled RSS is: the runtime's own books (MemStats), which
    # keep span structures and GC metadata sized by the peak heap.
    curl -sf -m 10 "$pp/debug/pprof/heap?debug=1" | grep -E '^# (Sys|HeapSys|HeapInuse|HeapReleased|Stack|MSpan|GCSys|OtherSys|NumGC) ' \
      >"$out/profiles/tether-abandon-memstats.txt"
    note "abandon.tether: runtime memstats after: $(sed 's/^# //' "$out/profiles/tether-abandon-memstats.txt" | paste -sd' ')"
  fi
  stop_server "$s"
done

# --- phase 2: throughput and latency, all servers up ----------------------------
for s in tether gorilla sockjs-go sockjs-node socketio ws engineio; do
  wants "$s" && start_server "$s"
done
for s in "${!spid[@]}"; do
  warm "$warm_d" "$s" $(on "$s")
  [ -n "${poll[$s]:-}" ] && warm "$warm_poll" "$s" $(on "$s") -transport "${poll[$s]}"
done
sockjs_tether=no
if up tether && curl -sf -m 5 -o /dev/null "$tt/sockjs/echo/info"; then
  sockjs_tether=yes
  warm "$warm_d" tether -proto sockjs -target "$tt/sockjs/echo"
elif up tether; then
  note "tether's SockJS dialect is not served by this benchserver build (no /sockjs/echo/info): its rows were not run"
fi

for round in $(seq "$rounds"); do
  log "round $round of $rounds"
  for s in tether gorilla sockjs-go ws sockjs-node socketio engineio; do
    up "$s" || continue
    if [ "$s" = tether ] && [ "$round" = 1 ]; then
      fetch "$pp/debug/pprof/allocs" "$out/profiles/allocs-before.pb"
      profile_cpu $((${D%s} - 1)) tether-wsecho-cpu
      bench wsecho.tether tether $(on tether) "${echo_flags[@]}"
      wait "$bg"
      fetch "$pp/debug/pprof/allocs" "$out/profiles/allocs-after.pb" &&
        go tool pprof -top -nodecount=25 -sample_index=alloc_space -diff_base "$out/profiles/allocs-before.pb" \
          "$out/profiles/allocs-after.pb" >"$out/profiles/tether-wsecho-allocs.txt" 2>/dev/null
    else
      bench "wsecho.$s" "$s" $(on "$s") "${echo_flags[@]}"
    fi
    case $s in sockjs-go) alias_run wsecho.sockjs-go sockjsws.sockjs-go ;; sockjs-node) alias_run wsecho.sockjs-node sockjsws.sockjs-node ;; esac
    if [ -n "${poll[$s]:-}" ]; then
      if [ "$s" = tether ] && [ "$round" = 1 ]; then profile_cpu $((${D%s} - 1)) tether-lpecho-cpu; fi
      bench "lpecho.$s" "$s" $(on "$s") -transport "${poll[$s]}" "${echo_flags[@]}"
      [ "$s" = tether ] && [ "$round" = 1 ] && wait "$bg"
      # The same without carry=1: every reply on a poll, as before send
      # answers carried messages (SPEC.md §5).
      [ "$s" = tether ] && bench lpecho.tether-nocarry tether $(on tether) -transport longpoll -no-carry "${echo_flags[@]}"
      case $s in sockjs-go | sockjs-node) alias_run "lpecho.$s" "sockjsxhr.$s" ;; esac
    fi
    if [ "$s" = tether ] && [ $sockjs_tether = yes ]; then
      bench sockjsws.tether tether -proto sockjs -target "$tt/sockjs/echo" "${echo_flags[@]}"
      bench sockjsxhr.tether tether -proto sockjs -target "$tt/sockjs/echo" -transport xhr-polling "${echo_flags[@]}"
    fi
    if [ "$s" = tether ]; then
      for tr in websocket streaming eventsource; do
        if [ "$round" = 1 ]; then profile_cpu 2 "tether-s2c-$tr-cpu"; fi
        bench "s2c.tether-$tr" tether $(on tether) -transport "$tr" "${burst_flags[@]}" -c 10
        [ "$round" = 1 ] && wait "$bg"
      done
    fi
  done
done

for s in tether gorilla sockjs-go sockjs-node socketio; do
  up "$s" && bench "bcast.$s" "$s" -proto "${proto[$s]}" -target "${bcast_url[$s]}" "${bcast_flags[@]}"
done
for s in tether sockjs-node engineio sockjs-go; do
  # tether without carry=1: the burst must come on poll answers, which
  # this row measures, not on the answer to the send that asked for it.
  nc=()
  [ "$s" = tether ] && nc=(-no-carry)
  up "$s" && bench "lpburst.$s" "$s" $(on "$s") -transport "${poll[$s]}" "${nc[@]}" "${burst_flags[@]}"
done
for s in tether gorilla sockjs-go ws socketio; do
  up "$s" && bench "churn.$s" "$s" $(on "$s") "${churn_flags[@]}"
done
stop_all

mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
note "machine: $(nproc) cores, $mem, $(go version | cut -d' ' -f3-4), $(node --version 2>/dev/null | sed 's/^/node /'), open files per process $(ulimit -n); total run $((SECONDS - start_s)) s"

"$bin/tether" bench report "$results"
for f in "$out"/profiles/*.txt; do
  [ -s "$f" ] || continue
  printf '\n#### %s\n\n```\n' "$(basename "$f" .txt)"
  head -40 "$f"
  printf '```\n'
done
log "done in $((SECONDS - start_s)) s; results, logs and profiles in $out"
