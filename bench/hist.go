package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
)

// Histogram counts non-negative int64 values (latencies in nanoseconds,
// or plain counts such as messages per poll) in log-linear buckets: exact
// below 128, and 128 buckets per power of two above, so any percentile it
// reports is within 1/128 (0.8%) of the true value. It is safe for
// concurrent Record calls (atomic adds, no lock), and histograms of
// different workers merge by adding their counts.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // saturates far beyond any run's needs
	max    atomic.Int64
	min    atomic.Int64 // stored as value+1, so 0 means "none yet"
}

const (
	subBits    = 7
	subCount   = 1 << subBits // buckets per power of two
	numBuckets = subCount + (63-subBits)*subCount
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// bucketOf returns v's bucket index.
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	return subCount + shift*subCount + int(uint64(v)>>shift) - subCount
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := (i - subCount) / subCount
	m := int64((i-subCount)%subCount + subCount)
	lo = m << shift
	hi = lo + (int64(1) << shift) - 1
	return lo, hi
}

// Record adds one value.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && v+1 >= m) || h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest value recorded, or 0.
func (h *Histogram) Max() int64 { return h.max.Load() }

// Min returns the smallest value recorded, or 0.
func (h *Histogram) Min() int64 {
	m := h.min.Load()
	if m == 0 {
		return 0
	}
	return m - 1
}

// Mean returns the average value, or 0.
func (h *Histogram) Mean() float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return float64(h.sum.Load()) / float64(n)
}

// Quantile returns the value at quantile q (0..1): the smallest bucket
// holding the ceil(q·n)-th value, reported as the bucket's midpoint and
// kept within the recorded min and max. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			return max(h.Min(), min(v, h.Max()))
		}
	}
	return h.Max()
}

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if o.n.Load() == 0 {
		return
	}
	for {
		m := h.max.Load()
		v := o.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		v := o.min.Load()
		if v == 0 || (m != 0 && v >= m) || h.min.CompareAndSwap(m, v) {
			break
		}
	}
}

// histJSON is a histogram on the wire between worker processes: only the
// buckets in use, as [index, count] pairs.
type histJSON struct {
	N       uint64      `json:"n"`
	Sum     uint64      `json:"sum"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON implements json.Marshaler.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	j := histJSON{N: h.n.Load(), Sum: h.sum.Load(), Min: h.Min(), Max: h.Max(), Buckets: [][2]uint64{}}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			j.Buckets = append(j.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler; h must be empty.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var total uint64
	for _, bc := range j.Buckets {
		if bc[0] >= numBuckets {
			return fmt.Errorf("histogram bucket %d out of range", bc[0])
		}
		h.counts[bc[0]].Add(bc[1])
		total += bc[1]
	}
	if total != j.N {
		return fmt.Errorf("histogram counts %d values in buckets, %d in all", total, j.N)
	}
	h.n.Store(j.N)
	h.sum.Store(j.Sum)
	h.max.Store(j.Max)
	if j.N > 0 {
		h.min.Store(j.Min + 1)
	}
	return nil
}
