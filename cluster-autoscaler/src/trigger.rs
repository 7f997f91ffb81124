//! What woke the Lambda: its payload read as an autoscaler [`Trigger`]; whether a run would
//! tell anything new is the orchestration's [`Dedupe`](rc_control::autoscaler::Dedupe).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use rc_core::observed::TaskState;
use rc_core::Timestamp;
use serde::Deserialize;
use serde_json::Value;

pub use rc_control::autoscaler::{Skip, Trigger};

/// The `detail-type` of ECS task state change events.
const TASK_STATE_CHANGE: &str = "ECS Task State Change";

/// The part of an ECS task state change event's `detail` we read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskDetail {
    task_arn: String,
    last_status: String,
    version: i64,
    created_at: Option<DateTime<Utc>>,
}

/// Classifies a Lambda payload. An ECS event whose detail cannot be read reconciles rather than
/// being dropped.
pub fn from_event(payload: &Value) -> Trigger {
    let Ok(event) = EventBridgeEvent::<Value>::deserialize(payload) else {
        return Trigger::Reconcile;
    };
    if event.detail_type != TASK_STATE_CHANGE {
        return Trigger::Reconcile;
    }
    match TaskDetail::deserialize(&event.detail) {
        Ok(detail) if TaskState::from_ecs(&detail.last_status) == Some(TaskState::Provisioning) => {
            Trigger::Provisioning {
                task: detail.task_arn,
                version: detail.version,
                created_at: detail.created_at.map(Timestamp::from_datetime),
            }
        }
        Ok(_) => Trigger::OtherTaskState,
        Err(error) => {
            tracing::warn!(%error, "unreadable ECS task state change; reconciling");
            Trigger::Reconcile
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = include_str!("../tests/fixtures/task_state_change_provisioning.json");

    fn event() -> Value {
        serde_json::from_str(EVENT).expect("fixture is JSON")
    }

    #[test]
    fn reads_a_provisioning_event() {
        let Trigger::Provisioning {
            task,
            version,
            created_at,
        } = from_event(&event())
        else {
            panic!("fixture is a PROVISIONING event");
        };
        assert!(task.ends_with("/runners/0a1b2c3d4e5f40718293a4b5c6d7e8f9"));
        assert_eq!(version, 1);
        assert_eq!(
            created_at.map(|t| t.to_string()).as_deref(),
            Some("2025-03-04T09:15:02.118Z")
        );
    }

    #[test]
    fn other_states_and_other_events() {
        let mut running = event();
        running["detail"]["lastStatus"] = "RUNNING".into();
        assert_eq!(from_event(&running), Trigger::OtherTaskState);

        let schedule = serde_json::json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2025-03-04T09:16:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/rc-cluster-autoscaler"],
            "detail": {}
        });
        assert_eq!(from_event(&schedule), Trigger::Reconcile);
        assert_eq!(from_event(&serde_json::json!({})), Trigger::Reconcile);
    }
}
