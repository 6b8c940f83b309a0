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

    /// Inserts a frame before the first one (an envelope frame, say).
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use inproc::Message;
    /// let mut m = Message::from("body");
    /// m.push_front("");
    /// m.push_front("peer-id");
    /// assert_eq!(m, Message::from_frames(["peer-id", "", "body"]));
    /// assert_eq!(m.pop_front().unwrap(), "peer-id");
    /// assert_eq!(m.pop_front().unwrap(), "");
    /// assert_eq!(m.pop_front(), None, "the last frame stays");
    /// assert_eq!(m.as_str(), Ok("body"));
    /// ```
    pub fn push_front(&mut self, frame: impl Into<Frame>) {
        let frame = frame.into();
        match &mut self.frames {
            Frames::Many(v) => v.insert(0, frame),
            Frames::One(b) => {
                let first = std::mem::take(b);
                self.frames = Frames::Many(vec![frame, first]);
            }
        }
    }

    /// Removes and returns the first frame, if there is another one after it: a message
    /// always keeps at least one frame, so a one-frame message gives `None` and stays as
    /// it is. (To take every frame, iterate the message by value: `for f in msg`.)
    pub fn pop_front(&mut self) -> Option<Frame> {
        let Frames::Many(v) = &mut self.frames else {
            return None;
        };
        let first = v.remove(0);
        if v.len() == 1 {
            let last = v.pop().unwrap_or_default();
            self.frames = Frames::One(last);
        }
        Some(first)
    }

    /// Removes and returns the last frame, if there is another one before it (see
    /// [`Message::pop_front`]).
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use inproc::Message;
    /// let mut m = Message::from_frames(["a", "b"]);
    /// assert_eq!(m.pop().unwrap(), "b");
    /// assert_eq!(m.pop(), None);
    /// assert_eq!(m, Message::from("a"));
    /// ```
    pub fn pop(&mut self) -> Option<Frame> {
        let Frames::Many(v) = &mut self.frames else {
            return None;
        };
        let last = v.pop();
        if v.len() == 1 {
            let first = v.pop().unwrap_or_default();
            self.frames = Frames::One(first);
        }
        last
    }

    /// The first frame (there always is one).
    pub fn first(&self) -> &Frame {
        &self.frames()[0]
    }

    /// The first frame as UTF-8 text (the payload of a one-frame text message; the
    /// topic or routing id of a multipart one). No copy.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use inproc::Message;
    /// assert_eq!(Message::from("hello").as_str(), Ok("hello"));
    /// assert!(Message::from(&[0xff_u8][..]).as_str().is_err());
    /// ```
    ///
    /// # Errors
    /// The [`std::str::Utf8Error`] if the first frame is not valid UTF-8.
    pub fn as_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(self.first())
    }

    /// The text of a one-frame message of valid UTF-8 (one copy); otherwise the message
    /// back, unchanged.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use inproc::Message;
    /// assert_eq!(Message::from("hi").into_string(), Ok(String::from("hi")));
    /// let two = Message::from_frames(["a", "b"]);
    /// assert_eq!(two.clone().into_string(), Err(two));
    /// ```
    ///
    /// # Errors
    /// The message itself, if it has more than one frame or is not valid UTF-8.
    pub fn into_string(self) -> Result<String, Message> {
        match &self.frames {
            Frames::One(f) => match std::str::from_utf8(f) {
                Ok(s) => Ok(s.to_owned()),
                Err(_) => Err(self),
            },
            Frames::Many(_) => Err(self),
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

/// The frames of a message, by value, in order: `for frame in msg { ... }`
/// (no allocation for a one-frame message).
impl IntoIterator for Message {
    type Item = Frame;
    type IntoIter = IntoFrames;

    fn into_iter(self) -> IntoFrames {
        IntoFrames {
            inner: match self.frames {
                Frames::One(f) => FramesIter::One(Some(f)),
                Frames::Many(v) => FramesIter::Many(v.into_iter()),
            },
        }
    }
}

/// The frames of a message, by reference, in order.
impl<'a> IntoIterator for &'a Message {
    type Item = &'a Frame;
    type IntoIter = std::slice::Iter<'a, Frame>;

    fn into_iter(self) -> Self::IntoIter {
        self.frames().iter()
    }
}

/// A message's frames, by value ([`Message`]'s `IntoIterator`).
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return }
/// use inproc::Message;
/// let msg = Message::from_frames(["id", "", "body"]);
/// let frames: Vec<String> = msg
///     .into_iter()
///     .map(|f| String::from_utf8(f.to_vec()).unwrap())
///     .collect();
/// assert_eq!(frames, ["id", "", "body"]);
/// ```
#[derive(Debug)]
pub struct IntoFrames {
    inner: FramesIter,
}

#[derive(Debug)]
enum FramesIter {
    One(Option<Frame>),
    Many(std::vec::IntoIter<Frame>),
}

impl Iterator for IntoFrames {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        match &mut self.inner {
            FramesIter::One(f) => f.take(),
            FramesIter::Many(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.inner {
            FramesIter::One(f) => usize::from(f.is_some()),
            FramesIter::Many(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl DoubleEndedIterator for IntoFrames {
    fn next_back(&mut self) -> Option<Frame> {
        match &mut self.inner {
            FramesIter::One(f) => f.take(),
            FramesIter::Many(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for IntoFrames {}

impl std::iter::FusedIterator for IntoFrames {}

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
    #[inline]
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
    /// Inline, so that a short message is built where it goes (straight into the pipe
    /// in a batch send: 1-byte batches 37 -> 95 M msg/s, measured); a longer one is
    /// built by one call, as before.
    #[inline]
    fn from(s: &[u8]) -> Self {
        match Frame::inline(s) {
            Some(f) => f.into(),
            None => Message::copy_to_buffer(s),
        }
    }
}

impl Message {
    /// A one-frame message holding a copy of `s`, too long to be inline.
    #[inline(never)]
    fn copy_to_buffer(s: &[u8]) -> Message {
        Frame::copy_to_buffer(s).into()
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

    /// F-8: front and back frame operations keep the one-frame representation canonical
    /// (so equality and hashing agree with `from_frames`), and never leave a message
    /// without a frame.
    #[test]
    fn f8_push_pop_front_and_back() {
        let mut m = Message::from("body");
        assert_eq!(m.pop_front(), None);
        assert_eq!(m.pop(), None);
        assert_eq!(m, Message::from("body"));
        m.push_front("b");
        m.push_front("a");
        m.push("c");
        assert_eq!(m, Message::from_frames(["a", "b", "body", "c"]));
        assert_eq!(m.first(), "a");
        assert_eq!(m.pop().unwrap(), "c");
        assert_eq!(m.pop_front().unwrap(), "a");
        assert_eq!(m.pop_front().unwrap(), "b");
        assert!(matches!(m.frames, Frames::One(_)), "back to one frame");
        assert_eq!(m, Message::from("body"));
        let mut two = Message::from_frames(["x", "y"]);
        assert_eq!(two.pop().unwrap(), "y");
        assert!(matches!(two.frames, Frames::One(_)));
        assert_eq!(two, Message::from("x"));
    }

    /// F-8: text access and by-value iteration.
    #[test]
    fn f8_text_and_iteration() {
        assert_eq!(Message::from("héllo").as_str(), Ok("héllo"));
        assert!(Message::from(&[b'a', 0xff][..]).as_str().is_err());
        assert_eq!(Message::from_frames(["t", "x"]).as_str(), Ok("t"));
        assert_eq!(Message::from("s").into_string(), Ok(String::from("s")));
        let bad = Message::from(vec![0xc3_u8]);
        assert_eq!(bad.clone().into_string(), Err(bad));
        let m = Message::from_frames(["a", "b", "c"]);
        let by_ref: Vec<&Frame> = (&m).into_iter().collect();
        assert_eq!(by_ref.len(), 3);
        let it = m.clone().into_iter();
        assert_eq!(it.len(), 3);
        assert_eq!(it.rev().collect::<Vec<_>>(), ["c", "b", "a"]);
        let one: Vec<Frame> = Message::from("only").into_iter().collect();
        assert_eq!(one, ["only"]);
        let mut it = Message::from("z").into_iter();
        assert_eq!(it.size_hint(), (1, Some(1)));
        assert_eq!(it.next().unwrap(), "z");
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }
}
