package heapstat

import (
	"runtime"
	"testing"
)

// Live counts what a test keeps reachable: 1,000 more live objects than before.
func TestLiveCountsWhatIsKept(t *testing.T) {
	_, before := Live()
	kept := make([]*[64]byte, 1000)
	for i := range kept {
		kept[i] = new([64]byte)
	}
	_, after := Live()
	if after-before < 1000 {
		t.Errorf("live objects grew by %d with 1,000 kept", after-before)
	}
	runtime.KeepAlive(kept)
	if GCTime() <= 0 {
		t.Error("GCTime is not positive")
	}
}
