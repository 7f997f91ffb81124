//! In-memory implementations of the ports: stateful fakes that keep the same guarantees as the
//! real store and queue (conditional writes, FIFO groups locked while in flight, dedupe by id)
//! and record what was asked of them. For tests, and for a simulator driving the same flows.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rc_core::bench::board::{page, TeamRow};
use rc_core::bench::{BenchJob, BenchJobId, BenchMessage, JobStatus};
use rc_core::Timestamp;

use crate::ports::{
    BenchQueue, BenchStore, Clock, Created, Delivery, PoolWaker, PortError, Portal, TeamLock,
};

#[derive(Debug, Default)]
struct StoreState {
    jobs: BTreeMap<BenchJobId, BenchJob>,
    locks: BTreeMap<String, BenchJobId>,
    last: BTreeMap<String, BenchJob>,
    failing: bool,
}

/// A [`BenchStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<StoreState>);

impl MemoryStore {
    /// Makes every call fail (retryably) from now on, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.state().failing = failing;
    }

    /// The job with this id, read directly.
    pub fn job(&self, id: &BenchJobId) -> Option<BenchJob> {
        self.state().jobs.get(id).cloned()
    }

    /// Every job.
    pub fn jobs(&self) -> Vec<BenchJob> {
        self.state().jobs.values().cloned().collect()
    }

    /// The job id `team`'s lock names.
    pub fn lock(&self, team: &str) -> Option<BenchJobId> {
        self.state().locks.get(team).cloned()
    }

    /// Writes a job as is (for setting up a scenario).
    pub fn put(&self, job: BenchJob) {
        self.state().jobs.insert(job.id.clone(), job);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, StoreState> {
        self.0.lock().expect("no panic while the store is locked")
    }

    fn checked(
        &self,
        op: &'static str,
    ) -> Result<std::sync::MutexGuard<'_, StoreState>, PortError> {
        let state = self.state();
        if state.failing {
            return Err(PortError::transient(op, "store unavailable"));
        }
        Ok(state)
    }
}

impl BenchStore for MemoryStore {
    async fn create(&self, job: &BenchJob) -> Result<Created, PortError> {
        let mut s = self.checked("store:create")?;
        if let Some(holder) = s.locks.get(&job.team) {
            return Ok(Created::Busy(Some(holder.clone())));
        }
        s.locks.insert(job.team.clone(), job.id.clone());
        s.jobs.insert(job.id.clone(), job.clone());
        Ok(Created::Recorded)
    }

    async fn discard(&self, job: &BenchJob) -> Result<(), PortError> {
        let mut s = self.checked("store:discard")?;
        s.jobs.remove(&job.id);
        if s.locks.get(&job.team) == Some(&job.id) {
            s.locks.remove(&job.team);
        }
        Ok(())
    }

    async fn get(&self, id: &BenchJobId) -> Result<Option<BenchJob>, PortError> {
        Ok(self.checked("store:get")?.jobs.get(id).cloned())
    }

    async fn list(
        &self,
        before: Option<&BenchJobId>,
        limit: usize,
    ) -> Result<(Vec<BenchJob>, Option<BenchJobId>), PortError> {
        let jobs = self.checked("store:list")?.jobs.values().cloned().collect();
        Ok(page(jobs, before, limit))
    }

    async fn teams(&self, teams: &[String]) -> Result<Vec<TeamLock>, PortError> {
        let s = self.checked("store:teams")?;
        Ok(teams
            .iter()
            .map(|team| {
                let holder = s.locks.get(team).cloned();
                TeamLock {
                    team: team.clone(),
                    row: TeamRow {
                        team: team.clone(),
                        active: holder.as_ref().and_then(|id| s.jobs.get(id).cloned()),
                        last: s.last.get(team).cloned(),
                    },
                    holder,
                }
            })
            .collect())
    }

    async fn start(&self, job: &BenchJob) -> Result<bool, PortError> {
        let mut s = self.checked("store:start")?;
        match s.jobs.get_mut(&job.id) {
            Some(stored) if stored.status == JobStatus::Pending => {
                *stored = job.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn heartbeat(&self, id: &BenchJobId, at: Timestamp) -> Result<bool, PortError> {
        let mut s = self.checked("store:heartbeat")?;
        match s.jobs.get_mut(id) {
            Some(stored) if stored.status == JobStatus::Running => {
                stored.heartbeat_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn finish(&self, job: &BenchJob, from: JobStatus) -> Result<bool, PortError> {
        let mut s = self.checked("store:finish")?;
        match s.jobs.get_mut(&job.id) {
            Some(stored) if stored.status == from => *stored = job.clone(),
            _ => return Ok(false),
        }
        if s.locks.get(&job.team) == Some(&job.id) {
            s.locks.remove(&job.team);
        }
        s.last.insert(job.team.clone(), job.clone());
        Ok(true)
    }

    async fn unlock(&self, team: &str, id: &BenchJobId) -> Result<(), PortError> {
        let mut s = self.checked("store:unlock")?;
        if s.locks.get(team) == Some(id) {
            s.locks.remove(team);
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct QueueState {
    /// Waiting messages, in send order.
    waiting: VecDeque<(String, BenchMessage)>,
    /// Received and not deleted: receipt → (group, message).
    in_flight: BTreeMap<String, (String, BenchMessage)>,
    sent_ids: Vec<BenchJobId>,
    receipts: u64,
    failing_sends: bool,
    extended: u32,
}

/// A FIFO [`BenchQueue`] in memory: groups are locked while one of their messages is in
/// flight, and a job id is sent once however often it is sent. Visibility never runs out here;
/// use [`MemoryQueue::expire`] to hand in-flight messages back.
#[derive(Debug, Default)]
pub struct MemoryQueue(Mutex<QueueState>);

impl MemoryQueue {
    /// Makes sends fail (retryably), or work again.
    pub fn set_failing_sends(&self, failing: bool) {
        self.state().failing_sends = failing;
    }

    /// Messages waiting or in flight.
    pub fn len(&self) -> usize {
        let s = self.state();
        s.waiting.len() + s.in_flight.len()
    }

    /// Whether no message is waiting or in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many visibility extensions were asked for.
    pub fn extensions(&self) -> u32 {
        self.state().extended
    }

    /// Hands every in-flight message back, as an expired visibility timeout does.
    pub fn expire(&self) {
        let mut s = self.state();
        let back: Vec<_> = std::mem::take(&mut s.in_flight).into_values().collect();
        for item in back.into_iter().rev() {
            s.waiting.push_front(item);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.0.lock().expect("no panic while the queue is locked")
    }
}

impl BenchQueue for MemoryQueue {
    async fn send(&self, message: &BenchMessage) -> Result<(), PortError> {
        let mut s = self.state();
        if s.failing_sends {
            return Err(PortError::transient("queue:send", "queue unavailable"));
        }
        if !s.sent_ids.contains(&message.id) {
            s.sent_ids.push(message.id.clone());
            s.waiting.push_back((message.team.clone(), message.clone()));
        }
        Ok(())
    }

    async fn receive(
        &self,
        _wait: Duration,
        _visibility: Duration,
    ) -> Result<Option<Delivery>, PortError> {
        let mut s = self.state();
        let busy: Vec<String> = s.in_flight.values().map(|(g, _)| g.clone()).collect();
        let Some(index) = s.waiting.iter().position(|(g, _)| !busy.contains(g)) else {
            return Ok(None);
        };
        let item = s.waiting.remove(index).expect("index found above");
        s.receipts += 1;
        let receipt = format!("r{}", s.receipts);
        let body = item.1.to_json();
        s.in_flight.insert(receipt.clone(), item);
        Ok(Some(Delivery {
            body,
            receipt,
            receive_count: 1,
        }))
    }

    async fn extend(&self, _receipt: &str, _visibility: Duration) -> Result<(), PortError> {
        self.state().extended += 1;
        Ok(())
    }

    async fn delete(&self, receipt: &str) -> Result<(), PortError> {
        self.state().in_flight.remove(receipt);
        Ok(())
    }
}

/// A [`Portal`] that records every post and fails the first few.
#[derive(Debug, Default)]
pub struct MemoryPortal {
    posts: Mutex<Vec<(Vec<u8>, String)>>,
    fail_first: Mutex<u32>,
}

impl MemoryPortal {
    /// A portal that answers 503 to the first `n` posts.
    pub fn failing_first(n: u32) -> Self {
        MemoryPortal {
            fail_first: Mutex::new(n),
            ..MemoryPortal::default()
        }
    }

    /// Every post so far: body and signature.
    pub fn posts(&self) -> Vec<(Vec<u8>, String)> {
        self.posts.lock().expect("no panic while locked").clone()
    }
}

impl Portal for MemoryPortal {
    async fn post(&self, body: &[u8], signature: &str) -> Result<(), PortError> {
        self.posts
            .lock()
            .expect("no panic while locked")
            .push((body.to_vec(), signature.to_string()));
        let mut fail = self.fail_first.lock().expect("no panic while locked");
        if *fail > 0 {
            *fail -= 1;
            return Err(PortError::transient("portal:post", "503"));
        }
        Ok(())
    }
}

/// A clock that only moves when slept on: `sleep` advances it and returns at once.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock reading `at`.
    pub fn at(at: Timestamp) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("no panic while locked");
        *now = *now + by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("no panic while locked")
    }

    async fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
}

/// A [`PoolWaker`] in memory: records every wake-up, or fails them all.
#[derive(Debug, Default)]
pub struct MemoryWaker(Mutex<(Vec<BenchJobId>, bool)>);

impl MemoryWaker {
    /// The jobs woken for, in order.
    pub fn woken(&self) -> Vec<BenchJobId> {
        self.0
            .lock()
            .expect("no panic while the waker is locked")
            .0
            .clone()
    }

    /// Makes every wake-up fail (retryably) from now on, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.0.lock().expect("no panic while the waker is locked").1 = failing;
    }
}

impl PoolWaker for MemoryWaker {
    async fn wake(&self, job: &BenchJobId) -> Result<(), PortError> {
        let mut state = self.0.lock().expect("no panic while the waker is locked");
        if state.1 {
            return Err(PortError::transient("jobs-queue:send", "queue unavailable"));
        }
        state.0.push(job.clone());
        Ok(())
    }
}
