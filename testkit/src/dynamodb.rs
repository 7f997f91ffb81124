//! DynamoDB tables as terraform creates them for the controller: one string partition key named
//! `pk`, on-demand billing (the class lease table and the benchmark state table alike).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Creates table `name` keyed by `pk` through `sdk`, and returns a client for it.
pub async fn pk_table(sdk: &SdkConfig, name: &str) -> aws_sdk_dynamodb::Client {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("a complete definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("a complete key"),
        )
        .send()
        .await
        .expect("CreateTable");
    client
}
