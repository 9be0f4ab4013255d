// Package netconf owns hostnetd's model of host networking: the state read
// from the kernel (State), the configuration hostnetd is asked to run, its
// validation, and the plan that turns one into the other. Everything here is
// plain data and pure functions; the kernel side, which reads and applies
// through netlink, lives in netconf/kernel.
//
// netconf knows nothing of XML or HTTP.
package netconf
