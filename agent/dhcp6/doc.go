// Package dhcp6 is hostnetd's in-process DHCPv6 client. It owns, for one
// device of one network namespace, the whole life of one dynamic IPv6
// address (one IA_NA; no prefix delegation, no temporary addresses):
// acquiring it (SOLICIT/ADVERTISE/REQUEST/REPLY, choosing among servers by
// their preference option after collecting ADVERTISEs for a second, or a
// REBIND for a lease remembered in a lease file), installing it on the device as a /128 with
// finite lifetimes, renewing it at T1, rebinding at T2, dropping it at
// expiry or when the server says the binding is gone, persisting the lease,
// and releasing it on request.
//
// It does not own routes or DNS: the on-link prefix and the default route
// come from router advertisements (the kernel's business), and the name
// servers of the lease are reported through Config.OnChange and
// Client.Lease.
//
// The messages are built and exchanged with github.com/insomniacslk/dhcp
// (dhcpv6, and dhcpv6/nclient6 for the transmission and retransmission).
// That library has no lease state machine; the timers and states are
// hostnetd's, in the lease engine this package shares with dhcp4
// (agent/internal/dhcpclient).
//
// # Timers and lifetimes
//
// T1 and T2 come from the IA_NA of the REPLY. When the server leaves them
// to the client (0), or gives inconsistent ones, T1 is 1/2 and T2 4/5 of
// the preferred lifetime (RFC 8415 §21.4). At T1 the client renews (RENEW,
// to the server that granted the lease); with no answer it tries again
// after half the time left to T2 (at least 10 s), and at T2 rebinds
// (REBIND, any server), likewise until the valid lifetime ends. Then, or
// when the server answers NoBinding/NotOnLink or a zero lifetime, the
// address is removed and OnChange hears Bound false; the client then
// starts over with SOLICIT.
//
// The address is installed with kernel.Namespace.ReplaceAddr (netlink
// RTM_NEWADDR, NLM_F_REPLACE) as a /128 (the on-link prefix is the RA's
// business, RFC 8415 §18.2.10.1) with IFA_F_NODAD, and with valid and preferred lifetimes equal
// to the time left on the lease (rounded up to a second), so it shows as
// dynamic and the kernel drops it by itself should hostnetd be gone at
// expiry. Each renewal refreshes the lifetimes. An infinite lease gets the
// longest finite lifetime (0xfffffffe s), so it still reads as a lease.
//
// # Sockets
//
// Every exchange uses a kernel UDP socket created inside the namespace
// (kernel.Namespace.Do), bound to the device's link-local address, port 546
// and the device (SO_BINDTODEVICE), and sending to ff02::1:2 on the device.
// The socket lives for one exchange: no socket is open while a lease is
// simply bound, and a device re-created under the same name (new ifindex) is
// used by the next exchange. A device has no usable link-local address
// until its duplicate address detection is over (about a second after it
// comes up): the client waits for one before each exchange. While bound,
// the client also checks the device every few seconds and re-installs the
// address when the device was re-created or the address was removed, and
// then calls OnChange again with the same lease.
//
// # Identity
//
// The client identifier is a DUID-LL (RFC 8415 §11.4) built from HWAddr,
// and the IAID is HWAddr's last four bytes: both are stable across restarts
// without any stored state. Use the MAC the device carries; for a bridge,
// the MAC of its port, as for dhcp4.
//
// # Use by the agent
//
// As for dhcp4 (see its package documentation): Start when a network with
// DHCPv6 is applied, on the device that carries the network's addresses;
// one LeaseFile per network under the state directory (e.g.
// StateDir/dhcp6/<network>.json); Close(false) on daemon shutdown and when
// the device changes (then Start on the new device with the same HWAddr and
// LeaseFile); Close(true) when DHCPv6 is removed from the network (RELEASE,
// address removed, lease file deleted). OnChange runs on the client's
// goroutine and must not call Close on the same client.
package dhcp6
