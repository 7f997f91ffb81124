//! The tick's sweeper pass: error running jobs whose worker went silent, free locks left behind,
//! tell the portal. Call it once per tick; it reads one item per team and writes only what the
//! core decided.

use rc_config::Benchmarks;
use rc_core::bench::outcome::Outcome;
use rc_core::bench::sweep::{sweep as decide, Held, SweepAction};
use rc_core::bench::{BenchJobId, JobStatus};
use rc_core::Timestamp;
use serde::Serialize;

use crate::portal::{deliver, PortalTarget};
use crate::ports::{BenchStore, Clock, PortError, Portal};

/// Portal attempts per swept job: fewer than the agent's, to keep the tick short.
const PORTAL_ATTEMPTS: u32 = 2;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SweepReport {
    /// Jobs marked `errored`.
    pub errored: Vec<BenchJobId>,
    /// Teams whose leftover lock was freed.
    pub unlocked: Vec<String>,
    /// What failed, one line each.
    pub failures: Vec<String>,
}

/// Sweeps at `now`.
///
/// # Errors
///
/// The store's failure reading the locks; failures after that are in the report.
pub async fn sweep<S: BenchStore, P: Portal, C: Clock>(
    store: &S,
    portal: Option<&PortalTarget<'_, P>>,
    clock: &C,
    bench: &Benchmarks,
    now: Timestamp,
) -> Result<SweepReport, PortError> {
    let held = observe(store, bench).await?;
    let mut report = SweepReport::default();
    for action in decide(now, &held, bench.stale_after) {
        execute(store, portal, clock, &held, action, now, &mut report).await;
    }
    Ok(report)
}

/// What a sweep at `now` would do, changing nothing (`tick --dry-run`).
///
/// # Errors
///
/// The store's failure reading the locks.
pub async fn plan<S: BenchStore>(
    store: &S,
    bench: &Benchmarks,
    now: Timestamp,
) -> Result<Vec<SweepAction>, PortError> {
    Ok(decide(
        now,
        &observe(store, bench).await?,
        bench.stale_after,
    ))
}

/// Every configured team's lock that is held, with its job.
async fn observe<S: BenchStore>(store: &S, bench: &Benchmarks) -> Result<Vec<Held>, PortError> {
    let teams: Vec<String> = bench.teams.iter().map(|t| t.id.clone()).collect();
    Ok(store
        .teams(&teams)
        .await?
        .into_iter()
        .filter_map(|lock| {
            Some(Held {
                team: lock.team,
                id: lock.holder?,
                job: lock.row.active,
            })
        })
        .collect())
}

async fn execute<S: BenchStore, P: Portal, C: Clock>(
    store: &S,
    portal: Option<&PortalTarget<'_, P>>,
    clock: &C,
    held: &[Held],
    action: SweepAction,
    now: Timestamp,
    report: &mut SweepReport,
) {
    {
        match action {
            SweepAction::Error { id, reason } => {
                let job = held
                    .iter()
                    .find_map(|h| h.job.as_ref().filter(|j| j.id == id))
                    .expect("the core errors only jobs it was shown");
                let errored = job
                    .finish(&Outcome::errored(reason), now)
                    .expect("a running job can be errored");
                match store.finish(&errored, JobStatus::Running).await {
                    Ok(true) => {
                        tracing::warn!(job = %id, team = %errored.team, "stale benchmark errored");
                        report.errored.push(id.clone());
                        if let Some(target) = portal {
                            if let Err(e) = deliver(target, clock, &errored, PORTAL_ATTEMPTS).await
                            {
                                report.failures.push(format!("portal for {id}: {e}"));
                            }
                        }
                    }
                    // It finished (or was swept) meanwhile.
                    Ok(false) => {}
                    Err(e) => report.failures.push(format!("erroring {id}: {e}")),
                }
            }
            SweepAction::Unlock { team, id } => match store.unlock(&team, &id).await {
                Ok(()) => report.unlocked.push(team),
                Err(e) => report.failures.push(format!("unlocking {team}: {e}")),
            },
        }
    }
}
