// Package contract holds the wire contract between hostnetd and oVirt's
// own clients: request/response exchanges recorded while the Python SDK
// and the Ansible modules drove the real daemon (make test-clients with
// HOSTNETD_CONTRACT_RECORD set), kept in testdata/*.json, and replayed
// against hostnetd by contract_test.go in make test, without the clients.
package contract

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Placeholders for what differs from one run to the next and is not the
// contract: the SSO token and the user's password.
const (
	TokenPlaceholder    = "{{TOKEN}}"
	PasswordPlaceholder = "{{PASSWORD}}"
)

// KernelMethod marks an exchange that is not HTTP: the test changed the
// kernel behind hostnetd's back (a drift) with ip(8), whose arguments are
// the Path; the replay does the same in its namespace.
const KernelMethod = "IP"

// Fixture is one client suite's recorded exchanges.
type Fixture struct {
	// Client names the client and its version.
	Client string `json:"client"`
	// HostID and HostName are the recorded host's: the replay gives its
	// hostnetd the same, so the ids derived from them (NICs, attachments)
	// are the same.
	HostID   string `json:"host_id"`
	HostName string `json:"host_name"`
	// User is the SSO user the client logged in as.
	User      string     `json:"user"`
	Exchanges []Exchange `json:"exchanges"`
}

// Exchange is one request and its answer.
type Exchange struct {
	// Step says which test or task sent it.
	Step            string            `json:"step,omitempty"`
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Query           string            `json:"query,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	Status          int               `json:"status"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
}

// The headers a client sends or reads that belong to the contract.
var (
	requestHeaders  = []string{"Accept", "Content-Type", "Version", "Authorization", "All-Content", "Prefer", "Filter"}
	responseHeaders = []string{"Content-Type", "Location", "X-Hostnetd-Kernel-Writes", "Www-Authenticate", "Allow"}
)

var (
	bearerRe   = regexp.MustCompile(`^Bearer .*$`)
	tokenRe    = regexp.MustCompile(`"access_token"\s*:\s*"[^"]*"`)
	expRe      = regexp.MustCompile(`"exp"\s*:\s*"?[0-9]+"?`)
	passwordRe = regexp.MustCompile(`(^|&)password=[^&]*`)
	tokenArgRe = regexp.MustCompile(`(^|&)token=[^&]*`)
)

// Record makes an exchange of a request and its answer, with the
// credentials replaced by placeholders.
func Record(step string, req *http.Request, reqBody []byte, status int, respHeader http.Header, respBody []byte) Exchange {
	x := Exchange{
		Step:   step,
		Method: req.Method,
		Path:   req.URL.Path,
		Query:  req.URL.RawQuery,
		Status: status,
	}
	x.RequestHeaders = pick(req.Header, requestHeaders)
	if a, ok := x.RequestHeaders["Authorization"]; ok {
		x.RequestHeaders["Authorization"] = bearerRe.ReplaceAllString(a, "Bearer "+TokenPlaceholder)
	}
	x.ResponseHeaders = pick(respHeader, responseHeaders)
	body := string(reqBody)
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body = passwordRe.ReplaceAllString(body, "${1}password="+url.QueryEscape(PasswordPlaceholder))
		body = tokenArgRe.ReplaceAllString(body, "${1}token="+url.QueryEscape(TokenPlaceholder))
	}
	x.RequestBody = body
	resp := tokenRe.ReplaceAllString(string(respBody), `"access_token":"`+TokenPlaceholder+`"`)
	x.ResponseBody = expRe.ReplaceAllString(resp, `"exp":"0"`)
	return x
}

func pick(h http.Header, names []string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		if v := h.Get(n); v != "" {
			m[n] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// Load reads a fixture.
func Load(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Save writes a fixture, indented, so that a change shows in a diff.
func (f *Fixture) Save(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
