package agent

import (
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	osuser "os/user"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Access control. The Unix socket is trusted: its mode (0660) and group
// are the control, as for any local daemon socket. A request that arrived
// on a TCP listener must carry "Authorization: Bearer TOKEN", a token of
// the tokens file or one issued by the SSO endpoint (sso.go); a read-only
// token cannot write; and each client address has a request budget.

// Stable fault codes of access control.
const (
	CodeUnauthorized    = "UNAUTHORIZED"
	CodeForbidden       = "FORBIDDEN"
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
)

// DefaultTokenLifetime is how long a token issued by the SSO endpoint is
// valid; an SDK that gets 401 logs in again.
const DefaultTokenLifetime = time.Hour

// AccessOptions configure who may use the TCP listeners.
type AccessOptions struct {
	// TokensFile holds bearer tokens, one "TOKEN SCOPE [NAME]" per line
	// (SCOPE ro or rw); optional.
	TokensFile string
	// UsersFile holds the SSO endpoint's users, one
	// "USER:BCRYPT-HASH:SCOPE" per line; optional (no password login).
	UsersFile string
	// TokenLifetime of SSO tokens; DefaultTokenLifetime when 0.
	TokenLifetime time.Duration
	// RateLimit is the requests per second one TCP client address may
	// sustain, RateBurst how many it may send at once; DefaultRateLimit
	// and DefaultRateBurst when 0; a negative RateLimit disables the limit.
	RateLimit float64
	RateBurst int
}

// access holds the credentials and the request budgets.
type access struct {
	log      *zap.Logger
	files    AccessOptions // where reload reads the credentials again
	creds    atomic.Pointer[credentials]
	sessions sessions
	lifetime time.Duration
	limiter  *rateLimiter
	// failures is the budget of failed authentications per client
	// network, bcrypt the password-check slots (authcost.go).
	failures *rateLimiter
	bcrypt   chan struct{}
}

// credentials are the contents of the tokens and users files, replaced
// whole by a reload.
type credentials struct {
	tokens map[tokenKey]principal
	users  map[string]user // nil: no password login
}

func loadCredentials(o AccessOptions) (*credentials, error) {
	var c credentials
	var err error
	if o.TokensFile != "" {
		if c.tokens, err = loadTokens(o.TokensFile); err != nil {
			return nil, err
		}
	}
	if o.UsersFile != "" {
		if c.users, err = loadUsers(o.UsersFile); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// reload reads the tokens and users files again, so that an administrator
// can add, rotate and revoke credentials without a restart. A file that no
// longer reads leaves the credentials in force as they were. The SSO
// sessions of a user who is gone, or whose password or scope changed, end:
// a revoked password must not live on in the tokens it issued.
func (c *access) reload() error {
	creds, err := loadCredentials(c.files)
	if err != nil {
		return err
	}
	c.creds.Store(creds)
	ended := c.sessions.retain(func(p principal) bool {
		u, ok := creds.users[p.name]
		return ok && u.scope == p.scope && string(u.hash) == p.hash
	})
	c.log.Info("credentials reloaded", zap.Int("tokens", len(creds.tokens)), zap.Int("users", len(creds.users)),
		zap.Int("sessions_ended", ended))
	return nil
}

func newAccess(log *zap.Logger, o AccessOptions) (*access, error) {
	c := &access{log: log, files: o, lifetime: o.TokenLifetime}
	if c.lifetime <= 0 {
		c.lifetime = DefaultTokenLifetime
	}
	creds, err := loadCredentials(o)
	if err != nil {
		return nil, err
	}
	c.creds.Store(creds)
	rate, burst := o.RateLimit, o.RateBurst
	if rate == 0 {
		rate = DefaultRateLimit
	}
	if burst == 0 {
		burst = DefaultRateBurst
	}
	c.limiter = newRateLimiter(rate, burst)
	c.failures = newFailureBudget()
	c.bcrypt = make(chan struct{}, bcryptSlots())
	return c, nil
}

// denial is why a request was refused: the fault, the WWW-Authenticate
// challenge of a 401, and the reason counted in the metrics.
type denial struct {
	fault     *Fault
	challenge string
	reason    string
}

const bearerRealm = `Bearer realm="hostnetd"`

// authenticate checks a TCP request's credentials and scope.
func (c *access) authenticate(r *http.Request, now time.Time) *denial {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &denial{reason: "unauthenticated", challenge: bearerRealm, fault: newFault(http.StatusUnauthorized, CodeUnauthorized,
			"Unauthorized", "authentication required: send Authorization: Bearer TOKEN, a token of the tokens file or one from POST %s", ssoTokenPath)}
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return &denial{reason: "unauthenticated", challenge: bearerRealm + `, error="invalid_request"`, fault: newFault(http.StatusUnauthorized,
			CodeUnauthorized, "Unauthorized", "unsupported authorization %q: hostnetd accepts only Bearer tokens", scheme)}
	}
	p, ok := c.creds.Load().tokens[keyOf(token)]
	if !ok {
		p, ok = c.sessions.lookup(token, now)
	}
	if !ok {
		return &denial{reason: "unauthenticated", challenge: bearerRealm + `, error="invalid_token"`, fault: newFault(http.StatusUnauthorized,
			CodeUnauthorized, "Unauthorized", "the bearer token is unknown, expired or revoked")}
	}
	if p.scope != scopeRW && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &denial{reason: "forbidden", fault: newFault(http.StatusForbidden, CodeForbidden, "Forbidden",
			"%s %s: the credentials of %q are read-only", r.Method, r.URL.Path, p.name)}
	}
	return nil
}

// guard puts access control, the SSO endpoints and /metrics in front of
// the API.
func (a *Agent) guard(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote := overTCP(r)
		if remote {
			if wait, ok := a.access.limiter.allow(clientAddr(r), time.Now()); !ok {
				a.metrics.deny("rate_limited")
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
				a.accessFault(w, r, newFault(http.StatusTooManyRequests, CodeTooManyRequests, "Too many requests",
					"too many requests from %s; retry after the time in Retry-After", clientAddr(r)))
				return
			}
		}
		path := foldSlashes(r.URL.Path)
		switch path {
		case ssoTokenPath:
			a.ssoToken(w, r)
			return
		case ssoLogoutPath, ssoRevokePath:
			a.ssoLogout(w, r)
			return
		}
		if remote {
			if d := a.access.authenticate(r, time.Now()); d != nil {
				if d.fault.Status == http.StatusUnauthorized {
					// Counted per client network (authcost.go); one over
					// its budget learns nothing more.
					if wait, ok := a.access.failuresLeft(r, time.Now()); !ok {
						a.metrics.deny("rate_limited")
						w.Header().Set("Retry-After", retryAfter(wait))
						a.accessFault(w, r, newFault(http.StatusTooManyRequests, CodeTooManyRequests, "Too many requests",
							"too many failed authentications from %s; retry after the time in Retry-After", clientNet(r)))
						return
					}
					a.access.failed(r, time.Now())
				}
				a.metrics.deny(d.reason)
				a.log.Debug("request denied", zap.String("client", clientAddr(r)), zap.String("method", r.Method),
					zap.String("path", r.URL.Path), zap.String("code", d.fault.Code))
				if d.challenge != "" {
					w.Header().Set("WWW-Authenticate", d.challenge)
				}
				a.accessFault(w, r, d.fault)
				return
			}
		}
		if path == metricsPath {
			a.serveMetrics(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func (a *Agent) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		f := newFault(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed", "%s is not allowed on %s; allowed: GET", r.Method, metricsPath)
		f.Allow = []string{http.MethodGet}
		a.accessFault(w, r, f)
		return
	}
	a.metrics.handler.ServeHTTP(w, r)
}

// accessFault answers a fault in the encoding the client accepts, XML if it
// accepts neither (a Prometheus scraper): the 401 matters more than a 406.
//
// A client refused for its credentials or its rate is not served further
// on this connection ("Connection: close"): it must not keep a connection
// slot that clients with valid credentials need (slots.go).
func (a *Agent) accessFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	if f.Status == http.StatusUnauthorized || f.Status == http.StatusTooManyRequests {
		w.Header().Set("Connection", "close")
	}
	out, _ := negotiate(r.Header.Get("Accept"))
	a.writeFault(w, r, out, f)
}

// overTCP reports whether r arrived on a TCP listener (TLS or not). A
// request built in-process, without a listener, is trusted like the Unix
// socket's.
func overTCP(r *http.Request) bool {
	_, tcp := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	return tcp
}

// clientAddr is the client's IP address, the key of its request budget.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// foldSlashes folds repeated slashes, as stripPrefix does for the API.
func foldSlashes(path string) string {
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	return path
}

// ListenOptions say how ListenWith protects the listeners it opens.
type ListenOptions struct {
	// TLS, when set, is served on every TCP listener. A listener on an
	// address that is not loopback requires it.
	TLS *tls.Config
	// SocketGroup, when set, is the group of the Unix sockets (a name or
	// a number); their mode 0660 lets its members in.
	SocketGroup string
	// Credentials says whether tokens or users are configured. A TCP
	// listener without any could only answer 401, so it is refused.
	Credentials bool
}

// CheckListen validates a --listen specification against the protection
// it would get, before anything is bound: a TCP listener needs
// credentials, and TLS unless its address is loopback.
func CheckListen(spec string, o ListenOptions) error {
	kind, addr, _ := strings.Cut(spec, ":")
	if kind != "tcp" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", spec, err)
	}
	if !o.Credentials {
		return fmt.Errorf("listen address %q: a TCP listener needs --tokens-file or --users-file: every request on it must authenticate", spec)
	}
	if o.TLS != nil {
		return nil
	}
	if ip, err := netip.ParseAddr(host); (err == nil && !ip.IsLoopback()) || host == "" {
		return fmt.Errorf("listen address %q: a listener on a non-loopback address requires TLS (--tls-cert and --tls-key)", spec)
	}
	return nil // a loopback address, or a name: checked once bound
}

// ListenWith opens a listener as Listen does, protected as o says: TLS on
// TCP, the group of a Unix socket. A TCP listener whose bound address is not
// loopback is refused without TLS, whatever name it was given.
func ListenWith(spec string, o ListenOptions) (net.Listener, error) {
	if err := CheckListen(spec, o); err != nil {
		return nil, err
	}
	ln, err := Listen(spec)
	if err != nil {
		return nil, err
	}
	switch addr := ln.Addr().(type) {
	case *net.TCPAddr:
		if o.TLS != nil {
			return tls.NewListener(ln, o.TLS), nil
		}
		if !addr.IP.IsLoopback() {
			ln.Close()
			return nil, fmt.Errorf("listen address %q: it is bound to %s, not loopback; that requires TLS (--tls-cert and --tls-key)", spec, addr)
		}
	case *net.UnixAddr:
		if o.SocketGroup != "" {
			if err := chgrp(addr.Name, o.SocketGroup); err != nil {
				ln.Close()
				return nil, err
			}
		}
	}
	return ln, nil
}

// chgrp gives a socket to a group. Without CAP_CHOWN the daemon must be a
// member of it (the unit's SupplementaryGroups=).
func chgrp(path, group string) error {
	gid, err := strconv.Atoi(group)
	if err != nil {
		g, lerr := osuser.LookupGroup(group)
		if lerr != nil {
			return fmt.Errorf("--socket-group: %w", lerr)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			return fmt.Errorf("--socket-group %q: gid %q: %w", group, g.Gid, err)
		}
	}
	if err := os.Chown(path, -1, gid); err != nil {
		return fmt.Errorf("giving %s to group %s: %w", path, group, err)
	}
	return nil
}

// LoadTLS loads the certificate (chain) and private key TCP listeners
// serve, refusing a key file that others can read.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("--tls-key: %s is readable by everyone (mode %04o)", keyFile, fi.Mode().Perm())
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Reload reads the credentials files again (SIGHUP, systemctl reload),
// telling systemd it is reloading and then ready again. On error the
// credentials in force stay, and the error says why.
func (a *Agent) Reload() error {
	a.notify("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10))
	defer a.notify("READY=1\nSTATUS=" + a.eng.Status())
	if err := a.access.reload(); err != nil {
		a.log.Error("reloading the credentials failed; keeping those in force", zap.Error(err))
		return err
	}
	return nil
}
