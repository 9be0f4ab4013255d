package agent

import "net/http"

// routes lists every resource of the API, below the prefix.
func (a *Agent) routes() {
	type m = map[string]handler
	get := func(h handler) m { return m{http.MethodGet: h} }
	attachments := m{http.MethodGet: a.listAttachments, http.MethodPost: a.addAttachment}
	attachment := m{http.MethodGet: a.getAttachment, http.MethodPut: a.updateAttachment, http.MethodDelete: a.deleteAttachment}

	a.router.handle("", get(a.getAPIRoot))
	a.router.handle("hosts", get(a.listHosts))
	a.router.handle("hosts/{host}", get(a.getHost))
	a.router.handle("hosts/{host}/nics", m{http.MethodGet: a.listNics, http.MethodPost: a.addBond})
	a.router.handle("hosts/{host}/nics/{nic}", m{http.MethodGet: a.getNic, http.MethodPut: a.updateBond, http.MethodDelete: a.deleteBond})
	a.router.handle("hosts/{host}/nics/{nic}/statistics", get(a.getNicStatistics))
	a.router.handle("hosts/{host}/nics/{nic}/linklayerdiscoveryprotocolelements", get(a.getLLDP))
	a.router.handle("hosts/{host}/nics/{nic}/networkattachments", attachments)
	a.router.handle("hosts/{host}/nics/{nic}/networkattachments/{attachment}", attachment)
	a.router.handle("hosts/{host}/networkattachments", attachments)
	a.router.handle("hosts/{host}/networkattachments/{attachment}", attachment)
	a.router.handle("hosts/{host}/setupnetworks", m{http.MethodPost: a.setupNetworks})
	a.router.handle("hosts/{host}/setupnetworks/{action}", get(a.getSetupNetworks))
	a.router.handle("hosts/{host}/commitnetconfig", m{http.MethodPost: a.commitNetConfig})
	a.router.handle("hosts/{host}/confirmconnectivity", m{http.MethodPost: a.confirmConnectivity})
	a.router.handle("hosts/{host}/syncallnetworks", m{http.MethodPost: a.syncAllNetworks})
	a.router.handle("hosts/{host}/events", get(a.listEvents))
	a.router.handle("hosts/{host}/events/{event}", get(a.getEvent))
	a.router.handle("hosts/{host}/nics/{nic}/networklabels", m{http.MethodGet: a.listNicLabels, http.MethodPost: a.addNicLabel})
	a.router.handle("hosts/{host}/nics/{nic}/networklabels/{label}", m{http.MethodGet: a.getNicLabel, http.MethodDelete: a.deleteNicLabel})
	a.router.handle("networks/{network}/networklabels", m{http.MethodGet: a.listNetworkLabels, http.MethodPost: a.addNetworkLabel})
	a.router.handle("networks/{network}/networklabels/{label}", m{http.MethodGet: a.getNetworkLabel, http.MethodDelete: a.deleteNetworkLabel})
	a.router.handle("hosts/{host}/unmanagednetworks", get(a.listUnmanagedNetworks))
	a.router.handle("hosts/{host}/unmanagednetworks/{unmanagednetwork}", m{http.MethodGet: a.getUnmanagedNetwork, http.MethodDelete: a.deleteUnmanagedNetwork})
	a.router.handle("events", get(a.listEvents))
	a.router.handle("events/{event}", get(a.getEvent))
	a.router.handle("networks", m{http.MethodGet: a.listNetworks, http.MethodPost: a.addNetwork})
	a.router.handle("networks/{network}", m{http.MethodGet: a.getNetwork, http.MethodPut: a.updateNetwork, http.MethodDelete: a.deleteNetwork})
	a.qosRoutes()
	a.router.refuseDryRun()
}
