//! The jobs queue: the webhook and the manager's re-checks write [`JobMessage`]s to it.

use std::time::Duration;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    MessageSystemAttributeName,
};
use aws_sdk_sqs::Client;
use rc_core::message::JobMessage;

use crate::error::from_sdk;
use crate::AwsError;
pub use rc_control::ports::queue::{JobQueue, QueueMessage};

/// [`JobQueue`] over an SQS standard queue.
///
/// A standard queue rather than FIFO because re-checks need per-message `DelaySeconds`, which
/// FIFO queues do not support; duplicates are harmless because the manager decides from observed
/// state.
#[derive(Clone, Debug)]
pub struct SqsJobQueue {
    client: Client,
    queue_url: String,
}

impl SqsJobQueue {
    /// A queue adapter for `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsJobQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The SQS client, for the manager's receive loop.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.queue_url
    }
}

/// SQS long polling waits at most 20 s (`WaitTimeSeconds` maximum), and a receive returns at
/// most 10 messages (`MaxNumberOfMessages` maximum), the Lambda event source's default batch.
const LONG_POLL_SECONDS: i32 = 20;
const MAX_MESSAGES: i32 = 10;

impl SqsJobQueue {
    /// Long-polls for up to 10 messages (what `serve` does in place of the Lambda event source).
    ///
    /// # Errors
    ///
    /// The AWS failure.
    pub async fn receive(&self) -> Result<Vec<QueueMessage>, AwsError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(MAX_MESSAGES)
            .wait_time_seconds(LONG_POLL_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| from_sdk("sqs:ReceiveMessage", e))?;
        Ok(answer
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(queue_message)
            .collect())
    }

    /// Deletes handled messages; returns how many SQS could not delete (they come back, which
    /// the manager's level-triggered decisions make harmless).
    ///
    /// # Errors
    ///
    /// The AWS failure of the whole call.
    pub async fn delete(&self, messages: &[&QueueMessage]) -> Result<usize, AwsError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let entries = messages.iter().enumerate().map(|(index, message)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(&message.receipt_handle)
                .build()
                .expect("id and receipt handle, the required fields, are set")
        });
        let answer = self
            .client
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .map_err(|e| from_sdk("sqs:DeleteMessageBatch", e))?;
        Ok(answer.failed().len())
    }

    /// Hides each message for its own wait before SQS hands it out again; returns how many
    /// changes SQS refused (those messages come back after the queue's visibility timeout).
    ///
    /// # Errors
    ///
    /// The AWS failure of the whole call.
    pub async fn delay(&self, messages: &[(&QueueMessage, Duration)]) -> Result<usize, AwsError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let entries = messages.iter().enumerate().map(|(index, (message, wait))| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(&message.receipt_handle)
                .visibility_timeout(i32::try_from(wait.as_secs()).unwrap_or(i32::MAX))
                .build()
                .expect("id and receipt handle, the required fields, are set")
        });
        let answer = self
            .client
            .change_message_visibility_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .map_err(|e| from_sdk("sqs:ChangeMessageVisibilityBatch", e))?;
        Ok(answer.failed().len())
    }
}

fn queue_message(message: Message) -> QueueMessage {
    let count = message
        .attributes()
        .and_then(|attributes| attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .map(String::as_str);
    QueueMessage {
        receive_count: QueueMessage::parse_receive_count(count),
        id: message.message_id.unwrap_or_default(),
        receipt_handle: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
    }
}

impl JobQueue for SqsJobQueue {
    async fn send(&self, message: &JobMessage, delay: Duration) -> Result<(), AwsError> {
        let delay_seconds = delay.as_secs().min(900) as i32;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.to_json())
            .delay_seconds(delay_seconds)
            .send()
            .await
            .map_err(|e| from_sdk("sqs:SendMessage", e))?;
        Ok(())
    }
}
