//! Exhaustive checks of the routing policies against trivially correct references (SPEC
//! section 11; built for tests and, with `--cfg fuzzing`, for the `route` fuzz target).
//!
//! Each checked policy comes with a [`Model`]: the real policy over real pipes side by
//! side with a reference written in another representation (plain `VecDeque`s, sets,
//! attach numbers instead of indices), stepped by one operation at a time and compared
//! after every step. [`explore`] enumerates every sequence of operations up to a length,
//! breadth first, merging sequences that reach the same combined state: the state key of
//! a model covers the reference state *and* the implementation's whole state (its
//! `Debug` form, pipe ids renamed canonically), so two merged sequences behave alike in
//! every continuation and the exploration is equivalent to running every sequence. Being
//! breadth first, the first failure it reports is a shortest failing sequence.
//!
//! - [`rr`]: `FairQueue` (PULL), `LoadBalance` (PUSH) and both over shared pipes
//!   (DEALER) against a cursor over attach numbers.
//! - [`trie`]: `Mtrie` and `TopicCounts` against a set of `(prefix, pipe)` and a multiset
//!   of prefixes.
//! - [`router`]: ROUTER's routing ids (`socket::router::Router`: generated ids, handover,
//!   ids learnt at a later bind, ROUTER_MANDATORY) against a table of labels and routes.

#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod router;
pub(crate) mod rr;
pub(crate) mod trie;

use std::collections::HashSet;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// A policy and its reference, driven together.
pub(crate) trait Model: Sized {
    /// One operation.
    type Op: Copy + Debug;
    /// The parameters a model is built from (bounds, configuration).
    type Params: Copy + Debug;
    /// The initial state.
    fn new(params: Self::Params) -> Self;
    /// Appends to `out` the operations applicable now, in a fixed order.
    fn ops(&self, out: &mut Vec<Self::Op>);
    /// Applies `op` to implementation and reference and compares their results; with
    /// `check`, also the invariants and queries that do not change the state (readiness,
    /// matching; skipped when replaying a prefix that already passed them). `Err`
    /// describes the first difference.
    fn step(&mut self, op: Self::Op, check: bool) -> Result<(), String>;
    /// The combined state: equal keys must mean equal behaviour in every continuation.
    fn key(&self) -> String;
}

/// What an exploration covered.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// New (not yet seen) states first reached at each length, from 0.
    pub(crate) states_per_len: Vec<usize>,
    /// Steps executed and compared: every applicable operation from every state.
    pub(crate) transitions: usize,
    /// Operations run in all, replays of the prefixes included.
    pub(crate) ops_run: usize,
    /// The longest sequence explored (the bound, unless the state space closed first).
    pub(crate) max_len: usize,
    /// Wall time.
    pub(crate) elapsed: Duration,
}

impl Stats {
    /// Total distinct states.
    pub(crate) fn states(&self) -> usize {
        self.states_per_len.iter().sum()
    }
}

/// A failing sequence: the operations (the last one failed) and the difference.
#[derive(Debug)]
pub(crate) struct Failure<Op> {
    /// The operations from the initial state, the failing one last.
    pub(crate) ops: Vec<Op>,
    /// What differed.
    pub(crate) what: String,
}

impl<Op: Debug> std::fmt::Display for Failure<Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failing sequence of {} ops: {:?}: {}",
            self.ops.len(),
            self.ops,
            self.what
        )
    }
}

/// Runs `ops` from the initial state; all but the last must succeed (they did before).
fn replay<M: Model>(params: M::Params, ops: &[M::Op]) -> M {
    let mut m = M::new(params);
    for &op in ops {
        if let Err(e) = m.step(op, false) {
            unreachable!("replay of {ops:?} failed at {op:?}: {e}");
        }
    }
    m
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    format!("panicked: {text}")
}

/// Checks every sequence of up to `max_len` operations (see the module docs). Returns
/// the counts, or a shortest failing sequence.
pub(crate) fn explore<M: Model>(
    params: M::Params,
    max_len: usize,
) -> Result<Stats, Failure<M::Op>> {
    let start = Instant::now();
    let mut stats = Stats {
        states_per_len: vec![1],
        ..Stats::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    seen.insert(M::new(params).key());
    let mut frontier: Vec<Vec<M::Op>> = vec![Vec::new()];
    let mut ops = Vec::new();
    for len in 1..=max_len {
        let mut next = Vec::new();
        for seq in &frontier {
            ops.clear();
            replay::<M>(params, seq).ops(&mut ops);
            stats.ops_run += seq.len();
            for &op in &ops {
                let mut m = replay::<M>(params, seq);
                stats.ops_run += seq.len() + 1;
                stats.transitions += 1;
                let mut path = seq.clone();
                path.push(op);
                // A panic in the implementation (an overflow, an index out of range) is a
                // failure of this sequence too: report the sequence.
                let stepped = panic::catch_unwind(AssertUnwindSafe(|| m.step(op, true)));
                if let Err(what) = stepped.unwrap_or_else(|p| Err(panic_message(&*p))) {
                    return Err(Failure { ops: path, what });
                }
                if seen.insert(m.key()) {
                    next.push(path);
                }
            }
        }
        stats.max_len = len;
        stats.states_per_len.push(next.len());
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

/// Runs `explore` and reports (for `cargo test -- --nocapture`); panics on a failure.
#[cfg(all(test, not(any(loom, shuttle))))]
pub(crate) fn explore_and_report<M: Model>(name: &str, params: M::Params, max_len: usize) -> Stats {
    match explore::<M>(params, max_len) {
        Ok(s) => {
            eprintln!(
                "{name} {params:?}: every sequence up to length {}: {} states (per length {:?}), \
                 {} steps compared, {} ops run, {:.2?}",
                s.max_len,
                s.states(),
                s.states_per_len,
                s.transitions,
                s.ops_run,
                s.elapsed
            );
            s
        }
        Err(f) => panic!("{name} {params:?}: {f}"),
    }
}

/// Drives `M` with operations decoded from `data`: each byte picks one of the operations
/// applicable at that point. Stops at the first difference and returns it.
fn run_bytes<M: Model>(params: M::Params, data: &[u8]) -> Result<(), Failure<M::Op>> {
    let mut m = M::new(params);
    let mut done = Vec::new();
    let mut ops = Vec::new();
    for &b in data {
        ops.clear();
        m.ops(&mut ops);
        let Some(&op) = ops.get(usize::from(b) % ops.len().max(1)) else {
            return Ok(());
        };
        done.push(op);
        if let Err(what) = m.step(op, true) {
            return Err(Failure { ops: done, what });
        }
    }
    Ok(())
}

/// The `route` fuzz target's entry: the first byte picks the model (PULL, PUSH or DEALER
/// round robin over up to 8 pipes, `Mtrie`, `TopicCounts`), each further byte one
/// operation. Panics on any difference from the reference.
#[cfg(fuzzing)]
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let rest = &rest[..rest.len().min(512)];
    fn check<M: Model>(params: M::Params, data: &[u8]) {
        if let Err(f) = run_bytes::<M>(params, data) {
            panic!("{params:?}: {f}");
        }
    }
    match which % 5 {
        0 => check::<rr::RoundRobin>(rr::Params::new(rr::Config::Pull, 8), rest),
        1 => check::<rr::RoundRobin>(rr::Params::new(rr::Config::Push, 8), rest),
        2 => check::<rr::RoundRobin>(rr::Params::new(rr::Config::Dealer, 8), rest),
        3 => {
            let params = trie::MtrieParams {
                pipes: 4,
                prefixes: 8,
            };
            check::<trie::MtrieModel>(params, rest);
        }
        _ => check::<trie::CountsModel>(8, rest),
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    /// A toy model with a planted bug at depth 3, to check that `explore` finds a
    /// shortest failing sequence and that `run_bytes` decodes and stops.
    #[derive(Debug)]
    struct Counter(u8);

    impl Model for Counter {
        type Op = u8;
        type Params = ();
        fn new((): ()) -> Self {
            Counter(0)
        }
        fn ops(&self, out: &mut Vec<u8>) {
            out.extend([1, 2]);
        }
        fn step(&mut self, op: u8, _: bool) -> Result<(), String> {
            self.0 += op;
            if self.0 == 5 {
                Err("reached 5".into())
            } else {
                Ok(())
            }
        }
        fn key(&self) -> String {
            self.0.to_string()
        }
    }

    #[test]
    fn explore_reports_a_shortest_failure() {
        let f = explore::<Counter>((), 6).unwrap_err();
        assert_eq!(f.ops.len(), 3, "{f}");
        assert_eq!(f.ops.iter().sum::<u8>(), 5);
        let ok = explore::<Counter>((), 2).unwrap();
        assert_eq!(ok.states_per_len, vec![1, 2, 2], "0; 1, 2; 3, 4");
        let f = run_bytes::<Counter>((), &[1, 1, 0]).unwrap_err();
        assert_eq!(
            f.ops,
            vec![2, 2, 1],
            "bytes pick ops modulo the applicable ones"
        );
        assert!(run_bytes::<Counter>((), &[1, 1, 1]).is_ok());
    }
}
