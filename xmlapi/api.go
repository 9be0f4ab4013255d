package xmlapi

import "time"

// The API level hostnetd implements, as an engine reports its version in
// product_info: clients compare "major.minor" against the release that
// introduced a feature (the Ansible modules' engine_supported).
const (
	APIMajor    = 4
	APIMinor    = 5
	APIBuild    = 0
	APIRevision = 0
)

// APIFullVersion is the API level as one string.
const APIFullVersion = "4.5.0"

// timeLayout is how times are written: the engine's xs:dateTime with
// milliseconds, which the SDKs parse (at most six fractional digits).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time builds a leaf holding t in the engine's date format.
func Time(name string, t time.Time) *Node { return Text(name, t.Format(timeLayout)) }

// APIInfo is what the entry point reports besides its links.
type APIInfo struct {
	// Build is hostnetd's own version, reported in the hostnetd extension
	// element, apart from the API level in product_info.
	Build string
	// HostUp tells whether the one host counts as active in the summary.
	HostUp bool
	Now    time.Time
}

// APIRoot renders the entry point of the API as an engine serves it:
// product_info with the API level hostnetd implements, a summary of the
// one-host engine, the time, and hostnetd's build in an extension element.
func APIRoot(c Context, info APIInfo) *Node {
	active := int64(0)
	if info.HostUp {
		active = 1
	}
	count := func(name string, active, total int64) *Node {
		return Elem(name, Int("active", active), Int("total", total))
	}
	return Elem("api",
		Link("events", Prefix+"/events"),
		Link("hosts", Prefix+"/hosts"),
		Link("networks", Prefix+"/networks"),
		Elem("product_info",
			Text("name", "hostnetd"),
			Text("vendor", "hostnetd"),
			Elem("version",
				Int("build", APIBuild),
				Text("full_version", APIFullVersion),
				Int("major", APIMajor),
				Int("minor", APIMinor),
				Int("revision", APIRevision),
			),
		),
		Elem("special_objects"),
		Elem("summary",
			count("hosts", active, 1),
			count("storage_domains", 0, 0),
			count("users", 0, 0),
			count("vms", 0, 0),
		),
		Time("time", info.Now),
		c.hostRef().rename("local_host"),
		Elem("hostnetd", Text("version", info.Build)),
	)
}
