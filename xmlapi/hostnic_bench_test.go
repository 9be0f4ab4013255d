package xmlapi

import (
	"fmt"
	"io"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// BenchmarkHostNics measures one GET /nics answer for S(n), n bridged VLAN
// networks on a bond: rendering and writing, as the agent serves it.
func BenchmarkHostNics(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		st, c := benchState(n)
		links := make([]*netconf.Link, 0, len(st.Links))
		for i := range st.Links {
			links = append(links, &st.Links[i])
		}
		b.Run(fmt.Sprintf("xml/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := HostNicList(c, st, links).WriteXML(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("json/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := HostNicList(c, st, links).WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchState is S(n) with the ids looked up as the agent does (its ids are
// made once and remembered), so that the benchmark counts the rendering's
// work and not the test context's.
func benchState(n int) (*netconf.State, Context) {
	st, c := scaleState(n)
	ids := make(map[string]string, len(st.Links))
	for _, l := range st.Links {
		ids[l.Name] = c.NicID(l.Name)
	}
	c.NicID = func(name string) string { return ids[name] }
	return st, c
}
