//! What a load run measured, streamed into HDR histograms: per operation
//! the count, the errors by status, 429s with and without Retry-After, and
//! latency percentiles; per second the requests started. Nothing grows with
//! the number of requests except the per-second series.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The operations of an Entra cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Match,
    Create,
    Update,
    Disable,
    GroupMatch,
    GroupCreate,
    Members,
    /// scimcheck's own check that the members held: not Entra's traffic.
    ReadBack,
    /// scimcheck's own read of a resource before its first write or its
    /// delete, that it is the one the load created (see `ownership`).
    Confirm,
    Delete,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Match,
        Op::Create,
        Op::Update,
        Op::Disable,
        Op::GroupMatch,
        Op::GroupCreate,
        Op::Members,
        Op::ReadBack,
        Op::Confirm,
        Op::Delete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Match => "match (GET ?filter)",
            Op::Create => "create (POST)",
            Op::Update => "update (PATCH)",
            Op::Disable => "disable (PATCH active)",
            Op::GroupMatch => "group match (GET ?filter)",
            Op::GroupCreate => "group create (POST)",
            Op::Members => "members (PATCH add)",
            Op::ReadBack => "group read back (GET)",
            Op::Confirm => "ownership read back (GET)",
            Op::Delete => "cleanup (DELETE)",
        }
    }

    /// What Entra itself sends in a cycle (cleanup and read backs aside).
    pub fn is_entra(self) -> bool {
        !matches!(self, Op::ReadBack | Op::Confirm | Op::Delete)
    }
}

#[derive(Debug, Clone)]
pub struct OpStats {
    /// Microseconds, from the scheduled start (open loop).
    pub latency: Histogram<u64>,
    pub count: u64,
    /// Answers that were not 2xx (and transport errors as 0), by status.
    pub errors: BTreeMap<u16, u64>,
    pub throttled: u64,
    pub throttled_without_retry_after: u64,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            // 1 µs to 1 h, 3 significant digits.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            count: 0,
            errors: BTreeMap::new(),
            throttled: 0,
            throttled_without_retry_after: 0,
        }
    }

    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(p))
    }
}

/// One answer, as the driver tells it.
pub struct Outcome {
    /// None for no answer (a timeout, a broken connection).
    pub status: Option<u16>,
    /// A 429 (in this answer or a retried one) came without Retry-After.
    pub throttled: u32,
    pub throttled_without_retry_after: u32,
    pub latency: Duration,
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub ops: BTreeMap<Op, OpStats>,
    /// Entra's requests started in each second of the run.
    pub per_second: Vec<u64>,
    pub errors_per_second: Vec<u64>,
    /// The latency of Entra's requests started in each second (for the
    /// plot: one significant digit, 2 KB a second).
    pub latency_per_second: Vec<Histogram<u32>>,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            ops: Op::ALL.iter().map(|op| (*op, OpStats::new())).collect(),
            per_second: Vec::new(),
            errors_per_second: Vec::new(),
            latency_per_second: Vec::new(),
        }
    }
}

/// A second's latencies: 10 µs to 1 h, within about 6 %.
fn second_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(10, 3_600_000_000, 1).expect("valid bounds")
}

/// The latency percentiles of one second of the run, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondLatency {
    pub second: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn record(&mut self, op: Op, second: usize, outcome: &Outcome) {
        let stats = self.ops.get_mut(&op).expect("every op has stats");
        stats.count += 1;
        let micros = u64::try_from(outcome.latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        stats.latency.saturating_record(micros);
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        if !ok {
            *stats.errors.entry(outcome.status.unwrap_or(0)).or_default() += 1;
        }
        stats.throttled += u64::from(outcome.throttled);
        stats.throttled_without_retry_after += u64::from(outcome.throttled_without_retry_after);
        // The series over time are Entra's traffic: cleanup and read backs
        // come after it and would read as a burst of load.
        if !op.is_entra() {
            return;
        }
        if self.per_second.len() <= second {
            self.per_second.resize(second + 1, 0);
            self.errors_per_second.resize(second + 1, 0);
            self.latency_per_second
                .resize_with(second + 1, second_histogram);
        }
        self.per_second[second] += 1;
        if !ok {
            self.errors_per_second[second] += 1;
        }
        self.latency_per_second[second].saturating_record(micros.max(10));
    }

    /// Per second that saw Entra's requests start: p50, p99 and max latency.
    pub fn latency_over_time(&self) -> Vec<SecondLatency> {
        let ms = |us: u64| us as f64 / 1000.0;
        self.latency_per_second
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(second, h)| SecondLatency {
                second,
                p50: ms(h.value_at_quantile(0.5)),
                p99: ms(h.value_at_quantile(0.99)),
                max: ms(h.max()),
            })
            .collect()
    }

    /// Requests and failures of Entra's ops (cleanup and read backs aside).
    pub fn totals(&self) -> (u64, u64) {
        self.ops
            .iter()
            .filter(|(op, _)| op.is_entra())
            .fold((0, 0), |(n, f), (_, s)| (n + s.count, f + s.failed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_stream_into_counts_errors_and_percentiles() {
        let mut stats = Stats::default();
        for ms in 1..=100 {
            let status = if ms % 10 == 0 { Some(500) } else { Some(201) };
            stats.record(
                Op::Create,
                (ms / 50) as usize,
                &Outcome {
                    status,
                    throttled: 0,
                    throttled_without_retry_after: 0,
                    latency: Duration::from_millis(ms),
                },
            );
        }
        let create = &stats.ops[&Op::Create];
        assert_eq!((create.count, create.failed()), (100, 10));
        assert_eq!(create.errors[&500], 10);
        let p99 = create.percentile(0.99).as_millis();
        assert!((98..=100).contains(&p99), "{p99}");
        assert_eq!(stats.per_second, vec![49, 50, 1]);
        // Second 1 holds 50..=99 ms: its p50 near 75, its max near 99.
        let timeline = stats.latency_over_time();
        assert_eq!(timeline.len(), 3);
        let second = timeline[1];
        assert!((70.0..80.0).contains(&second.p50), "{second:?}");
        assert!((93.0..106.0).contains(&second.max), "{second:?}");
        // Cleanup is not Entra's traffic: not in the timeline.
        stats.record(
            Op::Delete,
            9,
            &Outcome {
                status: Some(204),
                throttled: 0,
                throttled_without_retry_after: 0,
                latency: Duration::from_millis(1),
            },
        );
        assert_eq!(stats.latency_over_time().len(), 3);
        assert_eq!(stats.totals(), (100, 10));
    }
}
