//! Outbound load balancing (libzmq `lb.cpp`, reference rule 67): one whole message per
//! pipe, round-robin in attach order, skipping pipes whose window is full and dropping
//! pipes whose peer has gone.

use super::{PipeId, PipeSet, Rotation};
use crate::msg::Message;
use crate::pipe::{PipeEnd, SendFail};

/// Does `end` have room for one more message now? If it is full (and its peer is still
/// there), registers for the credit wake-up first, and says `true` if credit came back
/// meanwhile. A pipe whose peer has gone is never writable.
pub(crate) fn end_writable(end: &mut PipeEnd) -> bool {
    if end.writable() {
        return true;
    }
    // `sleep_until_room` is `false` when room appeared between the two looks.
    !end.peer_closed() && !end.sleep_until_room()
}

/// Round-robin over outbound pipes.
#[derive(Debug, Default)]
pub(crate) struct LoadBalance {
    /// Pipes in attach order, and whose turn it is.
    rotation: Rotation,
    /// The socket also reads these pipes (DEALER): a pipe whose peer is gone only leaves
    /// the rotation, and the reading side drops it once what the peer sent is read.
    /// Otherwise (PUSH, REQ) it is dropped from the socket at once.
    shared_with_reader: bool,
}

impl LoadBalance {
    /// A load balancer over pipes the socket also reads (see `shared_with_reader`).
    pub(crate) fn sharing_pipes() -> Self {
        LoadBalance {
            shared_with_reader: true,
            ..Default::default()
        }
    }

    pub(crate) fn add(&mut self, id: PipeId) {
        self.rotation.add(id);
    }

    pub(crate) fn remove(&mut self, id: PipeId) {
        self.rotation.remove(id);
    }

    /// The only pipe, if there is exactly one, with the cursor moved past it (as a
    /// send to it moves it): a batch send may push a run into it (`batch_pipe`).
    pub(crate) fn single(&mut self) -> Option<PipeId> {
        if self.rotation.len() != 1 {
            return None;
        }
        let (i, id) = self.rotation.current()?;
        self.rotation.advance_past(i);
        Some(id)
    }

    /// Would [`LoadBalance::send`] succeed now (ZMQ_POLLOUT): does some live pipe have
    /// room? When none has, every full pipe is registered (as by a blocked send) so that
    /// returning credit wakes the socket, and with it a poller or task watching it.
    /// Never sends and never drops a pipe.
    pub(crate) fn writable(&self, pipes: &mut PipeSet) -> bool {
        self.rotation
            .iter()
            .any(|id| pipes.get_mut(id).is_some_and(end_writable))
    }

    /// Sends `msg` to the next pipe with room. Gives it back if every pipe is full (each
    /// full pipe is then registered to wake the socket when credit returns) or there is no
    /// pipe. Pipes found dead leave the rotation (and `pipes`, unless shared with a
    /// reader).
    pub(crate) fn send(
        &mut self,
        pipes: &mut PipeSet,
        mut msg: Message,
    ) -> Result<PipeId, Message> {
        // Invariant: the `tried` pipes before the cursor (cyclically) were full in this
        // call; every other pipe is still to be tried.
        let mut tried = 0;
        while tried < self.rotation.len() {
            let Some((i, id)) = self.rotation.current() else {
                break;
            };
            let Some(end) = pipes.get_mut(id) else {
                self.rotation.drop_at(i);
                continue;
            };
            match end.send(msg) {
                Ok(()) => {
                    self.rotation.advance_past(i);
                    return Ok(id);
                }
                Err(SendFail::Full(m)) => {
                    msg = m;
                    if !end.sleep_until_room() {
                        // Credit arrived between the check and the sleep: retry this pipe.
                        continue;
                    }
                    tried += 1;
                    self.rotation.advance_past(i);
                }
                Err(SendFail::PeerGone(m)) => {
                    msg = m;
                    self.rotation.drop_at(i);
                    if !self.shared_with_reader {
                        pipes.remove(id);
                    }
                }
            }
        }
        Err(msg)
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use crate::pipe::test_pair;

    fn bound_pair(pipes: &mut PipeSet, hwm: usize) -> (PipeId, crate::pipe::PipeEnd) {
        let (c, b) = test_pair((hwm, hwm), Some((hwm, hwm)));
        (pipes.insert(c), b)
    }

    #[test]
    fn round_robin_in_attach_order_rule_67() {
        let mut pipes = PipeSet::default();
        let mut lb = LoadBalance::default();
        let mut peers = Vec::new();
        for _ in 0..3 {
            let (id, peer) = bound_pair(&mut pipes, 100);
            lb.add(id);
            peers.push(peer);
        }
        for i in 0..6u8 {
            lb.send(&mut pipes, Message::from(vec![i])).unwrap();
        }
        let got: Vec<Vec<u8>> = peers
            .iter_mut()
            .map(|p| {
                (0..2)
                    .map(|_| p.recv().unwrap().frames()[0].to_vec())
                    .collect::<Vec<_>>()
                    .concat()
            })
            .collect();
        assert_eq!(got, vec![vec![0, 3], vec![1, 4], vec![2, 5]]);
    }

    #[test]
    fn skips_full_pipes_and_drops_dead_ones() {
        let mut pipes = PipeSet::default();
        let mut lb = LoadBalance::default();
        let (a, pa) = bound_pair(&mut pipes, 1); // window 2
        let (b, mut pb) = bound_pair(&mut pipes, 100);
        lb.add(a);
        lb.add(b);
        for _ in 0..6 {
            lb.send(&mut pipes, Message::from("x")).unwrap();
        }
        // a took 2 (its window), b the other 4.
        let mut n = 0;
        while pb.recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 4);
        drop(pa);
        lb.send(&mut pipes, Message::from("y")).unwrap();
        assert!(!pipes.contains(a), "a dead pipe is removed");
        assert_eq!(pb.recv().unwrap(), Message::from("y"));
    }

    #[test]
    fn writable_when_some_pipe_has_room() {
        let mut pipes = PipeSet::default();
        let mut lb = LoadBalance::default();
        assert!(!lb.writable(&mut pipes), "no pipe: not writable");
        let (a, mut pa) = bound_pair(&mut pipes, 1); // window 2
        let (b, pb) = bound_pair(&mut pipes, 1);
        lb.add(a);
        lb.add(b);
        assert!(lb.writable(&mut pipes));
        for _ in 0..4 {
            lb.send(&mut pipes, Message::from("x")).unwrap();
        }
        assert!(!lb.writable(&mut pipes), "both windows full");
        // Reading returns credit (at the low-water mark): writable again.
        while pa.recv().is_ok() {}
        assert!(lb.writable(&mut pipes));
        // A pipe whose peer left is not writable, and `writable` does not drop it.
        drop(pb);
        lb.send(&mut pipes, Message::from("x")).unwrap();
        lb.send(&mut pipes, Message::from("x")).unwrap();
        assert!(!lb.writable(&mut pipes));
    }

    #[test]
    fn no_pipe_gives_message_back() {
        let mut pipes = PipeSet::default();
        let mut lb = LoadBalance::default();
        assert_eq!(
            lb.send(&mut pipes, Message::from("m")).unwrap_err(),
            Message::from("m")
        );
    }
}
