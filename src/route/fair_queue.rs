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
    /// Index in `order` of the pipe to read first.
    next: usize,
}

impl FairQueue {
    pub(crate) fn add(&mut self, id: PipeId) {
        self.order.push(id);
    }

    pub(crate) fn remove(&mut self, id: PipeId) {
        if let Some(i) = self.order.iter().position(|&p| p == id) {
            self.order.remove(i);
            if i < self.next {
                self.next -= 1;
            }
        }
    }

    /// Receives the next message, starting after the pipe that gave the last one. `None`
    /// if every pipe is empty; each empty pipe is then registered to wake the socket on
    /// its next write (unless `pipes.disarmed`).
    pub(crate) fn recv(&mut self, pipes: &mut PipeSet) -> Option<(PipeId, Message)> {
        let mut checked = 0;
        let arm = !pipes.disarmed;
        while checked < self.order.len() {
            let i = self.next % self.order.len();
            let id = self.order[i];
            let Some(end) = pipes.get_mut(id) else {
                self.order.remove(i);
                continue;
            };
            match end.recv_with(arm) {
                Ok(m) => {
                    self.next = i + 1;
                    return Some((id, m));
                }
                Err(RecvFail::Empty) => {
                    checked += 1;
                    self.next = i + 1;
                }
                Err(RecvFail::PeerGone) => {
                    self.order.remove(i);
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
