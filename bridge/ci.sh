#!/usr/bin/env bash
# CI for inproc-bridge (called from .ci/run). Needs the system libzmq with its pkg-config
# file (Debian/Ubuntu: libzmq3-dev) for the tests and examples, which talk to real libzmq.
# Runs: clippy, the tests, the two-process example, and the throughput example once in
# quick mode. Each step prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n---- bridge: %s ----\n' "$*"; STEP_START=$(date +%s); }
done_step() { printf -- '---- done in %ss ----\n' "$(( $(date +%s) - STEP_START ))"; }

if ! pkg-config --exists libzmq; then
    echo "bridge/ci.sh: libzmq not found by pkg-config (install libzmq3-dev)" >&2
    exit 1
fi
echo "libzmq $(pkg-config --modversion libzmq)"

step "rustfmt and clippy"
cargo fmt -p inproc-bridge --check
cargo clippy --locked -p inproc-bridge --all-targets -- -D warnings
done_step

step "tests against real libzmq (cargo test --locked -p inproc-bridge)"
cargo test --locked -p inproc-bridge
done_step

step "two-process example: bridge_worker (inproc REP workers on tcp) + libzmq_peer"
cargo build --locked -p inproc-bridge --examples
bin="${CARGO_TARGET_DIR:-target}/debug/examples"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Port 0: the worker prints the port it got.
"$bin/bridge_worker" tcp://127.0.0.1:0 > "$log" &
worker=$!
endpoint=""
for _ in $(seq 1 100); do
    endpoint=$(grep -o 'tcp://[0-9.]*:[0-9]*' "$log" | head -n 1 || true)
    [ -n "$endpoint" ] && break
    sleep 0.1
done
if [ -z "$endpoint" ]; then
    kill "$worker" 2>/dev/null || true
    echo "bridge/ci.sh: bridge_worker printed no endpoint" >&2
    exit 1
fi
# The worker is listening once it printed its endpoint. The client
# exits non-zero if a reply is missing or wrong (10 s per reply at most).
if ! timeout 60 "$bin/libzmq_peer" "$endpoint" 100; then
    kill "$worker" 2>/dev/null || true
    echo "bridge/ci.sh: libzmq_peer failed" >&2
    exit 1
fi
# `quit` stops the worker program; it must exit by itself, promptly.
for _ in $(seq 1 100); do
    kill -0 "$worker" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$worker" 2>/dev/null; then
    kill "$worker" 2>/dev/null || true
    echo "bridge/ci.sh: bridge_worker did not stop after quit" >&2
    exit 1
fi
wait "$worker"
cat "$log"
done_step

step "throughput example, quick mode (debug build: a smoke run, not a measurement)"
cargo run --locked -p inproc-bridge --example bridge_thr -- --quick
done_step
