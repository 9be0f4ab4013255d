package xmlapi

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeSetupNetworks feeds arbitrary bodies, seeded with the request
// samples, to the parser and every decoder; it asserts only that nothing
// panics.
func FuzzDecodeSetupNetworks(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeAll := func(n *Node) {
			_, _ = DecodeSetupNetworks(n)
			_, _ = DecodeNetworkAttachment(n)
			_, _ = DecodeBond(n)
			_, _ = DecodeNetwork(n)
			if n != nil {
				n.Name = "action"
				if _, err := DecodeSetupNetworks(n); err == nil {
					_ = MarshalXML(ActionComplete(n))
				}
			}
		}
		if n, err := ParseXML(body); err == nil {
			decodeAll(n)
		}
		if n, err := ParseJSON(body, "action"); err == nil {
			decodeAll(n)
		}
	})
}
