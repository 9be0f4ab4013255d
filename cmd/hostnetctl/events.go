package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// pollInterval spaces the requests of events -f.
const pollInterval = time.Second

type event struct {
	ID       string `json:"id"`
	Time     string `json:"time"`
	Severity string `json:"severity"`
	// Name is the event's stable code (NETWORK_CHANGE_APPLIED); code is
	// its number, as an engine's.
	Name        string `json:"name"`
	Description string `json:"description"`
}

// events prints the daemon's events oldest first and, when following,
// polls for newer ones (GET events?from=ID) until ctx ends.
func (p *printer) events(ctx context.Context, c *client, follow bool) error {
	host, err := c.host(ctx)
	if err != nil {
		return err
	}
	if !follow && p.json {
		doc, err := c.get(ctx, host+"/events", nil)
		return p.rawOr(doc, err)
	}
	var last int64
	for first := true; ; first = false {
		path := host + "/events"
		if last > 0 {
			path += "?from=" + strconv.FormatInt(last, 10)
		}
		var doc struct {
			Event []json.RawMessage `json:"event"`
		}
		if _, err := c.get(ctx, path, &doc); err != nil {
			return err
		}
		slices.Reverse(doc.Event) // the daemon lists the newest first
		for _, raw := range doc.Event {
			var e event
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("reading an event: %w", err)
			}
			if id, err := strconv.ParseInt(e.ID, 10, 64); err == nil && id > last {
				last = id
			}
			if err := p.event(e, raw); err != nil {
				return err
			}
		}
		if !follow {
			return nil
		}
		if first && !p.json && len(doc.Event) == 0 {
			fmt.Fprintln(p.w, "(no events yet; waiting)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// event prints one event: a line of text, or (following, with -o json) the
// daemon's JSON object on a line of its own.
func (p *printer) event(e event, raw json.RawMessage) error {
	if p.json {
		_, err := fmt.Fprintf(p.w, "%s\n", raw)
		return err
	}
	when := e.Time
	if t, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
		when = t.Local().Format("2006-01-02 15:04:05")
	}
	_, err := fmt.Fprintf(p.w, "%-5s %s  %-7s  %-26s  %s\n", e.ID, when, e.Severity, e.Name, e.Description)
	return err
}
