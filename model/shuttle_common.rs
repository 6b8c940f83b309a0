//! Helpers shared by the shuttle models.

#![allow(dead_code)]

/// Iterations per scheduler: `SHUTTLE_ITERS` (CI sets 10,000), default 1,000.
pub(crate) fn iters() -> usize {
    std::env::var("SHUTTLE_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

/// Runs `f` under shuttle's random scheduler and its PCT scheduler (depth 3), or replays
/// one schedule if `SHUTTLE_SCHEDULE` is set (shuttle prints that string when a schedule
/// fails: `SHUTTLE_SCHEDULE=<string> cargo test --release --test <model> <test>`).
pub(crate) fn check(f: impl Fn() + Send + Sync + Clone + 'static) {
    if let Ok(schedule) = std::env::var("SHUTTLE_SCHEDULE") {
        shuttle::replay(f, &schedule);
        return;
    }
    let n = iters();
    shuttle::check_random(f.clone(), n);
    shuttle::check_pct(f, n, 3);
}

/// A random number from shuttle's recorded (replayable) generator.
pub(crate) fn rand(below: u64) -> u64 {
    use shuttle::rand::RngCore;
    shuttle::rand::thread_rng().next_u64() % below
}
