package session

import (
	"log/slog"
	"time"
)

// Options configures a Registry and the sessions it creates. The zero value
// (or nil) means every default below.
type Options struct {
	// HeartbeatInterval is how often carriers send a heartbeat on an
	// otherwise quiet receiver, and how long a held poll waits. It stays
	// under the 60 s idle cut of nginx and most proxies. Default 25 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a streaming carrier waits without hearing
	// from the client before it declares the peer dead. Default 2 ×
	// HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// DisconnectDelay is how long a session lives with no receiver attached
	// before it is closed and collected, and how long a closed session keeps
	// answering with its close frame. Default 30 s.
	DisconnectDelay time.Duration
	// MaxMessageSize bounds one message's payload, in bytes. Default 64 KiB.
	MaxMessageSize int
	// MaxOutboundBytes bounds the unacknowledged bytes a session keeps for
	// its client. Default 1 MiB.
	MaxOutboundBytes int
	// MaxInboundBytes bounds the client bytes waiting for the app's
	// OnMessage. Default 1 MiB.
	MaxInboundBytes int
	// MaxBatchBytes bounds the payload bytes of one batch a receiver takes.
	// Default 64 KiB.
	MaxBatchBytes int
	// MaxSessions bounds the sessions a Registry holds, tombstones included.
	// Default 100,000.
	MaxSessions int
	// FreeMemoryInterval is the least time between two returns of freed
	// memory to the operating system, counted over the whole process
	// (internal/memtrim: the heap is one), which a registry makes once it holds
	// at most half of the most sessions it held (see shrink.go: a quiet
	// server runs no collection, so the memory of sessions that expired
	// together would otherwise stay with the process for minutes), and
	// carriers that park held polls make once those have doubled
	// (transports/parking.go). Negative turns the release off; the
	// registry still shrinks its map. Default 10 s.
	FreeMemoryInterval time.Duration
	// Logger receives session lifecycle events at debug level and
	// unexpected conditions at warn. Default slog.Default().
	Logger *slog.Logger
}

// Default values of Options.
const (
	DefaultHeartbeatInterval  = 25 * time.Second
	DefaultDisconnectDelay    = 30 * time.Second
	DefaultMaxMessageSize     = 64 << 10
	DefaultMaxOutboundBytes   = 1 << 20
	DefaultMaxInboundBytes    = 1 << 20
	DefaultMaxBatchBytes      = 64 << 10
	DefaultMaxSessions        = 100_000
	DefaultFreeMemoryInterval = 10 * time.Second
)

// WithDefaults returns a copy of o (which may be nil) with every zero field
// set to its default.
func (o *Options) WithDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 2 * c.HeartbeatInterval
	}
	if c.DisconnectDelay <= 0 {
		c.DisconnectDelay = DefaultDisconnectDelay
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxOutboundBytes <= 0 {
		c.MaxOutboundBytes = DefaultMaxOutboundBytes
	}
	if c.MaxInboundBytes <= 0 {
		c.MaxInboundBytes = DefaultMaxInboundBytes
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.FreeMemoryInterval == 0 {
		c.FreeMemoryInterval = DefaultFreeMemoryInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
