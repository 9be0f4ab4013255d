module github.com/hostnetd/hostnetd

go 1.26.0

require (
	github.com/beevik/etree v1.8.1
	github.com/google/uuid v1.6.0
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.49.0
)

require go.uber.org/multierr v1.10.0 // indirect
