package nstest

import "testing"

func TestNewAndVeth(t *testing.T) {
	host := New(t)
	peer := New(t)
	Veth(t, host, "eth0", peer, "p0")
	attrs := Link(t, host, "eth0").Attrs()
	if attrs.MTU != 1500 {
		t.Errorf("eth0 mtu = %d; want 1500", attrs.MTU)
	}
	if got := Link(t, peer, "p0").Type(); got != "veth" {
		t.Errorf("p0 type = %q; want veth", got)
	}
}
