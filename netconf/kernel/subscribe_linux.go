package kernel

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
)

// Subscribe calls changed after every link, address or route notification
// of the namespace, from one goroutine, until ctx ends; it returns once the
// subscriptions are in place. A subscription error (a lost notification
// included) is reported through changed too, so the caller re-reads.
func Subscribe(ctx context.Context, ns *Namespace, changed func()) error {
	done := make(chan struct{})
	links := make(chan netlink.LinkUpdate, 64)
	addrs := make(chan netlink.AddrUpdate, 64)
	routes := make(chan netlink.RouteUpdate, 64)
	failed := make(chan struct{}, 1)
	onErr := func(error) {
		select {
		case failed <- struct{}{}:
		default:
		}
	}
	h := ns.NsHandle()
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{Namespace: h, ErrorCallback: onErr}); err != nil {
		close(done)
		return fmt.Errorf("subscribing to links: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{Namespace: h, ErrorCallback: onErr}); err != nil {
		close(done)
		return fmt.Errorf("subscribing to addresses: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(routes, done, netlink.RouteSubscribeOptions{Namespace: h, ErrorCallback: onErr}); err != nil {
		close(done)
		return fmt.Errorf("subscribing to routes: %w", err)
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-links:
			case <-addrs:
			case <-routes:
			case <-failed:
			}
			changed()
		}
	}()
	return nil
}
