// Package agent is the hostnetd daemon: the HTTP API that speaks oVirt's
// host-networking documents, the host's identity and stores under the state
// directory, and (as the roadmap goes on) transactions, restore at boot and
// the DHCP and monitor loops.
//
// agent wires xmlapi (documents) to netconf (model and kernel); it is the
// only package that knows both.
package agent
