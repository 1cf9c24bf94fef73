// Package bench is the load generator behind `tether bench`: it measures
// a tether server and the reference servers of ../shared/peers with the
// same drivers, the same scenarios and the same statistics, so that their
// figures compare.
//
// Scenarios: echo (round trips per connection), broadcast (one publisher,
// many subscribers, latency from the payload's timestamp, zero-loss
// check), idle (server RSS and goroutines per held session), churn
// (connect/close cycles) and burst (server-to-client bursts, messages per
// poll response). Drivers: tether/1 over its six carriers, SockJS
// (websocket, xhr-polling), raw WebSocket, Engine.IO v4 and Socket.IO v4
// (websocket, polling). Each is lean and purpose-built: it keeps a session
// alive and counts its messages, and does nothing a load generator does
// not need.
//
// The load generator shares the machine with the server it measures, so
// its own cost per message is part of every figure: throughput is about
// the cores over the sum of the server's and the driver's CPU per
// message. Each result line says both (server_cpu_us_per_msg with
// -server-pid, driver_cpu_us_per_msg). To keep the driver's share small
// and the same for every server, the polling drivers use their own
// HTTP/1.1 client (httpc.go: a kept-alive connection per request slot,
// no per-request allocation) instead of net/http's, and on Linux every
// driver's connections read and write with raw non-blocking system calls
// under the runtime's poller (httpraw_linux.go).
//
// A run prints one key=value line (or JSON). Latencies go into log-linear
// histograms (0.8% precision) that merge exactly, so a run too large for
// one process's open files is split over worker processes whose results
// the parent adds up. Connections spread their source addresses over
// 127.0.0.2-250 so that no address runs out of ephemeral ports.
//
// bench/compare.sh runs every scenario of issue 6's targets against
// tether's examples/benchserver and every reference server, and Report
// turns its results into the tables of BENCHMARKS.md. Nothing here is run
// by `go test` beyond sub-second smoke runs: benchmarks are not tests.
package bench
