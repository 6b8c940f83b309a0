//! The subscription tries, [`Mtrie`] and [`TopicCounts`], against a set of
//! `(prefix, pipe)` and a multiset of prefixes (SPEC rules P; reference rules 72, 77-79).
//!
//! A topic matches a prefix when the prefix starts it, and nothing else is involved: the
//! reference is a scan of the set. After every operation the return values are compared
//! (first subscriber, last unsubscriber, the prefixes `remove_pipe` reports gone, each
//! once), every topic of a fixed list is matched on both sides, and the trie must stay
//! normalised (no node left behind by a removal).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Model;
use crate::route::PipeId;
use crate::route::mtrie::{Mtrie, TopicCounts};

/// The prefixes operations use: the exhaustive tests take the first five (nested,
/// siblings, the empty prefix), the fuzz target all of them.
const PREFIXES: [&[u8]; 8] = [b"", b"a", b"ab", b"b", b"abc", b"abd", b"ba", b"abcd"];

/// Topics matched after every step: every prefix, and extensions and strangers.
const TOPICS: [&[u8]; 11] = [
    b"", b"a", b"ab", b"abc", b"abcd", b"abcde", b"abd", b"b", b"ba", b"bb", b"c",
];

/// Checks that a trie stays normalised, from its `Debug` form (its nodes are private to
/// `mtrie`): at most `2 * prefixes + 1` live nodes (the root, a node per stored prefix and
/// at most one branching node per stored prefix), where free slots show parent `FREE`.
fn normalised(debug: &str, prefixes: usize) -> Result<(), String> {
    let slots = debug.matches("label: ").count();
    let free = debug
        .matches(&format!("parent: {}", usize::MAX - 1))
        .count();
    let live = slots - free;
    if live > 2 * prefixes + 1 {
        return Err(format!(
            "{live} live nodes for {prefixes} prefixes: not normalised"
        ));
    }
    Ok(())
}

/// Pipe `i` (generation 0).
fn pipe(i: u8) -> PipeId {
    PipeId {
        index: u32::from(i),
        generation: 0,
    }
}

/// Bounds of an [`MtrieModel`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct MtrieParams {
    /// Pipes `0..pipes` subscribe.
    pub(crate) pipes: u8,
    /// Prefixes `PREFIXES[..prefixes]` are used.
    pub(crate) prefixes: usize,
}

/// An `Mtrie` operation; prefixes by index in `PREFIXES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MtrieOp {
    /// `add(prefix, pipe)`.
    Add(u8, u8),
    /// `remove(prefix, pipe)`.
    Remove(u8, u8),
    /// `remove_pipe(pipe, on_topic_gone)`.
    RemovePipe(u8),
}

/// `Mtrie` and its reference set.
#[derive(Debug)]
pub(crate) struct MtrieModel {
    params: MtrieParams,
    trie: Mtrie,
    /// `(prefix index, pipe)`.
    set: BTreeSet<(u8, u8)>,
}

impl MtrieModel {
    /// Does some pipe subscribe to exactly `prefix` in the reference?
    fn subscribed(&self, prefix: u8) -> bool {
        self.set.iter().any(|&(q, _)| q == prefix)
    }
}

impl Model for MtrieModel {
    type Op = MtrieOp;
    type Params = MtrieParams;

    fn new(params: MtrieParams) -> Self {
        MtrieModel {
            params,
            trie: Mtrie::default(),
            set: BTreeSet::new(),
        }
    }

    fn ops(&self, out: &mut Vec<MtrieOp>) {
        for q in 0..self.params.pipes {
            for p in 0..self.params.prefixes as u8 {
                out.push(MtrieOp::Add(p, q));
                out.push(MtrieOp::Remove(p, q));
            }
            out.push(MtrieOp::RemovePipe(q));
        }
    }

    fn step(&mut self, op: MtrieOp, check: bool) -> Result<(), String> {
        match op {
            MtrieOp::Add(p, q) => {
                let want = !self.subscribed(p);
                self.set.insert((p, q));
                let got = self.trie.add(PREFIXES[usize::from(p)], pipe(q));
                if got != want {
                    return Err(format!("{op:?} returned {got}, reference {want}"));
                }
            }
            MtrieOp::Remove(p, q) => {
                let want = self.set.remove(&(p, q)) && !self.subscribed(p);
                let got = self.trie.remove(PREFIXES[usize::from(p)], pipe(q));
                if got != want {
                    return Err(format!("{op:?} returned {got}, reference {want}"));
                }
            }
            MtrieOp::RemovePipe(q) => {
                let mine: Vec<u8> = self.set.iter().filter(|e| e.1 == q).map(|e| e.0).collect();
                self.set.retain(|e| e.1 != q);
                let want: BTreeSet<&[u8]> = mine
                    .into_iter()
                    .filter(|&p| !self.subscribed(p))
                    .map(|p| PREFIXES[usize::from(p)])
                    .collect();
                let mut got = Vec::new();
                self.trie
                    .remove_pipe(pipe(q), |prefix| got.push(prefix.to_vec()));
                let got_set: BTreeSet<&[u8]> = got.iter().map(Vec::as_slice).collect();
                if got_set.len() != got.len() || got_set != want {
                    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
                    let got: Vec<String> = got.iter().map(|p| text(p)).collect();
                    let want: Vec<String> = want.into_iter().map(text).collect();
                    return Err(format!("{op:?} reported gone {got:?}, reference {want:?}"));
                }
            }
        }
        if !check {
            return Ok(());
        }
        for topic in TOPICS {
            let matched = self.trie.matches(topic);
            let listed = matched.len();
            let got: BTreeSet<u32> = matched.iter().map(|p| p.index).collect();
            let want: BTreeSet<u32> = self
                .set
                .iter()
                .filter(|&&(p, _)| topic.starts_with(PREFIXES[usize::from(p)]))
                .map(|&(_, q)| u32::from(q))
                .collect();
            if got != want || listed != want.len() {
                return Err(format!(
                    "after {op:?}: matches({topic:?}) = {got:?} ({listed} listed), reference {want:?}"
                ));
            }
        }
        let prefixes: BTreeSet<u8> = self.set.iter().map(|e| e.0).collect();
        normalised(&format!("{:?}", self.trie), prefixes.len())
            .map_err(|e| format!("after {op:?}: {e}"))
    }

    fn key(&self) -> String {
        format!("{:?} {:?}", self.set, self.trie)
    }
}

/// A `TopicCounts` operation; prefixes by index in `PREFIXES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountsOp {
    /// `add(prefix)`.
    Add(u8),
    /// `remove(prefix)`.
    Remove(u8),
}

/// `TopicCounts` and its reference multiset.
#[derive(Debug)]
pub(crate) struct CountsModel {
    prefixes: usize,
    counts: TopicCounts,
    /// By prefix index.
    reference: Vec<u64>,
}

impl Model for CountsModel {
    type Op = CountsOp;
    /// How many of `PREFIXES` are used.
    type Params = usize;

    fn new(prefixes: usize) -> Self {
        CountsModel {
            prefixes,
            counts: TopicCounts::default(),
            reference: vec![0; PREFIXES.len()],
        }
    }

    fn ops(&self, out: &mut Vec<CountsOp>) {
        for p in 0..self.prefixes as u8 {
            out.push(CountsOp::Add(p));
            out.push(CountsOp::Remove(p));
        }
    }

    fn step(&mut self, op: CountsOp, check: bool) -> Result<(), String> {
        match op {
            CountsOp::Add(p) => {
                self.reference[usize::from(p)] += 1;
                self.counts.add(PREFIXES[usize::from(p)]);
            }
            CountsOp::Remove(p) => {
                let n = &mut self.reference[usize::from(p)];
                let want = *n == 1;
                *n = n.saturating_sub(1);
                let got = self.counts.remove(PREFIXES[usize::from(p)]);
                if got != want {
                    return Err(format!("{op:?} returned {got}, reference {want}"));
                }
            }
        }
        if !check {
            return Ok(());
        }
        let live = || (0..PREFIXES.len()).filter(|&p| self.reference[p] > 0);
        for topic in TOPICS {
            let want = live().any(|p| topic.starts_with(PREFIXES[p]));
            if self.counts.matches(topic) != want {
                return Err(format!("after {op:?}: matches({topic:?}) is not {want}"));
            }
        }
        let mut want: Vec<&[u8]> = live().map(|p| PREFIXES[p]).collect();
        want.sort_unstable();
        let mut got = Vec::new();
        self.counts.for_each(|p| got.push(p.to_vec()));
        if got != want {
            return Err(format!(
                "after {op:?}: for_each gave {got:?}, reference {want:?}"
            ));
        }
        Ok(())
    }

    fn key(&self) -> String {
        let mut k = String::new();
        for n in &self.reference {
            let _ = write!(k, "{n},");
        }
        let _ = write!(k, " {:?}", self.counts);
        k
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::super::explore_and_report;
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn mtrie_matches_reference_on_every_sequence() {
        let params = MtrieParams {
            pipes: 2,
            prefixes: 5,
        };
        let s = explore_and_report::<MtrieModel>("mtrie", params, 6);
        assert_eq!(s.max_len, 6);
    }

    #[test]
    #[ignore = "minutes in a debug build: run with --ignored"]
    fn mtrie_matches_reference_with_three_pipes() {
        let params = MtrieParams {
            pipes: 3,
            prefixes: 5,
        };
        explore_and_report::<MtrieModel>("mtrie", params, 6);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "thousands of states: Miri runs the regression tests and the pipes' own"
    )]
    fn topic_counts_match_reference_on_every_sequence() {
        let s = explore_and_report::<CountsModel>("topic counts", 5, 8);
        assert_eq!(s.max_len, 8);
    }
}
