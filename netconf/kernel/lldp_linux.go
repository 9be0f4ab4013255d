package kernel

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// EtherTypeLLDP is the EtherType of LLDP frames (IEEE 802.1AB).
const EtherTypeLLDP = 0x88cc

// lldpNearestBridge is the destination of LLDP frames from a switch
// (nearest bridge group address); a NIC that filters multicast must be
// told to accept it.
var lldpNearestBridge = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// LLDPConn receives the LLDP frames that arrive on one link. It is opened
// inside the managed namespace and stays bound to that link there.
type LLDPConn struct {
	conn *packet.Conn
	raw  interface {
		Read(func(fd uintptr) bool) error
	}
}

// ListenLLDP opens a raw socket for EtherType 0x88cc bound to the link
// with the given index in ns, and joins the LLDP multicast group on it.
// Frames that reach the link as a bridge port or a bond slave are seen as
// well: the socket is bound to the link itself, not to its master.
func ListenLLDP(ns *Namespace, index int, name string) (*LLDPConn, error) {
	var conn *packet.Conn
	err := ns.Do(func() error {
		var err error
		conn, err = packet.Listen(&net.Interface{Index: index, Name: name}, packet.Raw, EtherTypeLLDP, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening an LLDP socket on %s: %w", name, err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("opening an LLDP socket on %s: %w", name, err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		mreq := unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_MULTICAST, Alen: 6}
		copy(mreq.Address[:], lldpNearestBridge)
		serr = unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq)
	})
	if err = errors.Join(err, serr); err != nil {
		conn.Close()
		return nil, fmt.Errorf("joining the LLDP multicast group on %s: %w", name, err)
	}
	return &LLDPConn{conn: conn, raw: rc}, nil
}

// ReadFrame reads one Ethernet frame into buf. size is the frame's real
// length, which is larger than len(buf) when the frame did not fit (the
// rest is dropped by the kernel); n is what was copied. A read past the
// deadline fails with os.ErrDeadlineExceeded.
func (c *LLDPConn) ReadFrame(buf []byte) (n, size int, err error) {
	var rerr error
	err = c.raw.Read(func(fd uintptr) bool {
		size, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
		return !errors.Is(rerr, unix.EAGAIN) && !errors.Is(rerr, unix.EINTR)
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, 0, err
	}
	return min(size, len(buf)), size, nil
}

// SetReadDeadline bounds a ReadFrame in progress and the following ones;
// a time in the past makes them return at once.
func (c *LLDPConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// Close closes the socket.
func (c *LLDPConn) Close() error { return c.conn.Close() }
