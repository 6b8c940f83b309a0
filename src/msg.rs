//! `Message`: one or more frames, sent and received whole.

use bytes::Bytes;

/// A message: one or more frames (ZeroMQ's multipart message), each a [`Bytes`].
///
/// A message is sent and received whole: a receiver sees all of its frames or none
/// (multipart atomicity). Frames are reference-counted, so cloning a message or fanning it
/// out copies no payload.
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return }
/// use inproc::Message;
/// let mut m = Message::from("header");
/// m.push("body");
/// assert_eq!(m.frames().len(), 2);
/// assert_eq!(&m.frames()[1][..], b"body");
/// let one = Message::from_frames(Vec::<bytes::Bytes>::new());
/// assert_eq!(one.frames().len(), 1, "a message always has at least one frame");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    frames: Frames,
}

/// Single-frame messages (the common case) need no `Vec`.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Frames {
    One(Bytes),
    Many(Vec<Bytes>),
}

impl Message {
    /// A message with one empty frame.
    pub fn new() -> Self {
        Message {
            frames: Frames::One(Bytes::new()),
        }
    }

    /// A message made of `frames`, in order. An empty iterator gives one empty frame,
    /// since a ZeroMQ message always has at least one frame.
    pub fn from_frames<I, F>(frames: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Into<Bytes>,
    {
        let mut v: Vec<Bytes> = frames.into_iter().map(Into::into).collect();
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
    pub fn frames(&self) -> &[Bytes] {
        match &self.frames {
            Frames::One(b) => std::slice::from_ref(b),
            Frames::Many(v) => v,
        }
    }

    /// The frames, in order (never empty).
    pub fn into_frames(self) -> Vec<Bytes> {
        match self.frames {
            Frames::One(b) => vec![b],
            Frames::Many(v) => v,
        }
    }

    /// Appends a frame.
    pub fn push(&mut self, frame: impl Into<Bytes>) {
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
        self.frames().iter().map(Bytes::len).sum()
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

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message {
            frames: Frames::One(b),
        }
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Bytes::copy_from_slice(s.as_bytes()).into()
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}

impl From<&[u8]> for Message {
    fn from(s: &[u8]) -> Self {
        Bytes::copy_from_slice(s).into()
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(s: &[u8; N]) -> Self {
        Bytes::copy_from_slice(s).into()
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn conversions_and_frames() {
        assert_eq!(Message::from("ab").frames(), &[Bytes::from_static(b"ab")]);
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
