package netconf

import (
	"errors"
	"reflect"
	"testing"
)

func labelWorld() LabelInput {
	return LabelInput{
		Running: &Config{
			Attachments: []Attachment{{ID: "a-red", NetworkID: "n-red", Nic: "eth0"}, {ID: "a-mgmt", NetworkID: "n-mgmt", Nic: "eth2"}},
			Labels:      []NicLabel{{Label: "red", Nic: "eth0"}},
		},
		Networks: []*Network{
			{ID: "n-red", Name: "red1", Label: "red"},
			{ID: "n-red2", Name: "red2", Label: "red"},
			{ID: "n-blue", Name: "blue1", Label: "blue"},
			{ID: "n-mgmt", Name: "mgmt"},
		},
		NicName:   func(id string) (string, bool) { return map[string]string{"id-eth1": "eth1"}[id], id == "id-eth1" },
		NicExists: func(name string) bool { return name == "eth0" || name == "eth1" || name == "eth2" || name == "bond0" },
	}
}

func TestExpandLabels(t *testing.T) {
	cases := []struct {
		name       string
		request    ChangeSet
		wantMod    []AttachmentChange
		wantRem    []AttachmentRef
		wantLabels []NicLabel
	}{
		{"nothing", ChangeSet{}, nil, nil, []NicLabel{{"red", "eth0"}}},
		// A new label attaches its networks; red1 is attached there already.
		{"label eth1 blue", ChangeSet{ModifiedLabels: []LabelChange{{"blue", Ref{Name: "eth1"}}}},
			[]AttachmentChange{{Network: &Ref{ID: "n-blue"}, Nic: &Ref{Name: "eth1"}}}, nil,
			[]NicLabel{{"blue", "eth1"}, {"red", "eth0"}}},
		{"red gets red2", ChangeSet{ModifiedLabels: []LabelChange{{"red", Ref{Name: "eth0"}}}},
			[]AttachmentChange{{Network: &Ref{ID: "n-red2"}, Nic: &Ref{Name: "eth0"}}}, nil,
			[]NicLabel{{"red", "eth0"}}},
		// Moving a label moves its networks.
		{"move red by id", ChangeSet{ModifiedLabels: []LabelChange{{"red", Ref{ID: "id-eth1"}}}},
			[]AttachmentChange{{Network: &Ref{ID: "n-red"}, Nic: &Ref{Name: "eth1"}}, {Network: &Ref{ID: "n-red2"}, Nic: &Ref{Name: "eth1"}}}, nil,
			[]NicLabel{{"red", "eth1"}}},
		// What the request says of a network wins.
		{"explicit wins", ChangeSet{ModifiedLabels: []LabelChange{{"red", Ref{Name: "eth1"}}},
			ModifiedAttachments: []AttachmentChange{{Network: &Ref{Name: "red2"}, Nic: &Ref{Name: "eth2"}}}},
			[]AttachmentChange{{Network: &Ref{Name: "red2"}, Nic: &Ref{Name: "eth2"}}, {Network: &Ref{ID: "n-red"}, Nic: &Ref{Name: "eth1"}}}, nil,
			[]NicLabel{{"red", "eth1"}}},
		// Ansible removes the label and the attachment it listed, by id.
		{"remove red and its attachment", ChangeSet{RemovedLabels: []string{"red"}, RemovedAttachments: []AttachmentRef{{ID: "a-red"}}},
			nil, []AttachmentRef{{ID: "a-red"}}, []NicLabel{}},
		{"move red, its attachment by id", ChangeSet{ModifiedLabels: []LabelChange{{"red", Ref{Name: "eth1"}}},
			ModifiedAttachments: []AttachmentChange{{ID: "a-red", Nic: &Ref{Name: "eth2"}}}},
			[]AttachmentChange{{ID: "a-red", Nic: &Ref{Name: "eth2"}}, {Network: &Ref{ID: "n-red2"}, Nic: &Ref{Name: "eth1"}}}, nil,
			[]NicLabel{{"red", "eth1"}}},
		{"remove red", ChangeSet{RemovedLabels: []string{"red"}},
			nil, []AttachmentRef{{Network: Ref{ID: "n-red"}}}, []NicLabel{}},
		{"labelled bond removed", ChangeSet{RemovedBonds: []Ref{{Name: "eth0"}}},
			nil, nil, []NicLabel{}},
	}
	for _, c := range cases {
		in := labelWorld()
		in.Request = c.request
		cs, labels, err := ExpandLabels(in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(cs.ModifiedAttachments, c.wantMod) {
			t.Errorf("%s: modified %v; want %v", c.name, cs.ModifiedAttachments, c.wantMod)
		}
		if !reflect.DeepEqual(cs.RemovedAttachments, c.wantRem) {
			t.Errorf("%s: removed %v; want %v", c.name, cs.RemovedAttachments, c.wantRem)
		}
		if len(labels) != len(c.wantLabels) || len(labels) > 0 && !reflect.DeepEqual(labels, c.wantLabels) {
			t.Errorf("%s: labels %v; want %v", c.name, labels, c.wantLabels)
		}
	}
}

func TestExpandLabelsRefuses(t *testing.T) {
	cases := []struct {
		request ChangeSet
		code    string
	}{
		{ChangeSet{RemovedLabels: []string{"blue"}}, CodeLabelNotOnHost},
		{ChangeSet{ModifiedLabels: []LabelChange{{"bad label", Ref{Name: "eth1"}}}}, CodeLabelFormatInvalid},
		{ChangeSet{ModifiedLabels: []LabelChange{{"blue", Ref{Name: "eth9"}}}}, CodeLabelNicNotExists},
		{ChangeSet{ModifiedLabels: []LabelChange{{"blue", Ref{ID: "id-eth9"}}}}, CodeLabelNicNotExists},
		{ChangeSet{ModifiedLabels: []LabelChange{{"blue", Ref{ID: "id-eth1", Name: "eth2"}}}}, CodeLabelNicsIncoherent},
		{ChangeSet{ModifiedLabels: []LabelChange{{"blue", Ref{Name: "eth1"}}, {"blue", Ref{Name: "eth2"}}}}, CodeLabelDuplicate},
		{ChangeSet{RemovedLabels: []string{"red"}, ModifiedLabels: []LabelChange{{"red", Ref{Name: "eth2"}}}}, CodeLabelDuplicate},
	}
	for _, c := range cases {
		in := labelWorld()
		in.Request = c.request
		_, _, err := ExpandLabels(in)
		var re *RuleError
		if !errors.As(err, &re) || re.Code != c.code {
			t.Errorf("%+v: %v; want %s", c.request, err, c.code)
		}
	}
}

func TestCheckLabels(t *testing.T) {
	nets := []*Network{{ID: "n-red", Name: "red1", Label: "red"}, {ID: "n-blue", Name: "blue1", Label: "blue"}}
	st := &State{Links: []Link{{Name: "eth2", Kind: KindDevice}, {Name: "eth2.10", Kind: KindVLAN, VLAN: &VLAN{ID: 10, Base: "eth2"}}}}
	cases := []struct {
		labels      []NicLabel
		attachments []Attachment
		code        string
	}{
		{[]NicLabel{{"a", "bond0"}}, nil, ""},
		{[]NicLabel{{"a", "eth2"}}, nil, ""},
		{[]NicLabel{{"a", "eth0"}}, nil, CodeLabelOnImproperInterface},
		{[]NicLabel{{"a", "eth2.10"}}, nil, CodeLabelOnImproperInterface},
		{[]NicLabel{{"red", "eth2"}}, []Attachment{{NetworkID: "n-red", Nic: "eth2"}}, ""},
		// blue1's label is on no interface: it may be anywhere, or nowhere.
		{[]NicLabel{{"red", "eth2"}}, []Attachment{{NetworkID: "n-red", Nic: "eth2"}, {NetworkID: "n-blue", Nic: "bond0"}}, ""},
		{[]NicLabel{{"red", "eth2"}}, []Attachment{{NetworkID: "n-red", Nic: "bond0"}}, CodeLabeledNetworkElsewhere},
		{[]NicLabel{{"red", "eth2"}}, nil, CodeCannotRemoveLabeledNetwork},
	}
	for _, c := range cases {
		cfg := &Config{Bonds: []BondConfig{{Name: "bond0", Slaves: []string{"eth0", "eth1"}}}, Attachments: c.attachments}
		err := CheckLabels(c.labels, cfg, nets, st)
		var re *RuleError
		if c.code == "" && err != nil || c.code != "" && (!errors.As(err, &re) || re.Code != c.code) {
			t.Errorf("%v %v: %v; want %q", c.labels, c.attachments, err, c.code)
		}
	}
}
