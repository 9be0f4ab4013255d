package kernel

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Namespace is an open network namespace: its file descriptor and a netlink
// handle bound to it. Everything hostnetd does to the kernel goes through the
// handle, so the daemon never switches the namespace of its own threads except
// inside Do, for the few calls (raw sockets, ioctls) that have no handle form.
//
// Outside this package only tests use Handle: the daemon reaches the kernel
// through the package's functions and the Namespace's methods, so that
// every dump is retried when interrupted and no netlink call can land in
// the wrong namespace (test/boundaries enforces it).
type Namespace struct {
	Name   string // the name under /run/netns; empty for the process's own
	Handle *netlink.Handle
	fd     netns.NsHandle
	// ethtoolFD is a socket opened inside the namespace for the speed
	// ioctl; -1 when it could not be opened (speeds are then unknown).
	ethtoolFD int
	// rtnlSock is a raw rtnetlink socket inside the namespace, opened on
	// first use (rtnl).
	rtnlOnce sync.Once
	rtnlSock *rtnl
	rtnlErr  error
}

// OpenNamespace opens the named namespace, or the process's own when name is
// empty. It never creates anything.
func OpenNamespace(name string) (*Namespace, error) {
	var (
		fd  netns.NsHandle
		err error
	)
	if name == "" {
		fd, err = netns.Get()
	} else {
		fd, err = netns.GetFromName(name)
	}
	if err != nil {
		return nil, fmt.Errorf("opening network namespace %q: %w", name, err)
	}
	return bind(name, fd)
}

// CreateNamespace creates a new named namespace (bind-mounted under
// /run/netns, as `ip netns add` does) and opens it. The calling thread is
// switched into the new namespace by the netns library and back out again.
func CreateNamespace(name string) (*Namespace, error) {
	// Every namespace sits on the one shared /run/netns mount, or a later
	// `ip netns add` (or a sandbox) over-mounting the directory leaves it
	// undeletable (SharedNetnsDir).
	if err := SharedNetnsDir(); err != nil {
		return nil, err
	}
	fd, err := onLockedThread(func() (netns.NsHandle, error) {
		return netns.NewNamed(name)
	})
	if err != nil {
		return nil, fmt.Errorf("creating network namespace %q: %w", name, err)
	}
	ns, err := bind(name, fd)
	if err != nil {
		_ = netns.DeleteNamed(name)
		return nil, err
	}
	return ns, nil
}

// DeleteNamespace removes the /run/netns entry of a named namespace. The
// kernel frees it, with its devices, once nothing holds it open any more.
func DeleteNamespace(name string) error {
	if err := netns.DeleteNamed(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("deleting network namespace %q: %w", name, err)
	}
	return nil
}

// NamespaceExists reports whether /run/netns/name exists.
func NamespaceExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

func bind(name string, fd netns.NsHandle) (*Namespace, error) {
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("opening netlink handle in namespace %q: %w", name, err)
	}
	ns := &Namespace{Name: name, Handle: h, fd: fd, ethtoolFD: -1}
	if sock, err := openEthtoolSocket(ns); err == nil {
		ns.ethtoolFD = sock
	}
	return ns, nil
}

// speed returns the speed of a link in bits/s, 0 when unknown.
func (ns *Namespace) speed(l netlink.Link) uint64 { return linkSpeed(ns.ethtoolFD, l.Attrs().Name) }

// errClosed is the error of an operation on a closed (or zero) Namespace:
// the library treats a nil handle as one in the process's own namespace,
// which must never be touched by mistake.
var errClosed = errors.New("the namespace is closed")

// handle is the namespace's netlink handle, refused once closed.
func (ns *Namespace) handle() (*netlink.Handle, error) {
	if ns == nil || ns.Handle == nil {
		return nil, errClosed
	}
	return ns.Handle, nil
}

// Ping makes one cheap rtnetlink request in the namespace, reading the
// loopback device: a health check (the systemd watchdog) that passes only
// while the namespace's netlink handle still answers.
func (ns *Namespace) Ping() error {
	h, err := ns.handle()
	if err == nil {
		_, err = h.LinkByName("lo")
	}
	if err != nil {
		return fmt.Errorf("reading the loopback device over rtnetlink: %w", err)
	}
	return nil
}

// NsHandle is the namespace for netlink subscriptions: nil for the
// process's own.
func (ns *Namespace) NsHandle() *netns.NsHandle {
	if ns.Name == "" {
		return nil
	}
	return &ns.fd
}

// FD returns the namespace file descriptor, for netlink attributes that move
// a device into this namespace (netlink.NsFd).
func (ns *Namespace) FD() int { return int(ns.fd) }

// Close releases the handle and the descriptor. It does not delete a named
// namespace; use DeleteNamespace for that.
func (ns *Namespace) Close() error {
	if ns.Handle != nil {
		ns.Handle.Close()
		ns.Handle = nil
	}
	ns.rtnlSock.close()
	ns.rtnlSock = nil
	if ns.ethtoolFD >= 0 {
		unix.Close(ns.ethtoolFD)
		ns.ethtoolFD = -1
	}
	if ns.fd.IsOpen() {
		return ns.fd.Close()
	}
	return nil
}

// Do runs fn on a dedicated OS thread that has entered the namespace. Use it
// only for calls that have no netlink-handle form: sockets and ioctls created
// inside fn stay bound to the namespace after fn returns. In the process's
// own namespace fn runs in place: entering it would need CAP_SYS_ADMIN for
// nothing.
func (ns *Namespace) Do(fn func() error) error {
	if ns.Name == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("reading the current namespace: %w", err)
			return
		}
		defer origin.Close()
		if err := netns.Set(ns.fd); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering namespace %q: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(origin); err != nil {
			// Leave the thread locked: the runtime destroys it when this
			// goroutine exits, so no other goroutine runs in the wrong netns.
			errc <- errors.Join(ferr, fmt.Errorf("leaving namespace %q: %w", ns.Name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// onLockedThread runs fn, which may switch the thread's namespace, on a
// locked thread and switches it back afterwards.
func onLockedThread(fn func() (netns.NsHandle, error)) (netns.NsHandle, error) {
	type result struct {
		fd  netns.NsHandle
		err error
	}
	resc := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			resc <- result{-1, err}
			return
		}
		defer origin.Close()
		fd, ferr := fn()
		if err := netns.Set(origin); err != nil {
			resc <- result{fd, errors.Join(ferr, err)}
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		resc <- result{fd, ferr}
	}()
	r := <-resc
	return r.fd, r.err
}
