#!/usr/bin/env bash
# Runs hostnetd on a throwaway sandbox namespace and prints how to talk to
# it. Usage: run-sandbox.sh BINARY RUNDIR
set -euo pipefail
bin=$1 dir=$2
sock=$dir/hostnetd.sock
mkdir -p "$dir"
rm -f "$sock"
# A new sandbox is a host that has just booted: the run directory (a tmpfs
# on a real host) starts empty, so hostnetd restores the committed
# configuration into it, and what was never committed is gone, as after a
# reboot. The state directory (committed configuration, catalogue, host id)
# is kept from one run to the next.
rm -rf "$dir/run"

"$bin" --sandbox --state-dir "$dir/state" --run-dir "$dir/run" --listen "unix:$sock" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 50); do
  [ -S "$sock" ] && break
  kill -0 $pid 2>/dev/null || { wait $pid; exit 1; }
  sleep 0.1
done
host=$(cat "$dir/state/host-id")
api="http://localhost/ovirt-engine/api"
cat <<MSG

hostnetd is serving the sandbox namespace 'hostnetd-sandbox' (NICs eth0..eth3).
Try, from another shell:

  curl --unix-socket $sock $api/hosts
  curl --unix-socket $sock $api/hosts/$host/nics
  curl --unix-socket $sock -H 'Accept: application/json' $api/hosts/$host/nics
  curl --unix-socket $sock $api/hosts/$host/nics/eth0/statistics
  ip -n hostnetd-sandbox addr add 192.0.2.10/24 dev eth0   # then GET the nics again

Ctrl-C stops hostnetd and deletes the sandbox. The next make run starts a
new sandbox as a rebooted host: the committed configuration (commitnetconfig,
or commit_on_success) is restored into it, from $dir/state.

MSG
wait $pid
