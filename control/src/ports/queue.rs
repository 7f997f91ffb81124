//! The jobs queue: the webhook and the manager's re-checks write [`JobMessage`]s to it; its
//! consumer (the Lambda event source, `serve`'s poll loop, the simulator) hands them over as
//! [`QueueMessage`]s and carries out each one's disposition.

use std::future::Future;
use std::time::Duration;

use rc_core::message::JobMessage;

use super::AwsError;

/// Somewhere to put job messages for the manager.
pub trait JobQueue: Send + Sync {
    /// Sends one message, visible to consumers after `delay` (at most 15 minutes, an SQS limit).
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn send(
        &self,
        message: &JobMessage,
        delay: Duration,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// One message from the jobs queue, as the Lambda event or ReceiveMessage hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// SQS message id (what a batch response names).
    pub id: String,
    /// Receipt handle (what delete and visibility calls take).
    pub receipt_handle: String,
    /// The body: a versioned [`JobMessage`].
    pub body: String,
    /// `ApproximateReceiveCount`: 1 on first delivery.
    pub receive_count: u32,
}

impl QueueMessage {
    /// Reads `ApproximateReceiveCount`; a missing or unreadable count is a first delivery.
    pub fn parse_receive_count(value: Option<&str>) -> u32 {
        value.and_then(|v| v.parse().ok()).unwrap_or(1)
    }
}
