package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Every bucket's range starts right after the previous one's.
	var next int64
	for i := range numBuckets {
		lo, hi := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if hi == math.MaxInt64 {
			if i != numBuckets-1 {
				t.Fatalf("range ends at bucket %d of %d", i, numBuckets)
			}
			return
		}
		next = hi + 1
	}
	t.Fatalf("buckets end at %d, before MaxInt64", next)
}

func TestBucketPrecision(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 1000, 123456, 1e9, 7e12} {
		lo, hi := bucketRange(bucketOf(v))
		if v < lo || v > hi {
			t.Fatalf("%d outside its bucket [%d,%d]", v, lo, hi)
		}
		if width := float64(hi - lo + 1); v >= 128 && width/float64(v) > 1.0/128+1e-9 {
			t.Fatalf("%d: bucket width %v over 1/128 of the value", v, width)
		}
	}
}

// exactQuantile is the reference: the ceil(q·n)-th smallest value.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestQuantilesWithinBucketPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []int64
	for range 100000 {
		// log-normal-ish latencies, 50 µs to tens of ms, in ns
		v := int64(math.Exp(r.NormFloat64()*1.2+13) + 50000)
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		got, want := h.Quantile(q), exactQuantile(vals, q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 1.0/128 {
			t.Errorf("q%.3f = %d, want %d (off by %.3f%%)", q, got, want, rel*100)
		}
	}
	if h.Count() != 100000 || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
		t.Fatalf("count %d min %d max %d, want 100000 %d %d", h.Count(), h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	h := NewHistogram()
	for _, v := range []int64{3, 1, 4, 1, 5, 9, 2, 6} {
		h.Record(v)
	}
	if got := h.Quantile(0.5); got != 3 {
		t.Fatalf("median of 1 1 2 3 4 5 6 9 = %d, want 3", got)
	}
	if got := h.Quantile(1); got != 9 {
		t.Fatalf("max quantile %d, want 9", got)
	}
	if h.Mean() != 31.0/8 {
		t.Fatalf("mean %v", h.Mean())
	}
}

func TestEmptyHistogram(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("an empty histogram reports something")
	}
	h.Record(-5) // clock steps backwards: counted as 0
	if h.Count() != 1 || h.Max() != 0 {
		t.Fatalf("negative value: count %d max %d", h.Count(), h.Max())
	}
}

// Merging the histograms of several workers gives the histogram of all
// their values, bucket for bucket.
func TestMergeEqualsOneHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	all := NewHistogram()
	parts := []*Histogram{NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()}
	for i := range 50000 {
		v := r.Int64N(5e7)
		all.Record(v)
		parts[i%3].Record(v) // parts[3] stays empty
	}
	merged := NewHistogram()
	for _, p := range parts {
		merged.Merge(p)
	}
	assertSameHist(t, merged, all)
}

func TestHistogramJSONRoundTrip(t *testing.T) {
	h := NewHistogram()
	for _, v := range []int64{0, 5, 1000, 1000, 123456789} {
		h.Record(v)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	back := NewHistogram()
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	assertSameHist(t, back, h)

	empty, _ := json.Marshal(NewHistogram())
	e := NewHistogram()
	if err := json.Unmarshal(empty, e); err != nil || e.Count() != 0 || e.Min() != 0 {
		t.Fatalf("empty round trip: %v, count %d", err, e.Count())
	}
}

func TestHistogramJSONRejectsInconsistentInput(t *testing.T) {
	for _, in := range []string{
		`{"n":2,"buckets":[[1,1]]}`,
		`{"n":1,"buckets":[[999999,1]]}`,
		`[1,2]`,
	} {
		if err := json.Unmarshal([]byte(in), NewHistogram()); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func assertSameHist(t *testing.T, got, want *Histogram) {
	t.Helper()
	for i := range want.counts {
		if g, w := got.counts[i].Load(), want.counts[i].Load(); g != w {
			t.Fatalf("bucket %d: %d, want %d", i, g, w)
		}
	}
	if got.Count() != want.Count() || got.Min() != want.Min() || got.Max() != want.Max() || got.Mean() != want.Mean() {
		t.Fatalf("got n=%d min=%d max=%d mean=%v, want n=%d min=%d max=%d mean=%v",
			got.Count(), got.Min(), got.Max(), got.Mean(), want.Count(), want.Min(), want.Max(), want.Mean())
	}
	for _, q := range []float64{0.5, 0.99} {
		if got.Quantile(q) != want.Quantile(q) {
			t.Fatalf("q%v: %d, want %d", q, got.Quantile(q), want.Quantile(q))
		}
	}
}
