//! Helpers shared by the loom models.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` under loom with the preemption bound from `LOOM_MAX_PREEMPTIONS` (default
/// `default_bound`; an explicit `LOOM_MAX_PREEMPTIONS` always wins, so CI and users can
/// raise it), and prints how many executions loom explored.
pub(crate) fn check(default_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        b.preemption_bound = Some(default_bound);
    }
    let bound = b.preemption_bound;
    // A std counter: outside the model, so it adds no synchronisation.
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, Ordering::Relaxed);
        f()
    });
    eprintln!(
        "loom: {} executions explored (preemption bound {})",
        runs.load(Ordering::Relaxed),
        bound.map_or("none".to_string(), |b| b.to_string())
    );
}
