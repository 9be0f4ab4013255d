package kernel

import (
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Sandbox is a throwaway host for trying hostnetd safely: a namespace with
// veth "NICs" eth0..ethN-1 whose peers sit in a second namespace, joined by a
// bridge that stands in for the switch.
type Sandbox struct {
	Host   *Namespace
	Switch *Namespace
}

// SwitchBridge is the bridge in the switch namespace.
const SwitchBridge = "switch0"

// CreateSandbox creates the namespaces name and name+"-sw" with nics veth
// pairs between them. On failure it removes whatever it created.
func CreateSandbox(name string, nics int) (sb *Sandbox, err error) {
	host, err := CreateNamespace(name)
	if err != nil {
		return nil, err
	}
	sb = &Sandbox{Host: host}
	defer func() {
		if err != nil {
			err = errors.Join(err, sb.Destroy())
			sb = nil
		}
	}()
	if sb.Switch, err = CreateNamespace(name + "-sw"); err != nil {
		return nil, err
	}
	for _, ns := range []*Namespace{sb.Host, sb.Switch} {
		if err := setUpByName(ns, "lo"); err != nil {
			return nil, err
		}
	}
	sw := sb.Switch.Handle
	if err := sw.LinkAdd(&netlink.Bridge{LinkAttrs: linkAttrs(SwitchBridge)}); err != nil {
		return nil, fmt.Errorf("adding the switch bridge: %w", err)
	}
	if err := setUpByName(sb.Switch, SwitchBridge); err != nil {
		return nil, err
	}
	br, err := sw.LinkByName(SwitchBridge)
	if err != nil {
		return nil, fmt.Errorf("finding the switch bridge: %w", err)
	}
	for i := range nics {
		nic, port := fmt.Sprintf("eth%d", i), fmt.Sprintf("sw-eth%d", i)
		attrs := linkAttrs(port)
		attrs.MasterIndex = br.Attrs().Index
		veth := &netlink.Veth{
			LinkAttrs:     attrs,
			PeerName:      nic,
			PeerNamespace: netlink.NsFd(sb.Host.FD()),
		}
		if err := sw.LinkAdd(veth); err != nil {
			return nil, fmt.Errorf("adding veth %s: %w", nic, err)
		}
		if err := setUpByName(sb.Switch, port); err != nil {
			return nil, err
		}
		if err := setUpByName(sb.Host, nic); err != nil {
			return nil, err
		}
	}
	return sb, nil
}

// Destroy closes and deletes both namespaces; their devices go with them.
func (sb *Sandbox) Destroy() error {
	var errs []error
	for _, ns := range []*Namespace{sb.Host, sb.Switch} {
		if ns == nil {
			continue
		}
		errs = append(errs, ns.Close(), DeleteNamespace(ns.Name))
	}
	return errors.Join(errs...)
}

// netnsDir is where named namespaces are bind-mounted (iproute2's
// NETNS_RUN_DIR).
const netnsDir = "/run/netns"

// SharedNetnsDir makes /run/netns a shared mount point, as `ip netns add`
// does before its first namespace: when /run/netns is a plain directory,
// the namespaces bind-mounted in it sit on /run's mount, and a later
// `ip netns add` that turns /run/netns into a mount point of its own
// (recursively, so it copies them) leaves each of them mounted twice, one
// copy hidden under the new mount: deleting the namespace then unmounts
// the visible copy and the removal of its file fails with EBUSY. Made
// shared first, the directory is one mount that later `ip netns` commands
// reuse, and an unmount propagates to every copy.
func SharedNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", netnsDir, err)
	}
	for made := false; ; made = true {
		err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || made {
			return fmt.Errorf("mount --make-shared %s: %w", netnsDir, err)
		}
		// Not a mount point yet: make it one, bound onto itself.
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("mount --bind %s %s: %w", netnsDir, netnsDir, err)
		}
	}
}

func setUpByName(ns *Namespace, name string) error {
	link, err := ns.Handle.LinkByName(name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	if err := ns.Handle.LinkSetUp(link); err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	return nil
}
