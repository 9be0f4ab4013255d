package agent

import "runtime/debug"

// bigPlan is the size of plan after which the writer slot's release hands
// the transaction's transient memory back to the system.
const bigPlan = 256

// releaseMemory returns the heap a large transaction used (its request,
// plans, dumps and journal, tens of MB for a thousand networks) to the
// system at once. The runtime would keep it, and give it back only slowly:
// after one large reconfiguration, a daemon that idles on a hypervisor host
// would hold its peak for minutes. It costs one garbage collection, paid
// only after large transactions, which are rare.
func (a *Agent) releaseMemory() {
	if a.bigTx {
		a.bigTx = false
		debug.FreeOSMemory()
	}
}
