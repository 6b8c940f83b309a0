//! How long a receive that awaits a reply tries without registering for a wake-up
//! before it arms its pipes and sleeps (the *unarmed* attempts of `Socket::block_on`;
//! SPEC F-6): a budget per socket that adapts to how long its replies take.
//!
//! A fixed budget of 100 attempts (about 2-4 µs on the 2-core VM) was shorter than one
//! PAIR round trip's turn-around there, so a ping-pong slept and was woken through the
//! kernel at every hop: 1.0-1.5 µs one-way, against 0.22-0.28 µs with 400 attempts or
//! more (issue 12, measured). A long budget for every wait instead made a streaming
//! PULL keep up with its writer message by message (64 B PUSH→PULL 9.1 → 7.6 M msg/s,
//! measured), and burns CPU on idle waits. So only a receive right after the socket's
//! last operation was a send (REQ, REP, a PAIR or DEALER in a request-reply exchange)
//! uses the budget, and the budget learns, from each such call that had to sleep, how
//! long the reply took to come after the spinning stopped:
//!
//! * soon (under [`SOON`]): spinning a little longer would have caught it, without the
//!   sleep and the wake-up; the budget doubles, up to [`MAX`];
//! * late (over [`LATE`]): the spinning was wasted; the budget halves, down to [`MIN`];
//! * in between: unchanged.
//!
//! Calls that did not sleep leave the budget as it is. While it spins for a reply, the
//! call yields the CPU every 64 attempts, so a peer pinned to the same CPU can run and
//! answer (PAIR ping-pong on one CPU: 5.8 µs one-way before, 2.2 µs with the yields;
//! without them the growing budget only delayed the peer, 82 µs). The policy is
//! sequential (a pure function of the budget and one measured wait, unit-tested here);
//! the budget and the "last was a send" flag live in the socket's state, touched only
//! inside its gate. Under the model checkers nothing here runs: every call makes the
//! fixed `sync::unarmed_attempts()`, since time is not modelled.

use std::time::Duration;

/// The budget a socket starts with, and the least it falls to: the fixed budget before.
pub(crate) const MIN: u32 = 100;
/// The most unarmed attempts a call makes (about 20-40 µs of spinning on the 2-core VM;
/// the ping-pong needed 400, and 800 measured the same).
pub(crate) const MAX: u32 = 800;
/// A wait that ended within this, after the spinning, would have been caught by spinning
/// longer.
pub(crate) const SOON: Duration = Duration::from_micros(50);
/// A wait longer than this shows the spinning was wasted.
pub(crate) const LATE: Duration = Duration::from_millis(1);

/// The next budget after a call that spun `budget` unarmed attempts, then slept, and got
/// its event `waited` after it stopped spinning.
pub(crate) fn next(budget: u32, waited: Duration) -> u32 {
    let budget = budget.clamp(MIN, MAX);
    if waited < SOON {
        budget.saturating_mul(2).min(MAX)
    } else if waited > LATE {
        (budget / 2).max(MIN)
    } else {
        budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every budget in range and out, every class of wait: the result stays in
    /// `MIN..=MAX`, grows only on a soon wait, shrinks only on a late one, by at most a
    /// factor 2.
    #[test]
    fn budget_doubles_on_soon_waits_halves_on_late_ones_and_stays_in_range() {
        let waits = [
            Duration::ZERO,
            SOON - Duration::from_nanos(1),
            SOON,
            LATE,
            LATE + Duration::from_nanos(1),
            Duration::from_secs(3600),
        ];
        for budget in (0..=MAX + 10).chain([u32::MAX / 2, u32::MAX]) {
            for w in waits {
                let n = next(budget, w);
                assert!((MIN..=MAX).contains(&n), "{budget} {w:?} -> {n}");
                let b = budget.clamp(MIN, MAX);
                if w < SOON {
                    assert_eq!(n, b.saturating_mul(2).min(MAX));
                } else if w > LATE {
                    assert_eq!(n, (b / 2).max(MIN));
                } else {
                    assert_eq!(n, b);
                }
            }
        }
        // From the start, three soon waits in a row reach the maximum (the PAIR
        // ping-pong needed 400); two late ones go back to a quarter.
        let mut b = MIN;
        for _ in 0..3 {
            b = next(b, Duration::from_micros(5));
        }
        assert_eq!(b, MAX);
        b = next(next(b, Duration::from_secs(1)), Duration::from_secs(1));
        assert_eq!(b, MAX / 4);
    }
}
