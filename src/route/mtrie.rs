//! Subscription tries (reference rules 72, 77-79): prefix sets over topic bytes, after
//! libzmq's `mtrie.hpp` (XPUB: which pipes subscribed to each prefix) and `trie.hpp`
//! (XSUB: how many times each prefix was subscribed).
//!
//! Both are one radix trie, [`Trie`]: each node holds the bytes of the edge from its
//! parent (so a long topic is one node, not one node per byte) and a value for the exact
//! prefix it spells. Matching a topic walks its bytes once from the root, visiting every
//! node whose prefix starts the topic: the cost is the topic's length plus the matches,
//! whatever the number of subscriptions. Nodes live in an arena (`Vec` plus a free list),
//! so no operation recurses: a chain of nested prefixes as deep as a topic is long
//! overflows the stack neither when matched nor when dropped.
//!
//! The trie stays normalised: apart from the root, a node with an empty value has at
//! least two children. An insert splits an edge where the new prefix diverges; a removal
//! that empties a node deletes it (a leaf) or merges it into its only child.
//!
//! - [`Mtrie`] (XPUB/PUB): each node holds the set of pipes subscribed at that prefix. A
//!   pipe subscribed twice to one prefix is in the set once, as in libzmq: the SUB or
//!   XSUB upstream reference-counts its subscriptions and sends the unsubscribe only when
//!   its count reaches zero (rule 77), so a per-pipe count here would never drop to zero.
//! - [`TopicCounts`] (SUB/XSUB): each node holds how many times the prefix was subscribed.

use super::PipeId;

/// Index of the root node in `Trie::nodes`.
const ROOT: usize = 0;
/// `Node::parent` of the root.
const NO_PARENT: usize = usize::MAX;
/// `Node::parent` of a slot on the free list.
const FREE: usize = usize::MAX - 1;

/// What a node stores; `is_empty` nodes may be pruned.
trait Value: Default {
    fn is_empty(&self) -> bool;
}

/// One trie node (or a free slot).
#[derive(Debug)]
struct Node<V> {
    /// The bytes on the edge from the parent: never empty, except for the root.
    label: Vec<u8>,
    /// `(first byte of the child's label, child index)`, sorted by byte; the first
    /// bytes are distinct.
    children: Vec<(u8, usize)>,
    /// The parent's index; `NO_PARENT` for the root, `FREE` for a free slot.
    parent: usize,
    /// What is stored at exactly the prefix this node spells.
    value: V,
}

impl<V: Value> Node<V> {
    fn new(label: Vec<u8>, parent: usize, children: Vec<(u8, usize)>) -> Self {
        Node {
            label,
            children,
            parent,
            value: V::default(),
        }
    }
}

/// A radix trie over byte strings, in an arena. See the module docs.
#[derive(Debug)]
struct Trie<V> {
    /// `nodes[ROOT]` is the root (the empty prefix); free slots have parent `FREE`.
    nodes: Vec<Node<V>>,
    /// Indices of free slots in `nodes`, reused before the arena grows.
    free: Vec<usize>,
}

impl<V: Value> Default for Trie<V> {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::new(Vec::new(), NO_PARENT, Vec::new())],
            free: Vec::new(),
        }
    }
}

/// Length of the common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl<V: Value> Trie<V> {
    /// `node`'s child whose label starts with `byte`: `(position in children, index)`.
    fn child(&self, node: usize, byte: u8) -> Option<(usize, usize)> {
        let children = &self.nodes[node].children;
        let pos = children.binary_search_by_key(&byte, |&(b, _)| b).ok()?;
        Some((pos, children[pos].1))
    }

    /// The node spelling exactly `key`, if there is one.
    fn find(&self, key: &[u8]) -> Option<usize> {
        let (mut node, mut rest) = (ROOT, key);
        while let Some(&b) = rest.first() {
            let (_, c) = self.child(node, b)?;
            rest = rest.strip_prefix(self.nodes[c].label.as_slice())?;
            node = c;
        }
        Some(node)
    }

    fn alloc(&mut self, label: Vec<u8>, parent: usize, children: Vec<(u8, usize)>) -> usize {
        let node = Node::new(label, parent, children);
        match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    /// Puts `node` on the free list, releasing its label and child list.
    fn release(&mut self, node: usize) {
        self.nodes[node] = Node::new(Vec::new(), FREE, Vec::new());
        self.free.push(node);
    }

    /// The node spelling exactly `key`, created (splitting an edge if needed) if absent.
    fn find_or_insert(&mut self, key: &[u8]) -> usize {
        let (mut node, mut rest) = (ROOT, key);
        loop {
            let Some(&b) = rest.first() else {
                return node;
            };
            let children = &self.nodes[node].children;
            let pos = match children.binary_search_by_key(&b, |&(b, _)| b) {
                Ok(pos) => pos,
                Err(pos) => {
                    let leaf = self.alloc(rest.to_vec(), node, Vec::new());
                    self.nodes[node].children.insert(pos, (b, leaf));
                    return leaf;
                }
            };
            let c = children[pos].1;
            // At least 1: the first bytes are equal.
            let common = common_prefix(&self.nodes[c].label, rest);
            if common < self.nodes[c].label.len() {
                // `key` diverges inside the edge to `c` (or ends there): split the edge
                // with a middle node spelling the common part.
                let tail = self.nodes[c].label.split_off(common);
                let head = std::mem::replace(&mut self.nodes[c].label, tail);
                let c_first = self.nodes[c].label[0];
                let mid = self.alloc(head, node, vec![(c_first, c)]);
                self.nodes[c].parent = mid;
                self.nodes[node].children[pos].1 = mid;
                node = mid;
            } else {
                node = c;
            }
            rest = &rest[common..];
        }
    }

    /// Restores the normal form after `node`'s value may have become empty: deletes it if
    /// it is an empty leaf (then looks at its parent), merges it into its only child if it
    /// has one. Does nothing for the root, a free slot or a node still needed.
    fn prune(&mut self, mut node: usize) {
        loop {
            let n = &self.nodes[node];
            if node == ROOT || n.parent == FREE || !n.value.is_empty() {
                return;
            }
            let parent = n.parent;
            let first = n.label[0];
            match n.children.len() {
                0 => {
                    let siblings = &mut self.nodes[parent].children;
                    if let Ok(pos) = siblings.binary_search_by_key(&first, |&(b, _)| b) {
                        siblings.remove(pos);
                    }
                    self.release(node);
                    node = parent;
                }
                1 => {
                    let c = n.children[0].1;
                    let mut label = std::mem::take(&mut self.nodes[node].label);
                    label.extend_from_slice(&self.nodes[c].label);
                    self.nodes[c].label = label;
                    self.nodes[c].parent = parent;
                    // `c`'s label now starts with `first`: it takes `node`'s place.
                    let siblings = &mut self.nodes[parent].children;
                    if let Ok(pos) = siblings.binary_search_by_key(&first, |&(b, _)| b) {
                        siblings[pos].1 = c;
                    }
                    self.release(node);
                    return;
                }
                _ => return,
            }
        }
    }

    /// Calls `f` on the value of every node whose prefix starts `topic`, shortest
    /// first, until `f` returns `false`. Cost: `topic.len()` plus the nodes visited.
    fn walk_prefixes(&self, topic: &[u8], mut f: impl FnMut(&V) -> bool) {
        let (mut node, mut rest) = (ROOT, topic);
        loop {
            if !f(&self.nodes[node].value) {
                return;
            }
            let Some(&b) = rest.first() else { return };
            let Some((_, c)) = self.child(node, b) else {
                return;
            };
            let Some(r) = rest.strip_prefix(self.nodes[c].label.as_slice()) else {
                return;
            };
            rest = r;
            node = c;
        }
    }

    /// Calls `f(prefix, node, value)` for every node, parents before children, children
    /// in byte order. Iterative (explicit stack), so depth costs heap, not stack.
    fn visit(&mut self, mut f: impl FnMut(&[u8], usize, &mut V)) {
        let mut path = Vec::new();
        // (node, length of `path` at its parent)
        let mut stack = vec![(ROOT, 0)];
        while let Some((node, depth)) = stack.pop() {
            path.truncate(depth);
            path.extend_from_slice(&self.nodes[node].label);
            f(&path, node, &mut self.nodes[node].value);
            let len = path.len();
            stack.extend(
                self.nodes[node]
                    .children
                    .iter()
                    .rev()
                    .map(|&(_, c)| (c, len)),
            );
        }
    }

    /// Number of live nodes, the root included (for tests).
    #[cfg(all(test, not(any(loom, shuttle))))]
    fn live_nodes(&self) -> usize {
        self.nodes.len() - self.free.len()
    }
}

/// The pipes subscribed at one prefix, sorted by `key`, without duplicates.
#[derive(Debug, Default)]
struct Pipes(Vec<PipeId>);

impl Value for Pipes {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A total order on pipe ids (they are compared within one socket only).
fn key(id: PipeId) -> (u32, u32) {
    (id.index, id.generation)
}

impl Pipes {
    fn position(&self, pipe: PipeId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&key(pipe), |&p| key(p))
    }
}

/// XPUB/PUB subscriptions: which pipes subscribed to which prefixes (libzmq `mtrie_t`).
#[derive(Debug, Default)]
pub(crate) struct Mtrie {
    trie: Trie<Pipes>,
    /// Scratch for [`Mtrie::matches`]: the last result, sorted and deduplicated.
    matched: Vec<PipeId>,
}

impl Mtrie {
    /// Subscribes `pipe` to `prefix`. Returns `true` if no pipe was subscribed to exactly
    /// `prefix` before (the first subscriber: XPUB reports it, rule 78). A pipe that is
    /// already subscribed stays subscribed once.
    pub(crate) fn add(&mut self, prefix: &[u8], pipe: PipeId) -> bool {
        let node = self.trie.find_or_insert(prefix);
        let pipes = &mut self.trie.nodes[node].value;
        let first = pipes.is_empty();
        if let Err(pos) = pipes.position(pipe) {
            pipes.0.insert(pos, pipe);
        }
        first
    }

    /// Unsubscribes `pipe` from `prefix`. Returns `true` if that removed the last pipe
    /// subscribed to exactly `prefix` (XPUB reports it, rule 78); `false` if other pipes
    /// remain or `pipe` was not subscribed to it.
    pub(crate) fn remove(&mut self, prefix: &[u8], pipe: PipeId) -> bool {
        let Some(node) = self.trie.find(prefix) else {
            return false;
        };
        let pipes = &mut self.trie.nodes[node].value;
        let Ok(pos) = pipes.position(pipe) else {
            return false;
        };
        pipes.0.remove(pos);
        if !pipes.is_empty() {
            return false;
        }
        self.trie.prune(node);
        true
    }

    /// Unsubscribes `pipe` from everything (its connection ended, rule 79), calling
    /// `on_topic_gone` for each prefix that no pipe wants any more. Visits the whole trie.
    pub(crate) fn remove_pipe(&mut self, pipe: PipeId, mut on_topic_gone: impl FnMut(&[u8])) {
        let mut emptied = Vec::new();
        self.trie.visit(|prefix, node, pipes| {
            if let Ok(pos) = pipes.position(pipe) {
                pipes.0.remove(pos);
                if pipes.is_empty() {
                    on_topic_gone(prefix);
                    emptied.push(node);
                }
            }
        });
        // Children before parents: pruning a child may leave its parent prunable.
        for node in emptied.into_iter().rev() {
            self.trie.prune(node);
        }
    }

    /// The pipes subscribed to some prefix of `topic`, each once (rule 72), in no
    /// particular order. Cost: `topic.len()` plus the matches (and sorting them).
    pub(crate) fn matches(&mut self, topic: &[u8]) -> &[PipeId] {
        let matched = &mut self.matched;
        matched.clear();
        self.trie.walk_prefixes(topic, |pipes| {
            matched.extend_from_slice(&pipes.0);
            true
        });
        // A pipe subscribed to "a" and "ab" matches "abc" twice: send it one copy.
        matched.sort_unstable_by_key(|&p| key(p));
        matched.dedup();
        matched
    }
}

/// How many times one prefix is subscribed.
#[derive(Debug, Default)]
struct Count(u64);

impl Value for Count {
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// SUB/XSUB subscriptions: a counted set of prefixes (libzmq `trie_t`, rule 77).
#[derive(Debug, Default)]
pub(crate) struct TopicCounts {
    trie: Trie<Count>,
}

impl TopicCounts {
    /// Counts one more subscription to `prefix`.
    pub(crate) fn add(&mut self, prefix: &[u8]) {
        let node = self.trie.find_or_insert(prefix);
        let count = &mut self.trie.nodes[node].value.0;
        *count = count.saturating_add(1);
    }

    /// Counts one subscription to `prefix` less. Returns `true` if that was the last one
    /// (the unsubscribe goes upstream); `false` if some remain or `prefix` was unknown.
    pub(crate) fn remove(&mut self, prefix: &[u8]) -> bool {
        let Some(node) = self.trie.find(prefix) else {
            return false;
        };
        let count = &mut self.trie.nodes[node].value.0;
        if *count == 0 {
            return false;
        }
        *count -= 1;
        if *count > 0 {
            return false;
        }
        self.trie.prune(node);
        true
    }

    /// Does some subscribed prefix start `data`? Cost: `data.len()` at most.
    pub(crate) fn matches(&self, data: &[u8]) -> bool {
        let mut found = false;
        self.trie.walk_prefixes(data, |count| {
            found = !count.is_empty();
            !found
        });
        found
    }

    /// Calls `f` once for every subscribed prefix (whatever its count), in byte order.
    pub(crate) fn for_each(&mut self, mut f: impl FnMut(&[u8])) {
        self.trie.visit(|prefix, _, count| {
            if !count.is_empty() {
                f(prefix);
            }
        });
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn pipe(i: u32) -> PipeId {
        PipeId {
            index: i,
            generation: 0,
        }
    }

    fn matched(t: &mut Mtrie, topic: &[u8]) -> BTreeSet<u32> {
        t.matches(topic).iter().map(|p| p.index).collect()
    }

    #[test]
    fn first_and_last_subscriber_rule_78() {
        let mut t = Mtrie::default();
        assert!(t.add(b"ab", pipe(1)));
        assert!(!t.add(b"ab", pipe(2)));
        assert!(
            !t.add(b"ab", pipe(1)),
            "a duplicate is not a first subscriber"
        );
        assert!(!t.remove(b"ab", pipe(1)));
        assert!(!t.remove(b"ab", pipe(1)), "once subscribed, once removed");
        assert!(!t.remove(b"zz", pipe(2)), "unknown prefix");
        assert!(!t.remove(b"a", pipe(2)), "an inner node without pipes");
        assert!(t.remove(b"ab", pipe(2)));
        assert_eq!(t.trie.live_nodes(), 1, "only the root is left");
    }

    #[test]
    fn matches_every_prefix_of_the_topic_once_rule_72() {
        let mut t = Mtrie::default();
        t.add(b"", pipe(0));
        t.add(b"a", pipe(1));
        t.add(b"ab", pipe(2));
        t.add(b"abc", pipe(3));
        t.add(b"abd", pipe(4));
        t.add(b"b", pipe(5));
        t.add(b"a", pipe(6));
        t.add(b"abc", pipe(6));
        assert_eq!(matched(&mut t, b"abcz"), BTreeSet::from([0, 1, 2, 3, 6]));
        assert_eq!(matched(&mut t, b"ab"), BTreeSet::from([0, 1, 2, 6]));
        assert_eq!(matched(&mut t, b"ax"), BTreeSet::from([0, 1, 6]));
        assert_eq!(matched(&mut t, b""), BTreeSet::from([0]));
        assert_eq!(matched(&mut t, b"c"), BTreeSet::from([0]));
        assert_eq!(
            t.matches(b"abc").len(),
            5,
            "pipe 6 matched twice, listed once"
        );
    }

    #[test]
    fn splits_and_merges_keep_the_trie_normal() {
        let mut t = Mtrie::default();
        t.add(b"abcdef", pipe(1)); // root -> "abcdef"
        t.add(b"abcxyz", pipe(2)); // split: "abc" -> {"def", "xyz"}
        t.add(b"ab", pipe(3)); // split again: "ab" -> "c" -> {...}
        assert_eq!(t.trie.live_nodes(), 5);
        assert_eq!(matched(&mut t, b"abcdefg"), BTreeSet::from([1, 3]));
        assert!(t.remove(b"abcdef", pipe(1))); // "c" now has one child: merged
        assert_eq!(t.trie.live_nodes(), 3);
        assert_eq!(matched(&mut t, b"abcxyz"), BTreeSet::from([2, 3]));
        assert_eq!(matched(&mut t, b"abcdef"), BTreeSet::from([3]));
        assert!(t.remove(b"ab", pipe(3)));
        assert_eq!(t.trie.live_nodes(), 2);
        assert!(t.remove(b"abcxyz", pipe(2)));
        assert_eq!(t.trie.live_nodes(), 1);
    }

    #[test]
    fn remove_pipe_reports_each_gone_prefix_once_rule_79() {
        let mut t = Mtrie::default();
        for p in [b"".as_slice(), b"a", b"ab", b"b"] {
            t.add(p, pipe(1));
        }
        t.add(b"ab", pipe(2));
        let mut gone = Vec::new();
        t.remove_pipe(pipe(1), |p| gone.push(p.to_vec()));
        assert_eq!(gone, vec![b"".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(matched(&mut t, b"abc"), BTreeSet::from([2]));
        t.remove_pipe(pipe(2), |p| gone.push(p.to_vec()));
        assert_eq!(gone.last().unwrap(), b"ab");
        assert_eq!(t.trie.live_nodes(), 1);
    }

    #[test]
    fn topic_counts_rule_77() {
        let mut c = TopicCounts::default();
        assert!(!c.matches(b"abc"));
        c.add(b"ab");
        c.add(b"ab");
        c.add(b"x");
        assert!(c.matches(b"abc") && c.matches(b"ab") && !c.matches(b"a"));
        assert!(!c.remove(b"ab"), "one left");
        assert!(c.remove(b"ab"), "last one");
        assert!(!c.remove(b"ab"), "unknown now");
        assert!(!c.remove(b"nope"));
        let mut all = Vec::new();
        c.for_each(|p| all.push(p.to_vec()));
        assert_eq!(all, vec![b"x".to_vec()]);
        c.add(b"");
        assert!(c.matches(b"") && c.matches(b"anything"));
    }

    #[test]
    // Its sizes are the point (depth and a 1 MiB prefix); far too slow under Miri, and
    // there is no unsafe code in this module for Miri to check.
    #[cfg_attr(miri, ignore)]
    fn deep_and_long_prefixes_use_no_recursion() {
        // On a 128 KiB stack: a recursive walk or drop over 4,000 nested nodes would not fit.
        let t = std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(|| {
                let mut t = Mtrie::default();
                let long = vec![b'a'; 4_000];
                for n in 1..=long.len() {
                    t.add(&long[..n], pipe(1));
                }
                assert_eq!(t.matches(&long).len(), 1);
                let mut gone = 0;
                t.remove_pipe(pipe(1), |_| gone += 1);
                assert_eq!(gone, long.len());
                assert_eq!(t.trie.live_nodes(), 1);
                for n in 1..=long.len() {
                    t.add(&long[..n], pipe(n as u32));
                }
                drop(t); // a flat arena: no recursive drop
                let mut big = Mtrie::default();
                big.add(&vec![0xffu8; 1 << 20], pipe(1));
                assert_eq!(big.trie.live_nodes(), 2, "a 1 MiB prefix is one node");
            })
            .unwrap();
        t.join().unwrap();
    }

    /// xorshift64*, so failures replay.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
        fn bytes(&mut self) -> Vec<u8> {
            let len = self.below(5) as usize;
            (0..len).map(|_| b'a' + self.below(3) as u8).collect()
        }
    }

    #[test]
    fn agrees_with_a_naive_set_on_random_operations() {
        let seeds: u64 = if cfg!(miri) { 3 } else { 200 };
        for seed in 1..=seeds {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let mut t = Mtrie::default();
            let mut naive: BTreeSet<(Vec<u8>, u32)> = BTreeSet::new();
            for _ in 0..300 {
                let (prefix, p) = (rng.bytes(), rng.below(4) as u32);
                match rng.below(4) {
                    0 | 1 => {
                        let first = !naive.iter().any(|(q, _)| *q == prefix);
                        assert_eq!(t.add(&prefix, pipe(p)), first, "seed {seed}");
                        naive.insert((prefix, p));
                    }
                    2 => {
                        let had = naive.remove(&(prefix.clone(), p));
                        let last = had && !naive.iter().any(|(q, _)| *q == prefix);
                        assert_eq!(t.remove(&prefix, pipe(p)), last, "seed {seed}");
                    }
                    _ => {
                        let mut gone = BTreeSet::new();
                        t.remove_pipe(pipe(p), |q| assert!(gone.insert(q.to_vec())));
                        let mine: Vec<_> = naive.iter().filter(|(_, q)| *q == p).cloned().collect();
                        let mut expect = BTreeSet::new();
                        for e in mine {
                            naive.remove(&e);
                            if !naive.iter().any(|(q, _)| *q == e.0) {
                                expect.insert(e.0);
                            }
                        }
                        assert_eq!(gone, expect, "seed {seed}");
                    }
                }
                let topic = rng.bytes();
                let expect: BTreeSet<u32> = naive
                    .iter()
                    .filter(|(q, _)| topic.starts_with(q))
                    .map(|&(_, p)| p)
                    .collect();
                assert_eq!(matched(&mut t, &topic), expect, "seed {seed}");
                let prefixes: BTreeSet<&Vec<u8>> = naive.iter().map(|(q, _)| q).collect();
                assert!(
                    t.trie.live_nodes() <= 2 * prefixes.len() + 1,
                    "seed {seed}: not normalised"
                );
            }
        }
    }
}
