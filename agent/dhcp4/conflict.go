package dhcp4

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Address conflict detection (RFC 2131 §4.4.1, RFC 5227 §2.1): before a
// freshly offered address is installed, the client asks the link whether
// anyone holds it already, with ARP probes (sender address 0.0.0.0, so that
// no neighbour cache learns anything), and declines it if someone answers.
// RFC 5227's own timings take up to 7 s; like NetworkManager's dad-timeout,
// the check is shortened to probeCount probes probeInterval apart and a
// last probeInterval of listening: a host on the link answers an ARP
// request in microseconds, and a transaction never waits for it anyway.
const (
	probeCount    = 3
	probeInterval = 150 * time.Millisecond
	// declineWait is RFC 2131 §3.1.5's pause after a DHCPDECLINE before
	// the client starts over, so that a looping server is not flooded.
	declineWait = 10 * time.Second
)

// conflictError is a declined offer: the address is in use on the link.
type conflictError struct {
	addr   netip.Addr
	holder net.HardwareAddr
}

func (e *conflictError) Error() string {
	return fmt.Sprintf("%s is in use on the link by %s; declined it", e.addr, e.holder)
}

// probe asks the link whether addr is in use, and returns the hardware
// address of a host that holds it, or nil. A host claims it by sending any
// ARP packet from it, and contests it by probing for it at the same time.
func (c *Client) probe(ctx context.Context, addr netip.Addr) (net.HardwareAddr, error) {
	var conn *packet.Conn
	var own net.HardwareAddr
	err := c.cfg.Namespace.Do(func() error {
		ifi, err := net.InterfaceByName(c.cfg.Link)
		if err != nil {
			return err
		}
		own = ifi.HardwareAddr
		conn, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ARP, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening an ARP socket on %s: %w", c.cfg.Link, err)
	}
	defer conn.Close()
	if len(own) != 6 {
		return nil, fmt.Errorf("%s has no Ethernet address", c.cfg.Link)
	}
	frame := arpProbe(own, addr)
	var sent int
	next := time.Now()
	buf := make([]byte, 128)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		now := time.Now()
		if !now.Before(next) {
			if sent == probeCount {
				return nil, nil
			}
			if _, err := conn.WriteTo(frame, &packet.Addr{HardwareAddr: nclient4.BroadcastMac}); err != nil {
				return nil, fmt.Errorf("sending an ARP probe on %s: %w", c.cfg.Link, err)
			}
			sent++
			next = now.Add(probeInterval)
		}
		if err := conn.SetReadDeadline(next); err != nil {
			return nil, err
		}
		n, _, err := conn.ReadFrom(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case err != nil:
			return nil, fmt.Errorf("reading ARP on %s: %w", c.cfg.Link, err)
		}
		if holder := claims(buf[:n], own, addr); holder != nil {
			return holder, nil
		}
	}
}

// ARP over Ethernet for IPv4: the Ethernet header, then the 28-byte ARP
// packet (RFC 826).
const (
	ethHeader = 14
	arpLen    = 28
	arpReq    = 1
	arpReply  = 2
)

// arpProbe is an RFC 5227 probe for addr from mac: a broadcast ARP request
// with sender protocol address 0.0.0.0 and an empty target hardware address.
func arpProbe(mac net.HardwareAddr, addr netip.Addr) []byte {
	b := make([]byte, ethHeader+arpLen)
	copy(b[0:6], nclient4.BroadcastMac)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:14], unix.ETH_P_ARP)
	a := b[ethHeader:]
	binary.BigEndian.PutUint16(a[0:2], 1) // Ethernet
	binary.BigEndian.PutUint16(a[2:4], unix.ETH_P_IP)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], arpReq)
	copy(a[8:14], mac)
	target := addr.As4()
	copy(a[24:28], target[:])
	return b
}

// claims reports the sender of frame if it is an ARP packet of another host
// that holds addr (sent from it) or probes for it too (RFC 5227 §2.1.1).
// The client's own probes, which the packet socket sees going out, are
// not.
func claims(frame []byte, own net.HardwareAddr, addr netip.Addr) net.HardwareAddr {
	if len(frame) < ethHeader+arpLen || binary.BigEndian.Uint16(frame[12:14]) != unix.ETH_P_ARP {
		return nil
	}
	a := frame[ethHeader:]
	if binary.BigEndian.Uint16(a[0:2]) != 1 || binary.BigEndian.Uint16(a[2:4]) != unix.ETH_P_IP || a[4] != 6 || a[5] != 4 {
		return nil
	}
	op := binary.BigEndian.Uint16(a[6:8])
	sender := net.HardwareAddr(bytes.Clone(a[8:14]))
	if (op != arpReq && op != arpReply) || bytes.Equal(sender, own) {
		return nil
	}
	spa, _ := netip.AddrFromSlice(a[14:18])
	tpa, _ := netip.AddrFromSlice(a[24:28])
	if spa == addr || op == arpReq && spa.IsUnspecified() && tpa == addr {
		return sender
	}
	return nil
}

// decline tells the server that the address of ack is in use: a
// DHCPDECLINE with no client address, the declined one as the requested
// address and the server's identifier, broadcast (RFC 2131 §4.4.4: the
// client has no address to send from) through the acquisition's raw
// socket. nclient4 sends a release-like message to the address in the
// server identifier of the lease it is given, so that lease names the
// broadcast address, and the message the real server.
func (s *session) decline(ack *dhcpv4.DHCPv4) error {
	to, err := dhcpv4.New(dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4bcast)), dhcpv4.WithYourIP(ack.YourIPAddr),
		dhcpv4.WithHwAddr(s.c.cfg.HWAddr))
	if err != nil {
		return err
	}
	return s.nc.Release(&nclient4.Lease{ACK: to},
		dhcpv4.WithMessageType(dhcpv4.MessageTypeDecline),
		dhcpv4.WithClientIP(net.IPv4zero),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ack.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)),
		dhcpv4.WithOption(dhcpv4.OptClientIdentifier(s.c.clientID())))
}
