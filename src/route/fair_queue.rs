//! Inbound fair queueing (libzmq `fq.cpp`, reference rule 68): one whole message at a
//! time, round-robin over pipes that hold data; pipes whose peer has gone and whose data
//! has all been read are dropped.

use super::{PipeId, PipeSet};
use crate::msg::Message;
use crate::pipe::RecvFail;

/// Round-robin over inbound pipes.
#[derive(Debug, Default)]
pub(crate) struct FairQueue {
    /// Pipes in attach order.
    order: Vec<PipeId>,
    /// The cursor: how many pipes of `order` come before it (`0..=order.len()`). The
    /// pipe to read first is `order[next]`, or `order[0]` when the cursor is past the
    /// end (so a pipe attached after the last one read comes next, in attach order).
    /// When a pipe leaves, the cursor stays between the same two neighbours: a pipe
    /// leaving from before it moves it down by one; any other leaves it where it is, so
    /// the departed pipe's successor comes next (SPEC D-4).
    next: usize,
}

impl FairQueue {
    pub(crate) fn add(&mut self, id: PipeId) {
        self.order.push(id);
    }

    pub(crate) fn remove(&mut self, id: PipeId) {
        if let Some(i) = self.order.iter().position(|&p| p == id) {
            self.drop_at(i);
        }
    }

    /// Removes `order[i]`, keeping the cursor between the same neighbours.
    fn drop_at(&mut self, i: usize) {
        self.order.remove(i);
        if i < self.next {
            self.next -= 1;
        }
    }

    /// Moves the cursor past `order[i]`.
    fn advance_past(&mut self, i: usize) {
        self.next = i + 1;
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
        while checked < self.order.len() {
            let i = if self.next < self.order.len() {
                self.next
            } else {
                0
            };
            let id = self.order[i];
            let Some(end) = pipes.get_mut(id) else {
                self.drop_at(i);
                continue;
            };
            match end.recv_with(arm) {
                Ok(m) => {
                    self.advance_past(i);
                    return Some((id, m));
                }
                Err(RecvFail::Empty) => {
                    checked += 1;
                    self.advance_past(i);
                }
                Err(RecvFail::PeerGone) => {
                    self.drop_at(i);
                    pipes.remove(id);
                }
            }
        }
        None
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
