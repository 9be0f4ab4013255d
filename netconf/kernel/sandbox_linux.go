package kernel

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
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
