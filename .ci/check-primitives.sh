#!/usr/bin/env bash
# Lint for the sync-shim rule (SPEC section 10, STYLE point 2): outside src/sync/, no
# library code names std, loom or shuttle synchronisation primitives, and only
# src/reclaim.rs names crossbeam-epoch. Unit-test modules (from the first
# `#[cfg(all(test` line of a file to its end, or a whole `tests.rs` file) are exempt:
# they run only on std.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
pattern='std::sync::(atomic|Mutex|Condvar|RwLock|Arc)|std::thread|loom::|shuttle::|parking_lot|crossbeam_epoch|crossbeam::'
for f in $(find src -name '*.rs' | sort); do
    # src/sync/ is the shim itself; a `tests.rs` file is a unit-test module of its own.
    case "$f" in src/sync/* | */tests.rs) continue ;; esac
    body=$(awk '/^#\[cfg\(all\(test/ { exit } { print FNR": "$0 }' "$f" | grep -v '^[0-9]*: *//' || true)
    hits=$(printf '%s\n' "$body" | grep -E "$pattern" || true)
    if [ "$f" = src/reclaim.rs ]; then
        # The reclamation module may name crossbeam-epoch, and its model stand-in keeps
        # its retire list behind a std mutex on purpose (invisible to the checkers).
        hits=$(printf '%s\n' "$hits" | grep -vE 'crossbeam_epoch|std::sync::Mutex' || true)
    fi
    if [ -n "$hits" ]; then
        echo "$f names a primitive outside src/sync/:"
        printf '%s\n' "$hits"
        bad=1
    fi
done
if [ "$bad" -ne 0 ]; then
    echo "primitive check FAILED: import them from crate::sync"
    exit 1
fi
echo "primitive check: only src/sync/ (and crossbeam-epoch in src/reclaim.rs) name sync primitives"
