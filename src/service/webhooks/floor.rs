//! Where reading an endpoint's due deliveries may start.
//!
//! Due deliveries are read in `next_attempt_at` order, and the oldest entries of that
//! index are those already sent: on PostgreSQL an update that marks a delivery sent
//! leaves its `pending` index entry behind, pointing at a dead row, until a vacuum. A read
//! from the start walked all of them (4 ms for 2,400 after a 30 s run with nothing due),
//! many times a second. So each read starts just before where the last one ended: rows
//! due before that point were read then (or were held, or sent since). A delivery whose
//! time is earlier than that point when it appears (its write committed more than
//! [`SLACK`] after stamping it, or another instance's clock lags) is still found by the
//! full read made every [`FULL_EVERY`]: it is late, never lost.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// How far before the last read's end a read starts.
pub const SLACK: chrono::Duration = chrono::Duration::milliseconds(500);
/// How often a read starts from the beginning.
pub const FULL_EVERY: Duration = Duration::from_secs(5);

/// One endpoint's reading position.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// Every delivery due before this was read (or held) by an earlier read.
    read_up_to: DateTime<Utc>,
    /// When the last read from the beginning was made.
    full_at: Instant,
}

impl Floor {
    /// The lowest `next_attempt_at` the next read needs; `None`: read from the start.
    pub fn start(floor: Option<&Floor>, now: Instant) -> Option<DateTime<Utc>> {
        let floor = floor?;
        (now.duration_since(floor.full_at) < FULL_EVERY).then(|| floor.read_up_to - SLACK)
    }

    /// The position after a read that started at `start` (`None`: the beginning), asked
    /// for deliveries due by `due_by` and returned `last`, the time of the last row read,
    /// if it read as many as it asked for (`None` when it read fewer: everything due was
    /// read).
    pub fn after(
        previous: Option<&Floor>,
        start: Option<DateTime<Utc>>,
        due_by: DateTime<Utc>,
        last: Option<DateTime<Utc>>,
        now: Instant,
    ) -> Floor {
        let full_at = match (start, previous) {
            (Some(_), Some(previous)) => previous.full_at,
            _ => now,
        };
        Floor {
            read_up_to: last.unwrap_or(due_by),
            full_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn reads_start_before_where_the_last_one_ended_and_from_the_beginning_at_times() {
        let t0 = Instant::now();
        assert_eq!(Floor::start(None, t0), None, "the first read is full");
        // Everything due by 10 was read.
        let floor = Floor::after(None, None, at(10), None, t0);
        assert_eq!(Floor::start(Some(&floor), t0), Some(at(10) - SLACK));
        // A read that filled its batch ends at its last row, not at the time asked for.
        let start = Floor::start(Some(&floor), t0);
        let next = Floor::after(Some(&floor), start, at(20), Some(at(12)), t0);
        assert_eq!(Floor::start(Some(&next), t0), Some(at(12) - SLACK));
        // Partial reads keep the time of the last full one: after FULL_EVERY, a full one.
        let later = t0 + FULL_EVERY;
        assert_eq!(Floor::start(Some(&next), later), None);
        let full = Floor::after(Some(&next), None, at(30), None, later);
        assert_eq!(Floor::start(Some(&full), later), Some(at(30) - SLACK));
    }
}
