//! Inbound fair queueing (libzmq `fq.cpp`, reference rule 68): one whole message at a
//! time, round-robin over pipes that hold data; pipes whose peer has gone and whose data
//! has all been read are dropped.

use super::{PipeId, PipeSet, Rotation};
use crate::msg::Message;
use crate::pipe::RecvFail;

/// Round-robin over inbound pipes.
#[derive(Debug, Default)]
pub(crate) struct FairQueue {
    /// Pipes in attach order, and whose turn it is.
    rotation: Rotation,
}

impl FairQueue {
    pub(crate) fn add(&mut self, id: PipeId) {
        self.rotation.add(id);
    }

    pub(crate) fn remove(&mut self, id: PipeId) {
        self.rotation.remove(id);
    }

    /// Receives the next message, starting after the pipe that gave the last one. `None`
    /// only if every attached pipe was found empty in this call (each is then registered
    /// to wake the socket on its next write, unless `pipes.disarmed`); pipes whose peer
    /// has gone and whose data has all been read are dropped on the way, without
    /// skipping the pipe after them (SPEC D-4).
    pub(crate) fn recv(&mut self, pipes: &mut PipeSet) -> Option<(PipeId, Message)> {
        // Invariant of the loop: the `checked` pipes before the cursor (cyclically) were
        // found empty in this call, and every other pipe is still to be looked at.
        let mut checked = 0;
        let arm = !pipes.disarmed;
        while checked < self.rotation.len() {
            let Some((i, id)) = self.rotation.current() else {
                break;
            };
            let Some(end) = pipes.get_mut(id) else {
                self.rotation.drop_at(i);
                continue;
            };
            match end.recv_with(arm) {
                Ok(m) => {
                    self.rotation.advance_past(i);
                    return Some((id, m));
                }
                Err(RecvFail::Empty) => {
                    checked += 1;
                    self.rotation.advance_past(i);
                }
                Err(RecvFail::PeerGone) => {
                    self.rotation.drop_at(i);
                    pipes.remove(id);
                }
            }
        }
        None
    }

    /// Receives up to `max` messages into `out` (a batch receive); returns how many, 0
    /// where [`FairQueue::recv`] gives `None`: exactly what `max` calls of `recv` would
    /// give, stopping at the first `None` (`route::check::rr` checks this against the
    /// reference). With one pipe attached, they are taken in one call on that pipe
    /// ([`PipeEnd::recv_many`](crate::pipe::PipeEnd::recv_many)); with several, one at
    /// a time, so that a batch too takes one message from each peer before a second
    /// (rule 68).
    pub(crate) fn recv_many(
        &mut self,
        pipes: &mut PipeSet,
        out: &mut Vec<Message>,
        max: usize,
    ) -> usize {
        if self.rotation.len() == 1
            && let Some((i, id)) = self.rotation.current()
        {
            let arm = !pipes.disarmed;
            let Some(end) = pipes.get_mut(id) else {
                self.rotation.drop_at(i);
                return 0;
            };
            let (n, gone) = end.recv_many(arm, out, max);
            if gone {
                self.rotation.drop_at(i);
                pipes.remove(id);
            } else {
                self.rotation.advance_past(i);
            }
            return n;
        }
        let mut n = 0;
        while n < max {
            match self.recv(pipes) {
                Some((_, m)) => {
                    out.push(m);
                    n += 1;
                }
                None => break,
            }
        }
        n
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use crate::pipe::test_pair;

    #[test]
    fn one_message_from_each_peer_before_a_second_rule_68() {
        let mut pipes = PipeSet::default();
        let mut fq = FairQueue::default();
        let mut writers = Vec::new();
        for _ in 0..5 {
            let (w, r) = test_pair((10, 10), Some((10, 10)));
            fq.add(pipes.insert(r));
            writers.push(w);
        }
        for (i, w) in writers.iter_mut().enumerate() {
            w.send(Message::from(vec![i as u8, 0])).unwrap();
            w.send(Message::from(vec![i as u8, 1])).unwrap();
        }
        let got: Vec<Vec<u8>> = (0..10)
            .map(|_| fq.recv(&mut pipes).unwrap().1.frames()[0].to_vec())
            .collect();
        for (k, m) in got.iter().enumerate() {
            assert_eq!(m[1] as usize, k / 5, "round {k}: {got:?}");
        }
        assert!(fq.recv(&mut pipes).is_none());
    }

    #[test]
    fn closed_peer_is_drained_then_dropped() {
        let mut pipes = PipeSet::default();
        let mut fq = FairQueue::default();
        let (mut w, r) = test_pair((10, 10), Some((10, 10)));
        let id = pipes.insert(r);
        fq.add(id);
        w.send(Message::from("last")).unwrap();
        drop(w);
        assert_eq!(fq.recv(&mut pipes).unwrap().1, Message::from("last"));
        assert!(fq.recv(&mut pipes).is_none());
        assert!(!pipes.contains(id));
    }
}
