package xmlapi

// HostInfo is what the host entity reports.
type HostInfo struct {
	ID, Name string
	// Status is oVirt's host status: up, or initializing while the
	// persistent configuration is being restored at boot.
	Status string
	// OperationInProgress is true while a network transaction runs.
	OperationInProgress bool
	// ConfigDirty is true when the running configuration has changes not
	// committed to the persistent one (the engine's net_config_dirty).
	ConfigDirty bool
}

// Hosts renders the <hosts> collection of the single local host.
func Hosts(c Context, h HostInfo) *Node {
	item := Host(c, h)
	item.Repeated = true
	return Elem("hosts", item)
}

// Host renders the local host.
func Host(c Context, h HostInfo) *Node {
	href := c.hostHref()
	return Elem("host",
		Text("name", h.Name),
		Link("nics", href+"/nics"),
		Link("networkattachments", href+"/networkattachments"),
		Link("unmanagednetworks", href+"/unmanagednetworks"),
		Link("events", href+"/events"),
		Text("status", h.Status),
		Bool("network_operation_in_progress", h.OperationInProgress),
		Bool("net_config_dirty", h.ConfigDirty),
	).WithID(h.ID, href)
}
