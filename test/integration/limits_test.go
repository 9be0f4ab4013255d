package integration

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// The HTTP limits (agent/limits.go), each against a real agent on its Unix
// socket with short settings: a slow client is cut off by the read
// timeouts, and connections beyond the limit wait until one closes.

// limitsAgent starts an agent on a namespace with one NIC and the given
// HTTP limits.
func limitsAgent(t *testing.T, adjust func(*agent.Options)) *agenttest.Agent {
	t.Helper()
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	return agenttest.StartWith(t, host, t.TempDir(), adjust)
}

func dialAgent(t *testing.T, ag *agenttest.Agent) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", ag.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// drip writes the pieces one by one, pausing between them, until a write
// fails (the server closed the connection) or all are written; it reports
// how many it wrote.
func drip(c net.Conn, pause time.Duration, pieces []string) <-chan int {
	done := make(chan int, 1)
	go func() {
		for i, p := range pieces {
			if _, err := c.Write([]byte(p)); err != nil {
				done <- i
				return
			}
			time.Sleep(pause)
		}
		done <- len(pieces)
	}()
	return done
}

// waitClosed reads until the server closes the connection and returns
// what it sent; it fails if the connection stays open for limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(limit)); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(c)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server kept the connection open for %v; it sent %q", limit, data)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("reading: %v", err)
	}
	return string(data)
}

// TestSlowHeadersAreCut is a slowloris client: it sends a header line
// every 200 ms, forever, and must be disconnected once the header timeout
// has passed.
func TestSlowHeadersAreCut(t *testing.T) {
	ag := limitsAgent(t, func(o *agent.Options) { o.ReadHeaderTimeout, o.ReadTimeout = 500*time.Millisecond, 5*time.Second })
	c := dialAgent(t, ag)
	pieces := []string{"GET /ovirt-engine/api HTTP/1.1\r\nHost: hostnetd\r\n"}
	for range 100 { // 20 s of headers
		pieces = append(pieces, "X-Slow: x\r\n")
	}
	written := drip(c, 200*time.Millisecond, pieces)
	if got := waitClosed(t, c, 10*time.Second); strings.Contains(got, "200 OK") {
		t.Errorf("the slow request was answered: %q", got)
	}
	if n := <-written; n == len(pieces) {
		t.Errorf("the client could write all its %d header lines", n)
	}
	// Others are still served.
	if r := ag.Get(t, "/ovirt-engine/api"); r.Status != http.StatusOK {
		t.Errorf("GET after the slow client: %d", r.Status)
	}
}

// TestSlowBodyIsCut sends complete headers and then the body a byte at a
// time: the read timeout, which covers the body, must cut it, and the
// request must change nothing.
func TestSlowBodyIsCut(t *testing.T) {
	ag := limitsAgent(t, func(o *agent.Options) { o.ReadHeaderTimeout, o.ReadTimeout = 500*time.Millisecond, time.Second })
	c := dialAgent(t, ag)
	body := `<network><name>slow</name></network>`
	pieces := []string{"POST /ovirt-engine/api/networks HTTP/1.1\r\nHost: hostnetd\r\nContent-Type: application/xml\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"}
	for _, b := range body {
		pieces = append(pieces, string(b))
	}
	written := drip(c, 200*time.Millisecond, pieces) // 7 s for the body
	got := waitClosed(t, c, 10*time.Second)
	if strings.Contains(got, "201 Created") {
		t.Errorf("the slow request was served: %q", got)
	}
	if n := <-written; n == len(pieces) {
		t.Errorf("the client could write its whole body")
	}
	if nets := parseXML(t, ag.Get(t, "/ovirt-engine/api/networks")); len(nets.All("network")) != 0 {
		t.Errorf("the cut request created a network:\n%s", nets.Canonical())
	}
}

// TestConnectionsBeyondTheLimitWait holds MaxConnections connections open
// and checks that one more is not served until one of them closes.
func TestConnectionsBeyondTheLimitWait(t *testing.T) {
	const limit = 3
	ag := limitsAgent(t, func(o *agent.Options) { o.MaxConnections, o.ReadHeaderTimeout = limit, 30*time.Second })
	var held []net.Conn
	for range limit {
		c := dialAgent(t, ag)
		// A request started but not finished keeps the connection busy.
		if _, err := c.Write([]byte("GET /ovirt-engine/api HTTP/1.1\r\n")); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra := dialAgent(t, ag) // the backlog takes it; nobody accepts it yet
	if _, err := extra.Write([]byte("GET /ovirt-engine/api HTTP/1.1\r\nHost: hostnetd\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		_ = extra.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := bufio.NewReader(extra).ReadString('\n')
		if err != nil {
			line = "error: " + err.Error()
		}
		answer <- line
	}()
	select {
	case got := <-answer:
		t.Fatalf("connection %d was served while %d were held: %q", limit+1, limit, got)
	case <-time.After(time.Second):
	}
	held[0].Close()
	select {
	case got := <-answer:
		if !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Errorf("connection %d, once a slot was free: %q", limit+1, got)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("connection %d was not served after one of the %d held ones closed", limit+1, limit)
	}
}
