package xmlapi

import (
	"net/netip"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// The fixed host FuzzValidate validates requests against: a kernel, a
// running configuration consistent with it and a network catalogue, with
// the ids the request samples (testdata/requests) use, so that most seeds
// get past the lookups to the rules behind them.
//
//	eth0: net_a (VM network, 11111111-…) and ovirtmgmt (VLAN 300, 33333333-…)
//	bond0 [eth4 eth5] active-backup: net_b (VLAN 200, 22222222-…)
//	eth3: storage (MTU 9000, attachment 789, drifted)
//	eth6: an unmanaged VLAN device eth6.100; bondbr: an unmanaged bridge
//	eth1, eth2: free
const (
	fuzzNetA    = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	fuzzNetB    = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
	fuzzNetC    = "cccccccc-cccc-cccc-cccc-cccccccccccc"
	fuzzMgmt    = "mgmt-id"
	fuzzStorage = "storage-id"
)

func fuzzNetworks() []*netconf.Network {
	vlan := func(n int) *int { return &n }
	return []*netconf.Network{
		{ID: fuzzNetA, Name: "net_a", Usages: []string{netconf.UsageVM}},
		{ID: fuzzNetB, Name: "net_b", VLAN: vlan(200)},
		{ID: fuzzNetC, Name: "net_c"},
		{ID: "234", Name: "vmnet100", VLAN: vlan(100), Usages: []string{netconf.UsageVM}},
		{ID: fuzzMgmt, Name: "ovirtmgmt", VLAN: vlan(300), Usages: []string{netconf.UsageManagement, netconf.UsageDefaultRoute}},
		{ID: fuzzStorage, Name: "storage", MTU: 9000},
		{ID: "jumbo-id", Name: "jumbo", MTU: 2000},
		{ID: "dflt-id", Name: "dflt", Usages: []string{netconf.UsageDefaultRoute}},
	}
}

func fuzzRunning() *netconf.Config {
	none := netconf.IPConfig{Method: netconf.BootNone}
	static := func(prefix, gw string) netconf.IPConfig {
		c := netconf.IPConfig{Method: netconf.BootStatic, Addrs: []netip.Prefix{netip.MustParsePrefix(prefix)}}
		if gw != "" {
			c.Gateway = netip.MustParseAddr(gw)
		}
		return c
	}
	return &netconf.Config{
		Attachments: []netconf.Attachment{
			{ID: "11111111-1111-1111-1111-111111111111", NetworkID: fuzzNetA, Nic: "eth0", IPv4: static("192.0.2.10/24", ""), IPv6: none},
			{ID: "22222222-2222-2222-2222-222222222222", NetworkID: fuzzNetB, Nic: "bond0", IPv4: none, IPv6: none},
			{ID: "33333333-3333-3333-3333-333333333333", NetworkID: fuzzMgmt, Nic: "eth0", IPv4: static("198.51.100.10/24", "198.51.100.1"), IPv6: none,
				DNS: []string{"198.51.100.53"}},
			{ID: "789", NetworkID: fuzzStorage, Nic: "eth3", IPv4: none, IPv6: none},
		},
		Bonds: []netconf.BondConfig{{Name: "bond0", Mode: netconf.BondActiveBackup,
			Options: []netconf.BondOption{{Name: "miimon", Value: "100"}}, Slaves: []string{"eth4", "eth5"}}},
	}
}

func fuzzState() *netconf.State {
	link := func(name string, kind netconf.LinkKind, mtu int, master string) netconf.Link {
		return netconf.Link{Name: name, Kind: kind, MTU: mtu, Master: master, AdminUp: true, OperState: netconf.OperUp,
			MAC: "52:54:00:00:00:01"}
	}
	bond := link("bond0", netconf.KindBond, 1500, "")
	bond.Bond = &netconf.Bond{Mode: netconf.BondActiveBackup, Slaves: []string{"eth4", "eth5"},
		Options: []netconf.BondOption{{Name: "miimon", Value: "100"}, {Name: "updelay", Value: "0"}}}
	bondVLAN := link("bond0.200", netconf.KindVLAN, 1500, "")
	bondVLAN.VLAN = &netconf.VLAN{ID: 200, Base: "bond0"}
	mgmtVLAN := link("eth0.300", netconf.KindVLAN, 1500, "")
	mgmtVLAN.VLAN = &netconf.VLAN{ID: 300, Base: "eth0"}
	mgmtVLAN.Addrs = []netconf.Addr{{Prefix: netip.MustParsePrefix("198.51.100.10/24")}}
	unmanagedVLAN := link("eth6.100", netconf.KindVLAN, 1500, "")
	unmanagedVLAN.VLAN = &netconf.VLAN{ID: 100, Base: "eth6"}
	bridge := link("net_a", netconf.KindBridge, 1500, "")
	bridge.Addrs = []netconf.Addr{{Prefix: netip.MustParsePrefix("192.0.2.10/24")}}
	storage := link("eth3", netconf.KindDevice, 1500, "") // drifted: the network wants 9000
	ethtool := map[string]*netconf.EthtoolState{}
	for _, n := range []string{"eth1", "eth2", "eth3", "eth4", "eth5"} {
		ethtool[n] = &netconf.EthtoolState{
			Features: map[string]netconf.FeatureState{"tx-tcp-segmentation": {Changeable: true, Requested: true, Active: true},
				"rx-gro": {Changeable: true}, "rx-lro": {}},
			Ring: map[string]uint32{"rx": 256, "tx": 256}, RingMax: map[string]uint32{"rx": 1024, "tx": 1024},
			Coalesce: map[string]uint32{"rx-usecs": 3}, Pause: map[string]bool{"rx": true},
		}
	}
	return &netconf.State{
		Ethtool: ethtool,
		Links: []netconf.Link{
			bond, bondVLAN, link("bondbr", netconf.KindBridge, 1500, ""),
			link("eth0", netconf.KindDevice, 1500, "net_a"), mgmtVLAN,
			link("eth1", netconf.KindDevice, 1500, ""), link("eth2", netconf.KindDevice, 1500, ""), storage,
			link("eth4", netconf.KindDevice, 1500, "bond0"), link("eth5", netconf.KindDevice, 1500, "bond0"),
			link("eth6", netconf.KindDevice, 1500, ""), unmanagedVLAN,
			link("lo", netconf.KindDevice, 65536, ""), bridge,
		},
		Routes: []netconf.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("198.51.100.1"), Link: "eth0.300", Table: netconf.MainTable}},
	}
}

// fuzzNicIDs are the NIC ids of the request samples, each given a device.
var fuzzNicIDs = map[string]string{
	"id-eth0": "eth0", "456": "eth1", "target-nic-id": "eth2",
	"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa": "eth1", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb": "eth2",
	"cccccccc-cccc-cccc-cccc-cccccccccccc": "eth3", "833ebaeb-0988-4bd5-b860-e00bcc3f576a": "eth1",
	"782e8199-984e-407f-b242-3d6c7dc2f7b7": "eth2",
}

// fuzzNicName resolves a NIC id: a sample's id, or "nic-" and a device name.
func fuzzNicName(st *netconf.State) func(string) (string, bool) {
	return func(id string) (string, bool) {
		if name, ok := fuzzNicIDs[id]; ok {
			return name, true
		}
		name, ok := strings.CutPrefix(id, "nic-")
		if _, exists := st.Link(name); !ok || !exists {
			return "", false
		}
		return name, true
	}
}
