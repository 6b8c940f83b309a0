//! Routing policies: the sequential core that decides which pipe a message goes to or
//! comes from. Plain single-threaded types with ordinary unit tests; they run inside a
//! socket's exclusive section and touch pipes only through [`PipeSet`].
//!
//! - [`fair_queue`]: inbound round-robin over pipes that hold data (PULL; later DEALER,
//!   ROUTER, REP, SUB).
//! - [`load_balance`]: outbound round-robin over pipes that have room (PUSH; later
//!   DEALER, REQ).
//! - [`mtrie`]: subscription tries (PUB/XPUB: pipes per prefix; SUB/XSUB: counts).

/// Exhaustive checks against reference models (tests and the `route` fuzz target).
#[cfg(any(all(test, not(any(loom, shuttle))), fuzzing))]
pub(crate) mod check;
pub(crate) mod fair_queue;
pub(crate) mod load_balance;
pub(crate) mod mtrie;

use crate::pipe::PipeEnd;
use crate::socket::monitor::{DropReason, Drops};

/// A pipe's handle inside one socket: a slab index plus a generation, so that a stale id
/// (kept by a policy or a connect record after its pipe went away) never reaches a newer
/// pipe that reused the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PipeId {
    index: u32,
    generation: u32,
}

/// Pipes in attach order with a round-robin cursor: the shared core of [`fair_queue`]
/// and [`load_balance`].
///
/// The cursor counts the pipes that come before it (`0..=len`). The pipe to try first
/// is the one at the cursor, or the first when the cursor is past the end (so a pipe
/// attached after the last one tried comes next, in attach order). When a pipe leaves,
/// the cursor stays between the same two neighbours: a pipe leaving from before it
/// moves it down by one; any other leaves it where it is, so the departed pipe's
/// successor comes next (SPEC D-3, D-4).
#[derive(Debug, Default)]
pub(crate) struct Rotation {
    /// Pipes in attach order.
    order: Vec<PipeId>,
    /// The cursor (see the type docs).
    next: usize,
}

impl Rotation {
    pub(crate) fn add(&mut self, id: PipeId) {
        self.order.push(id);
    }

    /// Removes `id` if present, keeping the cursor between the same neighbours.
    pub(crate) fn remove(&mut self, id: PipeId) {
        if let Some(i) = self.order.iter().position(|&p| p == id) {
            self.drop_at(i);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The pipes in attach order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = PipeId> + '_ {
        self.order.iter().copied()
    }

    /// The pipe to try next, with its index; `None` if there is none.
    pub(crate) fn current(&self) -> Option<(usize, PipeId)> {
        let i = if self.next < self.order.len() {
            self.next
        } else {
            0
        };
        self.order.get(i).map(|&id| (i, id))
    }

    /// Removes the pipe at index `i`, keeping the cursor between the same neighbours.
    pub(crate) fn drop_at(&mut self, i: usize) {
        self.order.remove(i);
        if i < self.next {
            self.next -= 1;
        }
    }

    /// Moves the cursor past the pipe at index `i`.
    pub(crate) fn advance_past(&mut self, i: usize) {
        self.next = i + 1;
    }
}

/// One slab slot.
#[derive(Debug)]
struct Slot {
    generation: u32,
    end: Option<PipeEnd>,
}

/// The pipe ends a socket owns, by [`PipeId`], and the count of messages its routing
/// dropped (every policy and pattern gets the set, so it is where drops are counted).
#[derive(Debug, Default)]
pub(crate) struct PipeSet {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Messages dropped by the routing code, by reason.
    pub(crate) drops: Drops,
    /// Set by the socket's blocking loop for its spinning attempts: receives that find a
    /// pipe empty then leave it unarmed (no wake-up registered), so the writer's next
    /// publication stays on its fast path. The loop arms the pipes before it sleeps.
    pub(crate) disarmed: bool,
}

impl PipeSet {
    /// Counts one message dropped for `reason` (`Socket::stats`, monitor events).
    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        self.drops.count(reason);
    }

    /// Counts `n` messages dropped for `reason`.
    pub(crate) fn count_drops(&mut self, reason: DropReason, n: u64) {
        self.drops.count_n(reason, n);
    }

    pub(crate) fn insert(&mut self, end: PipeEnd) -> PipeId {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.generation = slot.generation.wrapping_add(1);
            slot.end = Some(end);
            PipeId {
                index,
                generation: slot.generation,
            }
        } else {
            let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 pipes");
            self.slots.push(Slot {
                generation: 0,
                end: Some(end),
            });
            PipeId {
                index,
                generation: 0,
            }
        }
    }

    pub(crate) fn get_mut(&mut self, id: PipeId) -> Option<&mut PipeEnd> {
        match self.slots.get_mut(id.index as usize) {
            Some(Slot {
                generation,
                end: Some(end),
            }) if *generation == id.generation => Some(end),
            _ => None,
        }
    }

    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn contains(&self, id: PipeId) -> bool {
        matches!(
            self.slots.get(id.index as usize),
            Some(Slot { generation, end: Some(_) }) if *generation == id.generation
        )
    }

    /// Removes (and so closes, when dropped) a pipe end.
    pub(crate) fn remove(&mut self, id: PipeId) -> Option<PipeEnd> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let mut end = slot.end.take()?;
        self.free.push(id.index);
        self.live -= 1;
        // A batch in progress ends for this pipe: what it pushed is published now.
        end.set_defer(false);
        Some(end)
    }

    /// Starts (`true`) or ends (`false`) a batch on every pipe: while it lasts, sends are
    /// pushed without publication; ending it publishes each pipe's messages at once,
    /// waking each reader at most once (`Socket::send_batch`).
    pub(crate) fn set_defer(&mut self, on: bool) {
        self.ends_mut().for_each(|e| e.set_defer(on));
    }

    pub(crate) fn ends_mut(&mut self) -> impl Iterator<Item = &mut PipeEnd> + '_ {
        self.slots.iter_mut().filter_map(|s| s.end.as_mut())
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }
}
