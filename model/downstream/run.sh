#!/usr/bin/env bash
# Runs the downstream example's models the way a user of inproc would: the user's own
# `--cfg loom` / `--cfg shuttle` build, release mode (README "Check your own code").
#
#   model/downstream/run.sh            # loom, then shuttle
#   model/downstream/run.sh loom       # one checker only
#   SHUTTLE_ITERS=10000 model/downstream/run.sh shuttle
#
# Each checker builds into its own target dir, target/loom or target/shuttle (under
# $CARGO_TARGET_DIR if set), the ones .ci/run uses for inproc's own models, so inproc
# itself is not built again. The buggy
# protocol's models are `#[should_panic]`: they pass when the checker rejects the bug
# with its report (no abort), and fail if the checker stops finding it.
set -euo pipefail
cd "$(dirname "$0")/../.."
base="${CARGO_TARGET_DIR:-target}"
which="${1:-all}"

run() {
    local cfg="$1" test="$2"
    local start=$SECONDS
    echo "== downstream: --cfg $cfg, test $test"
    RUSTFLAGS="--cfg $cfg" CARGO_TARGET_DIR="$base/$cfg" \
        cargo test --locked --release -p inproc-downstream --test "$test" -- --nocapture --test-threads=1
    echo "== downstream $cfg: $((SECONDS - start)) s (build included)"
}

if [[ "$which" == all || "$which" == loom ]]; then
    run loom loom_pool
fi
if [[ "$which" == all || "$which" == shuttle ]]; then
    SHUTTLE_ITERS="${SHUTTLE_ITERS:-10000}" run shuttle shuttle_pool
fi
