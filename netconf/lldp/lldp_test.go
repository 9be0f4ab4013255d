package lldp_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf/lldp"
	. "github.com/hostnetd/hostnetd/test/lldptest"
)

var src = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}

func render(n *lldp.Neighbor) string {
	var b strings.Builder
	for _, e := range n.Elements {
		fmt.Fprintf(&b, "%s type=%d", e.Name, e.Type)
		if e.HasOUI {
			fmt.Fprintf(&b, " oui=%d subtype=%d", e.OUI, e.Subtype)
		}
		for _, p := range e.Properties {
			fmt.Fprintf(&b, " [%s=%s]", p.Name, p.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func full() []byte {
	return Frame(src,
		ChassisMAC(net.HardwareAddr{0, 1, 0x30, 0xf9, 0xad, 0xa0}),
		PortName("swp1"),
		TTL(120),
		String(4, "uplink of rack 7"),
		String(5, "sw1"),
		String(6, "Switch OS 1.0"),
		TLV(7, []byte{0, 0x14, 0, 0x04}),
		MgmtIPv4(net.IPv4(192, 0, 2, 1), 3),
		MgmtIPv4(net.IPv4(192, 0, 2, 2), 4),
		PortVLAN(488),
		VLANName(488, "v2-0488"),
		VLANName(489, "storage"),
		LinkAgg8023(true, true, 600),
		MTU(9018),
		Org(0x0012bb, 1, []byte{0xde, 0xad}),
		TLV(42, []byte{1, 2, 3}),
		End(),
	)
}

func TestDecodeEveryKnownTLV(t *testing.T) {
	n, err := lldp.Decode(full())
	if err != nil {
		t.Fatal(err)
	}
	want := `Chassis ID type=1 [chassis ID subtype=MAC] [chassis ID=00:01:30:f9:ad:a0]
Port ID type=2 [port ID subtype=Ifname] [port ID=swp1]
Time to Live type=3 [time to live=120]
Port Description type=4 [port description=uplink of rack 7]
System Name type=5 [system name=sw1]
System Description type=6 [system description=Switch OS 1.0]
System Capabilities type=7 [system capabilities=Bridge, Router] [enabled capabilities=Bridge]
Management Address type=8 [management address subtype=IPv4] [management address=192.0.2.1] [interface numbering subtype=Ifindex] [interface numbering=3]
Management Address type=8 [management address subtype=IPv4] [management address=192.0.2.2] [interface numbering subtype=Ifindex] [interface numbering=4]
Port VLAN ID type=127 oui=32962 subtype=1 [Port VLAN ID=488]
VLAN Name type=127 oui=32962 subtype=3 [VLAN ID=488] [VLAN Name=v2-0488]
VLAN Name type=127 oui=32962 subtype=3 [VLAN ID=489] [VLAN Name=storage]
Link Aggregation type=127 oui=32962 subtype=7 [Aggregation capable=True] [Currently aggregated=True] [Aggregated Port ID=600]
MTU type=127 oui=4623 subtype=4 [mtu=9018]
Organizationally Specific type=127 oui=4795 subtype=1 [value=dead]
Unknown type=42 [value=010203]
`
	if got := render(n); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n.TTL != 120 || n.SystemName != "sw1" || n.ChassisID != "00:01:30:f9:ad:a0" || n.PortID != "swp1" {
		t.Errorf("neighbour %+v", n)
	}
}

func TestDecodeRefusesBrokenLLDPDUs(t *testing.T) {
	c, p, ttl := ChassisMAC(src), PortName("p"), TTL(10)
	for name, frame := range map[string][]byte{
		"empty":               Frame(src),
		"no end":              Frame(src, c, p, ttl),
		"port first":          Frame(src, p, c, ttl, End()),
		"no ttl":              Frame(src, c, p, End()),
		"ttl repeated":        Frame(src, c, p, ttl, ttl, End()),
		"system name twice":   Frame(src, c, p, ttl, String(5, "a"), String(5, "b"), End()),
		"short ttl":           Frame(src, c, p, TLV(3, []byte{1}), End()),
		"length past the end": append(Frame(src, c, p, ttl), 0x0a, 0xff, 1),
		"short capabilities":  Frame(src, c, p, ttl, TLV(7, []byte{0, 4}), End()),
		"short org":           Frame(src, c, p, ttl, TLV(127, []byte{0, 0x80}), End()),
		"short vlan name":     Frame(src, c, p, ttl, Org(0x0080c2, 3, []byte{0, 1}), End()),
		"vlan name length":    Frame(src, c, p, ttl, Org(0x0080c2, 3, []byte{0, 1, 9, 'a'}), End()),
		"short port vlan":     Frame(src, c, p, ttl, Org(0x0080c2, 1, []byte{1}), End()),
		"short mtu":           Frame(src, c, p, ttl, Org(0x00120f, 4, []byte{1}), End()),
		"short link agg":      Frame(src, c, p, ttl, Org(0x00120f, 3, []byte{1, 2}), End()),
		"mgmt address length": Frame(src, c, p, ttl, TLV(8, []byte{255, 1, 1, 2, 3, 4, 2, 0, 0, 0, 1, 0}), End()),
		"mgmt oid length":     Frame(src, c, p, ttl, TLV(8, []byte{5, 1, 1, 2, 3, 4, 2, 0, 0, 0, 1, 9}), End()),
		"empty chassis":       Frame(src, TLV(1, nil), p, ttl, End()),
		"not lldp":            append(append(append([]byte{}, Dest...), src...), 0x08, 0x00, 0x45),
	} {
		if n, err := lldp.Decode(frame); !errors.Is(err, lldp.ErrMalformed) {
			t.Errorf("%s: got %v, %v; want ErrMalformed", name, n, err)
		}
	}
	big := Frame(src, c, p, ttl, String(6, strings.Repeat("x", 500)), String(4, strings.Repeat("y", 500)), Org(0x0012bb, 9, bytes.Repeat([]byte{1}, 500)), End())
	if _, err := lldp.Decode(big); !errors.Is(err, lldp.ErrOversized) {
		t.Errorf("a %d-byte LLDPDU: %v; want ErrOversized", len(big)-14, err)
	}
}

func TestDecodeMakesTextSafe(t *testing.T) {
	n, err := lldp.Decode(Frame(src, ChassisMAC(src), PortName("p\x01"), TTL(5), String(5, "a\xffb\x00\x00"), End()))
	if err != nil {
		t.Fatal(err)
	}
	if n.SystemName != "a\uFFFDb" || n.PortID != "p\uFFFD" {
		t.Errorf("system name %q, port %q", n.SystemName, n.PortID)
	}
}

func TestChanges(t *testing.T) {
	a, _ := lldp.Decode(full())
	b, _ := lldp.Decode(Frame(src, ChassisMAC(net.HardwareAddr{0, 1, 0x30, 0xf9, 0xad, 0xa0}), PortName("swp1"), TTL(60), String(5, "sw2"), End()))
	if lldp.Same(a, b) {
		t.Fatal("different LLDPDUs are the same")
	}
	got := strings.Join(lldp.Changes(a, b), ",")
	if !strings.HasPrefix(got, "port description,system name,system description,") {
		t.Errorf("changes %s", got)
	}
	c, _ := lldp.Decode(full())
	c.Elements[2].Properties[0].Value = "5"
	if !lldp.Same(a, c) || len(lldp.Changes(a, c)) != 0 {
		t.Error("a new TTL is a change")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(full())
	f.Add(Frame(src, ChassisMAC(src), PortName("p"), TTL(1), End()))
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, err := lldp.Decode(frame)
		if err == nil && (n == nil || len(n.Elements) < 3) {
			t.Fatalf("no error and %v", n)
		}
		if err != nil && n != nil {
			t.Fatalf("an error and a neighbour")
		}
	})
}
