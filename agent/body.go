package agent

import (
	"errors"
	"mime"
	"net/http"

	"github.com/hostnetd/hostnetd/xmlapi"
)

// parseBody reads the request body as XML or JSON, by its Content-Type
// (XML when absent, as oVirt assumes), and checks the root element.
func parseBody(r *request, root string) (*xmlapi.Node, error) {
	if len(r.body) == 0 {
		return nil, badRequest(CodeMalformed, "the request needs a <%s> body", root)
	}
	var (
		n   *xmlapi.Node
		err error
	)
	mt := mediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		// curl -d sends this by default; an administrator typing XML or
		// JSON at a shell means XML or JSON.
		mt = sniff(r.body)
	}
	switch mt {
	case "", "application/xml", "text/xml":
		n, err = xmlapi.ParseXML(r.body)
	case "application/json":
		n, err = xmlapi.ParseJSON(r.body, root)
	default:
		return nil, newFault(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Unsupported media type",
			"cannot read %q; send application/xml or application/json", r.Header.Get("Content-Type"))
	}
	if err != nil {
		return nil, badRequest(CodeMalformed, "%v", err)
	}
	if n.Name != root {
		return nil, badRequest(CodeInvalidValue, "the body is <%s>; this resource takes <%s>", n.Name, root)
	}
	return n, nil
}

func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}

// decodeFault turns a decoder's structural error into a 400 fault.
func decodeFault(err error) error {
	var de *xmlapi.DecodeError
	if errors.As(err, &de) {
		code := CodeInvalidValue
		if de.Code != "" {
			code = de.Code
		}
		return badRequest(code, "%s", de.Error())
	}
	return err
}

func sniff(body []byte) string {
	for _, b := range body {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return "application/json"
		case '<':
			return "application/xml"
		}
		break
	}
	return "application/x-www-form-urlencoded"
}
