//! Unit tests of [`PMap`] against `std::collections::HashMap`: every short sequence of
//! operations on keys with awkward hashes (deep shared prefixes, full 64-bit
//! collisions), every intermediate version kept and re-checked (persistence), nothing
//! leaked (Miri); random sequences through a real `CowCell` with the real reclamation
//! (every value freed exactly once); the cost of an update; concurrent updaters racing
//! readers (run under Miri with many seeds in CI).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};

use super::*;
use crate::cow::{CowCell, Version};
use crate::reclaim::Domain;

/// A key whose hash is chosen by the test: `.0` is the hash (with [`Identity`]), `.1`
/// tells apart keys with the same hash (a full collision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u64, u8);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// Hashes a `u64` (so a [`Key`]) to itself.
#[derive(Debug, Clone, Default)]
struct Identity;

/// [`Identity`]'s hasher.
#[derive(Debug, Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl BuildHasher for Identity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher::default()
    }
}

type TestMap = PMap<Key, u32, Identity>;

/// Keys with awkward hashes: equal low chunks (they share nodes down to the last
/// level), a difference only in the top bits (chunk 12), full collisions, and two
/// plain ones.
const AWKWARD: [Key; 6] = [
    Key(0b00001, 0),
    Key(0b00001 | 1 << 63, 0),
    Key(0b00001 | 1 << 63, 1),
    Key(0b100001, 0),
    Key(0, 0),
    Key(u64::MAX, 0),
];

/// A version built from nothing with `entries`; free it with `free_all`.
fn build<'a>(entries: impl IntoIterator<Item = (&'a Key, &'a u32)>) -> TestMap {
    let mut txn = Txn::default();
    let mut m = TestMap::with_hasher(Identity);
    for (k, v) in entries {
        m.insert(&mut txn, *k, *v);
    }
    txn.commit_unshared();
    m
}

/// The shape of a version, for comparing versions built by different histories.
fn shape(m: &TestMap) -> String {
    fn node(n: &Node<Key, u32>, out: &mut String) {
        out.push('[');
        for i in 0..WIDTH as usize {
            let Some(c) = n.children.at(i) else { continue };
            out.push_str(&format!("{i:x}:"));
            match c {
                Kid::Leaf(l) => {
                    // SAFETY: versions are alive while the tests look at them.
                    let leaf = unsafe { &*l };
                    let mut keys: Vec<Key> = leaf.entries.iter().map(|e| e.0).collect();
                    keys.sort();
                    out.push_str(&format!("{keys:?}"));
                }
                // SAFETY: as above.
                Kid::Node(n) => node(unsafe { &*n }, out),
            }
        }
        out.push(']');
    }
    let mut out = String::new();
    // SAFETY: as above.
    node(unsafe { &*m.root }, &mut out);
    out
}

/// Checks `m` against `reference` entry by entry, and the canonical form.
fn check(m: &TestMap, reference: &HashMap<Key, u32>) {
    assert_eq!(m.len(), reference.len());
    for k in AWKWARD {
        assert_eq!(m.get(&k), reference.get(&k), "{k:?}");
    }
    let mut seen: Vec<(Key, u32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
    seen.sort();
    let mut want: Vec<(Key, u32)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
    want.sort();
    assert_eq!(seen, want);
    fn canonical(n: &Node<Key, u32>, root: bool) {
        if !root {
            assert!(n.children.iter().next().is_some(), "an empty sub-node");
            assert!(
                !matches!(n.children.only(), Some(Kid::Leaf(_))),
                "a sub-node holding one leaf"
            );
        }
        for c in n.children.iter() {
            match c {
                // SAFETY: versions are alive while the tests look at them.
                Kid::Leaf(l) => assert!(!unsafe { &*l }.entries.is_empty()),
                // SAFETY: as above.
                Kid::Node(n) => canonical(unsafe { &*n }, false),
            }
        }
    }
    // SAFETY: as above.
    canonical(unsafe { &*m.root }, true);
}

/// Depth first over every sequence of operations. Each step builds a new version in its
/// own `Txn` on top of the parent version, which must read the same afterwards
/// (persistence); the `Txn` is then dropped (aborted), which frees exactly what it
/// allocated, so the run leaks nothing (Miri checks that).
fn explore(m: &TestMap, reference: &HashMap<Key, u32>, depth: usize, runs: &mut u64) {
    *runs += 1;
    if depth == 0 {
        return;
    }
    for op in 0..2 * AWKWARD.len() {
        let mut txn = Txn::default();
        let mut next = m.edit(&txn);
        let mut next_ref = reference.clone();
        let key = AWKWARD[op % AWKWARD.len()];
        if op < AWKWARD.len() {
            let had = next_ref.insert(key, depth as u32).is_some();
            assert_eq!(next.insert(&mut txn, key, depth as u32), had);
        } else {
            assert_eq!(next.remove(&mut txn, &key), next_ref.remove(&key).is_some());
        }
        check(&next, &next_ref);
        // The shape depends only on the keys present, not on the history.
        let mut fresh = build(&next_ref);
        assert_eq!(shape(&next), shape(&fresh), "{next_ref:?}");
        // SAFETY: `fresh` is the only version of its map.
        unsafe { fresh.free_all() };
        explore(&next, &next_ref, depth - 1, runs);
        check(m, reference);
        drop(txn);
    }
}

#[test]
fn every_sequence_of_four_operations_matches_a_hash_map_and_versions_persist() {
    let depth = if cfg!(miri) { 2 } else { 4 };
    let mut runs = 0u64;
    let mut root = TestMap::with_hasher(Identity);
    explore(&root, &HashMap::new(), depth, &mut runs);
    // SAFETY: every version built on `root` was aborted: `root` owns its one node.
    unsafe { root.free_all() };
    let ops = 2 * AWKWARD.len() as u64;
    let expected: u64 = (0..=depth as u32).map(|d| ops.pow(d)).sum();
    assert_eq!(runs, expected);
    eprintln!("pmap: {runs} operation sequences (up to {depth} operations) checked");
}

/// Several edits in one `Txn` (as `Names::release` makes): later edits change the
/// nodes the earlier ones copied in place, and the version is still right.
#[test]
fn several_edits_in_one_update_reuse_their_own_copies() {
    let base: HashMap<Key, u32> = (0..200u64).map(|i| (Key(i * 37, 0), i as u32)).collect();
    let mut m = build(&base);
    let mut txn = Txn::default();
    let mut next = m.edit(&txn);
    let mut reference = base.clone();
    for i in 0..50u64 {
        next.remove(&mut txn, &Key(i * 37, 0));
        reference.remove(&Key(i * 37, 0));
        next.insert(&mut txn, Key(i * 37 + 1, 0), 7);
        reference.insert(Key(i * 37 + 1, 0), 7);
    }
    check(&next, &reference);
    check(&m, &base);
    drop(txn);
    check(&m, &base);
    // SAFETY: the only version left.
    unsafe { m.free_all() };
}

#[test]
fn an_update_copies_only_the_path_to_its_key() {
    let n: u64 = if cfg!(miri) { 300 } else { 100_000 };
    let mut txn = Txn::default();
    let mut m: PMap<u64, u64> = PMap::new();
    for i in 0..n {
        m.insert(&mut txn, i, i);
    }
    txn.commit_unshared();
    for (what, key, remove) in [
        ("insert", n + 1, false),
        ("replace", n / 2, false),
        ("remove", n / 3, true),
    ] {
        let mut txn = Txn::default();
        let mut next = m.edit(&txn);
        if remove {
            assert!(next.remove(&mut txn, &key));
        } else {
            next.insert(&mut txn, key, 0);
        }
        // At most one node per level (13 for a 64-bit hash) plus one leaf.
        assert!(
            txn.fresh.count() <= 14,
            "{what} made {} nodes",
            txn.fresh.count()
        );
        drop(txn);
    }
    // SAFETY: the only version left.
    unsafe { m.free_all() };
}

/// Counts live values: each must be dropped exactly once, when the last version or
/// retired node holding it is freed.
#[derive(Debug)]
struct Counted(StdArc<AtomicUsize>, u64);

impl Counted {
    fn new(live: &StdArc<AtomicUsize>, v: u64) -> Self {
        live.fetch_add(1, StdOrdering::SeqCst);
        Counted(live.clone(), v)
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::new(&self.0, self.1)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, StdOrdering::SeqCst);
    }
}

/// A map version as a `CowCell` value.
struct Shared(PMap<u64, Counted>);

impl Version for Shared {
    fn finalize(&mut self) {
        // SAFETY: the cell's last version; nothing reads it any more.
        unsafe { self.0.free_all() };
    }
}

/// xorshift64*: deterministic, so a failure replays.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_updates_through_a_cell_match_and_free_every_value_once() {
    let live = StdArc::new(AtomicUsize::new(0));
    let steps = if cfg!(miri) { 200 } else { 20_000 };
    {
        let domain = Domain::new();
        let cell = CowCell::new(Shared(PMap::new()));
        let mut reference: HashMap<u64, u64> = HashMap::new();
        let mut next = rng(11);
        for step in 0..steps {
            let key = next() % 300;
            let remove = next() % 3 == 0;
            let _ = cell.update(&domain, |m, txn| {
                let mut v = m.0.edit(txn);
                if remove {
                    v.remove(txn, &key);
                } else {
                    v.insert(txn, key, Counted::new(&live, step));
                }
                Ok::<_, ()>((Shared(v), ()))
            });
            if remove {
                reference.remove(&key);
            } else {
                reference.insert(key, step);
            }
        }
        cell.read(&domain, |m| {
            assert_eq!(m.0.len(), reference.len());
            for (k, v) in &reference {
                assert_eq!(m.0.get(k).map(|c| c.1), Some(*v));
            }
        });
        drop(cell);
        drop(domain);
    }
    assert_eq!(
        live.load(StdOrdering::SeqCst),
        0,
        "every value freed exactly once"
    );
}

#[test]
fn concurrent_updaters_and_readers_see_whole_versions() {
    let live = StdArc::new(AtomicUsize::new(0));
    let per = if cfg!(miri) { 12 } else { 2_000 };
    {
        let domain = Domain::new();
        let cell = CowCell::new(Shared(PMap::new()));
        std::thread::scope(|s| {
            // Joined explicitly: the scope's own join can return before a thread's
            // thread-locals (its cached reclamation participant) are destroyed.
            let mut joins = Vec::new();
            for t in 0..2u64 {
                let (cell, domain, live) = (&cell, &domain, &live);
                joins.push(s.spawn(move || {
                    for i in 0..per {
                        // Key pairs (k, k + 1000) are inserted and removed together, so
                        // a reader must see both or neither.
                        let k = t * 100 + i % 50;
                        let remove = i % 3 == 2;
                        let _ = cell.update(domain, |m, txn| {
                            let mut v = m.0.edit(txn);
                            for key in [k, k + 1000] {
                                if remove {
                                    v.remove(txn, &key);
                                } else {
                                    v.insert(txn, key, Counted::new(live, i));
                                }
                            }
                            Ok::<_, ()>((Shared(v), ()))
                        });
                    }
                }));
            }
            for _ in 0..2 {
                let (cell, domain) = (&cell, &domain);
                joins.push(s.spawn(move || {
                    for _ in 0..per {
                        cell.read(domain, |m| {
                            for (k, v) in m.0.iter().filter(|(k, _)| **k < 1000) {
                                let twin = m.0.get(&(k + 1000)).expect("pairs are whole");
                                assert_eq!(twin.1, v.1);
                            }
                        });
                    }
                }));
            }
            for j in joins {
                j.join().unwrap();
            }
        });
        drop(cell);
        drop(domain);
    }
    assert_eq!(
        live.load(StdOrdering::SeqCst),
        0,
        "every value freed exactly once"
    );
}

/// The ownership rule the reclamation relies on, checked after every update of 5,000
/// (each of 1-4 edits): nothing an update replaced is reachable from the version it
/// built, and everything it allocated is. A replaced node still reachable would be freed
/// while a reader can get to it.
#[test]
fn replaced_nodes_are_never_reachable_and_fresh_ones_always_are() {
    fn reach<K, V>(n: *mut Node<K, V>, out: &mut std::collections::HashSet<usize>) {
        out.insert(n as usize);
        // SAFETY: test.
        for c in unsafe { &*n }.children.iter() {
            match c {
                Kid::Leaf(l) => {
                    out.insert(l as usize);
                }
                Kid::Node(m) => reach(m, out),
            }
        }
    }
    let mut next = rng(5);
    let mut m: PMap<u64, u64> = PMap::new();
    let mut graveyard: Vec<Alloc> = Vec::new();
    let steps = if cfg!(miri) { 50 } else { 5000u64 };
    for step in 0..steps {
        let mut txn = Txn::default();
        let mut v = m.edit(&txn);
        for _ in 0..(1 + next() % 4) {
            let key = next() % 200;
            if next() % 3 == 0 {
                v.remove(&mut txn, &key);
            } else {
                v.insert(&mut txn, key, step);
            }
        }
        let mut live = std::collections::HashSet::new();
        reach(v.root, &mut live);
        for a in &txn.replaced {
            assert!(
                !live.contains(&a.0),
                "step {step}: a replaced node is still reachable"
            );
        }
        for a in txn.fresh.iter() {
            assert!(
                live.contains(&a.0),
                "step {step}: a fresh node is not reachable"
            );
        }
        graveyard.extend(std::mem::take(&mut txn.replaced));
        txn.fresh.clear();
        m = v;
    }
    for a in graveyard {
        // SAFETY: test.
        unsafe { (a.1)(a.0) };
    }
    // SAFETY: test.
    unsafe { m.free_all() };
}

/// A child slot is one word (a tagged pointer), so a node of 32 slots is 256 bytes.
#[test]
fn a_node_is_32_words() {
    assert_eq!(
        std::mem::size_of::<Child<Key, u32>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Node<Key, u32>>(),
        32 * std::mem::size_of::<usize>()
    );
}
