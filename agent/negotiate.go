package agent

import (
	"mime"
	"strconv"
	"strings"
)

// format is the encoding of a document on the wire.
type format int

const (
	formatXML format = iota
	formatJSON
)

func (f format) contentType() string {
	if f == formatJSON {
		return "application/json"
	}
	return "application/xml"
}

// negotiate picks the answer's encoding from the Accept header: XML unless
// the client prefers JSON; ok is false when it accepts neither.
func negotiate(accept string) (format, bool) {
	if strings.TrimSpace(accept) == "" {
		return formatXML, true
	}
	best, bestQ, found := formatXML, -1.0, false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(qs, 64); err == nil {
				q = v
			}
		}
		if q <= 0 {
			continue
		}
		var f format
		switch mt {
		case "application/json":
			f = formatJSON
		case "application/xml", "text/xml", "application/*", "text/*", "*/*":
			f = formatXML
		default:
			continue
		}
		if q > bestQ {
			best, bestQ, found = f, q, true
		}
	}
	return best, found
}
