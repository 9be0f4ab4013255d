package dhcp6

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"time"
)

// leaseFile is the JSON form of a persisted lease. Durations are seconds.
// The server identifier is the DUID's bytes in hex.
type leaseFile struct {
	HWAddr    string       `json:"hwaddr"`
	Link      string       `json:"link"`
	Address   netip.Prefix `json:"address"`
	DNS       []netip.Addr `json:"dns,omitempty"`
	Preferred int64        `json:"preferred"`
	Valid     int64        `json:"valid"`
	T1        int64        `json:"t1"`
	T2        int64        `json:"t2"`
	Acquired  time.Time    `json:"acquired"`
	ServerID  string       `json:"server_id"`
}

func (protocol) EncodeFile(l Lease, hwaddr, link string) any {
	return leaseFile{
		HWAddr:    hwaddr,
		Link:      link,
		Address:   l.Address,
		DNS:       l.DNS,
		Preferred: int64(l.Preferred / time.Second),
		Valid:     int64(l.Valid / time.Second),
		T1:        int64(l.T1 / time.Second),
		T2:        int64(l.T2 / time.Second),
		Acquired:  l.Acquired.Round(0).UTC(),
		ServerID:  hex.EncodeToString(l.ServerID),
	}
}

func (protocol) DecodeFile(data []byte) (l Lease, hwaddr string, ok bool, err error) {
	var f leaseFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Lease{}, "", false, err
	}
	sid, serr := hex.DecodeString(f.ServerID)
	l = Lease{
		Bound:     true,
		Address:   f.Address,
		DNS:       f.DNS,
		Preferred: time.Duration(f.Preferred) * time.Second,
		Valid:     time.Duration(f.Valid) * time.Second,
		T1:        time.Duration(f.T1) * time.Second,
		T2:        time.Duration(f.T2) * time.Second,
		Acquired:  f.Acquired,
		ServerID:  sid,
	}
	return l, f.HWAddr, serr == nil && f.Address.Addr().Is6() && f.Address.Bits() == 128 && f.Valid > 0, nil
}
