//go:build vmtest

package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// bondSysfs reads (and, with writes, first writes) the bonding files of a
// bond in ns: sysfs shows the devices of the namespace that mounts it, so
// a thread of its own enters ns and a private mount namespace and mounts
// one there. The thread is not given back: it dies with its goroutine.
func bondSysfs(t *testing.T, ns *kernel.Namespace, bond string, writes ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	type result struct {
		files map[string]string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		files, err := func() (map[string]string, error) {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return nil, err
			}
			if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
				return nil, err
			}
			if err := unix.Setns(ns.FD(), unix.CLONE_NEWNET); err != nil {
				return nil, err
			}
			if err := unix.Mount("sysfs", dir, "sysfs", 0, ""); err != nil {
				return nil, err
			}
			base := filepath.Join(dir, "class", "net", bond, "bonding")
			for i := 0; i+1 < len(writes); i += 2 {
				if err := os.WriteFile(filepath.Join(base, writes[i]), []byte(writes[i+1]), 0); err != nil {
					return nil, err
				}
			}
			entries, err := os.ReadDir(base)
			if err != nil {
				return nil, err
			}
			files := map[string]string{}
			for _, e := range entries {
				data, err := os.ReadFile(filepath.Join(base, e.Name()))
				if err != nil {
					files[e.Name()] = "unreadable: " + err.Error()
					continue
				}
				files[e.Name()] = strings.TrimSpace(string(data))
			}
			return files, nil
		}()
		done <- result{files, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("reading %s's sysfs: %v", bond, r.err)
	}
	return r.files
}

// TestVMEveryKernelBondOptionIsKnown: the option table is the kernel's.
// Every file of a bond's bonding directory is an option a request can set
// or one refused with a reason, and every option hostnetd accepts is one
// of the kernel's.
func TestVMEveryKernelBondOptionIsKnown(t *testing.T) {
	e := vmStart(t, 0)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "bond0"
	mustNL(t, e.ns.Handle.LinkAdd(netlink.NewLinkBond(attrs)))
	files := bondSysfs(t, e.ns, "bond0")
	supported := netconf.BondOptionNames()
	for name := range files {
		if slices.Contains(supported, name) {
			continue
		}
		if reason, refused := netconf.RefusedBondOption(name); refused {
			t.Logf("%s: refused: %s", name, reason)
			continue
		}
		t.Errorf("the kernel's bonding option %s is neither supported nor refused with a reason", name)
	}
	for _, name := range supported {
		if _, ok := files[name]; !ok {
			t.Errorf("hostnetd accepts bonding option %s, which this kernel does not have", name)
		}
	}
}

// TestVMEveryBondOption: every option hostnetd accepts, each away from its
// default, lands in the kernel as sysfs shows it, by a request in the
// engine's notation; re-sending it writes nothing; an option changed
// behind hostnetd's back is drift that a sync puts back.
func TestVMEveryBondOption(t *testing.T) {
	e := vmStart(t, 4)
	cases := []struct {
		name    string
		options string
		slaves  []string
		sysfs   map[string]string // the first word of each file
	}{
		{"802.3ad", "mode=4 miimon=200 updelay=400 downdelay=200 peer_notif_delay=200 use_carrier=0 arp_all_targets=1 " +
			"primary_reselect=1 fail_over_mac=2 xmit_hash_policy=layer3+4 resend_igmp=3 num_grat_arp=4 all_slaves_active=1 " +
			"min_links=1 lp_interval=2 lacp_rate=fast ad_select=1 lacp_active=0 ad_actor_sys_prio=100 ad_user_port_key=5 " +
			"ad_actor_system=02:00:00:00:00:42", []string{"eth0", "eth1"},
			map[string]string{"mode": "802.3ad", "miimon": "200", "updelay": "400", "downdelay": "200", "peer_notif_delay": "200",
				"use_carrier": "0", "arp_all_targets": "all", "primary_reselect": "better", "fail_over_mac": "follow",
				"xmit_hash_policy": "layer3+4", "resend_igmp": "3", "num_grat_arp": "4", "num_unsol_na": "4",
				"all_slaves_active": "1", "min_links": "1", "lp_interval": "2", "lacp_rate": "fast", "ad_select": "bandwidth",
				"lacp_active": "off", "ad_actor_sys_prio": "100", "ad_user_port_key": "5", "ad_actor_system": "02:00:00:00:00:42"}},
		{"active-backup with ARP", "mode=1 arp_interval=100 arp_ip_target=192.0.2.1,192.0.2.2 arp_validate=all arp_missed_max=3 primary=eth3",
			[]string{"eth2", "eth3"},
			map[string]string{"mode": "active-backup", "arp_interval": "100", "arp_ip_target": "192.0.2.1", "arp_validate": "all",
				"arp_missed_max": "3", "primary": "eth3", "miimon": "0"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			bond := "bond" + string(rune('0'+i))
			body := vmBondAction(bond, c.options, c.slaves...)
			e.changed(e.setup(body))
			files := bondSysfs(t, e.ns, bond)
			for name, want := range c.sysfs {
				if got := strings.Fields(files[name] + " "); got[0] != want {
					t.Errorf("%s: %s = %q; want %q", bond, name, files[name], want)
				}
			}
			e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
		})
	}

	// Drift: an option changed through sysfs, put back by a sync.
	e.t = t
	e.network(vmNetA, "n1", `<vlan id="100"/>`)
	e.attach(vmNetA, "bond0", "")
	before := vmDump(t, e)
	bondSysfs(t, e.ns, "bond0", "resend_igmp", "7")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		att := e.attachment(vmNetA)
		r := reported(att, netconf.ReportedBondingOptions)
		if text(att, "in_sync") == "false" && r != nil && strings.Contains(text(r, "actual_value"), "resend_igmp=7") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resend_igmp changed through sysfs is not reported:\n%s", att.Canonical())
		}
	}
	e.changed(e.must(http.MethodPost, e.host("/syncallnetworks"), `<action/>`, http.StatusOK))
	if after := vmDump(t, e); after != before {
		t.Errorf("the sync did not restore the bond:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := bondSysfs(t, e.ns, "bond0")["resend_igmp"]; got != "3" {
		t.Errorf("resend_igmp after the sync = %q; want 3", got)
	}
}
