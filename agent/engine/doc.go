// Package engine is hostnetd's transaction engine. It owns the single
// writer slot, the network catalogue and the running and persistent
// configurations with their files in the state directory, the journal
// that makes every change all-or-nothing across crashes, restore at boot,
// the DHCP clients, the kernel monitor with drift and pending attachments,
// the LLDP listeners and the metrics.
//
// A write goes: merge and validate (netconf.MergeChange), plan
// (netconf.PlanChange), journal the snapshot, apply through the Kernel,
// verify (netconf.VerifyChange), wait for connectivity if asked, store
// (running.json is the commit point), remove the journal; any failure
// after the first kernel write restores the snapshot (rollback.go).
//
// The engine knows nothing of HTTP or XML (test/boundaries): its errors
// carry a Kind, which the agent turns into a status, and its inputs and
// outputs are netconf's model.
package engine
