package xmlapi

import (
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// DecodeBond decodes a <host_nic> body of POST /hosts/{id}/nics or PUT
// /hosts/{id}/nics/{bond}: the bond's id and/or name, and its bonding
// (or, as on the design page, link_aggregation).
func DecodeBond(n *Node) (netconf.BondChange, error) {
	e, err := root(n, "host_nic")
	if err != nil {
		return netconf.BondChange{}, err
	}
	return e.bond()
}

func (e elem) bond() (netconf.BondChange, error) {
	var bc netconf.BondChange
	if err := e.check([]string{"name", "bonding", "link_aggregation"}, nil); err != nil {
		return bc, err
	}
	if err := e.exclusive("bonding", "link_aggregation"); err != nil {
		return bc, err
	}
	name, err := e.textOf("name")
	if err != nil {
		return bc, err
	}
	bc.Ref = netconf.Ref{ID: e.id(), Name: name}
	b, ok := e.child("bonding")
	if !ok {
		if b, ok = e.child("link_aggregation"); !ok {
			return bc, nil
		}
	}
	if err := b.check([]string{"options", "slaves"}, nil, "kernel_options"); err != nil {
		return bc, err
	}
	if opts, ok := b.child("options"); ok {
		if bc.Options, err = opts.bondOptions(); err != nil {
			return bc, err
		}
	}
	if slaves, ok := b.child("slaves"); ok {
		if bc.Slaves, err = slaves.refs("host_nic"); err != nil {
			return bc, err
		}
	}
	return bc, nil
}

// bondOptions decodes <options>. The design page's module=bonding is not a
// kernel bond option and is dropped; an option's type is output only.
func (e elem) bondOptions() (*[]netconf.RawOption, error) {
	if err := e.check(nil, []string{"option"}); err != nil {
		return nil, err
	}
	opts := []netconf.RawOption{}
	for o := range e.each("option") {
		if err := o.check([]string{"name", "value"}, nil, "type"); err != nil {
			return nil, err
		}
		name, err := o.textOf("name")
		if err != nil {
			return nil, err
		}
		value, err := o.textOf("value")
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(name, "module") && strings.EqualFold(value, "bonding") {
			continue
		}
		opts = append(opts, netconf.RawOption{Name: name, Value: value})
	}
	return &opts, nil
}

// refs decodes a list of references named item.
func (e elem) refs(item string) (*[]netconf.Ref, error) {
	if err := e.check(nil, []string{item}); err != nil {
		return nil, err
	}
	out := []netconf.Ref{}
	for c := range e.each(item) {
		r, err := c.ref()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return &out, nil
}
