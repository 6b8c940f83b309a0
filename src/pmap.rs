//! `PMap`: a persistent hash map whose versions share structure, with nodes reclaimed
//! by epochs, not reference counts: a hash array mapped trie after Bagwell's HAMT and
//! Clojure's `PersistentHashMap`.
//!
//! The registry and the context's socket set are each one immutable version behind a
//! [`CowCell`](crate::cow::CowCell), replaced by compare-and-swap. With a plain map every
//! update copied the whole map: O(n) per bind, connect or close. Here an update copies
//! only the nodes on the path to its key (at most `ceil(64 / 5) = 13` nodes of at most
//! 32 child pointers; about 4 for 10^6 keys) and shares every other node with the
//! version it came from.
//!
//! **Layout.** A node is an array of 32 child slots indexed by hash chunk (5 bits of the
//! key's 64-bit hash, low bits first); an absent child is a null slot. (Bagwell's nodes
//! are dense, found through a bitmap; ours have room for 32 children anyway, so the slot
//! is found without reading a bitmap first: one cache line per level instead of two,
//! which at 10^5 keys was half of a lookup's misses, issue 11.) A child is a
//! leaf (one key, or several whose whole 64-bit hashes are equal) or a sub-node. The trie
//! is kept canonical: a sub-node is never empty and never holds one leaf and nothing
//! else (a removal that leaves one moves the leaf up), so the shape depends only on the
//! keys present.
//!
//! **Ownership: the newest version owns every node it reaches.** Versions are never
//! written once published. An update works on a [`Txn`]: it copies each node on its
//! path (unless the same update already made it: then it edits its own copy), and
//! records the copies as *fresh* and the originals as *replaced*. If the new version is
//! published, the replaced nodes (reachable only from older versions now) are retired
//! through the reclamation domain, so they are freed once no reader can hold them; if
//! the compare-and-swap fails, the fresh nodes, which nobody else ever saw, are freed at
//! once. A node is thus retired exactly once, by the update that replaced it (the
//! reclamation stand-in of the model builds panics on a second retirement). Copying a
//! node copies its child pointers and touches nothing else: no reference count, no
//! cache line of a sibling. Dropping a version frees nothing ([`PMap`] has no `Drop`);
//! the last version is freed as a whole by [`PMap::free_all`] when its cell drops.
//!
//! Readers follow raw pointers from a version they loaded while pinned, so everything
//! they reach is either part of the current version or retired after they pinned: it
//! outlives their guard. That is the one contract of this module: a `PMap` is only read
//! through a [`CowCell`](crate::cow::CowCell), which pins.

use std::hash::{BuildHasher, Hash};

use crate::reclaim::{Guard, Retiree};
use crate::sync::MapHasher;

mod slab;

/// Bits of the hash consumed per level.
const BITS: u32 = 5;
/// Children per node, at most.
const WIDTH: u32 = 1 << BITS;

/// One version of a persistent hash map; see the module docs. Neither `Clone` nor
/// `Drop`: a new version is made with [`PMap::edit`] inside an update, and the last one
/// is freed with [`PMap::free_all`].
pub(crate) struct PMap<K, V, S = MapHasher> {
    /// Never null: an empty map has an empty root node.
    root: *mut Node<K, V>,
    len: usize,
    hasher: S,
}

// SAFETY: a version is a tree of heap nodes holding `K`s and `V`s; sending it sends them
// (`K, V: Send`), sharing it shares `&K`/`&V` (`K, V: Sync`). Versions are only written
// before publication (by the one thread building them), then read-only.
unsafe impl<K: Send + Sync, V: Send + Sync, S: Send> Send for PMap<K, V, S> {}
// SAFETY: as above (the hasher is only read).
unsafe impl<K: Send + Sync, V: Send + Sync, S: Sync> Sync for PMap<K, V, S> {}

/// An interior node: a slot per hash chunk. All nodes are one allocation of one size
/// (the allocator recycles them without searching), and copying one is a `memcpy`.
struct Node<K, V> {
    children: Kids<K, V>,
}

/// The 32 child slots of a node, indexed by hash chunk; an absent child is
/// [`Child::EMPTY`].
struct Kids<K, V> {
    slots: [Child<K, V>; WIDTH as usize],
}

impl<K, V> Clone for Kids<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Kids<K, V> {}

impl<K, V> Kids<K, V> {
    fn new() -> Self {
        Kids {
            slots: [Child::EMPTY; WIDTH as usize],
        }
    }

    /// The child for hash chunk `chunk` (`< 32`), if there is one.
    fn at(&self, chunk: usize) -> Option<Kid<K, V>> {
        self.slots[chunk].get()
    }

    /// Sets the child for `chunk`.
    fn set(&mut self, chunk: usize, c: Child<K, V>) {
        self.slots[chunk] = c;
    }

    /// Empties the slot of `chunk`.
    fn clear(&mut self, chunk: usize) {
        self.slots[chunk] = Child::EMPTY;
    }

    /// The children present, in chunk order.
    fn iter(&self) -> impl Iterator<Item = Kid<K, V>> + '_ {
        self.slots.iter().filter_map(|c| c.get())
    }

    /// The child present after slot `from` (inclusive), and its slot.
    fn next_from(&self, from: usize) -> Option<(usize, Kid<K, V>)> {
        (from..WIDTH as usize).find_map(|i| self.slots[i].get().map(|k| (i, k)))
    }

    /// The only child, if exactly one is present.
    fn only(&self) -> Option<Kid<K, V>> {
        let mut present = self.iter();
        let first = present.next();
        match present.next() {
            None => first,
            Some(_) => None,
        }
    }
}

/// One child slot of a node: null ([`Child::EMPTY`]) or a pointer, owned as the module
/// docs say, to a leaf or a sub-node ([`Kid`]), told apart by its low bit (set for a
/// leaf; both types are at least 8-aligned). One word, not an enum's two: a node is
/// 256 bytes instead of 512, so an update copies half as much per level and a lookup
/// touches fewer cache lines (issue 11). The tag is set and cleared with the strict-provenance address methods,
/// so the pointer keeps its provenance (Miri checks it).
struct Child<K, V> {
    tagged: *mut u8,
    _points_to: std::marker::PhantomData<Kid<K, V>>,
}

/// What a [`Child`] points to.
enum Kid<K, V> {
    /// Keys whose whole hash is the leaf's: one, or more on a full 64-bit collision.
    Leaf(*mut Leaf<K, V>),
    /// Keys that share this chunk with others whose hashes differ further on.
    Node(*mut Node<K, V>),
}

/// The low bit of a [`Child`] that points to a leaf.
const LEAF_TAG: usize = 1;

#[allow(non_snake_case, reason = "named after the `Kid` variants they make")]
impl<K, V> Child<K, V> {
    /// No child.
    const EMPTY: Self = Child {
        tagged: std::ptr::null_mut(),
        _points_to: std::marker::PhantomData,
    };

    fn Leaf(p: *mut Leaf<K, V>) -> Self {
        const { assert!(std::mem::align_of::<Leaf<K, V>>() > LEAF_TAG) };
        Child {
            tagged: p.cast::<u8>().map_addr(|a| a | LEAF_TAG),
            _points_to: std::marker::PhantomData,
        }
    }

    fn Node(p: *mut Node<K, V>) -> Self {
        const { assert!(std::mem::align_of::<Node<K, V>>() > LEAF_TAG) };
        Child {
            tagged: p.cast(),
            _points_to: std::marker::PhantomData,
        }
    }

    fn get(self) -> Option<Kid<K, V>> {
        if self.tagged.is_null() {
            None
        } else if self.tagged.addr() & LEAF_TAG != 0 {
            Some(Kid::Leaf(self.tagged.map_addr(|a| a & !LEAF_TAG).cast()))
        } else {
            Some(Kid::Node(self.tagged.cast()))
        }
    }
}

impl<K, V> Clone for Child<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Child<K, V> {}

/// The entries with one full hash value; never empty.
struct Leaf<K, V> {
    hash: u64,
    entries: Entries<K, V>,
}

/// One or more entries: the first inline, so that a leaf is one allocation unless
/// whole 64-bit hashes collide.
#[derive(Clone)]
struct Entries<K, V> {
    first: (K, V),
    rest: Vec<(K, V)>,
}

impl<K, V> Entries<K, V> {
    fn one(key: K, value: V) -> Self {
        Entries {
            first: (key, value),
            rest: Vec::new(),
        }
    }

    /// The entries of `all`, if there are any.
    fn of(all: impl IntoIterator<Item = (K, V)>) -> Option<Self> {
        let mut all = all.into_iter();
        let first = all.next()?;
        Some(Entries {
            first,
            rest: all.collect(),
        })
    }

    fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        std::iter::once(&self.first).chain(&self.rest)
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut (K, V)> {
        std::iter::once(&mut self.first).chain(&mut self.rest)
    }

    fn get(&self, i: usize) -> Option<&(K, V)> {
        match i {
            0 => Some(&self.first),
            _ => self.rest.get(i - 1),
        }
    }

    #[cfg(all(test, not(any(loom, shuttle))))]
    fn is_empty(&self) -> bool {
        false
    }
}

/// An allocation made or replaced by an update, with the function that frees it.
type Alloc = Retiree;

/// Frees a `Box<T>` given by address.
///
/// # Safety
/// `addr` came from `Box::<T>::into_raw` and is freed only here, once.
unsafe fn free_box<T>(addr: usize) {
    // SAFETY: the caller's contract.
    drop(unsafe { Box::from_raw(addr as *mut T) });
}

/// What one update allocated (`fresh`) and what it replaced; see the module docs.
/// Dropping a `Txn` that was not committed frees the fresh allocations.
pub(crate) struct Txn {
    fresh: Fresh,
    replaced: Vec<Alloc>,
}

/// The fresh allocations of one update: a path's worth inline (no allocation for the
/// list itself), more in `spill`.
struct Fresh {
    len: usize,
    inline: [Alloc; FRESH_INLINE],
    spill: Vec<Alloc>,
}

/// Fresh allocations kept inline: a path at 10^12 keys, its leaf and a split.
const FRESH_INLINE: usize = 12;

/// Placeholder of an unused inline slot; never called.
unsafe fn unused(_: usize) {}

impl Fresh {
    fn new() -> Self {
        Fresh {
            len: 0,
            inline: [(0, unused as unsafe fn(usize)); FRESH_INLINE],
            spill: Vec::new(),
        }
    }

    fn push(&mut self, a: Alloc) {
        if self.len < FRESH_INLINE {
            self.inline[self.len] = a;
            self.len += 1;
        } else {
            self.spill.push(a);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Alloc> {
        self.inline[..self.len].iter().chain(&self.spill)
    }

    fn count(&self) -> usize {
        self.len + self.spill.len()
    }

    /// Takes out the entry for `addr`, if this update made it.
    fn take(&mut self, addr: usize) -> Option<Alloc> {
        if let Some(i) = self.inline[..self.len].iter().position(|a| a.0 == addr) {
            let a = self.inline[i];
            self.len -= 1;
            self.inline[i] = self.inline[self.len];
            return Some(a);
        }
        let i = self.spill.iter().position(|a| a.0 == addr)?;
        Some(self.spill.swap_remove(i))
    }

    /// Forgets every entry (they now belong to a published version).
    fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }

    /// Takes out every entry.
    fn drain(&mut self) -> impl Iterator<Item = Alloc> + use<> {
        let inline = self.inline;
        let n = std::mem::take(&mut self.len);
        let spill = std::mem::take(&mut self.spill);
        (0..n).map(move |i| inline[i]).chain(spill)
    }
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("fresh", &self.fresh.count())
            .field("replaced", &self.replaced.len())
            .finish()
    }
}

impl Default for Txn {
    fn default() -> Self {
        // Room for a few edits of a deep path without regrowing.
        Txn {
            fresh: Fresh::new(),
            replaced: crate::reclaim::batch(),
        }
    }
}

impl Txn {
    /// Records `p` (freed by `free`) as a fresh allocation of this update.
    fn record<T>(&mut self, p: *mut T, free: unsafe fn(usize)) -> *mut T {
        self.fresh.push((p as usize, free));
        p
    }

    /// Boxes `value` as a fresh allocation of this update.
    fn alloc<T>(&mut self, value: T) -> *mut T {
        self.record(Box::into_raw(Box::new(value)), free_box::<T>)
    }

    /// Allocates `node` (in recycled memory when there is some) as a fresh allocation of
    /// this update.
    fn alloc_node<K, V>(&mut self, node: Node<K, V>) -> *mut Node<K, V> {
        self.record(slab::alloc(node), slab::free_addr::<K, V>)
    }

    /// Did this update allocate `p`?
    fn is_fresh<T>(&self, p: *mut T) -> bool {
        self.fresh.iter().any(|a| a.0 == p as usize)
    }

    /// `p` (a leaf) leaves the version being built: freed now if this update made it
    /// (nobody else ever saw it), else retired when the update is published.
    fn replace<T>(&mut self, p: *mut T) {
        self.replace_with(p as usize, free_box::<T>);
    }

    /// [`Txn::replace`] for a node.
    fn replace_node<K, V>(&mut self, p: *mut Node<K, V>) {
        self.replace_with(p as usize, slab::free_addr::<K, V>);
    }

    fn replace_with(&mut self, addr: usize, free: unsafe fn(usize)) {
        if let Some(a) = self.fresh.take(addr) {
            // SAFETY: `a` is a fresh allocation of this update, unpublished, and now
            // out of the version being built and of `fresh`: nothing refers to it.
            unsafe { (a.1)(a.0) };
        } else {
            self.replaced.push((addr, free));
        }
    }

    /// Records `p` (a `Box<T>` unlinked by the caller's publication) to be retired with
    /// the replaced nodes at [`Txn::commit`]: the `CowCell` passes its old version's box.
    pub(crate) fn retire_after_commit<T>(&mut self, p: *mut T) {
        self.replaced
            .push((p as usize, free_box::<T> as unsafe fn(usize)));
    }

    /// The new version was published: hands every replaced allocation to the reclaimer
    /// as one batch (freed once no reader pinned before now remains; one deferred call
    /// per update keeps the reclaimer's queue short); the fresh ones now belong to the
    /// published version.
    pub(crate) fn commit(mut self, guard: &Guard<'_>) {
        self.fresh.clear();
        let batch = std::mem::take(&mut self.replaced);
        // SAFETY: each allocation was reachable from the version this update replaced
        // and is not reachable from the new one (the update copied or removed it, or it
        // is the replaced version's own box); only this update replaced it, so it is
        // retired once. Readers that still hold it pinned before the publication the
        // caller just made.
        unsafe { guard.defer_free_all(batch) };
    }

    /// The version built is the only one (a map being built from nothing, in tests):
    /// what it replaced is referenced by nobody and freed now.
    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn commit_unshared(mut self) {
        self.fresh.clear();
        for a in self.replaced.drain(..) {
            // SAFETY: no other version exists, so nothing else refers to `a`.
            unsafe { (a.1)(a.0) };
        }
    }

    /// The new version was not published: frees what the update allocated.
    pub(crate) fn abort(&mut self) {
        self.replaced.clear();
        for a in self.fresh.drain() {
            // SAFETY: fresh allocations were never published; the unpublished version
            // that referred to them is being discarded by the caller.
            unsafe { (a.1)(a.0) };
        }
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        self.abort();
    }
}

/// The chunk of `hash` used at `shift`: a node's slot.
fn chunk(hash: u64, shift: u32) -> usize {
    (hash >> shift) as usize & (WIDTH as usize - 1)
}

impl<K, V> PMap<K, V> {
    /// An empty map (one empty root node, owned by the caller until published or freed).
    pub(crate) fn new() -> Self {
        Self::with_hasher(MapHasher::default())
    }
}

impl<K, V, S: Clone> PMap<K, V, S> {
    /// An empty map hashing with `hasher`.
    pub(crate) fn with_hasher(hasher: S) -> Self {
        let root = Box::into_raw(Box::new(Node {
            children: Kids::new(),
        }));
        PMap {
            root,
            len: 0,
            hasher,
        }
    }

    /// A new version to edit within `_txn`, sharing every node with `self` until an edit
    /// copies it. The `Txn` borrow is a reminder: edits need it, and the new version is
    /// only valid together with it (published and committed, or dropped and aborted).
    pub(crate) fn edit(&self, _txn: &Txn) -> Self {
        PMap {
            root: self.root,
            len: self.len,
            hasher: self.hasher.clone(),
        }
    }
}

impl<K, V, S> PMap<K, V, S> {
    /// Number of keys.
    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        // SAFETY: `root` is valid while `self` is reachable (module docs).
        let root = unsafe { &*self.root };
        Iter {
            stack: vec![(root, 0)],
            leaf: None,
        }
    }

    /// Every value, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Frees every node and entry of this version (its cell is being dropped, so no
    /// other version and no reader remains).
    ///
    /// # Safety
    /// No other version shares nodes with this one any more (older versions were all
    /// retired, and their replaced nodes freed or handed to the reclaimer), and nothing
    /// reads this version during or after the call.
    pub(crate) unsafe fn free_all(&mut self) {
        let mut stack = vec![self.root];
        while let Some(n) = stack.pop() {
            // SAFETY: `n` is a node of this version, owned by it alone (the contract),
            // reached once (a trie).
            for c in unsafe { (*n).children.iter() } {
                match c {
                    Kid::Node(child) => stack.push(child),
                    // SAFETY: as for nodes.
                    Kid::Leaf(l) => drop(unsafe { Box::from_raw(l) }),
                }
            }
            // SAFETY: as above; freed once, here, after its children were read.
            unsafe { slab::free(n) };
        }
        self.len = 0;
    }
}

impl<K: Hash + Eq + Clone, V: Clone, S: BuildHasher> PMap<K, V, S> {
    /// The value of `key`.
    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(self.hasher.hash_one(key), |k| k == key)
    }

    /// The value of the key that `probe` stands for: `probe` must hash exactly as that
    /// key does, and `is` must recognise it (a lookup without building a key).
    pub(crate) fn get_as<Q: Hash + ?Sized>(
        &self,
        probe: &Q,
        is: impl Fn(&K) -> bool,
    ) -> Option<&V> {
        self.find(self.hasher.hash_one(probe), is)
    }

    /// The value of the key with hash `hash` that `is` recognises.
    fn find(&self, hash: u64, is: impl Fn(&K) -> bool) -> Option<&V> {
        // SAFETY: nodes and leaves reached from a version are valid while the version
        // is reachable by the caller (module docs).
        let mut node = unsafe { &*self.root };
        let mut shift = 0;
        loop {
            match node.children.at(chunk(hash, shift)) {
                None => return None,
                Some(Kid::Node(n)) => {
                    // SAFETY: as above.
                    node = unsafe { &*n };
                    shift += BITS;
                }
                Some(Kid::Leaf(l)) => {
                    // SAFETY: as above.
                    let leaf = unsafe { &*l };
                    if leaf.hash != hash {
                        return None;
                    }
                    return leaf.entries.iter().find(|(k, _)| is(k)).map(|(_, v)| v);
                }
            }
        }
    }

    /// `node` made editable by this update: itself if the update made it, else a copy
    /// (child pointers only), with the original recorded as replaced.
    fn own(txn: &mut Txn, node: *mut Node<K, V>) -> *mut Node<K, V> {
        if txn.is_fresh(node) {
            return node;
        }
        // SAFETY: `node` belongs to the version being edited, valid during the update.
        let copy = unsafe { slab::copy(node) };
        txn.replace_node(node);
        txn.record(copy, slab::free_addr::<K, V>)
    }

    /// Sets `key` to `value` in this version (being built in `txn`); `true` if it
    /// replaced a value.
    pub(crate) fn insert(&mut self, txn: &mut Txn, key: K, value: V) -> bool {
        let hash = self.hasher.hash_one(&key);
        self.root = Self::own(txn, self.root);
        let mut node = self.root;
        let mut shift = 0;
        loop {
            // SAFETY: `node` is owned by this update (`own`): no one else sees it.
            let n = unsafe { &mut *node };
            let i = chunk(hash, shift);
            match n.children.at(i) {
                None => {
                    let leaf = txn.alloc(Leaf {
                        hash,
                        entries: Entries::one(key, value),
                    });
                    n.children.set(i, Child::Leaf(leaf));
                    self.len += 1;
                    return false;
                }
                Some(Kid::Node(child)) => {
                    let child = Self::own(txn, child);
                    n.children.set(i, Child::Node(child));
                    node = child;
                    shift += BITS;
                }
                Some(Kid::Leaf(l)) => {
                    // SAFETY: a leaf of the version being edited.
                    let old = unsafe { &*l };
                    if old.hash == hash {
                        let mut entries = old.entries.clone();
                        let slot = entries.iter_mut().position(|(k, _)| *k == key);
                        let replaced = slot.is_some();
                        match slot {
                            Some(0) => entries.first.1 = value,
                            Some(j) => entries.rest[j - 1].1 = value,
                            None => entries.rest.push((key, value)),
                        }
                        txn.replace(l);
                        n.children
                            .set(i, Child::Leaf(txn.alloc(Leaf { hash, entries })));
                        if !replaced {
                            self.len += 1;
                        }
                        return replaced;
                    }
                    // Two hashes in one slot: a sub-node parts them (at the latest in
                    // the last chunk, shift 60, since distinct hashes differ in some bit).
                    let new = txn.alloc(Leaf {
                        hash,
                        entries: Entries::one(key, value),
                    });
                    let below = Self::two(txn, l, old.hash, new, hash, shift + BITS);
                    n.children.set(i, Child::Node(below));
                    self.len += 1;
                    return false;
                }
            }
        }
    }

    /// A fresh node (chain) holding leaves `a` and `b`, whose hashes differ, from `shift`.
    fn two(
        txn: &mut Txn,
        a: *mut Leaf<K, V>,
        hash_a: u64,
        b: *mut Leaf<K, V>,
        hash_b: u64,
        shift: u32,
    ) -> *mut Node<K, V> {
        let (chunk_a, chunk_b) = (chunk(hash_a, shift), chunk(hash_b, shift));
        let mut children = Kids::new();
        if chunk_a == chunk_b {
            let below = Self::two(txn, a, hash_a, b, hash_b, shift + BITS);
            children.set(chunk_a, Child::Node(below));
        } else {
            children.set(chunk_a, Child::Leaf(a));
            children.set(chunk_b, Child::Leaf(b));
        }
        txn.alloc_node(Node { children })
    }

    /// Removes `key` from this version (being built in `txn`); `true` if it was there.
    pub(crate) fn remove(&mut self, txn: &mut Txn, key: &K) -> bool {
        self.remove_as(txn, key, |k| k == key)
    }

    /// Removes the key that `probe` stands for (as in [`PMap::get_as`]: `probe` hashes
    /// as the key does, `is` recognises it); `true` if it was there.
    pub(crate) fn remove_as<Q: Hash + ?Sized>(
        &mut self,
        txn: &mut Txn,
        probe: &Q,
        is: impl Fn(&K) -> bool,
    ) -> bool {
        let hash = self.hasher.hash_one(probe);
        if self.find(hash, &is).is_none() {
            return false; // Nothing copied.
        }
        // The path from the root to the leaf, each node owned by this update: at most
        // one node per 5 bits of the hash.
        self.root = Self::own(txn, self.root);
        let mut path =
            [(std::ptr::null_mut::<Node<K, V>>(), 0usize); 64_usize.div_ceil(BITS as usize)];
        let mut depth = 0;
        let mut node = self.root;
        let mut shift = 0;
        let leaf = loop {
            // SAFETY: owned by this update.
            let n = unsafe { &mut *node };
            let i = chunk(hash, shift);
            path[depth] = (node, i);
            depth += 1;
            match n.children.at(i) {
                Some(Kid::Node(child)) => {
                    let child = Self::own(txn, child);
                    n.children.set(i, Child::Node(child));
                    node = child;
                    shift += BITS;
                }
                Some(Kid::Leaf(l)) => break l,
                None => unreachable!("`find` found the key on this path"),
            }
        };
        // SAFETY: a leaf of the version being edited; `get` found the key in it.
        let old = unsafe { &*leaf };
        let rest = Entries::of(old.entries.iter().filter(|(k, _)| !is(k)).cloned());
        let leaf_hash = old.hash;
        // `old` is not used past this point: `replace` may free the leaf at once.
        txn.replace(leaf);
        let (&(last, i), above) = path[..depth].split_last().expect("the root is on the path");
        // SAFETY: owned by this update.
        let n = unsafe { &mut *last };
        if let Some(rest) = rest {
            n.children.set(
                i,
                Child::Leaf(txn.alloc(Leaf {
                    hash: leaf_hash,
                    entries: rest,
                })),
            );
        } else {
            n.children.clear(i);
            // Canonical form: going up, a sub-node left holding a single leaf gives way
            // to it (a sub-node held at least two keys, so it is never left empty).
            let mut child = last;
            for &(parent, at) in above.iter().rev() {
                // SAFETY: owned by this update.
                let Some(Kid::Leaf(only)) = unsafe { &*child }.children.only() else {
                    break;
                };
                txn.replace_node(child);
                // SAFETY: owned by this update.
                unsafe { &mut *parent }.children.set(at, Child::Leaf(only));
                child = parent;
            }
        }
        self.len -= 1;
        true
    }
}

/// Iterator over a [`PMap`]'s entries.
pub(crate) struct Iter<'a, K, V> {
    /// Nodes still to visit, each with the slot to look at next.
    stack: Vec<(&'a Node<K, V>, usize)>,
    /// The leaf being walked, and the index of its next entry.
    leaf: Option<(&'a Leaf<K, V>, usize)>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((leaf, i)) = &mut self.leaf {
                if let Some((k, v)) = leaf.entries.get(*i) {
                    *i += 1;
                    return Some((k, v));
                }
                self.leaf = None;
            }
            let (node, i) = self.stack.last_mut()?;
            let Some((at, child)) = node.children.next_from(*i) else {
                self.stack.pop();
                continue;
            };
            *i = at + 1;
            match child {
                // SAFETY: nodes reached from a readable version are valid (module docs).
                Kid::Leaf(l) => self.leaf = Some((unsafe { &*l }, 0)),
                // SAFETY: as above.
                Kid::Node(n) => self.stack.push((unsafe { &*n }, 0)),
            }
        }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug, S> std::fmt::Debug for PMap<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;
