//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// networkManager is Debian's NetworkManager, standalone: keyfiles in a
// directory of its own, its state file there too, /var/lib/NetworkManager
// a tmpfs in its mount namespace, nmcli over the private bus. /sys is
// read-only there, as in a container: NetworkManager then does not wait
// for udev (which does not run in the VM) to initialise the NICs it finds.
type networkManager struct {
	b    *bus
	dir  string
	conn string // the keyfile directory
	cmd  *exec.Cmd
}

func (p *networkManager) name() string { return "NetworkManager" }

func (p *networkManager) start(t *testing.T, ns *kernel.Namespace, log string) {
	t.Helper()
	p.b = peerBus(t)
	writeFile(t, filepath.Join(p.dir, "NetworkManager.conf"), "[main]\nplugins=keyfile\nno-auto-default=*\ndhcp=internal\n"+
		"[keyfile]\npath="+p.conn+"\nunmanaged-devices=none\n[device-nics]\nmatch-device=interface-name:eth*\nmanaged=1\n[logging]\nlevel=INFO\n")
	p.cmd = startInNamespace(t, p.b, ns, log, "mount -t tmpfs tmpfs /var/lib/NetworkManager && mount -o remount,ro /sys || exit 1",
		"/usr/sbin/NetworkManager", "--no-daemon", "--debug", "--config="+filepath.Join(p.dir, "NetworkManager.conf"),
		"--state-file="+filepath.Join(p.dir, "state"), "--pid-file="+filepath.Join(p.dir, "pid"))
	// NetworkManager takes its bus name before it exports its settings,
	// and without udev (as here, in a namespace) never reports its startup
	// complete, so nm-online would wait for nothing: its start (untimed)
	// is over when a reload of its connections succeeds.
	p.b.waitName(t, "org.freedesktop.NetworkManager")
	deadline := time.Now().Add(peerLimit)
	for {
		err := p.b.try(nil, "nmcli", "connection", "reload")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NetworkManager did not serve its settings: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// configure writes S(N) as keyfiles: the bond, its NICs as its ports, and
// per network a bridge with its address and a VLAN as its port; or, with
// none, the NICs alone, up with no address.
func (p *networkManager) configure(t *testing.T, s scenario, none bool) {
	t.Helper()
	if p.dir == "" {
		p.dir = t.TempDir()
		p.conn = filepath.Join(p.dir, "connections")
	}
	if err := os.RemoveAll(p.conn); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.conn, 0o700); err != nil {
		t.Fatal(err)
	}
	file := func(id, content string) {
		path := filepath.Join(p.conn, id+".nmconnection")
		if err := os.WriteFile(path, []byte("[connection]\nid="+id+"\n"+content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const noIP = "[ipv4]\nmethod=disabled\n[ipv6]\nmethod=disabled\n"
	for i, nic := range nics {
		kind := "type=ethernet\ninterface-name=" + nic.name + "\nuuid=" + nicUUID(i) + "\n"
		if none {
			file(nic.name, kind+noIP)
		} else {
			file(nic.name, kind+"master="+bondName+"\nslave-type=bond\n")
		}
	}
	if none {
		return
	}
	// The bond and the bridges get the first NIC's MAC, which the
	// baseline's get from their first slave or port, for the same end
	// state whatever order NetworkManager enslaves in.
	mac := nics[0].mac
	file(bondName, "type=bond\ninterface-name="+bondName+"\n[ethernet]\ncloned-mac-address="+mac+"\n[bond]\nmode=802.3ad\nmiimon=100\n"+noIP)
	for i := range s.n {
		file(s.network(i), "type=bridge\ninterface-name="+s.network(i)+"\n[bridge]\nstp=false\nmac-address="+mac+"\n"+
			"[ipv4]\nmethod=manual\naddress1="+s.address(i)+"/24\n[ipv6]\nmethod=disabled\n")
		file(s.vlanDev(i), fmt.Sprintf("type=vlan\ninterface-name=%s\nmaster=%s\nslave-type=bridge\n[vlan]\nparent=%s\nid=%d\n",
			s.vlanDev(i), s.network(i), bondName, s.vlan(i)))
	}
}

func (p *networkManager) reload(t *testing.T) {
	t.Helper()
	p.b.run(t, nil, "nmcli", "--wait", strconv.Itoa(int(peerLimit.Seconds())), "connection", "reload")
}

// create reloads, then activates the NICs' profiles again: they were
// active as plain NICs, and NetworkManager leaves an active device on the
// profile it activated until told otherwise; the rest (the bond, the
// bridges, the VLANs once the bond has its ports) activate by themselves.
func (p *networkManager) create(t *testing.T) {
	t.Helper()
	start := time.Now()
	p.reload(t)
	if time.Since(start) >= peerLimit {
		return // the reload ran out of the phase's time: unfinished
	}
	for i := range nics {
		p.activate(t, nicUUID(i))
	}
}

// nicUUID is the fixed uuid of NIC i's profile.
func nicUUID(i int) string { return fmt.Sprintf("0b7e0c3a-5d2e-4c1f-9a6b-00000000000%d", i) }

// activate activates a profile by its uuid over D-Bus, as nmcli connection
// up does, without nmcli first fetching every profile (which, with
// thousands, outlasts its own timeout on an emulated machine); the end
// state is waited for on the kernel.
func (p *networkManager) activate(t *testing.T, uuid string) {
	t.Helper()
	call := func(path, method string, args ...string) string {
		cmd := exec.Command("gdbus", append([]string{"call", "--system", "--timeout", strconv.Itoa(int(peerLimit.Seconds())),
			"--dest", "org.freedesktop.NetworkManager", "--object-path", path, "--method", method}, args...)...)
		cmd.Env = p.b.env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", method, err, out)
		}
		return string(out)
	}
	out := call("/org/freedesktop/NetworkManager/Settings", "org.freedesktop.NetworkManager.Settings.GetConnectionByUuid", uuid)
	// (objectpath '/org/freedesktop/NetworkManager/Settings/5',)
	i, j := strings.Index(out, "'"), strings.LastIndex(out, "'")
	if i < 0 || j <= i {
		t.Fatalf("GetConnectionByUuid %s: %q", uuid, out)
	}
	call("/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.ActivateConnection", out[i+1:j], "/", "/")
}

// remove has nothing to add: NetworkManager deletes the software devices
// of the connections whose keyfiles went.
func (p *networkManager) remove(*testing.T, scenario) {}

func (p *networkManager) stop(*testing.T) { stopProcess(p.cmd) }
