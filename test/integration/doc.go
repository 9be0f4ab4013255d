// Package integration holds the tests that run a real agent against a real
// kernel: each test builds a topology in fresh network namespaces with
// netlink, talks to the agent over its HTTP API with real XML and JSON, and
// checks the answers against what netlink reports.
//
// Tests here need only veth and bridge, so they run on any kernel as root.
// Those that need bonds or VLANs carry the vmtest build tag and run in the VM.
package integration
