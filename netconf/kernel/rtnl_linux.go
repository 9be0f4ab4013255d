package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// rtnl is a raw rtnetlink socket inside the namespace, for what the
// library does one round trip at a time: batches of requests sent in one
// sendmsg (the kernel executes them in order, under one lock acquisition
// each, without a round trip per request), and dumps whose raw messages
// hostnetd parses beyond what the library does.
type rtnl struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

const (
	// maxBatchBytes bounds one sendmsg: the kernel refuses a message larger
	// than the socket's send buffer, and the error answers of a batch must
	// fit in its receive buffer.
	maxBatchBytes = 32 << 10
	rtnlRcvBuf    = 4 << 20
	rtnlSndBuf    = 1 << 20
	// rtnlRecvBuf holds one datagram: a dump part or an acknowledgment.
	rtnlRecvBuf = 256 << 10
)

// rtnl returns the namespace's raw socket, opening it on first use.
func (ns *Namespace) rtnl() (*rtnl, error) {
	ns.rtnlOnce.Do(func() {
		ns.rtnlSock, ns.rtnlErr = openRtnl(ns)
	})
	return ns.rtnlSock, ns.rtnlErr
}

func openRtnl(ns *Namespace) (*rtnl, error) {
	fd := -1
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening an rtnetlink socket in namespace %q: %w", ns.Name, err)
	}
	// Error answers carry the failed request's header only (CAP_ACK) and
	// the kernel's explanation (EXT_ACK); a kernel without either still
	// works.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rtnlRcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rtnlRcvBuf)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, rtnlSndBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, rtnlSndBuf)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding an rtnetlink socket: %w", err)
	}
	return &rtnl{fd: fd, buf: make([]byte, rtnlRecvBuf)}, nil
}

func (r *rtnl) close() {
	if r != nil {
		unix.Close(r.fd)
	}
}

// request is one rtnetlink request: its type, flags besides
// NLM_F_REQUEST, and its body (everything after the header).
type request struct {
	typ   uint16
	flags uint16
	body  []byte
}

// rtnlError is a request the kernel refused, with its explanation when it
// gave one.
type rtnlError struct {
	errno unix.Errno
	msg   string
}

func (e *rtnlError) Error() string {
	if e.msg != "" {
		return e.errno.Error() + " (" + e.msg + ")"
	}
	return e.errno.Error()
}

func (e *rtnlError) Unwrap() error { return e.errno }

// exchange sends the requests in order, as few sendmsg calls as their size
// allows, and returns the kernel's answer to each: nil or its error. Only
// the last request of a sendmsg asks for an acknowledgment; the kernel
// answers every failed one anyway, so one receive suffices when all
// succeed. The kernel executes every request of a sendmsg even after one
// fails.
func (r *rtnl) exchange(reqs []request) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := make([]error, len(reqs))
	for start := 0; start < len(reqs); {
		end, size := start, 0
		for end < len(reqs) && (end == start || size+unix.NLMSG_HDRLEN+len(reqs[end].body)+4 <= maxBatchBytes) {
			size += nlmsgAlign(unix.NLMSG_HDRLEN + len(reqs[end].body))
			end++
		}
		r.send(reqs[start:end], errs[start:end])
		start = end
	}
	return errs
}

// nlaTypeMask strips an attribute type of its nested and byte-order flags.
const nlaTypeMask = 0x3fff

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// send is one sendmsg of requests and the receipt of its answers.
func (r *rtnl) send(reqs []request, errs []error) {
	first := r.seq + 1
	msg := make([]byte, 0, maxBatchBytes)
	for i, q := range reqs {
		r.seq++
		flags := q.flags | unix.NLM_F_REQUEST
		if i == len(reqs)-1 {
			flags |= unix.NLM_F_ACK
		}
		n := unix.NLMSG_HDRLEN + len(q.body)
		hdr := make([]byte, unix.NLMSG_HDRLEN)
		binary.NativeEndian.PutUint32(hdr[0:4], uint32(n))
		binary.NativeEndian.PutUint16(hdr[4:6], q.typ)
		binary.NativeEndian.PutUint16(hdr[6:8], flags)
		binary.NativeEndian.PutUint32(hdr[8:12], r.seq)
		msg = append(append(msg, hdr...), q.body...)
		msg = append(msg, make([]byte, nlmsgAlign(n)-n)...)
	}
	last := r.seq
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		fail(fmt.Errorf("sending to rtnetlink: %w", err))
		return
	}
	for {
		msgs, err := r.receive()
		if err != nil {
			fail(err)
			return
		}
		for _, m := range msgs {
			if m.Header.Type != unix.NLMSG_ERROR || m.Header.Seq < first || m.Header.Seq > last {
				continue // an answer to an earlier, abandoned exchange
			}
			if e := ackError(m); e != nil {
				errs[m.Header.Seq-first] = e
			}
			if m.Header.Seq == last {
				return
			}
		}
	}
}

func (r *rtnl) receive() ([]syscall.NetlinkMessage, error) {
	for {
		n, _, err := unix.Recvfrom(r.fd, r.buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receiving from rtnetlink: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(r.buf[:n])
		if err != nil {
			return nil, fmt.Errorf("parsing an rtnetlink answer: %w", err)
		}
		return msgs, nil
	}
}

// ackError returns the error an NLMSG_ERROR answer carries, nil for an
// acknowledgment.
func ackError(m syscall.NetlinkMessage) error {
	if len(m.Data) < 4 {
		return errors.New("short rtnetlink error answer")
	}
	code := int32(binary.NativeEndian.Uint32(m.Data[0:4]))
	if code == 0 {
		return nil
	}
	e := &rtnlError{errno: unix.Errno(-code)}
	if m.Header.Flags&unix.NLM_F_ACK_TLVS != 0 {
		// After the error code, the request's header (CAP_ACK: capped) or
		// the whole request, then the attributes.
		off := 4 + unix.NLMSG_HDRLEN
		if m.Header.Flags&unix.NLM_F_CAPPED == 0 && len(m.Data) >= 4+4 {
			off = 4 + nlmsgAlign(int(binary.NativeEndian.Uint32(m.Data[4:8])))
		}
		if off <= len(m.Data) {
			for _, a := range parseAttrs(m.Data[off:]) {
				if a.typ == unix.NLMSGERR_ATTR_MSG {
					e.msg = cstring(a.value)
				}
			}
		}
	}
	return e
}

// dump runs a dump request and returns the raw messages of the answer
// (each message's body, after the header). A dump the kernel interrupted
// because its tables changed returns netlink.ErrDumpInterrupted.
func (r *rtnl) dump(typ uint16, body []byte) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	seq := r.seq
	n := unix.NLMSG_HDRLEN + len(body)
	msg := make([]byte, unix.NLMSG_HDRLEN, nlmsgAlign(n))
	binary.NativeEndian.PutUint32(msg[0:4], uint32(n))
	binary.NativeEndian.PutUint16(msg[4:6], typ)
	binary.NativeEndian.PutUint16(msg[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(msg[8:12], seq)
	msg = append(msg, body...)
	msg = append(msg, make([]byte, nlmsgAlign(n)-n)...)
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sending to rtnetlink: %w", err)
	}
	var out [][]byte
	interrupted := false
	for {
		msgs, err := r.receive()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				if interrupted {
					return out, netlink.ErrDumpInterrupted
				}
				return out, nil
			case unix.NLMSG_ERROR:
				if err := ackError(m); err != nil {
					return nil, err
				}
			default:
				out = append(out, append([]byte(nil), m.Data...))
			}
		}
	}
}

// attr is one netlink attribute.
type attr struct {
	typ   uint16 // without the nested and byte-order flags
	value []byte
}

// parseAttrs splits a run of netlink attributes; a malformed tail is
// ignored.
func parseAttrs(b []byte) []attr {
	var out []attr
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out = append(out, attr{typ: binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMask, value: b[unix.SizeofRtAttr:l]})
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return out
}

func cstring(b []byte) string { return string(b[:clen(b)]) }
