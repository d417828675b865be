package app

import (
	"runtime"

	"github.com/keyhold/keyhold/internal/loadshed"
	"github.com/keyhold/keyhold/internal/telemetry"
)

// busyPerCPU is how many requests per CPU must be in progress on the public listener before
// a delay counts as overload. A node serving a handful of requests on a machine that other
// programs keep busy also sees its goroutines wait for a CPU; refusing those few requests
// would help nobody.
const busyPerCPU = 8

// newShedder makes the node's Shedder when --shed-delay asks for one (nil otherwise, which
// admits everything).
func (n *Node) newShedder() *loadshed.Shedder {
	if n.cfg.ShedDelay <= 0 {
		return nil
	}
	s := loadshed.New(n.cfg.ShedDelay)
	s.Busy = n.busy
	return s
}

// busy reports whether enough requests are in progress (connections not idle between
// requests) for the node to call a delay overload.
func (n *Node) busy() bool {
	if n.ln == nil {
		return false
	}
	st := n.ln.Stats()
	return st.Open-st.Idle >= busyPerCPU*runtime.GOMAXPROCS(0)
}

func (n *Node) shedMetrics(m *telemetry.Metrics) {
	if n.shed == nil {
		return
	}
	m.GaugeFunc("keyhold_shed_probability", "Share of requests refused (503) because the node is overloaded (--shed-delay).",
		n.shed.Probability)
	m.GaugeFunc("keyhold_scheduler_delay_seconds", "99th percentile of the Go scheduler's waits for a CPU over the last 50 ms (what --shed-delay bounds).",
		func() float64 { return n.shed.Delay().Seconds() })
}
