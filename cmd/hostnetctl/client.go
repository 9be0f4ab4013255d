package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiBase is the API root on the daemon's socket; the host part of the URL
// is ignored by a Unix socket.
const apiBase = "http://hostnetd/ovirt-engine/api"

// client speaks hostnetd's HTTP API over its Unix socket, in JSON.
type client struct {
	socket string
	http   *http.Client
	hostID string // found on first use
}

func newClient(socket string) *client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &client{socket: socket, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		},
	}}}
}

// answer is a successful response: the JSON document and the headers.
type answer struct {
	body   []byte
	header http.Header
}

// faultError is an oVirt fault the daemon answered with.
type faultError struct {
	status               int
	reason, detail, code string
}

func (e *faultError) Error() string {
	msg := fmt.Sprintf("%d %s", e.status, e.reason)
	// hostnetd's details are "[… (CODE)]".
	if d := strings.TrimSuffix(strings.TrimPrefix(e.detail, "["), "]"); d != "" {
		msg += ": " + d
	}
	if e.code != "" && !strings.HasSuffix(msg, "("+e.code+")") {
		msg += " (" + e.code + ")"
	}
	return msg
}

// busy reports a fault that may go away by itself: another change holds
// the host, or restore at boot has not finished.
func (e *faultError) busy() bool {
	return e.status == http.StatusConflict && e.code == "NETWORK_OPERATION_IN_PROGRESS" || e.status == http.StatusServiceUnavailable
}

// unreachableError is a failure to talk to the daemon at all.
type unreachableError struct {
	socket string
	err    error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach hostnetd on %s: %v", e.socket, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// exitCode maps an error to the documented exit status.
func exitCode(ctx context.Context, err error) int {
	var (
		fe *faultError
		ue *usageError
		ne *unreachableError
	)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ne):
		return exitUnreachable
	case errors.As(err, &fe) && fe.busy():
		return exitBusy
	default:
		return exitFault
	}
}

// do sends one request (body, when not nil, as XML or JSON by its first
// character) and returns the answer, or the daemon's fault as a
// *faultError.
func (c *client) do(ctx context.Context, method, path string, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, apiBase+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		ct := "application/xml"
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return answer{}, &unreachableError{socket: c.socket, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, &unreachableError{socket: c.socket, err: fmt.Errorf("reading the answer: %w", err)}
	}
	if resp.StatusCode >= 400 {
		return answer{}, parseFault(resp.StatusCode, data)
	}
	return answer{body: data, header: resp.Header}, nil
}

func parseFault(status int, data []byte) *faultError {
	var f struct{ Reason, Detail, Code string }
	if err := json.Unmarshal(data, &f); err != nil || f.Reason == "" {
		return &faultError{status: status, reason: http.StatusText(status), detail: strings.TrimSpace(string(data))}
	}
	return &faultError{status: status, reason: f.Reason, detail: f.Detail, code: f.Code}
}

// get reads a document into v (when not nil) and returns its raw JSON too.
func (c *client) get(ctx context.Context, path string, v any) ([]byte, error) {
	a, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			return nil, fmt.Errorf("reading the answer to GET %s: %w", path, err)
		}
	}
	return a.body, nil
}

// host is the path of the daemon's one host, found with GET /hosts.
func (c *client) host(ctx context.Context) (string, error) {
	if c.hostID == "" {
		var hosts struct {
			Host []struct{ ID string } `json:"host"`
		}
		if _, err := c.get(ctx, "/hosts", &hosts); err != nil {
			return "", err
		}
		if len(hosts.Host) == 0 {
			return "", errors.New("the daemon lists no host")
		}
		c.hostID = hosts.Host[0].ID
	}
	return "/hosts/" + c.hostID, nil
}

// kernelWrites is the X-Hostnetd-Kernel-Writes of a write's answer.
func kernelWrites(a answer) int {
	n, _ := strconv.Atoi(a.header.Get("X-Hostnetd-Kernel-Writes"))
	return n
}
