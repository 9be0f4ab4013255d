package netconf

import "testing"

func TestBondSlavesDrift(t *testing.T) {
	bond := &BondConfig{Name: "bond0", Mode: Bond8023AD, Slaves: []string{"eth0", "eth1"}}
	tests := []struct {
		name   string
		links  []Link
		actual string
		inSync bool
	}{
		{"both enslaved", []Link{{Name: "bond0"}, {Name: "eth1", Master: "bond0"}, {Name: "eth0", Master: "bond0"}}, "eth0 eth1", true},
		{"one released", []Link{{Name: "bond0"}, {Name: "eth0", Master: "bond0"}, {Name: "eth1"}}, "eth0", false},
		{"one moved to another bond", []Link{{Name: "bond0"}, {Name: "eth0", Master: "bond0"}, {Name: "eth1", Master: "bond1"}}, "eth0", false},
		{"a stranger enslaved", []Link{{Name: "bond0"}, {Name: "eth0", Master: "bond0"}, {Name: "eth1", Master: "bond0"}, {Name: "eth2", Master: "bond0"}}, "eth0 eth1 eth2", false},
		{"bond gone", []Link{{Name: "eth0"}, {Name: "eth1"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := BondSlavesDrift(bond, &State{Links: tt.links})
			if r.Name != ReportedBondSlaves || r.Expected != "eth0 eth1" || r.Actual != tt.actual || r.InSync != tt.inSync {
				t.Errorf("BondSlavesDrift = %+v; want expected %q, actual %q, in sync %v", r, "eth0 eth1", tt.actual, tt.inSync)
			}
		})
	}
}
