//! Per-class leases: at most one holder observes, decides and launches for a runner class at a
//! time, so `max_runners` holds when several manager invocations (or `serve`'s queue loop and
//! its tick) act at once.
//!
//! Two kinds, one interface ([`ClassLocks`]):
//!
//! - **DynamoDB** (`RC_LOCK_TABLE`), for Lambda, where any number of invocations may run: one
//!   item per class (partition key `pk` = `class#<name>`), taken with a conditional PutItem
//!   (`attribute_not_exists(pk) OR expires_at < :now`) and released with a DeleteItem
//!   conditional on our holder id. A holder that dies keeps the lease until `expires_at`; the
//!   TTL must therefore exceed the longest time a holder can run (the Lambda timeout), and the
//!   table's TTL attribute (`expires_at`) lets DynamoDB sweep old items.
//! - **In process**, when no table is configured (`serve`): one async mutex per class, shared
//!   by everything using the same [`ClassLocks`].
//!
//! Waiting is bounded ([`LOCK_WAIT`]): a batch that cannot get a class in time hands that
//! class's messages back to SQS rather than sitting in a Lambda invocation.
//!
//! The same store keeps each class's shared demand ([`DemandStore`]), which only a lease
//! holder reads and writes: in DynamoDB one item per class (`pk` = `demand#<name>`, the demand
//! as JSON in `demand`, at most 4,096 arrivals, about 100 KB against DynamoDB's 400 KB item
//! limit), with an `expires_at` two hours on so that the table's TTL sweeps a class nobody
//! uses any more; in process, a map.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use rc_control::ports::{ClassLeases, DemandStore};
use rc_core::book::SharedDemand;
use tokio::sync::OwnedMutexGuard;

use crate::error::from_sdk;
use crate::AwsError;

pub use rc_control::ports::lease::LOCK_WAIT;

/// Pause between two tries of a held DynamoDB lease.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// A class lease that is held; give it back with [`ClassLocks::release`]. Dropped without
/// release, an in-process lease is freed at once and a DynamoDB one when it expires.
#[derive(Debug)]
pub struct Lease {
    class: String,
    holder: String,
    _local: Option<OwnedMutexGuard<()>>,
}

impl Lease {
    /// The class it is for.
    pub fn class(&self) -> &str {
        &self.class
    }
}

/// Where leases live.
#[derive(Debug)]
enum Store {
    Dynamo {
        client: aws_sdk_dynamodb::Client,
        table: String,
        ttl: Duration,
    },
    Local {
        leases: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
        demand: Mutex<BTreeMap<String, SharedDemand>>,
    },
}

/// Per-class leases in DynamoDB or in this process (see the [module docs](self)).
#[derive(Debug)]
pub struct ClassLocks {
    store: Store,
    /// Unique per process: start time and process id. With the counter it names each lease's
    /// holder, so a release never deletes a lease someone else took after ours expired.
    process: String,
    counter: AtomicU64,
}

impl ClassLocks {
    /// Leases in DynamoDB `table`, each valid for `ttl` unless released.
    pub fn dynamodb(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self::with_store(Store::Dynamo {
            client,
            table: table.into(),
            ttl,
        })
    }

    /// Leases within this process only.
    pub fn in_process() -> Self {
        Self::with_store(Store::Local {
            leases: Mutex::default(),
            demand: Mutex::default(),
        })
    }

    fn with_store(store: Store) -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        ClassLocks {
            store,
            process: format!("{}-{started:x}", std::process::id()),
            counter: AtomicU64::new(0),
        }
    }

    /// Takes `class`'s lease, waiting up to [`LOCK_WAIT`] for its holder; `None` if it stayed
    /// held.
    ///
    /// # Errors
    ///
    /// DynamoDB's failure other than the lease being held.
    pub async fn acquire(&self, class: &str) -> Result<Option<Lease>, AwsError> {
        let holder = format!(
            "{}-{}",
            self.process,
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        match &self.store {
            Store::Local { leases, .. } => {
                let mutex = leases
                    .lock()
                    .expect("no panic while the map is locked")
                    .entry(class.to_owned())
                    .or_default()
                    .clone();
                Ok(tokio::time::timeout(LOCK_WAIT, mutex.lock_owned())
                    .await
                    .ok()
                    .map(|guard| Lease {
                        class: class.to_owned(),
                        holder,
                        _local: Some(guard),
                    }))
            }
            Store::Dynamo { client, table, ttl } => {
                let deadline = tokio::time::Instant::now() + LOCK_WAIT;
                loop {
                    if try_put(client, table, class, &holder, *ttl).await? {
                        return Ok(Some(Lease {
                            class: class.to_owned(),
                            holder,
                            _local: None,
                        }));
                    }
                    if tokio::time::Instant::now() + RETRY_EVERY > deadline {
                        return Ok(None);
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                }
            }
        }
    }

    /// Gives a lease back. A DynamoDB lease that expired and was taken by another holder is
    /// left to that holder.
    ///
    /// # Errors
    ///
    /// DynamoDB's failure; the lease then expires on its own.
    pub async fn release(&self, lease: Lease) -> Result<(), AwsError> {
        let Store::Dynamo { client, table, .. } = &self.store else {
            return Ok(());
        };
        let answer = client
            .delete_item()
            .table_name(table)
            .key("pk", AttributeValue::S(key(&lease.class)))
            .condition_expression("holder = :holder")
            .expression_attribute_values(":holder", AttributeValue::S(lease.holder.clone()))
            .send()
            .await;
        match answer.map_err(|e| from_sdk("dynamodb:DeleteItem", e)) {
            Ok(_) => Ok(()),
            Err(AwsError::Rejected { code, .. }) if code == "ConditionalCheckFailedException" => {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }
}

impl ClassLeases for ClassLocks {
    type Lease = Lease;

    async fn acquire(&self, class: &str) -> Result<Option<Lease>, AwsError> {
        ClassLocks::acquire(self, class).await
    }

    async fn release(&self, lease: Lease) -> Result<(), AwsError> {
        ClassLocks::release(self, lease).await
    }
}

/// Kept two hours past its last write: an hour of history, and an hour for a quiet class.
const DEMAND_KEPT: Duration = Duration::from_secs(2 * 3600);

impl DemandStore for ClassLocks {
    async fn load(&self, class: &str) -> Result<SharedDemand, AwsError> {
        let (client, table) = match &self.store {
            Store::Local { demand, .. } => {
                let stored = demand.lock().expect("no panic while the map is locked");
                return Ok(stored.get(class).cloned().unwrap_or_default());
            }
            Store::Dynamo { client, table, .. } => (client, table),
        };
        let answer = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(demand_key(class)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb:GetItem", e))?;
        let Some(AttributeValue::S(json)) = answer.item().and_then(|item| item.get("demand"))
        else {
            return Ok(SharedDemand::default());
        };
        // A record this build cannot read is replaced by the next save rather than failing
        // every batch of the class.
        Ok(serde_json::from_str(json).unwrap_or_else(|err| {
            tracing::warn!(class, error = %err, "unreadable shared demand; starting afresh");
            SharedDemand::default()
        }))
    }

    async fn save(&self, class: &str, demand: &SharedDemand) -> Result<(), AwsError> {
        let (client, table) = match &self.store {
            Store::Local { demand: stored, .. } => {
                let mut stored = stored.lock().expect("no panic while the map is locked");
                stored.insert(class.to_owned(), demand.clone());
                return Ok(());
            }
            Store::Dynamo { client, table, .. } => (client, table),
        };
        let expires_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(DEMAND_KEPT)
            .as_secs();
        let json = serde_json::to_string(demand).expect("shared demand always serializes");
        client
            .put_item()
            .table_name(table)
            .item("pk", AttributeValue::S(demand_key(class)))
            .item("demand", AttributeValue::S(json))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb:PutItem", e))?;
        Ok(())
    }
}

/// The item of `class`'s lease.
fn key(class: &str) -> String {
    format!("class#{class}")
}

/// The item of `class`'s shared demand.
fn demand_key(class: &str) -> String {
    format!("demand#{class}")
}

/// One conditional PutItem: `true` if the lease is now ours.
async fn try_put(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    class: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool, AwsError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let expires_at = now + ttl.as_secs().max(1);
    let answer = client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(key(class)))
        .item("holder", AttributeValue::S(holder.to_owned()))
        .item("expires_at", AttributeValue::N(expires_at.to_string()))
        .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
        .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
        .send()
        .await;
    match answer.map_err(|e| from_sdk("dynamodb:PutItem", e)) {
        Ok(_) => Ok(true),
        Err(AwsError::Rejected { code, .. }) if code == "ConditionalCheckFailedException" => {
            Ok(false)
        }
        Err(err) => Err(err),
    }
}
