//! The benchmark FIFO queue over SQS ([`rc_bench::BenchQueue`]).
//!
//! `MessageGroupId` is the team, so one team's jobs run in order and one at a time while the
//! other teams' groups go to other workers; `MessageDeduplicationId` is the job id, so a send
//! retried after a lost answer queues the job once (SQS deduplicates for 5 minutes).
//!
//! [`JobsQueueWaker`] is the intake's other queue: the manager's jobs queue, where a
//! `bench_wake` asks for a worker pool pass now.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use aws_sdk_sqs::Client;
use rc_bench::{BenchQueue, Delivery, PoolWaker, PortError};
use rc_core::bench::{BenchJobId, BenchMessage};
use rc_core::message::JobMessage;

use crate::{AwsError, JobQueue};

/// [`PoolWaker`] over the jobs queue the webhook already sends job messages to: one
/// `bench_wake` message per wake-up, visible at once.
#[derive(Clone, Copy, Debug)]
pub struct JobsQueueWaker<'q, Q>(pub &'q Q);

impl<Q: JobQueue> PoolWaker for JobsQueueWaker<'_, Q> {
    async fn wake(&self, job: &BenchJobId) -> Result<(), PortError> {
        let message = JobMessage::BenchWake { job: job.clone() };
        self.0
            .send(&message, Duration::ZERO)
            .await
            .map_err(|e| port_error("jobs-queue:send", e))
    }
}

/// SQS's longest long poll (`WaitTimeSeconds` maximum).
const MAX_WAIT: Duration = Duration::from_secs(20);
/// SQS's longest visibility timeout: 12 hours.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// [`BenchQueue`] over an SQS FIFO queue.
#[derive(Clone, Debug)]
pub struct SqsBenchQueue {
    client: Client,
    queue_url: String,
}

impl SqsBenchQueue {
    /// The queue at `queue_url` (a `.fifo` queue).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsBenchQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// An adapter failure as a port failure, keeping its retry class.
pub(crate) fn port_error(operation: &'static str, err: AwsError) -> PortError {
    PortError {
        operation,
        retryable: err.is_retryable(),
        detail: err.to_string(),
    }
}

fn secs(d: Duration, max: Duration) -> i32 {
    i32::try_from(d.min(max).as_secs()).expect("bounded above")
}

impl BenchQueue for SqsBenchQueue {
    async fn send(&self, message: &BenchMessage) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.to_json())
            .message_group_id(&message.team)
            .message_deduplication_id(message.id.as_str())
            .send()
            .await
            .map_err(|e| port_error("queue:send", crate::error::from_sdk("sqs:SendMessage", e)))?;
        Ok(())
    }

    async fn receive(
        &self,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Option<Delivery>, PortError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(secs(wait, MAX_WAIT))
            .visibility_timeout(secs(visibility, MAX_VISIBILITY).max(1))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| {
                port_error(
                    "queue:receive",
                    crate::error::from_sdk("sqs:ReceiveMessage", e),
                )
            })?;
        let Some(message) = answer.messages.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let receive_count = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        match (message.body, message.receipt_handle) {
            (Some(body), Some(receipt)) => Ok(Some(Delivery {
                body,
                receipt,
                receive_count,
            })),
            _ => Err(PortError::rejected(
                "queue:receive",
                "a message without a body or receipt handle",
            )),
        }
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<(), PortError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs(visibility, MAX_VISIBILITY))
            .send()
            .await
            .map_err(|e| {
                port_error(
                    "queue:extend",
                    crate::error::from_sdk("sqs:ChangeMessageVisibility", e),
                )
            })?;
        Ok(())
    }

    async fn delete(&self, receipt: &str) -> Result<(), PortError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| {
                port_error(
                    "queue:delete",
                    crate::error::from_sdk("sqs:DeleteMessage", e),
                )
            })?;
        Ok(())
    }
}
