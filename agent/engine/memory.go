package engine

import "runtime/debug"

// bigPlan is the size of plan after which the transaction's memory is
// handed back to the system once it is over.
const bigPlan = 256

// noteBigPlan marks a transaction whose plan is large (see releaseMemory).
func (e *Engine) noteBigPlan(steps int) {
	if steps >= bigPlan {
		e.bigTx.Store(true)
	}
}

// releaseMemory returns the heap a large transaction used (its request,
// plans, dumps, journal and answer: tens of MB for a thousand networks) to
// the system once it is over: after its answer was written, or after
// restore at boot. The runtime would keep it, and give it back only slowly:
// after one large reconfiguration, a daemon that idles on a hypervisor host
// would hold its peak for minutes. It costs one garbage collection, paid
// only after large transactions, which are rare.
func (e *Engine) releaseMemory() {
	if e.bigTx.Swap(false) {
		debug.FreeOSMemory()
	}
}
