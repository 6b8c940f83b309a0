//! `Frame`: one part of a message. Small frames live inline (no heap allocation),
//! frames copied from a slice come from a recycled buffer pool, and `Bytes`/`Vec` frames
//! are taken as they are (no copy).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

use crate::pool::PoolBuf;

/// The longest frame kept inline in the message itself (libzmq keeps up to 33 bytes in
/// its `zmq_msg_t`): such a frame costs no heap allocation to make, send or drop. 31,
/// not 32: the length takes the 32nd byte, so that a message stays five words with all
/// of its fields word-aligned (see `InlineData`).
pub const INLINE_MAX: usize = 31;

/// One frame of a [`Message`](crate::Message): an immutable byte string.
///
/// Cheap to clone whatever its size: inline frames (up to [`INLINE_MAX`] bytes) are
/// copied, larger ones are reference-counted. How a frame is made decides where its bytes
/// live:
///
/// | made from | up to `INLINE_MAX` bytes | larger |
/// |---|---|---|
/// | `&[u8]`, `&str`, [`Frame::copy_from_slice`] | inline | a recycled pool buffer (one copy; see below) |
/// | `Vec<u8>`, `String` | inline (copied, the original is dropped) | taken over, no copy |
/// | [`Bytes`] | taken over, no copy (its owner lives as long as the frame) | taken over, no copy |
///
/// Pool buffers (frames copied from a slice, up to 64 KiB) are recycled: the thread that
/// made a frame gets its buffer back when the last clone drops, on any thread, so a
/// steady stream of such messages costs no `malloc`/`free` pair per message.
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return }
/// use inproc::Frame;
/// let f = Frame::from("hello");
/// assert_eq!(&f[..], b"hello");
/// assert_eq!(f.len(), 5);
/// assert_eq!(f, *b"hello");
/// assert_eq!(f.to_bytes(), inproc::Bytes::from_static(b"hello"));
/// ```
#[derive(Clone)]
pub struct Frame {
    repr: Repr,
}

/// An inline frame: its bytes (`0..INLINE_MAX`, zero after the frame's length) and, in
/// the last byte, its length. 8-aligned, at offset 8 of the frame like the other
/// variants' fields, so that every field of a message starts on a word. With a length
/// byte at offset 1 and the bytes at 2, the compiler moved a just-built message as a
/// tag byte plus 39 bytes at odd offsets, and each later load of it waited for the
/// narrower stores before it to retire (the CPU cannot forward those): batches of
/// 1-byte messages 48 -> 63-68 M msg/s, single 1-byte messages 17-20 -> 20-21 M
/// (measured, issue 12).
#[derive(Clone, Copy)]
#[repr(align(8))]
struct InlineData([u8; INLINE_MAX + 1]);

impl InlineData {
    /// The frame's bytes.
    fn bytes(&self) -> &[u8] {
        &self.0[..usize::from(self.0[INLINE_MAX])]
    }
}

#[derive(Clone)]
enum Repr {
    /// An inline frame (its length is inside `InlineData`).
    Inline(InlineData),
    /// A pool buffer (reference-counted).
    Pooled(PoolBuf),
    /// Someone else's buffer, taken without a copy.
    Shared(Bytes),
}

impl Frame {
    /// An empty frame.
    pub const fn new() -> Self {
        Frame {
            repr: Repr::Inline(InlineData([0; INLINE_MAX + 1])),
        }
    }

    /// A frame holding a copy of `bytes`: inline up to [`INLINE_MAX`] bytes, else in a
    /// recycled pool buffer (or, above the pool's largest size, a fresh allocation).
    #[inline]
    pub fn copy_from_slice(bytes: &[u8]) -> Self {
        if let Some(f) = Frame::inline(bytes) {
            return f;
        }
        Frame::copy_to_buffer(bytes)
    }

    /// [`Frame::copy_from_slice`] for a frame too long to be inline.
    #[inline]
    pub(crate) fn copy_to_buffer(bytes: &[u8]) -> Self {
        match PoolBuf::copy_from_slice(bytes) {
            Some(b) => Frame {
                repr: Repr::Pooled(b),
            },
            None => Frame {
                repr: Repr::Shared(Bytes::copy_from_slice(bytes)),
            },
        }
    }

    #[inline]
    pub(crate) fn inline(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > INLINE_MAX {
            return None;
        }
        Some(Frame {
            repr: Repr::Inline(small_copy(bytes)),
        })
    }

    /// The frame's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline(data) => data.bytes(),
            Repr::Pooled(b) => b.as_slice(),
            Repr::Shared(b) => b,
        }
    }

    /// The frame as [`Bytes`]: no copy for a frame made from `Bytes`/`Vec`/`String`, a
    /// copy otherwise.
    pub fn to_bytes(&self) -> Bytes {
        match &self.repr {
            Repr::Shared(b) => b.clone(),
            _ => Bytes::copy_from_slice(self.as_slice()),
        }
    }

    /// Is this frame stored inline (no heap memory)? For tests and diagnostics.
    pub fn is_inline(&self) -> bool {
        matches!(self.repr, Repr::Inline(_))
    }

    /// Is this frame in a pool buffer? For tests and diagnostics.
    pub fn is_pooled(&self) -> bool {
        matches!(self.repr, Repr::Pooled(_))
    }
}

impl Default for Frame {
    fn default() -> Self {
        Frame::new()
    }
}

impl Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for Frame {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Frame {}

/// Hashes as `[u8]` does, in agreement with `Borrow<[u8]>`.
impl Hash for Frame {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq<[u8]> for Frame {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for Frame {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Frame {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<str> for Frame {
    fn eq(&self, other: &str) -> bool {
        self.as_slice() == other.as_bytes()
    }
}

impl PartialEq<&str> for Frame {
    fn eq(&self, other: &&str) -> bool {
        self.as_slice() == other.as_bytes()
    }
}

impl PartialEq<Bytes> for Frame {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == &other[..]
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

impl From<&[u8]> for Frame {
    #[inline]
    fn from(s: &[u8]) -> Self {
        Frame::copy_from_slice(s)
    }
}

impl<const N: usize> From<&[u8; N]> for Frame {
    fn from(s: &[u8; N]) -> Self {
        Frame::copy_from_slice(s)
    }
}

impl From<&str> for Frame {
    fn from(s: &str) -> Self {
        Frame::copy_from_slice(s.as_bytes())
    }
}

impl From<Bytes> for Frame {
    fn from(b: Bytes) -> Self {
        Frame {
            repr: Repr::Shared(b),
        }
    }
}

impl From<Vec<u8>> for Frame {
    fn from(v: Vec<u8>) -> Self {
        Frame::inline(&v).unwrap_or_else(|| Frame {
            repr: Repr::Shared(Bytes::from(v)),
        })
    }
}

impl From<String> for Frame {
    fn from(s: String) -> Self {
        s.into_bytes().into()
    }
}

impl From<Frame> for Bytes {
    fn from(f: Frame) -> Bytes {
        match f.repr {
            Repr::Shared(b) => b,
            _ => Bytes::copy_from_slice(f.as_slice()),
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `small_copy` against the obvious copy, for every length and every position of
    /// a distinct byte (each byte of the source is distinct, so a byte copied to the
    /// wrong place or OR-ed with another shows).
    #[test]
    fn small_copy_is_a_zero_padded_copy_at_every_length() {
        let source: Vec<u8> = (1..=INLINE_MAX as u8).map(|b| b.wrapping_mul(37)).collect();
        for n in 0..=INLINE_MAX {
            for start in 0..=INLINE_MAX - n {
                let bytes = &source[start..start + n];
                let mut want = [0u8; INLINE_MAX + 1];
                want[..n].copy_from_slice(bytes);
                want[INLINE_MAX] = n as u8;
                let got = small_copy(bytes);
                assert_eq!(got.0, want, "length {n} from {start}");
                assert_eq!(got.bytes(), bytes);
            }
        }
    }

    /// A frame, and a message of one frame, are five words, the inline bytes word-aligned.
    #[test]
    fn a_frame_and_a_message_are_five_words() {
        assert_eq!(std::mem::size_of::<Frame>(), 40);
        assert_eq!(std::mem::size_of::<crate::Message>(), 40);
        assert_eq!(std::mem::size_of::<InlineData>(), 32);
        assert_eq!(std::mem::align_of::<InlineData>(), 8);
    }

    #[test]
    fn storage_follows_the_documented_table() {
        assert!(Frame::from("").is_inline());
        assert!(Frame::from(&[7u8; INLINE_MAX][..]).is_inline());
        assert!(Frame::from(&[7u8; INLINE_MAX + 1][..]).is_pooled());
        assert!(Frame::from(vec![1u8; 4]).is_inline());
        let big = vec![3u8; 1000];
        let ptr = big.as_ptr();
        let f = Frame::from(big);
        assert!(!f.is_inline() && !f.is_pooled());
        assert_eq!(f.as_ptr(), ptr, "a Vec is taken over, not copied");
        assert_eq!(f.to_bytes().as_ptr(), ptr);
    }

    #[test]
    fn equality_hash_and_debug_are_by_content() {
        let a = Frame::from(&[9u8; 100][..]);
        let b = Frame::from(vec![9u8; 100]);
        assert!(a.is_pooled() && !b.is_pooled());
        assert_eq!(a, b);
        let mut m = HashMap::new();
        m.insert(a.clone(), 1);
        assert_eq!(m.get(&[9u8; 100][..]), Some(&1));
        assert_eq!(m.get(&b), Some(&1));
        assert_eq!(format!("{:?}", Frame::from("a\n")), "b\"a\\n\"");
        assert_eq!(Frame::from("xy"), "xy");
        assert_eq!(Frame::from("xy"), Bytes::from_static(b"xy"));
        assert_eq!(Bytes::from(Frame::from("xy")), Bytes::from_static(b"xy"));
    }
}
/// `bytes` (at most [`INLINE_MAX`]) as an inline frame, built in registers from at most
/// four loads that overlap instead of a `memcpy` of variable length: inlined into a
/// sender's loop, the copy through memory stalled each later read of the frame (the
/// CPU cannot forward a wide load from narrower stores), and a batch of 1-byte messages
/// ran at half the rate (measured, issue 12).
#[inline(always)]
fn small_copy(bytes: &[u8]) -> InlineData {
    const { assert!(INLINE_MAX == 31) };
    let n = bytes.len();
    debug_assert!(n <= INLINE_MAX);
    // The first and the last `w` bytes as a little-endian integer (`first_chunk` and
    // `last_chunk` are `None` only for fewer than `w` bytes, which the arms exclude).
    let first = |w: usize| match w {
        4 => le::<4>(bytes.first_chunk()),
        8 => le::<8>(bytes.first_chunk()),
        _ => le::<16>(bytes.first_chunk()),
    };
    let last = |w: usize| match w {
        4 => le::<4>(bytes.last_chunk()),
        8 => le::<8>(bytes.last_chunk()),
        _ => le::<16>(bytes.last_chunk()),
    };
    let byte = |i: usize| bytes.get(i).map_or(0, |&b| u128::from(b));
    // Bytes 0..16 and 16..32 (byte 31 is zero: at most 31 bytes). Where two loads
    // overlap they carry the same bytes, so OR-ing them is exact.
    let (lo, hi) = if n > 16 {
        (first(16), last(16) >> (8 * (32 - n)))
    } else if n >= 8 {
        (first(8) | last(8) << (8 * (n - 8)), 0)
    } else if n >= 4 {
        (first(4) | last(4) << (8 * (n - 4)), 0)
    } else if n > 0 {
        (
            byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
            0,
        )
    } else {
        (0, 0)
    };
    // The length, in the last byte (cannot truncate: n <= 31).
    let hi = hi | (n as u128) << (8 * (INLINE_MAX - 16));
    let mut data = [0; INLINE_MAX + 1];
    data[..16].copy_from_slice(&lo.to_le_bytes());
    data[16..].copy_from_slice(&hi.to_le_bytes());
    InlineData(data)
}

/// `N` (at most 16) bytes as a little-endian integer; 0 for `None`.
#[inline(always)]
fn le<const N: usize>(chunk: Option<&[u8; N]>) -> u128 {
    const { assert!(N <= 16) };
    chunk.map_or(0, |c| {
        let mut w = [0; 16];
        w[..N].copy_from_slice(c);
        u128::from_le_bytes(w)
    })
}
