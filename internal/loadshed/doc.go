// Package loadshed decides which requests a node refuses when its CPUs cannot keep up.
//
// The signal is delay, not a count: how long runnable goroutines waited for a CPU, as the Go
// runtime's scheduler measures it (runtime/metrics, /sched/latencies:seconds). A request
// that arrives on an overloaded node spends most of its time in that queue (waiting to be
// read, parsed, served), where a bound on the requests inside the handlers never sees it;
// token issuance and decisions are CPU-bound and never wait anywhere else.
//
// A Shedder samples that delay every Interval and keeps a refusal probability: it rises
// by one point while the 99th percentile of the waits has exceeded the target for two
// intervals in a row on a busy node, and falls by one point once it is back under half of it
// (between the two it holds, so that it does not oscillate). The persistence, the minimum
// number of samples and the busy guard keep a collector cycle or another program's burst on a
// shared machine from refusing anyone. Admission is one atomic load and, under overload only, one random number: a
// refused request costs a fraction of a served one, so refusing enough of them brings the
// queue, and the latency of those admitted, back near the target, whatever the offered load.
package loadshed
