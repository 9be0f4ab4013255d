package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
)

// The documents hostnetctl reads, as much of them as its tables show.

type ref struct {
	ID string `json:"id"`
}

type hostNIC struct {
	ID     string                   `json:"id"`
	Name   string                   `json:"name"`
	MAC    struct{ Address string } `json:"mac"`
	MTU    int                      `json:"mtu"`
	Status string                   `json:"status"`
	Addrs  struct {
		Addr []struct {
			Address string `json:"address"`
			Prefix  int    `json:"prefix"`
			Scope   string `json:"scope"`
		} `json:"ip_address"`
	} `json:"ip_addresses"`
	VLAN *struct {
		ID any `json:"id"`
	} `json:"vlan"`
	Links []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"link"`
	Network *ref `json:"network"` // the network this interface carries
}

type network struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	VLAN *struct {
		ID any `json:"id"`
	} `json:"vlan"`
	MTU    int  `json:"mtu"`
	STP    bool `json:"stp"`
	Usages struct {
		Usage []string `json:"usage"`
	} `json:"usages"`
}

type attachment struct {
	ID      string `json:"id"`
	Network ref    `json:"network"`
	NIC     ref    `json:"host_nic"`
	InSync  *bool  `json:"in_sync"`
	IP      struct {
		Assignments []assignment `json:"ip_address_assignment"`
	} `json:"ip_address_assignments"`
}

type assignment struct {
	Method string `json:"assignment_method"`
	IP     ip     `json:"ip"`
}

type ip struct {
	Address, Netmask, Gateway, Version string
}

type planAnswer struct {
	Plan struct {
		KernelWrites int `json:"kernel_writes"`
		Steps        struct {
			Step []struct {
				Index   int    `json:"index"`
				Op      string `json:"op"`
				Device  string `json:"device"`
				Command string `json:"command"`
			} `json:"step"`
		} `json:"steps"`
		LinksDown struct {
			Link []string `json:"link"`
		} `json:"links_down"`
		ReleasedLeases struct {
			Lease []struct{ Device, Address string } `json:"lease"`
		} `json:"released_leases"`
	} `json:"plan"`
}

// printer prints answers as tables, or as the daemon's JSON.
type printer struct {
	w    io.Writer
	json bool
}

// raw prints a JSON document indented.
func (p *printer) raw(doc []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		return fmt.Errorf("the daemon's answer is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := p.w.Write(b.Bytes())
	return err
}

// table prints rows under a header, aligned.
func (p *printer) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			if r[i] == "" {
				r[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// inventory is what the nics and attachments tables join: the host's
// interfaces and attachments, as documents and decoded, and the names of
// the NICs and networks they refer to by id.
type inventory struct {
	nicsDoc, attsDoc []byte
	nics             []hostNIC
	atts             []attachment
	nicName, netName map[string]string
}

func readInventory(ctx context.Context, c *client) (*inventory, error) {
	host, err := c.host(ctx)
	if err != nil {
		return nil, err
	}
	var (
		inv  = &inventory{nicName: map[string]string{}, netName: map[string]string{}}
		nics struct {
			NIC []hostNIC `json:"host_nic"`
		}
		atts struct {
			Att []attachment `json:"network_attachment"`
		}
		nets struct {
			Network []network `json:"network"`
		}
	)
	if inv.nicsDoc, err = c.get(ctx, host+"/nics", &nics); err != nil {
		return nil, err
	}
	if inv.attsDoc, err = c.get(ctx, host+"/networkattachments", &atts); err != nil {
		return nil, err
	}
	if _, err = c.get(ctx, "/networks", &nets); err != nil {
		return nil, err
	}
	inv.nics, inv.atts = nics.NIC, atts.Att
	for _, n := range nics.NIC {
		inv.nicName[n.ID] = n.Name
	}
	for _, n := range nets.Network {
		inv.netName[n.ID] = n.Name
	}
	return inv, nil
}

func (p *printer) nics(ctx context.Context, c *client) error {
	inv, err := readInventory(ctx, c)
	if err != nil {
		return err
	}
	if p.json {
		return p.raw(inv.nicsDoc)
	}
	var rows [][]string
	for _, n := range inv.nics {
		var addrs, nets []string
		for _, a := range n.Addrs.Addr {
			if a.Scope != "link" {
				addrs = append(addrs, fmt.Sprintf("%s/%d", a.Address, a.Prefix))
			}
		}
		for _, a := range inv.atts {
			if a.NIC.ID == n.ID {
				nets = append(nets, inv.netName[a.Network.ID])
			}
		}
		if n.Network != nil && !slices.Contains(nets, inv.netName[n.Network.ID]) {
			nets = append(nets, inv.netName[n.Network.ID])
		}
		slices.Sort(nets)
		vlan, bond := "", ""
		if n.VLAN != nil {
			vlan = fmt.Sprint(n.VLAN.ID)
		}
		for _, l := range n.Links {
			if l.Rel == "master" {
				bond = inv.nicName[l.Href[strings.LastIndexByte(l.Href, '/')+1:]]
			}
		}
		rows = append(rows, []string{n.Name, n.MAC.Address, fmt.Sprint(n.MTU), n.Status,
			strings.Join(addrs, ","), vlan, bond, strings.Join(nets, ",")})
	}
	return p.table([]string{"NAME", "MAC", "MTU", "STATE", "ADDRESSES", "VLAN", "BOND", "NETWORKS"}, rows)
}

// rawOr prints doc as JSON, or returns err.
func (p *printer) rawOr(doc []byte, err error) error {
	if err != nil {
		return err
	}
	return p.raw(doc)
}

func (p *printer) networks(ctx context.Context, c *client) error {
	var nets struct {
		Network []network `json:"network"`
	}
	doc, err := c.get(ctx, "/networks", &nets)
	if err != nil || p.json {
		return p.rawOr(doc, err)
	}
	var rows [][]string
	for _, n := range nets.Network {
		vlan, mtu := "", "default"
		if n.VLAN != nil {
			vlan = fmt.Sprint(n.VLAN.ID)
		}
		if n.MTU > 0 {
			mtu = fmt.Sprint(n.MTU)
		}
		rows = append(rows, []string{n.Name, vlan, mtu, fmt.Sprint(n.STP), strings.Join(n.Usages.Usage, ","), n.ID})
	}
	return p.table([]string{"NAME", "VLAN", "MTU", "STP", "USAGES", "ID"}, rows)
}

func (p *printer) attachments(ctx context.Context, c *client) error {
	inv, err := readInventory(ctx, c)
	if err != nil {
		return err
	}
	if p.json {
		return p.raw(inv.attsDoc)
	}
	var rows [][]string
	for _, a := range inv.atts {
		inSync := ""
		if a.InSync != nil {
			inSync = fmt.Sprint(*a.InSync)
		}
		rows = append(rows, []string{inv.netName[a.Network.ID], inv.nicName[a.NIC.ID], inSync, addressing(a, "v4"), addressing(a, "v6"), a.ID})
	}
	return p.table([]string{"NETWORK", "NIC", "IN_SYNC", "IPV4", "IPV6", "ID"}, rows)
}

// addressing summarises an attachment's assignments of one IP version:
// "static 192.0.2.10/24 gw 192.0.2.1", "dhcp", "none".
func addressing(a attachment, version string) string {
	var method string
	var addrs []string
	for _, as := range a.IP.Assignments {
		v := as.IP.Version
		if v == "" && as.IP.Address != "" {
			v = "v4"
			if strings.Contains(as.IP.Address, ":") {
				v = "v6"
			}
		}
		if v != version {
			continue
		}
		method = as.Method
		if as.IP.Address != "" {
			s := as.IP.Address + "/" + prefixLen(as.IP.Netmask)
			if as.IP.Gateway != "" {
				s += " gw " + as.IP.Gateway
			}
			addrs = append(addrs, s)
		}
	}
	return strings.TrimSpace(method + " " + strings.Join(addrs, ", "))
}

// prefixLen turns a dotted netmask into a prefix length; a length stays.
func prefixLen(mask string) string {
	if ip := net.ParseIP(mask).To4(); ip != nil {
		ones, _ := net.IPMask(ip).Size()
		return fmt.Sprint(ones)
	}
	return mask
}

func (p *printer) apply(ctx context.Context, c *client, body []byte, dryRun bool) error {
	host, err := c.host(ctx)
	if err != nil {
		return err
	}
	path := host + "/setupnetworks"
	if dryRun {
		path += "?dry_run=true"
	}
	a, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil || p.json {
		return p.rawOr(a.body, err)
	}
	if !dryRun {
		_, err := fmt.Fprintf(p.w, "applied: %d kernel writes\n", kernelWrites(a))
		return err
	}
	var plan planAnswer
	if err := json.Unmarshal(a.body, &plan); err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	for _, l := range plan.Plan.ReleasedLeases.Lease {
		fmt.Fprintf(p.w, "DHCP lease released first: %s %s\n", l.Device, l.Address)
	}
	if plan.Plan.KernelWrites == 0 {
		_, err := fmt.Fprintln(p.w, "dry run: no kernel write; the kernel already runs this")
		return err
	}
	var rows [][]string
	for _, s := range plan.Plan.Steps.Step {
		rows = append(rows, []string{fmt.Sprint(s.Index), s.Op, s.Device, s.Command})
	}
	if err := p.table([]string{"STEP", "OP", "DEVICE", "COMMAND"}, rows); err != nil {
		return err
	}
	down := "none"
	if l := plan.Plan.LinksDown.Link; len(l) > 0 {
		down = strings.Join(l, ", ")
	}
	_, err = fmt.Fprintf(p.w, "links going down: %s\ndry run: %d kernel writes planned, nothing changed\n", down, plan.Plan.KernelWrites)
	return err
}

// action posts one of the host's actions and says done.
func (p *printer) action(ctx context.Context, c *client, name, done string) error {
	host, err := c.host(ctx)
	if err != nil {
		return err
	}
	a, err := c.do(ctx, http.MethodPost, host+"/"+name, []byte("<action/>"))
	if err != nil || p.json {
		return p.rawOr(a.body, err)
	}
	if w := kernelWrites(a); w > 0 {
		done += fmt.Sprintf(" (%d kernel writes)", w)
	}
	_, err = fmt.Fprintln(p.w, done)
	return err
}
