// Package nstest gives tests throwaway network namespaces and veth "NICs"
// inside them. Every namespace it creates is deleted by t.Cleanup, and no
// helper here ever touches the test process's own namespace.
package nstest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// RequireRoot skips the test when it cannot create namespaces, except in CI
// (CI=true), where a skipped kernel test would hide a broken suite.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("kernel tests need root; CI runs them as root")
	}
	t.Skip("kernel tests need root")
}

// New creates a fresh named namespace "hnd-<pid>-<8 hex>" with loopback
// up, deleted at the test's cleanup. A test process killed before its
// cleanups ran (a timeout, a signal) leaves its namespaces behind: the
// first New of each process deletes those whose process is gone.
func New(t testing.TB) *kernel.Namespace {
	t.Helper()
	RequireRoot(t)
	sweepOnce.Do(func() { sweepDeadOwners(t) })
	name := fmt.Sprintf("hnd-%d-%s", os.Getpid(), randomHex(4))
	ns, err := kernel.CreateNamespace(name)
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := kernel.DeleteNamespace(name); err != nil {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	lo, err := ns.Handle.LinkByName("lo")
	if err != nil {
		t.Fatalf("finding lo in %s: %v", name, err)
	}
	if err := ns.Handle.LinkSetUp(lo); err != nil {
		t.Fatalf("setting lo up in %s: %v", name, err)
	}
	return ns
}

// Veth creates a veth pair with one end, name, in ns and the other end,
// peer, in peerNS, and sets both ends up so that the pair has carrier.
func Veth(t testing.TB, ns *kernel.Namespace, name string, peerNS *kernel.Namespace, peer string) netlink.Link {
	t.Helper()
	attrs := netlink.NewLinkAttrs() // a zero LinkAttrs would set txqueuelen 0
	attrs.Name = name
	veth := &netlink.Veth{
		LinkAttrs:     attrs,
		PeerName:      peer,
		PeerNamespace: netlink.NsFd(peerNS.FD()),
	}
	if err := ns.Handle.LinkAdd(veth); err != nil {
		t.Fatalf("adding veth %s/%s: %v", name, peer, err)
	}
	SetUp(t, peerNS, peer)
	return SetUp(t, ns, name)
}

// SetUp sets the named link of ns up and returns it.
func SetUp(t testing.TB, ns *kernel.Namespace, name string) netlink.Link {
	t.Helper()
	link, err := ns.Handle.LinkByName(name)
	if err != nil {
		t.Fatalf("finding %s in %s: %v", name, ns.Name, err)
	}
	if err := ns.Handle.LinkSetUp(link); err != nil {
		t.Fatalf("setting %s up in %s: %v", name, ns.Name, err)
	}
	return link
}

// Link returns the named link of ns, failing the test if it is missing.
func Link(t testing.TB, ns *kernel.Namespace, name string) netlink.Link {
	t.Helper()
	link, err := ns.Handle.LinkByName(name)
	if err != nil {
		t.Fatalf("finding %s in %s: %v", name, ns.Name, err)
	}
	return link
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

var sweepOnce sync.Once

// sweepDeadOwners deletes the namespaces "hnd-<pid>-…" whose pid no longer
// runs. (A reused pid keeps them: the sweep only ever errs on the side of
// leaving a namespace.)
func sweepDeadOwners(t testing.TB) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return // no named namespace yet
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "hnd-")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if err := kernel.DeleteNamespace(e.Name()); err != nil {
			t.Logf("deleting %s, left by dead test process %d: %v", e.Name(), pid, err)
		}
	}
}

// processAlive reports whether a process of that pid exists.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
