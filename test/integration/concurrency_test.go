//go:build !vmtest

package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// TestConcurrentClients runs 50 clients against one in-process agent (so
// the race detector sees the daemon too) for a bounded time: setupnetworks
// in both dialects, per-resource writes of attachments and networks,
// attach/detach, and reads. Every write must end complete or 409; every
// write sets a consistent group of values, which no read may ever see
// half-set; and in the end the kernel, read back with netlink, must be
// the configuration of the last successful writes.
//
// It runs on this machine's kernel only (!vmtest), where make test runs
// it with the race detector.
func TestConcurrentClients(t *testing.T) {
	const (
		duration   = 10 * time.Second
		setupCount = 20 // setupnetworks clients: c1 on eth1 and c2 on eth2, together
		owners     = 5  // each owns the attachment of o<k> on eth<k>, k = 3..7
		togglers   = 3  // each attaches and detaches t<k> on eth<k>, k = 8..10
		catalogue  = 10 // each edits network d<k> of the catalogue
		readers    = 12
	)
	if n := setupCount + owners + togglers + catalogue + readers; n != 50 {
		t.Fatalf("%d clients; the test is meant for 50", n)
	}
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 11 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	// A short write wait, so that writes also end in 409.
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) { o.WriteWait = 500 * time.Millisecond })
	cl := newConcClient(ag)
	for _, n := range []string{"c1", "c2"} {
		addNetwork(t, ag, `<network id="`+n+`"><name>`+n+`</name></network>`)
	}
	for k := 3; k <= 10; k++ {
		prefix := "o"
		if k >= 8 {
			prefix = "t"
		}
		id := prefix + strconv.Itoa(k)
		addNetwork(t, ag, `<network id="`+id+`"><name>`+id+`</name></network>`)
	}
	for k := range catalogue {
		addNetwork(t, ag, `<network id="d`+strconv.Itoa(k)+`"><name>d`+strconv.Itoa(k)+`</name><description>0</description><comment>0</comment></network>`)
	}
	initial := []string{concAttachment("c1", "eth1", concC1(0), ""), concAttachment("c2", "eth2", concC2(0), "")}
	for k := 3; k <= 7; k++ {
		a, gw := concOwner(k, 0)
		initial = append(initial, concAttachment("o"+strconv.Itoa(k), "eth"+strconv.Itoa(k), a, gw))
	}
	setup(t, ag, modified(initial...))
	attIDs := map[string]string{}
	nicIDs := map[string]string{}
	for _, a := range parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment") {
		id, _ := a.Attr("id")
		net, _ := a.Child("network").Attr("id")
		attIDs[net] = id
	}
	for name, nic := range nicsByName(t, parseXML(t, ag.Get(t, ag.HostPath()+"/nics"))) {
		nicIDs[name], _ = nic.Attr("id")
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var (
		wg       sync.WaitGroup
		problems concProblems
		gen      atomic.Int64 // setupnetworks generations
		okWrites atomic.Int64
		busy     atomic.Int64
		reads    atomic.Int64
		setupsMu sync.Mutex
		setups   []concWrite // successful setupnetworks
	)
	// write sends one write and sorts its answer: ok, busy (409), or a
	// problem.
	write := func(who, method, path, body string, okStatus int) (agenttest.Response, bool) {
		r, err := cl.do(method, path, body)
		switch {
		case err != nil:
			problems.add("%s: %s %s: %v", who, method, path, err)
		case r.Status == okStatus:
			okWrites.Add(1)
			return r, true
		case r.Status == http.StatusConflict && strings.Contains(string(r.Body), "<code>"+engine.CodeOperationInProgress+"</code>"):
			busy.Add(1)
		default:
			problems.add("%s: %s %s: %d, want %d or 409 %s\n%s\nrequest:\n%s", who, method, path, r.Status, okStatus, engine.CodeOperationInProgress, r.Body, body)
		}
		return r, false
	}
	run := func(client func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !problems.full() {
				client()
			}
		}()
	}

	for i := range setupCount {
		design := i%2 == 1
		run(func() {
			g := int(gen.Add(1))
			path, body := ag.HostPath()+"/setupnetworks", modified(concAttachment("c1", "eth1", concC1(g), ""), concAttachment("c2", "eth2", concC2(g), ""))
			if design {
				path, body = "/api/hosts/"+ag.HostID()+"/setupnetworks", concDesignAction(g)
			}
			start := time.Now()
			if _, ok := write("setupnetworks", http.MethodPost, path, body, http.StatusOK); ok {
				setupsMu.Lock()
				setups = append(setups, concWrite{g: g, start: start, end: time.Now()})
				setupsMu.Unlock()
			}
		})
	}
	ownerLast := make([]int, 11) // by k: the generation of the last successful write
	for k := 3; k < 3+owners; k++ {
		g := 0
		run(func() {
			g++
			a, gw := concOwner(k, g)
			body := `<network_attachment><ip_address_assignments>` + ipAssignmentXML("static", "v4", a, "24", gw) + `</ip_address_assignments></network_attachment>`
			if _, ok := write("owner", http.MethodPut, ag.HostPath()+"/networkattachments/"+attIDs["o"+strconv.Itoa(k)], body, http.StatusOK); ok {
				ownerLast[k] = g // only this client writes it; read after wg.Wait
			}
		})
	}
	attached := make([]bool, 11)
	toggled := make([]string, 11) // the attachment id once known
	for k := 8; k < 8+togglers; k++ {
		net, nic := "t"+strconv.Itoa(k), "eth"+strconv.Itoa(k)
		run(func() {
			if !attached[k] {
				r, ok := write("toggler", http.MethodPost, ag.HostPath()+"/nics/"+nicIDs[nic]+"/networkattachments",
					concAttachment(net, "", concToggled(k), ""), http.StatusCreated)
				if ok {
					attached[k] = true
					if n, err := xmlapi.ParseXML(r.Body); err == nil {
						toggled[k], _ = n.Attr("id")
					}
				}
				return
			}
			if _, ok := write("toggler", http.MethodDelete, ag.HostPath()+"/networkattachments/"+toggled[k], "", http.StatusOK); ok {
				attached[k] = false
			}
		})
	}
	catalogueLast := make([]int, catalogue)
	for k := range catalogue {
		g := 0
		run(func() {
			g++
			v := strconv.Itoa(g)
			if _, ok := write("catalogue", http.MethodPut, "/ovirt-engine/api/networks/d"+strconv.Itoa(k),
				`<network><description>`+v+`</description><comment>`+v+`</comment></network>`, http.StatusOK); ok {
				catalogueLast[k] = g
			}
		})
	}
	for i := range readers {
		run(func() {
			reads.Add(1)
			switch i % 3 {
			case 0, 1:
				r, err := cl.do(http.MethodGet, ag.HostPath()+"/networkattachments", "")
				if err != nil || r.Status != http.StatusOK {
					problems.add("GET networkattachments: %v %d %s", err, r.Status, r.Body)
					return
				}
				if err := concCheckAttachments(r.Body, nil); err != nil {
					problems.add("a read saw a half-applied configuration: %v", err)
				}
			case 2:
				r, err := cl.do(http.MethodGet, "/ovirt-engine/api/networks", "")
				if err != nil || r.Status != http.StatusOK {
					problems.add("GET networks: %v %d %s", err, r.Status, r.Body)
					return
				}
				if err := concCheckNetworks(r.Body, nil); err != nil {
					problems.add("a read saw a half-applied network: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for _, p := range problems.list() {
		t.Error(p)
	}
	t.Logf("%d writes complete, %d answered 409, %d reads; %d setupnetworks complete", okWrites.Load(), busy.Load(), reads.Load(), len(setups))
	if t.Failed() {
		return
	}

	// The stored configuration is the last successful write of each
	// client, and consistent.
	atts := ag.Get(t, ag.HostPath()+"/networkattachments")
	last := map[string]int{}
	if err := concCheckAttachments(atts.Body, last); err != nil {
		t.Fatalf("the final configuration: %v", err)
	}
	g := last["c"]
	i := slices.IndexFunc(setups, func(w concWrite) bool { return w.g == g })
	if g != 0 && i < 0 {
		t.Fatalf("the final configuration has generation %d, which no successful setupnetworks wrote", g)
	}
	for _, w := range setups {
		if g == 0 || w.start.After(setups[i].end) {
			t.Errorf("setupnetworks %d began after %d had completed, yet %d is the final configuration", w.g, g, g)
		}
	}
	for k := 3; k < 3+owners; k++ {
		if got := last["o"+strconv.Itoa(k)]; got != ownerLast[k]%256 {
			t.Errorf("o%d has generation %d; its last successful write was %d", k, got, ownerLast[k])
		}
	}
	for k := 8; k < 8+togglers; k++ {
		if _, ok := last["t"+strconv.Itoa(k)]; ok != attached[k] {
			t.Errorf("t%d attached = %v; its last successful write left it attached = %v", k, ok, attached[k])
		}
	}
	netLast := map[string]int{}
	if err := concCheckNetworks(ag.Get(t, "/ovirt-engine/api/networks").Body, netLast); err != nil {
		t.Fatal(err)
	}
	for k := range catalogue {
		if got := netLast["d"+strconv.Itoa(k)]; got != catalogueLast[k] {
			t.Errorf("d%d has description %d; its last successful write was %d", k, got, catalogueLast[k])
		}
	}

	// The kernel, read back with netlink, is that configuration.
	want := map[string]string{"eth1": concC1(g) + "/24", "eth2": concC2(g) + "/24"}
	for k := 3; k < 3+owners; k++ {
		a, _ := concOwner(k, ownerLast[k])
		want["eth"+strconv.Itoa(k)] = a + "/24"
	}
	for k := 8; k < 8+togglers; k++ {
		if attached[k] {
			want["eth"+strconv.Itoa(k)] = concToggled(k) + "/24"
		} else {
			want["eth"+strconv.Itoa(k)] = ""
		}
	}
	for nic, addr := range want {
		_, master, addrs := linkState(t, host, nic)
		if strings.Join(addrs, " ") != addr || master != "" {
			t.Errorf("%s: addresses %v, master %q; want %q and no master", nic, addrs, master, addr)
		}
	}
	for k := 3; k < 3+owners; k++ {
		_, gw := concOwner(k, ownerLast[k])
		if !strings.Contains(strings.Join(routesOf(t, host), "\n"), "via "+gw+" dev eth"+strconv.Itoa(k)) {
			t.Errorf("no route via o%d's gateway %s:\n%s", k, gw, strings.Join(routesOf(t, host), "\n"))
		}
	}
	checkAllInSync(t, ag)
}

// concWrite is a successful setupnetworks: its generation and when it was
// sent and answered.
type concWrite struct {
	g          int
	start, end time.Time
}

// The addresses of a generation: c1 and c2 carry the same generation g in
// their second and third octets; an owner's address and gateway share g in
// the third.
func concC1(g int) string { return fmt.Sprintf("10.%d.%d.1", g>>8&63, g&255) }
func concC2(g int) string { return fmt.Sprintf("10.%d.%d.1", 64+g>>8&63, g&255) }
func concOwner(k, g int) (addr, gw string) {
	return fmt.Sprintf("10.%d.%d.1", 128+k, g&255), fmt.Sprintf("10.%d.%d.254", 128+k, g&255)
}
func concToggled(k int) string { return fmt.Sprintf("10.%d.1.1", 200+k) }

// concAttachment attaches network id to nic (none: from the path) with a
// static /24 and an optional gateway.
func concAttachment(id, nic, addr, gw string) string {
	s := `<network_attachment><network id="` + id + `"/>`
	if nic != "" {
		s += `<host_nic><name>` + nic + `</name></host_nic>`
	}
	return s + `<ip_address_assignments>` + ipAssignmentXML("static", "v4", addr, "24", gw) + `</ip_address_assignments></network_attachment>`
}

// concDesignAction is generation g in the design page's dialect.
func concDesignAction(g int) string {
	att := func(id, nic, addr string) string {
		return `<network_attachment><network id="` + id + `"/><host_nic><name>` + nic + `</name></host_nic><ip_configuration><ipv4s><ipv4>` +
			`<boot_protocol>static</boot_protocol><address>` + addr + `</address><netmask>255.255.255.0</netmask></ipv4></ipv4s></ip_configuration></network_attachment>`
	}
	return `<action><network_attachments>` + att("c1", "eth1", concC1(g)) + att("c2", "eth2", concC2(g)) + `</network_attachments></action>`
}

// concCheckAttachments checks the invariants of a GET networkattachments:
// c1 and c2 are attached with the same generation, each owner's address
// and gateway share theirs. It records the generations in last when given
// (c for c1 and c2, o<k> for owners, t<k> present for togglers).
func concCheckAttachments(body []byte, last map[string]int) error {
	doc, err := xmlapi.ParseXML(body)
	if err != nil {
		return err
	}
	gens := map[string][4]byte{}
	gws := map[string][4]byte{}
	for _, a := range doc.All("network_attachment") {
		net, _ := a.Child("network").Attr("id")
		for _, as := range a.Child("ip_address_assignments").All("ip_address_assignment") {
			ip := as.Child("ip")
			if text(ip, "version") != "v4" {
				continue
			}
			addr, err := netip.ParseAddr(text(ip, "address"))
			if err != nil {
				return fmt.Errorf("%s: address %q: %v", net, text(ip, "address"), err)
			}
			gens[net] = addr.As4()
			if gw, err := netip.ParseAddr(text(ip, "gateway")); err == nil {
				gws[net] = gw.As4()
			}
		}
	}
	c1, ok1 := gens["c1"]
	c2, ok2 := gens["c2"]
	if !ok1 || !ok2 {
		return fmt.Errorf("c1 or c2 is not attached:\n%s", body)
	}
	g1, g2 := int(c1[1])<<8|int(c1[2]), int(c2[1]-64)<<8|int(c2[2])
	if g1 != g2 {
		return fmt.Errorf("c1 has generation %d and c2 %d", g1, g2)
	}
	if last != nil {
		last["c"] = g1
	}
	for net, a := range gens {
		switch net[0] {
		case 'o':
			if gw := gws[net]; gw[2] != a[2] || gw[1] != a[1] {
				return fmt.Errorf("%s has address %v and gateway %v of different writes", net, a, gw)
			}
			if last != nil {
				last[net] = int(a[2])
			}
		case 't':
			if last != nil {
				last[net] = 1
			}
		}
	}
	return nil
}

// concCheckNetworks checks that each d<k> network has the description and
// comment of one write, and records it in last when given.
func concCheckNetworks(body []byte, last map[string]int) error {
	doc, err := xmlapi.ParseXML(body)
	if err != nil {
		return err
	}
	for _, n := range doc.All("network") {
		name := text(n, "name")
		if !strings.HasPrefix(name, "d") {
			continue
		}
		if d, c := text(n, "description"), text(n, "comment"); d != c {
			return fmt.Errorf("%s has description %q and comment %q", name, d, c)
		}
		if last != nil {
			last[name], _ = strconv.Atoi(text(n, "description"))
		}
	}
	return nil
}

// concProblems collects what goes wrong in the clients' goroutines, which
// may not fail the test themselves; past 20 the clients stop.
type concProblems struct {
	mu   sync.Mutex
	msgs []string
}

func (p *concProblems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.msgs) < 20 {
		p.msgs = append(p.msgs, fmt.Sprintf(format, args...))
	}
}

func (p *concProblems) full() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs) >= 20
}

func (p *concProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// concClient is an HTTP client of the agent that reports errors instead of
// failing the test, for use from many goroutines.
type concClient struct{ c *http.Client }

func newConcClient(ag *agenttest.Agent) *concClient {
	return &concClient{c: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", ag.Socket)
		},
	}}}
}

func (c *concClient) do(method, path, body string) (agenttest.Response, error) {
	req, err := http.NewRequest(method, "http://hostnetd"+path, strings.NewReader(body))
	if err != nil {
		return agenttest.Response{}, err
	}
	req.Header.Set("Content-Type", "application/xml")
	resp, err := c.c.Do(req)
	if err != nil {
		return agenttest.Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return agenttest.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, err
}
