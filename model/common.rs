//! Helpers shared by the loom models.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Runs `f` under loom with the preemption bound from `LOOM_MAX_PREEMPTIONS` (default
/// `default_bound`; an explicit `LOOM_MAX_PREEMPTIONS` always wins, so CI and users can
/// raise it), and prints how many executions loom explored.
///
/// `INPROC_LOOM_UNBOUNDED=1` removes the bound (every interleaving) from every model that
/// has not an explicit `LOOM_MAX_PREEMPTIONS`: loom itself has no value of
/// `LOOM_MAX_PREEMPTIONS` meaning "none" (it parses the variable as a number). Cap such
/// runs with `LOOM_MAX_DURATION` (seconds) or `LOOM_MAX_PERMUTATIONS` together with a
/// small `LOOM_CHECKPOINT_INTERVAL` (loom looks at both caps only every that many
/// executions, 20,000 by default); a capped run prints "CAPPED".
pub(crate) fn check(default_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    run(Some(default_bound), f)
}

/// Runs `f` under loom with no preemption bound: every interleaving of the model's
/// threads. An explicit `LOOM_MAX_PREEMPTIONS` still wins (to bound a quick local run).
pub(crate) fn check_exhaustive(f: impl Fn() + Sync + Send + 'static) {
    run(None, f)
}

/// Runs `f` as a *user's* loom model runs: with inproc's coarse sections on
/// (`inproc::sync::set_model_coarse`, SPEC V-2), at `bound` (`None`: every interleaving).
/// For the models of the coarse mode itself (`model/loom_coarse.rs`); every other model
/// checks inproc's insides, with the sections off.
pub(crate) fn check_coarse(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    run_with(bound, true, f)
}

/// The bound an exhaustive model gets in a debug build (the bare
/// `RUSTFLAGS="--cfg loom" cargo test`): the largest exhaustive models take minutes in a
/// release build and several times that unoptimised, so a debug run bounds them and says
/// so; `--release` (README, CI) explores every interleaving.
const DEBUG_BOUND_FOR_EXHAUSTIVE: usize = 3;

fn run(default_bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    // inproc's own models check its insides: no coarse sections (a user's model has
    // them, `sync::set_model_coarse`), one unarmed attempt per blocking call.
    run_with(default_bound, false, f)
}

fn run_with(default_bound: Option<usize>, coarse: bool, f: impl Fn() + Sync + Send + 'static) {
    inproc::sync::set_model_coarse(coarse);
    let mut b = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        let unbounded = std::env::var("INPROC_LOOM_UNBOUNDED").is_ok_and(|v| v == "1");
        b.preemption_bound = if unbounded {
            None
        } else if default_bound.is_none() && cfg!(debug_assertions) {
            eprintln!(
                "loom: debug build: this exhaustive model runs at preemption bound {DEBUG_BOUND_FOR_EXHAUSTIVE}; \
                 use --release for every interleaving"
            );
            Some(DEBUG_BOUND_FOR_EXHAUSTIVE)
        } else {
            default_bound
        };
    }
    let bound = b.preemption_bound;
    // A std counter: outside the model, so it adds no synchronisation.
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let start = Instant::now();
    let f = Arc::new(f);
    b.check(move || {
        r.fetch_add(1, Ordering::Relaxed);
        if cfg!(debug_assertions) {
            // Unoptimised frames overflow the 32 KiB coroutine stack of loom's main
            // thread (not configurable): run the model on a thread with a larger one.
            let f = f.clone();
            spawn(move || f()).join().unwrap();
        } else {
            f()
        }
    });
    let (n, elapsed) = (runs.load(Ordering::Relaxed), start.elapsed());
    // `Builder::check` returns silently when a cap stops it; it checks the caps before
    // execution `k * checkpoint_interval`, after `k * checkpoint_interval - 1` runs.
    let at_checkpoint = (n + 1) % b.checkpoint_interval == 0;
    let capped = at_checkpoint
        && (b.max_permutations.is_some_and(|m| n + 1 >= m)
            || b.max_duration.is_some_and(|d| elapsed >= d));
    eprintln!(
        "loom: {} executions explored (preemption bound {}) in {:.1} s{}",
        n,
        bound.map_or("none".to_string(), |b| b.to_string()),
        elapsed.as_secs_f64(),
        if capped {
            " CAPPED by LOOM_MAX_DURATION/LOOM_MAX_PERMUTATIONS: not complete"
        } else {
            ""
        }
    );
}

/// `loom::thread::spawn` with a larger stack: loom's threads are coroutines with 32 KiB
/// stacks, which the deeper call chains of an unoptimised build (`RUSTFLAGS="--cfg loom"
/// cargo test` without `--release`) can overflow.
pub(crate) fn spawn<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> loom::thread::JoinHandle<T> {
    loom::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("loom spawn")
}
