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
