//! Benchmark jobs and team locks in DynamoDB ([`rc_bench::BenchStore`]).
//!
//! One table, string partition key `pk`, two kinds of item:
//!
//! - `job#<id>`: one job. `status` (for conditions), `doc` (the job as JSON), `heartbeat_at`
//!   (epoch milliseconds, updated alone by heartbeats) and `kind = job` (what `list` scans for).
//! - `team#<id>`: one team. `active` names its pending or running job (the lock); `last` holds its
//!   latest finished job (JSON) for the board.
//!
//! Accepting is one `TransactWriteItems`: put the job if new, set `active` if absent. Two
//! simultaneous requests of one team cannot both pass the second condition. Status changes
//! are conditional on the status the caller expects, so a job ends once, whoever (agent or
//! sweeper) gets there first. The board and the sweeper read one item per team (BatchGetItem),
//! never the history; only the ops list scans the jobs.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use rc_bench::ports::TeamLock;
use rc_bench::{BenchStore, Created, PortError};
use rc_core::bench::board::{page, TeamRow};
use rc_core::bench::{BenchJob, BenchJobId, JobStatus};
use rc_core::Timestamp;

use crate::bench_queue::port_error;
use crate::AwsError;

/// BatchGetItem takes at most 100 keys (DynamoDB API reference).
const BATCH_KEYS: usize = 100;

type Item = HashMap<String, AttributeValue>;

/// [`BenchStore`] over a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoBenchStore {
    client: Client,
    table: String,
}

impl DynamoBenchStore {
    /// The store in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoBenchStore {
            client,
            table: table.into(),
        }
    }

    async fn put_job(
        &self,
        job: &BenchJob,
        expected: JobStatus,
        op: &'static str,
    ) -> Result<bool, PortError> {
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)))
            .condition_expression("#status = :expected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", s(expected.as_str()))
            .send()
            .await;
        conditional(
            answer
                .map(|_| ())
                .map_err(|e| crate::error::from_sdk("dynamodb:PutItem", e)),
            op,
        )
    }

    async fn batch_get(&self, keys: Vec<String>, op: &'static str) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        for chunk in keys.chunks(BATCH_KEYS) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(
                    chunk
                        .iter()
                        .map(|k| HashMap::from([("pk".to_string(), s(k))]))
                        .collect(),
                ))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            // Unprocessed keys (throttling) are asked again; DynamoDB returns at least one item
            // per call, so this ends.
            loop {
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| {
                        port_error(op, crate::error::from_sdk("dynamodb:BatchGetItem", e))
                    })?;
                if let Some(mut got) = answer.responses {
                    items.extend(got.remove(&self.table).unwrap_or_default());
                }
                match answer
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                {
                    Some(rest) if !rest.keys.is_empty() => pending = rest,
                    _ => break,
                }
            }
        }
        Ok(items)
    }

    async fn release(
        &self,
        team: &str,
        id: &BenchJobId,
        last: Option<&BenchJob>,
    ) -> Result<(), PortError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&team_key(team)))
            .condition_expression("active = :id")
            .expression_attribute_values(":id", s(id.as_str()));
        update = match last {
            Some(job) => update
                .update_expression("REMOVE active SET #last = :last")
                .expression_attribute_names("#last", "last")
                .expression_attribute_values(":last", s(&doc(job))),
            None => update.update_expression("REMOVE active"),
        };
        let answer = update.send().await;
        match answer.map_err(|e| crate::error::from_sdk("dynamodb:UpdateItem", e)) {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => match last {
                // The lock is someone else's (or free): record the result alone.
                Some(job) => self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(&team_key(team)))
                    .update_expression("SET #last = :last")
                    .expression_attribute_names("#last", "last")
                    .expression_attribute_values(":last", s(&doc(job)))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        port_error(
                            "store:finish",
                            crate::error::from_sdk("dynamodb:UpdateItem", e),
                        )
                    }),
                None => Ok(()),
            },
            Err(e) => Err(port_error("store:unlock", e)),
        }
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn job_key(id: &BenchJobId) -> String {
    format!("job#{id}")
}

fn team_key(team: &str) -> String {
    format!("team#{team}")
}

fn doc(job: &BenchJob) -> String {
    serde_json::to_string(job).expect("a job always serializes")
}

fn job_item(job: &BenchJob) -> Item {
    let mut item = HashMap::from([
        ("pk".to_string(), s(&job_key(&job.id))),
        ("kind".to_string(), s("job")),
        ("status".to_string(), s(job.status.as_str())),
        ("doc".to_string(), s(&doc(job))),
    ]);
    if let Some(at) = job.heartbeat_at {
        item.insert("heartbeat_at".into(), AttributeValue::N(at.0.to_string()));
    }
    item
}

/// A job item back into a job; the separately updated heartbeat wins over the document's.
fn parse_job(item: &Item) -> Result<BenchJob, PortError> {
    let text = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| PortError::rejected("store:read", "a job item without `doc`"))?;
    let mut job: BenchJob = serde_json::from_str(text)
        .map_err(|e| PortError::rejected("store:read", format!("unreadable job item: {e}")))?;
    if let Some(at) = item
        .get("heartbeat_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
    {
        job.heartbeat_at = Some(
            job.heartbeat_at
                .map_or(Timestamp(at), |h| h.max(Timestamp(at))),
        );
    }
    Ok(job)
}

fn is_condition_failure(err: &AwsError) -> bool {
    matches!(err, AwsError::Rejected { code, .. } if code == "ConditionalCheckFailedException")
}

/// `Ok(true)` when the write happened, `Ok(false)` when its condition failed.
fn conditional(answer: Result<(), AwsError>, op: &'static str) -> Result<bool, PortError> {
    match answer {
        Ok(()) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(port_error(op, e)),
    }
}

impl BenchStore for DynamoBenchStore {
    async fn create(&self, job: &BenchJob) -> Result<Created, PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(job_item(job)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        let lock = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&team_key(&job.team)))
            .update_expression("SET active = :id")
            .condition_expression("attribute_not_exists(active)")
            .expression_attribute_values(":id", s(job.id.as_str()))
            .build()
            .expect("table, key and expression are set");
        let answer = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(lock).build())
            .send()
            .await
            .map_err(|e| crate::error::from_sdk("dynamodb:TransactWriteItems", e));
        match answer {
            Ok(_) => Ok(Created::Recorded),
            Err(AwsError::Rejected { code, .. }) if code == "TransactionCanceledException" => {
                let team = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", s(&team_key(&job.team)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| {
                        port_error(
                            "store:create",
                            crate::error::from_sdk("dynamodb:GetItem", e),
                        )
                    })?;
                let holder = team
                    .item
                    .as_ref()
                    .and_then(|i| i.get("active"))
                    .and_then(|v| v.as_s().ok())
                    .and_then(|id| BenchJobId::parse(id));
                Ok(Created::Busy(holder))
            }
            Err(e) => Err(port_error("store:create", e)),
        }
    }

    async fn discard(&self, job: &BenchJob) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&job_key(&job.id)))
            .send()
            .await
            .map_err(|e| {
                port_error(
                    "store:discard",
                    crate::error::from_sdk("dynamodb:DeleteItem", e),
                )
            })?;
        self.release(&job.team, &job.id, None).await
    }

    async fn get(&self, id: &BenchJobId) -> Result<Option<BenchJob>, PortError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&job_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("store:get", crate::error::from_sdk("dynamodb:GetItem", e)))?;
        answer.item.as_ref().map(parse_job).transpose()
    }

    async fn list(
        &self,
        before: Option<&BenchJobId>,
        limit: usize,
    ) -> Result<(Vec<BenchJob>, Option<BenchJobId>), PortError> {
        let mut jobs = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let answer = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("kind = :job")
                .expression_attribute_values(":job", s("job"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| {
                    port_error("store:list", crate::error::from_sdk("dynamodb:Scan", e))
                })?;
            for item in answer.items.unwrap_or_default() {
                jobs.push(parse_job(&item)?);
            }
            match answer.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(page(jobs, before, limit))
    }

    async fn teams(&self, teams: &[String]) -> Result<Vec<TeamLock>, PortError> {
        let items = self
            .batch_get(teams.iter().map(|t| team_key(t)).collect(), "store:teams")
            .await?;
        let mut locks: Vec<TeamLock> = Vec::new();
        for item in &items {
            let Some(team) = item
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.strip_prefix("team#"))
            else {
                continue;
            };
            let holder = item
                .get("active")
                .and_then(|v| v.as_s().ok())
                .and_then(|id| BenchJobId::parse(id));
            let last = item
                .get("last")
                .and_then(|v| v.as_s().ok())
                .and_then(|text| serde_json::from_str::<BenchJob>(text).ok());
            locks.push(TeamLock {
                team: team.to_string(),
                holder,
                row: TeamRow {
                    team: team.to_string(),
                    active: None,
                    last,
                },
            });
        }
        let active_keys: Vec<String> = locks
            .iter()
            .filter_map(|l| l.holder.as_ref())
            .map(job_key)
            .collect();
        let jobs: Vec<BenchJob> = self
            .batch_get(active_keys, "store:teams")
            .await?
            .iter()
            .map(parse_job)
            .collect::<Result<_, _>>()?;
        for lock in &mut locks {
            lock.row.active = lock
                .holder
                .as_ref()
                .and_then(|id| jobs.iter().find(|j| j.id == *id).cloned());
        }
        Ok(locks)
    }

    async fn start(&self, job: &BenchJob) -> Result<bool, PortError> {
        self.put_job(job, JobStatus::Pending, "store:start").await
    }

    async fn heartbeat(&self, id: &BenchJobId, at: Timestamp) -> Result<bool, PortError> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&job_key(id)))
            .update_expression("SET heartbeat_at = :at")
            .condition_expression("#status = :running")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", AttributeValue::N(at.0.to_string()))
            .expression_attribute_values(":running", s(JobStatus::Running.as_str()))
            .send()
            .await;
        conditional(
            answer
                .map(|_| ())
                .map_err(|e| crate::error::from_sdk("dynamodb:UpdateItem", e)),
            "store:heartbeat",
        )
    }

    async fn finish(&self, job: &BenchJob, from: JobStatus) -> Result<bool, PortError> {
        if !self.put_job(job, from, "store:finish").await? {
            return Ok(false);
        }
        // Not in one transaction with the job: if this fails, the lock names an ended job and
        // the sweeper frees it on its next pass.
        self.release(&job.team, &job.id, Some(job)).await?;
        Ok(true)
    }

    async fn unlock(&self, team: &str, id: &BenchJobId) -> Result<(), PortError> {
        self.release(team, id, None).await
    }
}
