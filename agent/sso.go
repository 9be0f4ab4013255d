package agent

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The oVirt SSO endpoints the SDKs call (ovirtsdk4's Connection, the Go
// SDK): a password grant for a bearer token, and the logout that revokes
// it. Like the engine's, they take form parameters and answer JSON, errors
// as {"error_code": CODE, "error": MESSAGE}; unlike the engine, which sends
// its errors with status 200, hostnetd gives them their HTTP status (the
// SDKs read the body either way).
const (
	ssoTokenPath  = "/ovirt-engine/sso/oauth/token"
	ssoRevokePath = "/ovirt-engine/sso/oauth/revoke"
	ssoLogoutPath = "/ovirt-engine/services/sso-logout"
	// ssoScope is the scope the SDKs ask for: the REST API.
	ssoScope = "ovirt-app-api"
	// maxFormBytes bounds an SSO request's form.
	maxFormBytes = 64 << 10
)

// ssoToken is POST /ovirt-engine/sso/oauth/token with grant_type=password,
// username, password and scope=ovirt-app-api. The answer is the engine's:
// {"access_token", "scope", "exp" (ms since the epoch), "token_type"}.
func (a *Agent) ssoToken(w http.ResponseWriter, r *http.Request) {
	if !ssoForm(w, r) {
		return
	}
	if r.URL.Query().Has("password") {
		// A URL is logged by proxies and kept in histories: a password
		// there is refused, before it is checked, so that it is not used.
		a.log.Warn("SSO login refused: the password was in the URL", zap.String("client", clientAddr(r)))
		ssoError(w, http.StatusBadRequest, "invalid_request", "the password must be sent in the request body (application/x-www-form-urlencoded), never in the URL")
		return
	}
	if g := r.Form.Get("grant_type"); g != "password" {
		ssoError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+g+" is not supported; hostnetd offers password")
		return
	}
	if s := r.Form.Get("scope"); s != "" && !slices.Contains(strings.Fields(s), ssoScope) {
		ssoError(w, http.StatusBadRequest, "invalid_scope", "scope "+s+" is not offered; hostnetd offers "+ssoScope)
		return
	}
	users := a.access.creds.Load().users
	if users == nil {
		a.metrics.deny("unauthenticated")
		ssoError(w, http.StatusUnauthorized, "access_denied", "password login is not enabled on this host")
		return
	}
	name := r.Form.Get("username")
	// The password check costs CPU on purpose: it is paid only by a
	// network within its budget of failures, a few at a time (authcost.go).
	if wait, ok := a.access.failuresLeft(r, time.Now()); !ok {
		a.metrics.deny("rate_limited")
		w.Header().Set("Retry-After", retryAfter(wait))
		ssoError(w, http.StatusTooManyRequests, "access_denied", "too many failed logins from "+clientNet(r)+"; retry after the time in Retry-After")
		return
	}
	release, ok := a.access.bcryptSlot(r.Context())
	if !ok {
		w.Header().Set("Retry-After", "5")
		ssoError(w, http.StatusServiceUnavailable, "server_error", "too many logins at once; retry shortly")
		return
	}
	scope, ok := checkPassword(users, name, r.Form.Get("password"))
	release()
	if !ok {
		a.access.failed(r, time.Now())
		a.metrics.deny("unauthenticated")
		a.log.Warn("SSO login failed", zap.String("user", name), zap.String("client", clientAddr(r)))
		ssoError(w, http.StatusUnauthorized, "access_denied", "Cannot authenticate user '"+name+"': the user name or password is incorrect")
		return
	}
	token, exp := a.access.sessions.issue(principal{name: name, scope: scope, hash: string(users[name].hash)}, a.access.lifetime, time.Now())
	a.log.Info("SSO login", zap.String("user", name), zap.String("scope", scope), zap.String("client", clientAddr(r)), zap.Time("expires", exp))
	ssoJSON(w, http.StatusOK, map[string]any{"access_token": token, "scope": ssoScope, "exp": exp.UnixMilli(), "token_type": "bearer"})
}

// ssoLogout is POST /ovirt-engine/services/sso-logout (what the SDKs call
// on close) and POST /ovirt-engine/sso/oauth/revoke: the token, from the
// form's "token" or the Authorization header, stops working. Holding the
// token is the right to revoke it; an unknown token is not an error, so
// that a logout can be repeated. Tokens of the tokens file are not
// revoked: remove them from the file.
func (a *Agent) ssoLogout(w http.ResponseWriter, r *http.Request) {
	if !ssoForm(w, r) {
		return
	}
	token := r.Form.Get("token")
	if token == "" {
		if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(t)
		}
	}
	if token != "" && a.access.sessions.revoke(token) {
		a.log.Info("SSO logout", zap.String("client", clientAddr(r)))
	}
	ssoJSON(w, http.StatusOK, map[string]any{})
}

// ssoForm checks the method and parses the form (query and body), or
// answers the error.
func ssoForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		ssoError(w, http.StatusMethodNotAllowed, "invalid_request", r.Method+" is not allowed; use POST")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		ssoError(w, http.StatusBadRequest, "invalid_request", "reading the form: "+err.Error())
		return false
	}
	return true
}

func ssoError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized || status == http.StatusTooManyRequests {
		w.Header().Set("Connection", "close") // a failed login gives its connection slot back (slots.go)
	}
	ssoJSON(w, status, map[string]any{"error_code": code, "error": msg})
}

func ssoJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v) // maps of strings and numbers always marshal
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // RFC 6749 5.1: tokens are not cached
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
