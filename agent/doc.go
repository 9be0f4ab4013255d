// Package agent is the hostnetd daemon's front: the HTTP API that speaks
// oVirt's host-networking documents (through xmlapi), access control
// (tokens, SSO sessions, rate and body budgets), and the wiring of
// listeners, systemd notifications and the engine. Its handlers only
// translate: every read and write of the host's network is a call of
// agent/engine, and every engine error becomes a fault by its kind
// (fault.go).
package agent
