//! The contest's teams: each one a closed loop of benchmark requests.
//!
//! A team asks for its first benchmark within the first 90 minutes, then, after each result,
//! works on its code for a think time and asks again. Think times are exponential with a mean
//! that shrinks from 30 minutes at the opening to 2.5 minutes from the seventh hour on, so
//! requests thicken toward the end, as teams rush their last improvements in. A benchmark runs
//! 60 to 90 s (uniform), inside the pool's 90 s deadline.
//!
//! Every team draws from its own random stream, so its behaviour does not depend on the order
//! in which other teams' events happen: each pool sees the same teams.

use std::time::Duration;

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Teams in the scenario.
pub const TEAMS: usize = 50;
/// How long the contest accepts requests.
pub const CONTEST: Duration = Duration::from_secs(8 * 3600);
/// Shortest and longest benchmark run.
pub const BENCHMARK: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(90));

/// Every team has asked once by then.
const FIRST_REQUEST_WITHIN: Duration = Duration::from_secs(90 * 60);
/// Mean think time at the opening, minutes.
const EARLY_THINK_MIN: f64 = 30.0;
/// Mean think time from [`RUSH_FROM_H`] on, minutes.
const LATE_THINK_MIN: f64 = 2.5;
/// Hours after the opening when the last-hour rush starts.
const RUSH_FROM_H: f64 = 7.0;

/// One team as the simulator plays it.
pub(crate) struct Team {
    /// `team-01` .. `team-50`.
    pub id: String,
    /// Its bearer token; config holds only the digest.
    pub token: String,
    rng: ChaCha8Rng,
}

/// The scenario's teams for `seed`.
pub(crate) fn teams(seed: u64) -> Vec<Team> {
    (0..TEAMS)
        .map(|index| {
            let id = format!("team-{:02}", index + 1);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(index as u64 + 1);
            Team {
                token: format!("sim-token-of-{id}"),
                id,
                rng,
            }
        })
        .collect()
}

/// Mean think time `since_open` after the opening: geometric from 30 to 2.5 minutes over the
/// first seven hours, flat after.
pub(crate) fn mean_think(since_open: Duration) -> Duration {
    let progress = (since_open.as_secs_f64() / 3600.0 / RUSH_FROM_H).min(1.0);
    let minutes = EARLY_THINK_MIN * (LATE_THINK_MIN / EARLY_THINK_MIN).powf(progress);
    Duration::from_secs_f64(minutes * 60.0)
}

impl Team {
    /// When, after the opening, the team asks for the first time.
    pub fn first_request(&mut self) -> Duration {
        FIRST_REQUEST_WITHIN.mul_f64(self.rng.random::<f64>())
    }

    /// How long the team thinks after a result that came `since_open` after the opening.
    pub fn think(&mut self, since_open: Duration) -> Duration {
        let u: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        mean_think(since_open).mul_f64(-u.ln())
    }

    /// How long its next benchmark runs.
    pub fn benchmark(&mut self) -> Duration {
        let (low, high) = BENCHMARK;
        low + (high - low).mul_f64(self.rng.random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_times_shrink_toward_the_end() {
        let hour = Duration::from_secs(3600);
        assert_eq!(mean_think(Duration::ZERO), Duration::from_secs(30 * 60));
        assert!(mean_think(hour * 4) < mean_think(hour * 2));
        for late in [hour * 7, hour * 8] {
            assert!((mean_think(late).as_secs_f64() - 150.0).abs() < 1e-6);
        }
    }

    #[test]
    fn teams_draw_from_their_own_streams() {
        let mut a = teams(1);
        let mut b = teams(1);
        assert_eq!(a.len(), TEAMS);
        assert_eq!(a[49].id, "team-50");
        // Drawing for one team leaves the others' draws unchanged.
        let _ = a[0].benchmark();
        assert_eq!(a[1].first_request(), b[1].first_request());
        assert_ne!(a[2].first_request(), a[3].first_request());
        let run = b[4].benchmark();
        assert!((BENCHMARK.0..BENCHMARK.1).contains(&run));
    }
}
