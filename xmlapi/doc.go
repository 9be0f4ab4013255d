// Package xmlapi translates between the oVirt REST API's documents, in XML
// or JSON, and hostnetd's netconf model. Both encodings go through one
// intermediate tree (Node), so the XML and JSON forms of a document always
// carry the same data: encoders render a Node, decoders build one.
//
// xmlapi knows nothing of netlink or of HTTP routing; it renders and parses
// documents and nothing else.
package xmlapi
