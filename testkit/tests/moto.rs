//! The moto launcher works with the Rust SDK: SQS as shipped, ECS thanks to the patch.

use aws_sdk_ecs::types::DesiredStatus;
use rc_testkit::ecs::{ecs_cluster_with_instance, register_task_definition};
use rc_testkit::moto::Moto;

#[tokio::test]
async fn sqs_create_queue_and_message_round_trip() {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);

    let queue_url = sqs
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL");
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body("hello")
        .send()
        .await
        .expect("SendMessage");
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .send()
        .await
        .expect("ReceiveMessage");

    let bodies: Vec<_> = received
        .messages()
        .iter()
        .filter_map(|message| message.body())
        .collect();
    assert_eq!(bodies, ["hello"]);
    // werkzeug logs one line per request.
    assert!(
        moto.log().contains("\"POST / HTTP/1.1\" 200"),
        "{}",
        moto.log()
    );
}

#[tokio::test]
async fn reset_clears_state() {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    sqs.create_queue()
        .queue_name("before-reset")
        .send()
        .await
        .expect("CreateQueue");

    moto.reset().await;

    let queues = sqs.list_queues().send().await.expect("ListQueues");
    assert!(queues.queue_urls().is_empty(), "{queues:?}");
}

/// RunTask and DescribeTasks answers parse with aws-sdk-ecs, which they do not without the
/// launcher's patch, and frozen tasks stay RUNNING until stopped.
#[tokio::test]
async fn ecs_run_describe_stop_round_trip() {
    let moto = Moto::start();
    moto.freeze_ecs_tasks().await;
    let cfg = moto.sdk_config().await;
    let cluster = ecs_cluster_with_instance(&cfg, "runners").await;
    let task_definition =
        register_task_definition(&cfg, "runner-large", "runner", 1024, 2048).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);

    let run = ecs
        .run_task()
        .cluster(&cluster.name)
        .task_definition(&task_definition)
        .started_by("rc-testkit")
        .send()
        .await
        .expect("RunTask parses");
    assert!(run.failures().is_empty(), "{run:?}");
    let task_arn = run.tasks()[0].task_arn().expect("a task ARN").to_owned();
    assert_eq!(run.tasks()[0].containers()[0].cpu(), Some("1024"));
    assert_eq!(run.tasks()[0].containers()[0].memory(), Some("2048"));

    for _ in 0..3 {
        let described = ecs
            .describe_tasks()
            .cluster(&cluster.name)
            .tasks(&task_arn)
            .send()
            .await
            .expect("DescribeTasks parses");
        assert_eq!(described.tasks()[0].last_status(), Some("RUNNING"));
        assert_eq!(
            described.tasks()[0].container_instance_arn(),
            Some(cluster.container_instance_arn.as_str())
        );
    }

    ecs.stop_task()
        .cluster(&cluster.name)
        .task(&task_arn)
        .send()
        .await
        .expect("StopTask parses");
    let running = ecs
        .list_tasks()
        .cluster(&cluster.name)
        .desired_status(DesiredStatus::Running)
        .send()
        .await
        .expect("ListTasks");
    assert!(running.task_arns().is_empty(), "{running:?}");
}

/// The capacity rule the `ecs` module documents: 4096 CPU units per container instance, and a
/// task that does not fit is silently not started.
#[tokio::test]
async fn ecs_places_only_what_fits_on_the_instances() {
    let moto = Moto::start();
    let cfg = moto.sdk_config().await;
    let cluster = ecs_cluster_with_instance(&cfg, "small").await;
    let task_definition = register_task_definition(&cfg, "runner-xl", "runner", 2048, 1024).await;

    let run = aws_sdk_ecs::Client::new(&cfg)
        .run_task()
        .cluster(&cluster.name)
        .task_definition(&task_definition)
        .count(3)
        .send()
        .await
        .expect("RunTask");

    assert_eq!(run.tasks().len(), 2);
    assert!(run.failures().is_empty());
}

#[tokio::test]
async fn shared_moto_serves_tests_that_use_unique_names() {
    let moto = Moto::shared();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    sqs.create_queue()
        .queue_name("shared-a")
        .send()
        .await
        .expect("CreateQueue");
    assert!(std::ptr::eq(moto, Moto::shared()));
}

#[tokio::test]
async fn shared_moto_is_one_server_per_binary() {
    let moto = Moto::shared();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    sqs.create_queue()
        .queue_name("shared-b")
        .send()
        .await
        .expect("CreateQueue");
    assert_eq!(moto.endpoint(), Moto::shared().endpoint());
}
