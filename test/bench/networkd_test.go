//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// networkd is Debian's systemd-networkd, standalone: .netdev and .network
// files in /run/systemd/network (the VM's /run is this run's tmpfs), its
// state in /run/systemd/netif, networkctl over the private bus.
type networkd struct {
	b   *bus
	ns  *kernel.Namespace
	cmd *exec.Cmd
}

const networkdConfig = "/run/systemd/network"

func (p *networkd) name() string { return "systemd-networkd" }

func (p *networkd) start(t *testing.T, ns *kernel.Namespace, log string) {
	t.Helper()
	p.b, p.ns = peerBus(t), ns
	// networkd drops to its own user: its state directory is that user's.
	u, err := user.Lookup("systemd-network")
	if err != nil {
		t.Fatalf("systemd-networkd's user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.RemoveAll("/run/systemd/netif"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/run/systemd/netif/links", "/run/systemd/netif/leases", "/run/systemd/netif/lldp"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown("/run/systemd/netif", uid, gid); err != nil {
		t.Fatal(err)
	}
	// Without udev, networkd configures a link at once only when /sys is
	// read-only (as in a container); ip netns exec gave it a sysfs of its
	// own to remount.
	p.cmd = startInNamespace(t, p.b, ns, log, "mount -o remount,ro /sys || exit 1",
		"/lib/systemd/systemd-networkd")
	p.b.waitName(t, "org.freedesktop.network1")
}

// configure writes S(N) as networkd files: the bond, its NICs, and per
// network a VLAN netdev, a bridge netdev and their .network files; or,
// with none, the NICs alone, kept up.
func (p *networkd) configure(t *testing.T, s scenario, none bool) {
	t.Helper()
	if err := os.RemoveAll(networkdConfig); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(networkdConfig, 0o755); err != nil {
		t.Fatal(err)
	}
	file := func(name, content string) { writeFile(t, filepath.Join(networkdConfig, name), content) }
	nicNames := nics[0].name + " " + nics[1].name
	if none {
		file("10-nics.network", "[Match]\nName="+nicNames+"\n[Link]\nActivationPolicy=always-up\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n")
		return
	}
	file("10-nics.network", "[Match]\nName="+nicNames+"\n[Network]\nBond="+bondName+"\n")
	// networkd gives a bond and a bridge a MAC of its own (derived from
	// the machine id); the baseline's, as hostnetd's, have their first
	// NIC's (the bond from its first slave, a bridge from its port, the
	// VLAN on the bond): networkd is told that MAC, for the same end state.
	mac := "MACAddress=" + nics[0].mac + "\n"
	file("20-"+bondName+".netdev", "[NetDev]\nName="+bondName+"\nKind=bond\n"+mac+"[Bond]\nMode=802.3ad\nMIIMonitorSec=100ms\n")
	var vlans strings.Builder
	for i := range s.n {
		fmt.Fprintf(&vlans, "VLAN=%s\n", s.vlanDev(i))
		file("30-"+s.vlanDev(i)+".netdev", fmt.Sprintf("[NetDev]\nName=%s\nKind=vlan\n[VLAN]\nId=%d\n", s.vlanDev(i), s.vlan(i)))
		file("30-"+s.network(i)+".netdev", "[NetDev]\nName="+s.network(i)+"\nKind=bridge\n"+mac+"[Bridge]\nSTP=no\n")
		file("40-"+s.vlanDev(i)+".network", "[Match]\nName="+s.vlanDev(i)+"\n[Network]\nBridge="+s.network(i)+"\n")
		file("40-"+s.network(i)+".network", "[Match]\nName="+s.network(i)+"\n[Network]\nAddress="+s.address(i)+
			"/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n")
	}
	file("20-"+bondName+".network", "[Match]\nName="+bondName+"\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n"+vlans.String())
}

func (p *networkd) reload(t *testing.T) {
	t.Helper()
	p.b.run(t, p.ns, "networkctl", "reload")
}

func (p *networkd) create(t *testing.T) { p.reload(t) }

// remove deletes the netdevs, which networkd leaves when their files go:
// networkctl delete, bridges, then VLANs, then the bond, each kind in a
// call of its own, before the reload. networkctl deletes the devices it is
// given in no particular order and stops at the first failure: given the
// bond with its VLANs, it deleted the bond first (which takes its VLANs
// with it) and then failed on a VLAN already gone. A failure is logged, not
// fatal: the removal's end state is waited for all the same.
func (p *networkd) remove(t *testing.T, s scenario) {
	t.Helper()
	bridges, vlans := []string{"networkctl", "delete"}, []string{"networkctl", "delete"}
	for i := s.n - 1; i >= 0; i-- {
		bridges = append(bridges, s.network(i))
		vlans = append(vlans, s.vlanDev(i))
	}
	for _, args := range [][]string{bridges, vlans, {"networkctl", "delete", bondName}} {
		if err := p.b.try(p.ns, args...); err != nil {
			t.Logf("systemd-networkd removal: %v", err)
		}
	}
}

func (p *networkd) stop(t *testing.T) {
	stopProcess(p.cmd)
	_ = os.RemoveAll(networkdConfig)
}
