package agent

import "net/http"

// routes lists every resource of the API, below the prefix.
func (a *Agent) routes() {
	get := func(h handler) map[string]handler { return map[string]handler{http.MethodGet: h} }
	a.router.handle("", get(a.getAPIRoot))
	a.router.handle("hosts", get(a.listHosts))
	a.router.handle("hosts/{host}", get(a.getHost))
	a.router.handle("hosts/{host}/nics", get(a.listNics))
	a.router.handle("hosts/{host}/nics/{nic}", get(a.getNic))
	a.router.handle("hosts/{host}/nics/{nic}/statistics", get(a.getNicStatistics))
}
