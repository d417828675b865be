package heapstat

import (
	"runtime"
	"slices"
	"time"
)

// Live returns the bytes and objects live on the heap after a full collection.
func Live() (bytes, objects int64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.HeapObjects)
}

// GCTime is the median duration of five forced collections.
func GCTime() time.Duration {
	var d [5]time.Duration
	for i := range d {
		start := time.Now()
		runtime.GC()
		d[i] = time.Since(start)
	}
	slices.Sort(d[:])
	return d[2].Round(10 * time.Microsecond)
}
