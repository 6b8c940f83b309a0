//! Turning timed runs into figures, and figures into the markdown table.

use std::fmt;
use std::time::Duration;

use crate::workload::{FAN, Workload};

/// What a figure measures.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// Messages per second (per subscriber for fan-out), `size` bytes each.
    Rate {
        /// Bytes per message.
        size: usize,
    },
    /// One-way latency in microseconds (round trip / 2).
    Latency,
}

/// One cell: the median over the runs of one workload on one side, with the range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Figure {
    /// What the numbers are.
    unit: Unit,
    /// The median run's value.
    median: f64,
    /// The lowest run's value.
    low: f64,
    /// The highest run's value.
    high: f64,
}

impl Figure {
    /// The figure of `runs`, each the time that `count` messages (round trips for
    /// latency) took.
    pub(crate) fn from_runs(workload: Workload, count: u64, runs: &[Duration]) -> Figure {
        let (unit, per_run): (Unit, &dyn Fn(f64) -> f64) = match workload {
            Workload::Latency { .. } | Workload::PairLatency { .. } => {
                (Unit::Latency, &|s| s * 1e6 / (2.0 * count as f64))
            }
            Workload::Throughput { size } | Workload::Batch { size } => {
                (Unit::Rate { size }, &|s| count as f64 / s)
            }
            // What the senders really sent: `count` rounded down to a multiple of FAN.
            Workload::FanIn => (Unit::Rate { size: 1 }, &|s| (count / FAN * FAN) as f64 / s),
            Workload::FanOut => (Unit::Rate { size: 1 }, &|s| count as f64 / s),
        };
        let mut values: Vec<f64> = runs
            .iter()
            .map(|d| per_run(d.as_secs_f64().max(1e-9)))
            .collect();
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        let median = if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        };
        Figure {
            unit,
            median,
            low: values[0],
            high: values[values.len() - 1],
        }
    }

    /// How many times better `self` (inproc) is than `other`, by the medians: > 1 means
    /// inproc is better (a higher rate, or a lower latency).
    pub(crate) fn advantage_over(self, other: Figure) -> f64 {
        match self.unit {
            Unit::Rate { .. } => self.median / other.median,
            Unit::Latency => other.median / self.median,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Rate { size } => write!(
                f,
                "{:.2} M msg/s ({:.2}–{:.2}), {:.1} MB/s",
                self.median / 1e6,
                self.low / 1e6,
                self.high / 1e6,
                self.median * size as f64 / 1e6,
            ),
            Unit::Latency => write!(
                f,
                "{:.2} µs ({:.2}–{:.2})",
                self.median, self.low, self.high
            ),
        }
    }
}

/// Prints the markdown table: one row per workload, `[inproc, crossbeam, libzmq]` each.
pub(crate) fn print(rows: &[(Workload, [Figure; 3])]) {
    println!(
        "| workload | inproc | crossbeam-channel | libzmq | inproc ÷ crossbeam | inproc ÷ libzmq |"
    );
    println!("|---|---|---|---|---|---|");
    for (workload, [ours, crossbeam, zmq]) in rows {
        println!(
            "| {} | {ours} | {crossbeam} | {zmq} | {:.2} | {:.2} |",
            workload.label(),
            ours.advantage_over(*crossbeam),
            ours.advantage_over(*zmq),
        );
    }
    println!();
    println!(
        "Each cell: the median over the runs, with the lowest–highest run in parentheses; the ratios compare medians."
    );
}
