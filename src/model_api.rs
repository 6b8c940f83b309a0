//! Internals exposed to the models in `model/`, only under `cfg(loom)` / `cfg(shuttle)`.
//!
//! Everything here is a thin, safe wrapper over crate-private items, so that a model can
//! drive one component (a queue, an event count) without the rest of a socket.

use crate::pipe::queue::{self, Credit, Publish};
use crate::sync::atomic::{AtomicUsize, Ordering};

/// Slots per queue chunk in this build (2 under the checkers).
pub const CHUNK_SIZE: usize = crate::sync::CHUNK_SIZE;

/// The writing half of a standalone pipe queue.
#[derive(Debug)]
pub struct QueueWriter<T>(queue::Writer<T>);
/// The reading half of a standalone pipe queue.
#[derive(Debug)]
pub struct QueueReader<T>(queue::Reader<T>);

/// A standalone pipe queue (`src/pipe/queue.rs`).
pub fn queue<T>() -> (QueueWriter<T>, QueueReader<T>) {
    let (w, r) = queue::channel();
    (QueueWriter(w), QueueReader(r))
}

impl<T> QueueWriter<T> {
    /// Room for one more item under `window` (0 = unlimited)?
    pub fn has_room(&mut self, window: usize) -> bool {
        self.0.has_room(window)
    }
    /// Registers the writer as asleep on a full window; `false` if room appeared.
    pub fn sleep_until_room(&mut self, window: usize) -> bool {
        self.0.sleep_until_room(window)
    }
    /// Writes and publishes one item; `true` if the reader must be woken.
    pub fn write(&mut self, item: T) -> bool {
        self.0.write(item) == Publish::WakeReader
    }
    /// Appends one item without publishing it (a batch).
    pub fn push(&mut self, item: T) {
        self.0.push(item)
    }
    /// Publishes every pushed item at once; `true` if the reader must be woken.
    pub fn flush(&mut self) -> bool {
        self.0.flush() == Publish::WakeReader
    }
}

impl<T> QueueReader<T> {
    /// Reads one item; the flag is `true` if the writer must be woken.
    pub fn read(&mut self, window: usize) -> (Option<T>, bool) {
        let (item, credit) = self.0.read(window);
        (item, credit == Credit::WakeWriter)
    }
}

/// A socket's event count (`src/wait.rs`).
#[derive(Debug)]
pub struct Notify(crate::wait::Notify);

/// A sequence number read by [`Notify::prepare`].
#[derive(Debug, Clone, Copy)]
pub struct Key(crate::wait::Key);

impl Notify {
    /// A new event count.
    pub fn new() -> Self {
        Notify(crate::wait::Notify::new())
    }
    /// Step 1 of the wait protocol.
    pub fn prepare(&self) -> Key {
        Key(self.0.prepare())
    }
    /// Signals every waiter.
    pub fn wake(&self) {
        self.0.wake()
    }
    /// Waits (no deadline) until the sequence moves past `key`.
    pub fn wait(&self, key: Key) {
        self.0.wait(key.0, None);
    }
}

impl Default for Notify {
    fn default() -> Self {
        Self::new()
    }
}

/// A counter on the shim's atomics, for the canary models.
#[derive(Debug, Default)]
pub struct Counter(AtomicUsize);

impl Counter {
    /// A counter at 0.
    pub fn new() -> Self {
        Counter(AtomicUsize::new(0))
    }
    /// Deliberately racy increment: a load, then a store. Two threads can lose an update.
    pub fn racy_increment(&self) {
        // Relaxed: the canary is *meant* to be wrong; only the lost update matters.
        let v = self.0.load(Ordering::Relaxed);
        crate::sync::yield_now();
        self.0.store(v + 1, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> usize {
        // Relaxed: read after the threads were joined.
        self.0.load(Ordering::Relaxed)
    }
}
