package dhcp4

import (
	"encoding/json"
	"net/netip"
	"time"
)

// leaseFile is the JSON form of a persisted lease. Durations are seconds.
type leaseFile struct {
	HWAddr    string       `json:"hwaddr"`
	Link      string       `json:"link"`
	Address   netip.Prefix `json:"address"`
	Router    netip.Addr   `json:"router,omitzero"`
	Routes    []Route      `json:"routes,omitempty"`
	DNS       []netip.Addr `json:"dns,omitempty"`
	LeaseTime int64        `json:"lease_time"`
	T1        int64        `json:"t1"`
	T2        int64        `json:"t2"`
	Acquired  time.Time    `json:"acquired"`
	ServerID  netip.Addr   `json:"server_id,omitzero"`
}

func (protocol) EncodeFile(l Lease, hwaddr, link string) any {
	return leaseFile{
		HWAddr:    hwaddr,
		Link:      link,
		Address:   l.Address,
		Router:    l.Router,
		Routes:    l.Routes,
		DNS:       l.DNS,
		LeaseTime: int64(l.LeaseTime / time.Second),
		T1:        int64(l.T1 / time.Second),
		T2:        int64(l.T2 / time.Second),
		Acquired:  l.Acquired.Round(0).UTC(),
		ServerID:  l.ServerID,
	}
}

func (protocol) DecodeFile(data []byte) (l Lease, hwaddr string, ok bool, err error) {
	var f leaseFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Lease{}, "", false, err
	}
	l = Lease{
		Bound:     true,
		Address:   f.Address,
		Router:    f.Router,
		Routes:    f.Routes,
		DNS:       f.DNS,
		LeaseTime: time.Duration(f.LeaseTime) * time.Second,
		T1:        time.Duration(f.T1) * time.Second,
		T2:        time.Duration(f.T2) * time.Second,
		Acquired:  f.Acquired,
		ServerID:  f.ServerID,
	}
	return l, f.HWAddr, f.Address.Addr().Is4() && f.LeaseTime > 0, nil
}
