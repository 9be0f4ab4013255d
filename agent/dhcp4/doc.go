// Package dhcp4 is hostnetd's in-process DHCPv4 client. It owns, for one
// device of one network namespace, the whole life of a dynamic IPv4 address:
// acquiring a lease (DISCOVER/OFFER/REQUEST/ACK, or an INIT-REBOOT REQUEST for
// a lease remembered in a lease file), checking with ARP probes that no other
// host holds a freshly offered address (and declining it with DHCPDECLINE if
// one does; conflict.go), installing the address on the device
// with finite lifetimes, renewing it at T1 (unicast to the server), rebinding
// at T2 (broadcast), dropping it at expiry or on a NAK, persisting the lease,
// and releasing it on request.
//
// It does not own routes, rules or DNS: it reports the router, the
// classless static routes (option 121, which replaces the router option when
// the server sends it, RFC 3442) and the name servers of the lease through
// Config.OnChange and Client.Lease, and the agent installs what it wants
// from them.
//
// The packets are built and exchanged with github.com/insomniacslk/dhcp
// (dhcpv4/nclient4), the project's chosen DHCP library. That library has no
// lease state machine; the timers and states are hostnetd's, in the lease
// engine this package shares with dhcp6 (agent/internal/dhcpclient).
//
// # Timers and lifetimes
//
// T1 and T2 come from the ACK (options 58 and 59), defaulting to 1/2 and 7/8
// of the lease (RFC 2131 §4.4.5); inconsistent values get the defaults. At T1
// the client renews, unicast to the server that granted the lease; with no
// answer it tries again after half the time left to T2 (at least a minute),
// and at T2 rebinds by broadcast to any server, likewise until expiry. At
// expiry, or on a NAK, the address is removed and OnChange hears Bound
// false; the client then starts over (a NAK at once, with DISCOVER).
//
// The address is installed with kernel.Namespace.ReplaceAddr (netlink
// RTM_NEWADDR, NLM_F_REPLACE), with valid and preferred lifetimes equal to
// the time left on the lease (rounded up to a second), so it shows as
// dynamic and the kernel drops it by itself should hostnetd be gone at expiry. Each renewal
// refreshes the lifetimes. An infinite lease gets the longest finite lifetime (0xfffffffe s), so it still reads as a lease.
//
// # Sockets
//
// While the client has no address it talks through an AF_PACKET raw socket
// on the device (nclient4.New); while it holds one (renew, rebind, release)
// through a kernel UDP socket bound to the leased address, port 68 and the
// device (SO_BINDTODEVICE). Every socket is created inside the namespace
// (kernel.Namespace.Do), for one exchange, and closed right after it: no
// socket is open while a lease is simply bound, and a device deleted and
// re-created under the same name (new ifindex) is used by the next exchange.
// While bound, the client also checks the device every few seconds and
// re-installs the address when the device was re-created or the address was
// removed, and then calls OnChange again with the same lease.
//
// # Identity
//
// HWAddr is the client's identity: chaddr, and the client identifier (option
// 61) 0x01 followed by HWAddr. The acquisition messages set the broadcast
// flag, so the answers arrive even if the device's MAC differs from HWAddr.
//
// # Use by the agent
//
//   - Start a client when a network with DHCPv4 (bootproto dhcp) is applied,
//     on the device that carries the network's addresses: the bridge of a
//     bridged network, else the VLAN device, bond or NIC. Start does not
//     wait: setupnetworks never waits for the lease; OnChange reports it (and
//     is where source routes, the default route and DNS are updated).
//   - HWAddr: the MAC of the device that gets the address. For a bridge,
//     pin the bridge's MAC to its port's (the NIC's, the bond's or the VLAN
//     device's) and use that MAC: a network moving from bridgeless to bridged
//     then keeps its identity and its lease. For a VLAN on a bond, the VLAN
//     device's MAC, which is the bond's.
//   - LeaseFile: one file per network under the state directory, e.g.
//     StateDir/dhcp4/<network>.json, so that a restart of hostnetd or of the
//     host asks for the same address again.
//   - When the device that gets the address changes (bridgeless ↔ bridged,
//     another port, the VLAN moves to another bond), Close(false) the old
//     client, move things, and Start a new one on the new device with the same
//     HWAddr and LeaseFile: it re-requests the same address (INIT-REBOOT). The
//     old device keeps the address (with its finite lifetime) until it is
//     removed or expires: the agent removes it when it reconfigures the old
//     device, as it does for static addresses.
//   - A device re-created under the same name needs nothing: the client
//     re-installs the address and calls OnChange.
//   - When DHCP is removed from the network (static, none, network removed),
//     Close(true): DHCPRELEASE, address removed, lease file deleted. On daemon
//     shutdown Close(false): the address stays, with its finite lifetime.
//   - OnChange runs on the client's goroutine; it must not call Close on the
//     same client.
package dhcp4
