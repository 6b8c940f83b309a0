//! A chunked, lock-free single-producer single-consumer queue with sleep flags and
//! credit: one direction of a pipe. After libzmq's `ypipe.hpp` / `yqueue.hpp`.
//!
//! Items live in fixed-size chunks ([`CHUNK_SIZE`] slots) linked writer-to-reader. The
//! writer fills slots at the back and links a fresh chunk as soon as it fills the last
//! slot of one (so the next write always has a slot, as in yqueue); the reader empties
//! slots at the front and hands each finished chunk to the writer through a one-chunk
//! `spare` slot, so a steady stream allocates nothing.
//!
//! **The contended word, `published`.** As in ypipe's `c` pointer, one atomic word holds
//! both "how far the writer has published" and "the reader is asleep":
//! `published = count << 1 | READER_ASLEEP`.
//! * The writer publishes with a CAS from the value it last published to the new count.
//!   If the CAS fails, the only possible reason is that the reader set `READER_ASLEEP`
//!   after finding the queue empty; the writer then stores the new count (clearing the
//!   flag) and reports [`Publish::WakeReader`]: the caller must wake the reader's socket.
//! * The reader claims newly published items with a CAS that sets `READER_ASLEEP` only if
//!   nothing new was published. Either the writer's CAS wins and the reader sees the
//!   items, or the reader's wins and the writer learns it must wake the reader: a
//!   wake-up cannot be lost, and a busy queue never touches the wake path.
//!
//! **Credit, `credit`.** The reverse direction carries the reader's consumption back to
//! the writer for the high-water mark: `credit = read_count << 1 | WRITER_ASLEEP`. The
//! writer may have at most `window` items outstanding (written minus the last credit it
//! saw; window 0 = unlimited). The reader returns credit every `lwm` items, where
//! `lwm = (window + 1) / 2` as in libzmq, and whenever it finds the queue empty; a writer
//! that finds the window full sets `WRITER_ASLEEP` by CAS on the same word, so the
//! reader's credit `swap` either shows it the flag (and it wakes the writer) or happens
//! before the CAS (and the writer sees the credit instead of sleeping). Credit the reader
//! has returned is visible to the very next send, blocking or not (libzmq can refuse a
//! non-blocking send while credit is in flight; SPEC.md X-4).

use std::mem::MaybeUninit;

use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::sync::{Arc, CHUNK_SIZE, Tracked, UnsafeCell};

/// Low bit of `published`: the reader found the queue empty and will sleep.
const READER_ASLEEP: usize = 1;
/// Low bit of `credit`: the writer found its window full and will sleep.
const WRITER_ASLEEP: usize = 1;
/// How many slots ahead a write (a read) prefetches its slot's cache line.
const PREFETCH: usize = 16;

/// Credit interval when the window is unlimited, so that a later limit still sees
/// recent credit. Shrinks with the chunk size under the checkers.
const UNLIMITED_LWM: usize = if cfg!(any(loom, shuttle, miri)) {
    2
} else {
    1024
};

/// Pads a value to its own cache line, so the writer's and the reader's hot words never
/// share a line. One line, not the pair crossbeam pads to on x86-64 (against the
/// adjacent-line prefetcher): measured the same throughput on the 2-core VM (1 B
/// PUSH→PULL 16.4 M msg/s either way, batches 32 M), and an idle connection holds
/// 1.3 KiB instead of 2.1 KiB (issue 11).
#[repr(align(64))]
#[derive(Debug, Default)]
struct Padded<T>(T);

/// A block of slots.
struct Chunk<T> {
    /// Slot `i` holds the item at position `k * CHUNK_SIZE + i`. Written by the writer
    /// before it publishes that position; read (moved out) by the reader after it claimed
    /// the position.
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK_SIZE],
    /// The following chunk; set by the writer when it fills this chunk's last slot,
    /// before it publishes that slot.
    next: AtomicPtr<Chunk<T>>,
    /// Lets loom report a chunk that is never freed.
    _tracked: Tracked,
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            next: AtomicPtr::new(std::ptr::null_mut()),
            _tracked: Tracked::new(),
        }))
    }
}

/// Writer-only state.
struct WriterState<T> {
    /// Chunk holding the next slot to write.
    back: *mut Chunk<T>,
    /// Items written.
    written: usize,
    /// Items published (`flushed..written` are written but not yet visible to the
    /// reader: a batch being built, see [`Queue::push`]).
    flushed: usize,
    /// The reader's count as last seen in `credit`; may be stale (too low), never too
    /// high, so it can only make the writer think it has less room than it has.
    seen_read: usize,
}

/// Reader-only state.
struct ReaderState<T> {
    /// Chunk holding the next slot to read.
    front: *mut Chunk<T>,
    /// Items read.
    read: usize,
    /// Items known to be published (`read..claimed` may be read without touching
    /// `published`).
    claimed: usize,
    /// The read count last returned as credit.
    credited: usize,
}

/// What a write asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Publish {
    /// The reader is awake and will see the item.
    Done,
    /// The reader was asleep: wake its socket.
    WakeReader,
}

/// What returning credit asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Credit {
    /// Nothing to do.
    Done,
    /// The writer was asleep on a full window: wake its socket.
    WakeWriter,
}

/// One direction of a pipe. See the module docs.
///
/// The methods marked `unsafe` split into a writer side and a reader side: at any time at
/// most one thread may call writer methods and at most one thread reader methods
/// (`pipe::PipeEnd` and the [`Writer`]/[`Reader`] handles make that a type-level fact).
pub(crate) struct Queue<T> {
    /// `count << 1 | READER_ASLEEP`: the contended word (module docs).
    published: Padded<AtomicUsize>,
    /// `read_count << 1 | WRITER_ASLEEP`: credit for the writer (module docs).
    credit: Padded<AtomicUsize>,
    /// A finished chunk the reader passes back for reuse (null if none).
    spare: AtomicPtr<Chunk<T>>,
    /// The first chunk, allocated by the writer's first write, so a pipe that never
    /// carries anything holds no chunk (null until then). Written once, by the writer,
    /// before it publishes position 0; read by the reader only after it claimed that
    /// position (so after the write, through `published`), and by `drop`.
    first: UnsafeCell<*mut Chunk<T>>,
    /// Touched only by the writer.
    writer: Padded<UnsafeCell<WriterState<T>>>,
    /// Touched only by the reader.
    reader: Padded<UnsafeCell<ReaderState<T>>>,
}

// SAFETY: items move from the writer thread to the reader thread (`T: Send`); the
// writer-only and reader-only states are each touched by one thread at a time (the
// contract of the unsafe methods), and the shared words are atomics.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above: `&Queue` exposes only the atomics and the split unsafe methods.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T> Queue<T> {
    pub(crate) fn new() -> Self {
        Queue {
            published: Padded(AtomicUsize::new(0)),
            credit: Padded(AtomicUsize::new(0)),
            spare: AtomicPtr::new(std::ptr::null_mut()),
            first: UnsafeCell::new(std::ptr::null_mut()),
            writer: Padded(UnsafeCell::new(WriterState {
                back: std::ptr::null_mut(),
                written: 0,
                flushed: 0,
                seen_read: 0,
            })),
            reader: Padded(UnsafeCell::new(ReaderState {
                front: std::ptr::null_mut(),
                read: 0,
                claimed: 0,
                credited: 0,
            })),
        }
    }

    // ----- writer side -------------------------------------------------------------

    /// Is there room for one more item under `window` (0 = unlimited)?
    ///
    /// # Safety
    /// Writer side: only the queue's single writer calls this.
    pub(crate) unsafe fn has_room(&self, window: usize) -> bool {
        if window == 0 {
            return true;
        }
        // SAFETY: writer side, per the caller's contract.
        self.writer.0.with_mut(|w| unsafe {
            let w = &mut *w;
            if w.written.wrapping_sub(w.seen_read) < window {
                return true;
            }
            // Acquire: pairs with the reader's AcqRel `swap` in `return_credit`, so the
            // credit we see covers reads that are complete.
            w.seen_read = self.credit.0.load(Ordering::Acquire) >> 1;
            w.written.wrapping_sub(w.seen_read) < window
        })
    }

    /// Registers the writer as asleep on a full window. Returns `false` if credit arrived
    /// meanwhile and there is room after all (do not sleep), `true` if the reader will
    /// wake the writer's socket when it returns credit.
    ///
    /// # Safety
    /// Writer side.
    pub(crate) unsafe fn sleep_until_room(&self, window: usize) -> bool {
        if window == 0 {
            return false;
        }
        // SAFETY: writer side, per the caller's contract.
        self.writer.0.with_mut(|w| unsafe {
            let w = &mut *w;
            // Acquire: as in `has_room`.
            let mut cur = self.credit.0.load(Ordering::Acquire);
            loop {
                w.seen_read = cur >> 1;
                if w.written.wrapping_sub(w.seen_read) < window {
                    return false;
                }
                if cur & WRITER_ASLEEP != 0 {
                    return true;
                }
                // AcqRel: the Release half orders the writer's wake registration (its
                // socket's `Notify`, set before any write) before the reader's `swap`
                // that reads this flag; Acquire on failure: we read the new credit.
                match self.credit.0.compare_exchange(
                    cur,
                    cur | WRITER_ASLEEP,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return true,
                    Err(actual) => cur = actual,
                }
            }
        })
    }

    /// Appends `item` and publishes it (with any items pushed before it).
    ///
    /// # Safety
    /// Writer side. (The window is the caller's business: check `has_room` first.)
    pub(crate) unsafe fn write(&self, item: T) -> Publish {
        // SAFETY: writer side, per the caller's contract.
        unsafe {
            self.push(item);
            self.flush()
        }
    }

    /// Appends `item` without publishing it: the reader sees it at the next
    /// [`Queue::flush`] (or [`Queue::write`]), with everything pushed before it, in one
    /// publication (a batch; ypipe's `write(incomplete)`). Counts against the window at
    /// once.
    ///
    /// # Safety
    /// Writer side. (The window is the caller's business: check `has_room` first.)
    pub(crate) unsafe fn push(&self, item: T) {
        // SAFETY: writer side, per the caller's contract.
        self.writer.0.with_mut(|w| unsafe {
            let w = &mut *w;
            if w.back.is_null() {
                // The first write: the queue gets its first chunk.
                let chunk = Chunk::alloc();
                // SAFETY: written once, here, before the publication of position 0
                // below, which the reader observes before it reads `first`.
                self.first.with_mut(|f| *f = chunk);
                w.back = chunk;
            }
            let index = w.written % CHUNK_SIZE;
            if index + PREFETCH < CHUNK_SIZE {
                crate::sync::prefetch_write(std::ptr::addr_of!((*w.back).slots[index + PREFETCH]));
            }
            // SAFETY: `back` is live (chunks are freed only by the reader after it has
            // passed them, and the writer never looks back); slot `index` is not yet
            // published, so the reader does not touch it.
            (*w.back).slots[index].with_mut(|slot| (*slot).write(item));
            w.written = w.written.wrapping_add(1);
            if index == CHUNK_SIZE - 1 {
                // Acquire: pairs with the reader's Release `swap` into `spare`, so its
                // moves out of the chunk's slots happened before we reuse them.
                let mut next = self.spare.swap(std::ptr::null_mut(), Ordering::Acquire);
                if next.is_null() {
                    next = Chunk::alloc();
                } else {
                    // Relaxed: the chunk is ours alone until published below.
                    (*next).next.store(std::ptr::null_mut(), Ordering::Relaxed);
                }
                // Relaxed: made visible to the reader by the Release publication of
                // `published` below, which the reader Acquires before following `next`.
                (*w.back).next.store(next, Ordering::Relaxed);
                w.back = next;
            }
        })
    }

    /// Publishes every item pushed since the last publication, with one compare-and-swap
    /// (nothing to do if there is none).
    ///
    /// # Safety
    /// Writer side.
    pub(crate) unsafe fn flush(&self) -> Publish {
        // SAFETY: writer side, per the caller's contract.
        self.writer.0.with_mut(|w| unsafe {
            let w = &mut *w;
            if w.flushed == w.written {
                return Publish::Done;
            }
            let before = std::mem::replace(&mut w.flushed, w.written);
            self.publish(before, w.written)
        })
    }

    /// Moves `published` from `before` to `after` (ypipe's `flush`).
    fn publish(&self, before: usize, after: usize) -> Publish {
        // Release (success): publishes the slots written before it to the reader's
        // Acquire CAS in `read`. Acquire (failure): the reader's AcqRel CAS that set
        // READER_ASLEEP also published its wake registration, which we are about to use.
        match self.published.0.compare_exchange(
            before << 1,
            after << 1,
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => Publish::Done,
            Err(actual) => {
                debug_assert_eq!(actual, before << 1 | READER_ASLEEP);
                // Release: as for the CAS. Only the writer clears READER_ASLEEP and the
                // reader cannot change the word while it is set, so a store suffices.
                self.published.0.store(after << 1, Ordering::Release);
                Publish::WakeReader
            }
        }
    }

    // ----- reader side -------------------------------------------------------------

    /// Takes the next item, or `None` if the queue is empty, in which case, if `arm`,
    /// the reader is now registered as asleep: the next write will return
    /// [`Publish::WakeReader`]. Without `arm` an empty queue is left as it was (a
    /// spinning reader's look: the writer's next publication stays a plain CAS), and the
    /// caller must read again with `arm` before it sleeps.
    ///
    /// Credit for the writer is returned every `lwm` items and on `None`; a returned
    /// [`Credit::WakeWriter`] means the caller must wake the writer's socket.
    ///
    /// # Safety
    /// Reader side.
    pub(crate) unsafe fn read(&self, window: usize, arm: bool) -> (Option<T>, Credit) {
        // SAFETY: reader side, per the caller's contract.
        self.reader.0.with_mut(|r| unsafe {
            let r = &mut *r;
            if r.read == r.claimed && !self.claim(r, arm) {
                let credit = self.return_credit(r);
                return (None, credit);
            }
            let (item, credit) = self.take(r, window);
            (Some(item), credit)
        })
    }

    /// Moves out the item at position `read` (claimed), passes a finished chunk back,
    /// and returns credit if the reads since the last return reached the interval: the
    /// part of [`Queue::read`] after the claim, shared with [`Queue::read_many`].
    ///
    /// # Safety
    /// Reader side, with `r.read != r.claimed`.
    #[inline(always)]
    unsafe fn take(&self, r: &mut ReaderState<T>, window: usize) -> (T, Credit) {
        if r.front.is_null() {
            // SAFETY: we claimed position 0, which the writer published after it wrote
            // `first` (our Acquire in `claim`/`look` saw that publication).
            r.front = self.first.with(|f| unsafe { *f });
        }
        let index = r.read % CHUNK_SIZE;
        if index + PREFETCH < CHUNK_SIZE {
            // SAFETY: `front` is live (chunks are freed only after the reader passed
            // them); only an address is computed, nothing is read.
            crate::sync::prefetch_read(unsafe {
                std::ptr::addr_of!((*r.front).slots[index + PREFETCH])
            });
        }
        // SAFETY: position `read` is claimed (published by the writer's Release,
        // observed by our Acquire in `claim`); the writer never touches it again.
        let item = unsafe { (*r.front).slots[index].with(|slot| (*slot).assume_init_read()) };
        r.read = r.read.wrapping_add(1);
        if index == CHUNK_SIZE - 1 {
            // SAFETY: reader side, right after reading the front chunk's last slot.
            unsafe { self.pass_chunk(r) };
        }
        let credit = if r.read.wrapping_sub(r.credited) >= lwm(window) {
            self.return_credit(r)
        } else {
            Credit::Done
        };
        (item, credit)
    }

    /// Moves up to `max` items into `out`, in order, and returns how many: exactly what
    /// `max` calls of [`Queue::read`] would do, stopping at the first `None` (the same
    /// claims, credit and arming), without a call per item. A batch receive
    /// ([`Socket::recv_batch`](crate::Socket::recv_batch)); the returned [`Credit`] is
    /// `WakeWriter` if any of those reads' would have been.
    ///
    /// # Safety
    /// Reader side.
    pub(crate) unsafe fn read_many(
        &self,
        window: usize,
        arm: bool,
        out: &mut Vec<T>,
        max: usize,
    ) -> (usize, Credit) {
        // SAFETY: reader side, per the caller's contract.
        self.reader.0.with_mut(|r| unsafe {
            let r = &mut *r;
            let mut n = 0;
            let mut credit = Credit::Done;
            while n < max {
                if r.read == r.claimed && !self.claim(r, arm) {
                    if self.return_credit(r) == Credit::WakeWriter {
                        credit = Credit::WakeWriter;
                    }
                    break;
                }
                let (item, c) = self.take(r, window);
                out.push(item);
                n += 1;
                if c == Credit::WakeWriter {
                    credit = Credit::WakeWriter;
                }
            }
            (n, credit)
        })
    }

    /// Moves the reader past its front chunk, whose last slot it just read, and hands
    /// that chunk back to the writer through `spare`.
    ///
    /// # Safety
    /// Reader side, right after reading the front chunk's last slot.
    unsafe fn pass_chunk(&self, r: &mut ReaderState<T>) {
        // SAFETY: `front` is live (the caller just read from it).
        // Relaxed: the writer linked `next` before publishing the slot we just read,
        // and our Acquire in `claim` saw that publication.
        let next = unsafe { (*r.front).next.load(Ordering::Relaxed) };
        debug_assert!(!next.is_null());
        let done = std::mem::replace(&mut r.front, next);
        // Release: pairs with the writer's Acquire `swap` of `spare`, so our reads of
        // the old slots happen before it reuses them.
        let old = self.spare.swap(done, Ordering::Release);
        if !old.is_null() {
            // SAFETY: a spare the writer did not take is owned by the spare slot, and we
            // just took it out of it.
            drop(unsafe { Box::from_raw(old) });
        }
    }

    /// Is an item ready to read? (Claims published items; never sleeps.)
    ///
    /// # Safety
    /// Reader side.
    pub(crate) unsafe fn readable(&self) -> bool {
        // SAFETY: reader side.
        self.reader.0.with_mut(|r| unsafe {
            let r = &mut *r;
            r.read != r.claimed || self.look(r)
        })
    }

    /// Claims newly published items with one load; never registers the reader as asleep.
    fn look(&self, r: &mut ReaderState<T>) -> bool {
        // Acquire: pairs with the writer's Release publication of the slots.
        let p = self.published.0.load(Ordering::Acquire) >> 1;
        if p == r.read {
            return false;
        }
        r.claimed = p;
        true
    }

    /// Claims newly published items, or (if `arm`) registers the reader as asleep.
    /// (ypipe's `check_read`.)
    fn claim(&self, r: &mut ReaderState<T>, arm: bool) -> bool {
        if !arm {
            return self.look(r);
        }
        // AcqRel (success): Release publishes the reader's wake registration to the
        // writer's failing CAS in `publish`. Acquire (failure): the value we read carries
        // the writer's Release publication of the slots we are about to read.
        match self.published.0.compare_exchange(
            r.read << 1,
            r.read << 1 | READER_ASLEEP,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => false,
            Err(actual) if actual & READER_ASLEEP != 0 => false,
            Err(actual) => {
                r.claimed = actual >> 1;
                true
            }
        }
    }

    /// Reports the read count to the writer.
    fn return_credit(&self, r: &mut ReaderState<T>) -> Credit {
        if r.credited == r.read {
            return Credit::Done;
        }
        r.credited = r.read;
        // AcqRel: Release makes the reads it reports complete before the writer counts on
        // them (pairs with the Acquire loads in `has_room`/`sleep_until_room`); Acquire
        // pairs with the writer's AcqRel CAS that set WRITER_ASLEEP, whose wake
        // registration we use.
        let old = self.credit.0.swap(r.read << 1, Ordering::AcqRel);
        if old & WRITER_ASLEEP != 0 {
            Credit::WakeWriter
        } else {
            Credit::Done
        }
    }
}

impl<T> Queue<T> {
    /// Items written and not yet reported read, as the writer sees it (stats).
    ///
    /// # Safety
    /// Writer side.
    pub(crate) unsafe fn queued_estimate(&self) -> usize {
        // SAFETY: writer side, per the caller's contract.
        self.writer.0.with_mut(|w| unsafe {
            let w = &*w;
            // Acquire: as in `has_room`.
            let read = self.credit.0.load(Ordering::Acquire) >> 1;
            w.written.wrapping_sub(read)
        })
    }
}

/// The credit interval for `window` (libzmq's LWM, rule 38).
pub(crate) fn lwm(window: usize) -> usize {
    if window == 0 {
        UNLIMITED_LWM
    } else {
        window.div_ceil(2).max(1)
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        // `&mut self`: both sides are gone; every position in `read..written` holds an
        // initialised item, and the chunk chain runs from `front` (or `first`, if the
        // reader never read) to `back` (null if nothing was ever written).
        // SAFETY: exclusive access (see above).
        let first = self.first.with(|f| unsafe { *f });
        if first.is_null() {
            // Never written: no item, no chunk (a spare is only a chunk the reader
            // passed). Returning here leaves the reader's and writer's lines untouched:
            // closing 10^5 idle connections, they were cache misses (issue 11).
            // Relaxed: exclusive access.
            debug_assert!(self.spare.load(Ordering::Relaxed).is_null());
            return;
        }
        self.reader.0.with_mut(|r| {
            self.writer.0.with_mut(|w| {
                // SAFETY: exclusive access (see above).
                let (r, w) = unsafe { (&mut *r, &*w) };
                let mut chunk = if r.front.is_null() { first } else { r.front };
                let mut pos = r.read;
                while pos != w.written {
                    let index = pos % CHUNK_SIZE;
                    // SAFETY: positions `read..written` were written and never read.
                    unsafe { (*chunk).slots[index].with_mut(|s| (*s).assume_init_drop()) };
                    pos = pos.wrapping_add(1);
                    if index == CHUNK_SIZE - 1 {
                        // Relaxed: exclusive access.
                        // SAFETY: `chunk` is live: chunks from `front` to `back` are owned
                        // by the queue and freed only below, after this read.
                        let next = unsafe { (*chunk).next.load(Ordering::Relaxed) };
                        // SAFETY: a passed chunk is owned by the queue and unreachable.
                        drop(unsafe { Box::from_raw(chunk) });
                        chunk = next;
                    }
                }
                debug_assert_eq!(chunk, w.back);
                if !chunk.is_null() {
                    // SAFETY: the back chunk holds no initialised slots now; owned by us.
                    drop(unsafe { Box::from_raw(chunk) });
                }
            })
        });
        // Relaxed: exclusive access.
        let spare = self.spare.load(Ordering::Relaxed);
        if !spare.is_null() {
            // SAFETY: the spare chunk is owned by the queue.
            drop(unsafe { Box::from_raw(spare) });
        }
    }
}

/// The writing half of a standalone queue (tests, models and benches; pipes embed
/// `Queue` directly). `Send`, not `Sync`, not `Clone`: one writer.
#[cfg_attr(not(any(test, loom, shuttle)), allow(dead_code))]
pub(crate) struct Writer<T>(Arc<Queue<T>>);
/// The reading half of a standalone queue. `Send`, not `Sync`, not `Clone`: one reader.
#[cfg_attr(not(any(test, loom, shuttle)), allow(dead_code))]
pub(crate) struct Reader<T>(Arc<Queue<T>>);

/// A standalone queue split into its two halves.
#[cfg_attr(not(any(test, loom, shuttle)), allow(dead_code))]
pub(crate) fn channel<T>() -> (Writer<T>, Reader<T>) {
    let q = Arc::new(Queue::new());
    (Writer(q.clone()), Reader(q))
}

#[cfg_attr(not(any(test, loom, shuttle)), allow(dead_code))]
impl<T> Writer<T> {
    pub(crate) fn has_room(&mut self, window: usize) -> bool {
        // SAFETY: `Writer` is the unique, non-Clone writer handle; `&mut self`.
        unsafe { self.0.has_room(window) }
    }
    pub(crate) fn sleep_until_room(&mut self, window: usize) -> bool {
        // SAFETY: as in `has_room`.
        unsafe { self.0.sleep_until_room(window) }
    }
    pub(crate) fn write(&mut self, item: T) -> Publish {
        // SAFETY: as in `has_room`.
        unsafe { self.0.write(item) }
    }
    pub(crate) fn push(&mut self, item: T) {
        // SAFETY: as in `has_room`.
        unsafe { self.0.push(item) }
    }
    pub(crate) fn flush(&mut self) -> Publish {
        // SAFETY: as in `has_room`.
        unsafe { self.0.flush() }
    }
}

#[cfg_attr(not(any(test, loom, shuttle)), allow(dead_code))]
impl<T> Reader<T> {
    pub(crate) fn read(&mut self, window: usize) -> (Option<T>, Credit) {
        // SAFETY: `Reader` is the unique, non-Clone reader handle; `&mut self`.
        unsafe { self.0.read(window, true) }
    }
    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn read_many(
        &mut self,
        window: usize,
        out: &mut Vec<T>,
        max: usize,
    ) -> (usize, Credit) {
        // SAFETY: as in `read`.
        unsafe { self.0.read_many(window, true, out, max) }
    }
    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn readable(&mut self) -> bool {
        // SAFETY: as in `read`.
        unsafe { self.0.readable() }
    }
}

// SAFETY: a half is used by one thread at a time (`&mut self` methods, not `Sync`);
// moving it moves the right to act as that side.
unsafe impl<T: Send> Send for Writer<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Reader<T> {}

impl<T> std::fmt::Debug for Writer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}
impl<T> std::fmt::Debug for Reader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    /// B-1: pushed items stay invisible until the flush, which publishes them all at
    /// once and asks for one wake-up of a reader that went to sleep; across chunk
    /// boundaries too.
    #[test]
    fn pushed_items_are_published_together_by_one_flush() {
        let (mut w, mut r) = channel::<usize>();
        assert_eq!(r.read(0).0, None, "the reader finds nothing and sleeps");
        let n = CHUNK_SIZE + 3;
        for i in 0..n {
            w.push(i);
            assert!(!r.readable(), "nothing is visible before the flush");
        }
        assert_eq!(w.flush(), Publish::WakeReader, "one wake-up for the batch");
        assert_eq!(w.flush(), Publish::Done, "nothing left to publish");
        for i in 0..n {
            assert_eq!(r.read(0).0, Some(i));
        }
        assert_eq!(r.read(0).0, None);
        // An awake reader is not woken; `write` publishes pushed items with its own.
        w.push(n);
        assert_eq!(
            w.write(n + 1),
            Publish::WakeReader,
            "the reader slept again"
        );
        assert_eq!(r.read(0).0, Some(n));
        assert_eq!(r.read(0).0, Some(n + 1));
        w.push(n + 2);
        drop(w);
        drop(r); // unpublished items are dropped with the queue (Miri: no leak)
    }

    #[test]
    fn fifo_across_many_chunks() {
        let (mut w, mut r) = channel::<u32>();
        let n = if cfg!(miri) {
            50
        } else {
            10 * CHUNK_SIZE as u32 + 3
        };
        for i in 0..n {
            let _ = w.write(i);
        }
        for i in 0..n {
            assert_eq!(r.read(0).0, Some(i));
        }
        assert_eq!(r.read(0).0, None);
    }

    #[test]
    fn empty_read_sets_sleep_and_next_write_asks_for_wake() {
        let (mut w, mut r) = channel::<u8>();
        assert_eq!(w.write(1), Publish::Done);
        assert_eq!(r.read(0).0, Some(1));
        assert_eq!(r.read(0).0, None);
        assert_eq!(w.write(2), Publish::WakeReader);
        assert_eq!(w.write(3), Publish::Done);
        assert!(r.readable());
        assert_eq!(r.read(0).0, Some(2));
    }

    #[test]
    fn window_blocks_and_credit_wakes_writer() {
        let (mut w, mut r) = channel::<u8>();
        let window = 2;
        assert!(w.has_room(window));
        let _ = w.write(1);
        let _ = w.write(2);
        assert!(!w.has_room(window));
        assert!(w.sleep_until_room(window));
        // lwm(2) = 1: the first read returns credit and must wake the writer.
        let (item, credit) = r.read(window);
        assert_eq!(item, Some(1));
        assert_eq!(credit, Credit::WakeWriter);
        assert!(w.has_room(window));
    }

    #[test]
    fn drop_frees_unread_items() {
        let (mut w, r) = channel::<Box<u64>>();
        for i in 0..(3 * CHUNK_SIZE as u64 + 1) {
            let _ = w.write(Box::new(i));
        }
        drop(w);
        drop(r);
    }

    /// B-7: batch reads across chunk boundaries take what is published, in order, up to
    /// `max`, with credit and the sleep flag as single reads leave them; threaded, with
    /// a window, nothing lost or duplicated (Miri checks the slot moves).
    #[test]
    fn read_many_matches_single_reads() {
        let (mut w, mut r) = channel::<usize>();
        let n = 2 * CHUNK_SIZE + 5;
        for i in 0..n {
            assert_eq!(w.write(i), Publish::Done);
        }
        let mut out = Vec::new();
        let mut want = 0;
        while want < n {
            let (k, credit) = r.read_many(0, &mut out, 3);
            assert_eq!(credit, Credit::Done);
            assert_eq!(k, 3.min(n - want));
            want += k;
            assert_eq!(out, (0..want).collect::<Vec<_>>());
        }
        // Found empty: nothing taken, the reader now sleeps, as after an empty `read`.
        assert_eq!(r.read_many(0, &mut out, 3).0, 0);
        assert_eq!(w.write(n), Publish::WakeReader);
        // A full window: the batch that crosses the credit interval wakes the writer.
        let (mut w, mut r) = channel::<usize>();
        let window = 4;
        for i in 0..window {
            assert!(w.has_room(window));
            let _ = w.write(i);
        }
        assert!(!w.has_room(window));
        assert!(
            w.sleep_until_room(window),
            "no credit yet: the writer sleeps"
        );
        let mut out = Vec::new();
        assert_eq!(r.read_many(window, &mut out, 3), (3, Credit::WakeWriter));
        assert!(w.has_room(window));
    }

    #[test]
    fn threaded_read_many_with_window() {
        let (mut w, mut r) = channel::<u32>();
        let n: u32 = if cfg!(miri) { 40 } else { 100_000 };
        let window = 5;
        let t = std::thread::spawn(move || {
            for i in 0..n {
                while !w.has_room(window) {
                    std::thread::yield_now();
                }
                let _ = w.write(i);
            }
        });
        let mut out = Vec::new();
        while out.len() < n as usize {
            if r.read_many(window, &mut out, 4).0 == 0 {
                std::thread::yield_now();
            }
        }
        assert_eq!(out, (0..n).collect::<Vec<_>>());
        t.join().unwrap();
    }

    #[test]
    fn threaded_fifo_with_window() {
        let (mut w, mut r) = channel::<u32>();
        let n: u32 = if cfg!(miri) { 40 } else { 100_000 };
        let window = 3;
        let t = std::thread::spawn(move || {
            for i in 0..n {
                while !w.has_room(window) {
                    std::thread::yield_now();
                }
                let _ = w.write(i);
            }
        });
        let mut next = 0;
        while next < n {
            if let (Some(v), _) = r.read(window) {
                assert_eq!(v, next);
                next += 1;
            } else {
                std::thread::yield_now();
            }
        }
        t.join().unwrap();
    }
}
