#!/usr/bin/env bash
# Seeded-bug check: every patch in model/mutants/ plants one concurrency or logic bug in
# a scratch copy of the crate; the suite named for it in model/mutants/LIST (loom models,
# shuttle models, ordinary tests, or Miri on the real crossbeam-epoch build for the
# grace-period bug the loom stand-in cannot see) must then FAIL. A patch that no longer
# applies, or a mutant that does not build, is a failure of this script too.
#
# usage: model/mutants.sh [substring]   (only patches whose name contains substring)
# env:   MUTANTS_TARGET_DIR (default target/mutants), shared by all mutants so that
#        dependencies build once.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
filter=${1:-}
target=${MUTANTS_TARGET_DIR:-$root/target/mutants}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/inproc-mutant.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
total=0
caught=0
skipped=()
problems=()
while read -r patch suite tests; do
    [[ -z "${patch:-}" || "$patch" == \#* ]] && continue
    [[ -n "$filter" && "$patch" != *"$filter"* ]] && continue
    if [ "$suite" = miri ] && ! cargo +nightly miri --version >/dev/null 2>&1; then
        echo "SKIPPED $patch: Miri is not installed here (it needs the nightly miri component)"
        skipped+=("$patch")
        continue
    fi
    total=$((total + 1))
    copy="$scratch/crate"
    rm -rf "$copy" && mkdir -p "$copy"
    (cd "$root" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -C "$copy" -xf -
    if ! (cd "$copy" && patch -p1 --quiet --forward < "$root/model/mutants/$patch") > "$scratch/patch.log" 2>&1; then
        echo "FAIL   $patch: the patch no longer applies"
        cat "$scratch/patch.log"
        problems+=("$patch (does not apply)")
        continue
    fi
    targets=()
    for t in $tests; do targets+=(--test "$t"); done
    cargo=(cargo)
    build_targets=("${targets[@]}")
    case "$suite" in
        loom) env=(RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$target/loom" LOOM_MAX_PREEMPTIONS=3); mode=(--release) ;;
        shuttle) env=(RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR="$target/shuttle" SHUTTLE_ITERS=2000); mode=(--release) ;;
        unit) env=(CARGO_TARGET_DIR="$target/unit"); mode=() ;;
        # The library's own unit tests, by name filter (several after `--`).
        lib) env=(CARGO_TARGET_DIR="$target/unit"); mode=(--lib); targets=(-- $tests); build_targets=() ;;
        miri)
            # 16 schedules: whether a too-early free is hit depends on the interleaving.
            env=(CARGO_TARGET_DIR="$target/miri" MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-many-seeds=0..16")
            # Several name filters: libtest takes any number after `--` (cargo only one).
            cargo=(cargo +nightly miri); mode=(--lib); targets=(-- $tests); build_targets=() ;;
        *) echo "FAIL   $patch: unknown suite $suite"; problems+=("$patch (bad LIST line)"); continue ;;
    esac
    if [ "$suite" = miri ]; then
        # cargo-miri's test "binary" records the directory it was built in and Miri
        # compiles the crate from there when the test runs; cargo may call it fresh for a
        # copy in another scratch directory (an earlier run's), so force a rebuild here.
        rm -rf "$target"/miri/miri/*/debug/.fingerprint/inproc-*
    fi
    start=$(date +%s)
    if ! (cd "$copy" && env "${env[@]}" "${cargo[@]}" test --locked "${mode[@]}" "${build_targets[@]}" --no-run) > "$scratch/build.log" 2>&1; then
        echo "FAIL   $patch: the mutant does not build (a build failure proves nothing)"
        tail -20 "$scratch/build.log"
        problems+=("$patch (does not build)")
        continue
    fi
    if (cd "$copy" && env "${env[@]}" RUST_BACKTRACE=0 timeout 900 "${cargo[@]}" test --locked "${mode[@]}" "${targets[@]}") > "$scratch/test.log" 2>&1; then
        echo "MISSED $patch: $suite ${tests} still pass"
        problems+=("$patch (missed)")
    else
        why=$(grep -m1 -E "panicked at|Causality|deadlock|exceeded|retired twice|differ|assertion|Undefined Behavior" "$scratch/test.log" | cut -c1-150)
        echo "caught $patch by $suite ($(( $(date +%s) - start ))s): ${why:-test failure}"
        caught=$((caught + 1))
    fi
done < "$root/model/mutants/LIST"
if [ "${#skipped[@]}" -ne 0 ]; then
    echo "SKIPPED (not run here, not counted): ${skipped[*]}"
fi
echo "$caught of $total seeded bugs caught"
if [ "${#problems[@]}" -ne 0 ] || [ "$total" -eq 0 ]; then
    printf 'not caught or broken: %s\n' "${problems[@]}"
    exit 1
fi
