//! The shared demand in the lease table against moto: what one process stores another reads
//! back whole, beside the class's lease; an item this build cannot read counts as no demand
//! and is replaced by the next save; the item carries its expiry for the table's TTL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use rc_aws::ClassLocks;
use rc_control::ports::DemandStore;
use rc_core::book::SharedDemand;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;

const TABLE: &str = "locks";

#[tokio::test]
async fn demand_round_trips_beside_the_lease_and_survives_a_bad_item() {
    let moto = Moto::start();
    let client = pk_table(&moto.sdk_config().await, TABLE).await;
    let locks = || ClassLocks::dynamodb(client.clone(), TABLE, Duration::from_secs(60));
    let (writer, reader) = (locks(), locks());

    assert_eq!(
        reader.load("large").await.expect("load"),
        SharedDemand::default()
    );
    // A full record: the most arrivals and refills a class keeps.
    let demand = SharedDemand {
        arrivals: (0..4_096)
            .map(|i| (1_795_003_200_000 + i * 700, 9_000_000_000 + i as u64))
            .collect(),
        refills: (0..64)
            .map(|i| (1_795_003_300_000 + i * 1_000, 25_000 + i as u64))
            .collect(),
    };
    let lease = writer
        .acquire("large")
        .await
        .expect("acquire")
        .expect("free");
    writer.save("large", &demand).await.expect("save");
    assert_eq!(reader.load("large").await.expect("load"), demand);
    assert_eq!(
        reader.load("small").await.expect("load"),
        SharedDemand::default()
    );
    // The lease is its own item: releasing it leaves the demand.
    writer.release(lease).await.expect("release");
    assert_eq!(reader.load("large").await.expect("load"), demand);

    let item = client
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("demand#large".into()))
        .send()
        .await
        .expect("GetItem");
    let expires_at: u64 = item
        .item()
        .and_then(|i| i.get("expires_at"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("an expiry");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs();
    assert!(
        (now + 3_600..=now + 3 * 3_600).contains(&expires_at),
        "{expires_at} at {now}"
    );

    // Written by some other build: no demand rather than a failing batch, then replaced.
    client
        .put_item()
        .table_name(TABLE)
        .item("pk", AttributeValue::S("demand#large".into()))
        .item(
            "demand",
            AttributeValue::S("{\"arrivals\": \"not a list\"}".into()),
        )
        .send()
        .await
        .expect("PutItem");
    assert_eq!(
        reader.load("large").await.expect("load"),
        SharedDemand::default()
    );
    writer.save("large", &demand).await.expect("save");
    assert_eq!(reader.load("large").await.expect("load"), demand);
}
