//! `Message`: one or more frames, sent and received whole.

use bytes::Bytes;

use crate::frame::Frame;

/// A message: one or more frames (ZeroMQ's multipart message), each a [`Frame`].
///
/// A message is sent and received whole: a receiver sees all of its frames or none
/// (multipart atomicity). Frames up to [`INLINE_MAX`](crate::INLINE_MAX) bytes live in
/// the message itself, so a single-frame message that small costs no heap allocation;
/// larger frames are reference-counted, so cloning a message or fanning it out copies no
/// payload (see [`Frame`] for where bytes live).
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return }
/// use inproc::Message;
/// let mut m = Message::from("header");
/// m.push("body");
/// assert_eq!(m.frames().len(), 2);
/// assert_eq!(&m.frames()[1][..], b"body");
/// let one = Message::from_frames(Vec::<inproc::Frame>::new());
/// assert_eq!(one.frames().len(), 1, "a message always has at least one frame");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    frames: Frames,
}

/// Single-frame messages (the common case) need no `Vec`.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Frames {
    One(Frame),
    Many(Vec<Frame>),
}

impl Message {
    /// A message with one empty frame.
    pub fn new() -> Self {
        Message {
            frames: Frames::One(Frame::new()),
        }
    }

    /// A message made of `frames`, in order. An empty iterator gives one empty frame,
    /// since a ZeroMQ message always has at least one frame.
    pub fn from_frames<I, F>(frames: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Into<Frame>,
    {
        let mut v: Vec<Frame> = frames.into_iter().map(Into::into).collect();
        match v.len() {
            0 => Message::new(),
            1 => Message {
                frames: Frames::One(v.pop().unwrap_or_default()),
            },
            _ => Message {
                frames: Frames::Many(v),
            },
        }
    }

    /// The frames, in order (never empty).
    pub fn frames(&self) -> &[Frame] {
        match &self.frames {
            Frames::One(b) => std::slice::from_ref(b),
            Frames::Many(v) => v,
        }
    }

    /// The frames, in order (never empty).
    pub fn into_frames(self) -> Vec<Frame> {
        match self.frames {
            Frames::One(b) => vec![b],
            Frames::Many(v) => v,
        }
    }

    /// A message of the frames in `v`, keeping `v`'s allocation when it has two frames
    /// or more (no copy into a new vector).
    pub(crate) fn from_vec(mut v: Vec<Frame>) -> Self {
        match v.len() {
            0 => Message::new(),
            1 => Message::from(v.pop().unwrap_or_default()),
            _ => Message {
                frames: Frames::Many(v),
            },
        }
    }

    /// Appends this message's frames to `v` (allocating nothing for a single-frame
    /// message beyond `v`'s own growth).
    pub(crate) fn append_to(self, v: &mut Vec<Frame>) {
        match self.frames {
            Frames::One(f) => v.push(f),
            Frames::Many(mut frames) => v.append(&mut frames),
        }
    }

    /// Splits off the first `n` frames (`n` less than the length): the rest as a message,
    /// and the vector that held the frames, emptied, for reuse (when there was one). A
    /// message of `n + 1` frames gives its last frame back without a new vector.
    pub(crate) fn split_prefix(self, n: usize) -> (Message, Option<Vec<Frame>>) {
        match self.frames {
            Frames::One(f) => (Message::from(f), None),
            Frames::Many(mut v) => {
                let n = n.min(v.len() - 1);
                let rest = if v.len() == n + 1 {
                    Message::from(v.pop().unwrap_or_default())
                } else {
                    Message::from_vec(v.split_off(n))
                };
                v.clear();
                (rest, Some(v))
            }
        }
    }

    /// Appends a frame.
    pub fn push(&mut self, frame: impl Into<Frame>) {
        let frame = frame.into();
        match &mut self.frames {
            Frames::Many(v) => v.push(frame),
            Frames::One(b) => {
                let first = std::mem::take(b);
                self.frames = Frames::Many(vec![first, frame]);
            }
        }
    }

    /// Number of frames (at least 1).
    pub fn len(&self) -> usize {
        self.frames().len()
    }

    /// Always `false`: a message has at least one frame. (Present for clippy's
    /// `len_without_is_empty`; see [`Message::len`].)
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Total payload bytes over all frames.
    pub fn size(&self) -> usize {
        self.frames().iter().map(|f| f.len()).sum()
    }
}

impl Default for Message {
    fn default() -> Self {
        Message::new()
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.frames()).finish()
    }
}

impl From<Frame> for Message {
    fn from(f: Frame) -> Self {
        Message {
            frames: Frames::One(f),
        }
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Frame::from(b).into()
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Frame::from(s).into()
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Frame::from(s).into()
    }
}

/// Copies the bytes: inline up to [`INLINE_MAX`](crate::INLINE_MAX), else into a
/// recycled pool buffer (see [`Frame`]).
impl From<&[u8]> for Message {
    fn from(s: &[u8]) -> Self {
        Frame::from(s).into()
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(s: &[u8; N]) -> Self {
        Frame::from(s).into()
    }
}

/// Takes the vector over without a copy (a short one is copied inline and dropped).
impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Frame::from(v).into()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn conversions_and_frames() {
        assert_eq!(Message::from("ab").frames(), &[Bytes::from_static(b"ab")]);
        assert!(Message::from("ab").frames()[0].is_inline());
        assert_eq!(Message::from(String::from("ab")), Message::from("ab"));
        assert_eq!(Message::from(&b"ab"[..]), Message::from(vec![b'a', b'b']));
        let m = Message::from_frames(["a", "b", "c"]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.size(), 3);
        assert_eq!(m.clone().into_frames().len(), 3);
        let mut one = Message::from("x");
        one.push("y");
        assert_eq!(one, Message::from_frames(["x", "y"]));
    }
}
