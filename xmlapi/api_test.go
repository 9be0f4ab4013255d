package xmlapi

import (
	"testing"
	"time"
)

func TestAPIRootGolden(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 47, 18, 123456789, time.UTC)
	doc := APIRoot(testContext(), APIInfo{Build: "v1.2.3", HostUp: true, Now: now})
	golden(t, "api.xml", MarshalXML(doc))
	golden(t, "api.json", MarshalJSON(doc))
}

// TestTimeFormat pins the date format: the SDKs parse at most six
// fractional digits, so nanoseconds would make every event unreadable.
func TestTimeFormat(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC):                    "2026-01-02T03:04:05.678Z",
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)):         "2026-01-02T03:04:05.000+01:00",
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(5*3600+30*60))): "2026-01-02T03:04:05.000-05:30",
	}
	for in, want := range cases {
		if got := Time("time", in).Text; got != want {
			t.Errorf("Time(%v) = %q; want %q", in, got, want)
		}
	}
}
