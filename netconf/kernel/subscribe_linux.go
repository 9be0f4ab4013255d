package kernel

import (
	"context"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
)

// subscribeBuffer is the receive buffer of each subscription socket. A
// large transaction sends thousands of notifications in a burst; the
// kernel's default (about 200 KiB) overflows, and then drops them.
const subscribeBuffer = 4 << 20

// resubscribeDelay spaces the attempts to renew a failed subscription.
const resubscribeDelay = 100 * time.Millisecond

// Subscribe calls changed after link, address and route notifications of
// the namespace, from one goroutine, until ctx ends; it returns once the
// subscriptions are in place. Notifications that arrive while changed runs
// are folded into one more call. A subscription error is reported through
// changed too, so the caller re-reads; a subscription the library closed
// (it does on a receive error, such as a buffer overflow) is made again.
func Subscribe(ctx context.Context, ns *Namespace, changed func()) error {
	events := make(chan struct{}, 1)
	notify := func() {
		select {
		case events <- struct{}{}:
		default:
		}
	}
	onErr := func(error) { notify() }
	h := ns.NsHandle()
	err := follow(ctx, "links", notify, func(ch chan netlink.LinkUpdate, done chan struct{}) error {
		return netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{Namespace: h, ErrorCallback: onErr,
			ReceiveBufferSize: subscribeBuffer, ReceiveBufferForceSize: true})
	})
	if err == nil {
		err = follow(ctx, "addresses", notify, func(ch chan netlink.AddrUpdate, done chan struct{}) error {
			return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{Namespace: h, ErrorCallback: onErr,
				ReceiveBufferSize: subscribeBuffer, ReceiveBufferForceSize: true})
		})
	}
	if err == nil {
		err = follow(ctx, "routes", notify, func(ch chan netlink.RouteUpdate, done chan struct{}) error {
			return netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: h, ErrorCallback: onErr,
				ReceiveBufferSize: subscribeBuffer, ReceiveBufferForceSize: true})
		})
	}
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-events:
				changed()
			}
		}
	}()
	return nil
}

// follow keeps one kind of subscription open until ctx ends, calling
// notify for each notification and each failure. The library closes the
// channel of a subscription that failed: it is then made again.
func follow[T any](ctx context.Context, what string, notify func(), subscribe func(chan T, chan struct{}) error) error {
	ch, done := make(chan T, 64), make(chan struct{})
	if err := subscribe(ch, done); err != nil {
		close(done)
		return fmt.Errorf("subscribing to %s: %w", what, err)
	}
	go func() {
		for {
			failed := forward(ctx, ch, notify)
			close(done) // closes the socket
			if !failed {
				drain(ch)
				return
			}
			if ch, done = resubscribe(ctx, subscribe); ch == nil {
				return
			}
			notify() // what changed while it was down
		}
	}()
	return nil
}

// forward calls notify for each notification until ctx ends (false) or
// the library closes the channel (true).
func forward[T any](ctx context.Context, ch chan T, notify func()) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case _, ok := <-ch:
			notify()
			if !ok {
				return true
			}
		}
	}
}

// resubscribe makes a failed subscription again, until it works or ctx
// ends (nil).
func resubscribe[T any](ctx context.Context, subscribe func(chan T, chan struct{}) error) (chan T, chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(resubscribeDelay):
		}
		ch, done := make(chan T, 64), make(chan struct{})
		if subscribe(ch, done) == nil {
			return ch, done
		}
		close(done)
	}
}

// drain empties a subscription's channel until the library closes it, so
// that its receiving goroutine is never left blocked on a send.
func drain[T any](ch chan T) {
	go func() {
		for range ch {
		}
	}()
}
