//! Takes the JIT config out of SSM: read it (decrypted), then delete it, each call retried on
//! throttling, server and network errors.
//!
//! The value never reaches an error or a log line: errors carry the parameter's name and the
//! SDK's error, and no SSM error echoes a parameter's value.

use aws_sdk_ssm_lean::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm_lean::Client;

use crate::retry::{retry, Backoff};
use crate::Error;

/// What the delete found.
#[derive(Debug)]
pub enum Deleted {
    /// This call deleted the parameter.
    Now,
    /// The parameter was already gone after our read. Usually our own earlier attempt deleted it
    /// and its answer was lost (a timeout or dropped connection), so the retry finds nothing.
    AlreadyGone,
}

/// Reads the parameter `name` and deletes it; returns the value and what the delete found.
///
/// # Errors
///
/// [`Error::NotFound`] if there is no such parameter, [`Error::Read`] for any other failed read,
/// [`Error::Delete`] if the delete still fails after its retries: the caller must not start the
/// runner then, because the config would stay readable by every task sharing the role.
pub async fn take_config(client: &Client, name: &str) -> Result<(String, Deleted), Error> {
    let read = retry(&Backoff::SSM, is_transient, || {
        client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
    })
    .await;
    let value = match read {
        Ok(output) => output.parameter.and_then(|p| p.value),
        Err(e) if is_not_found(&e) => return Err(Error::NotFound(name.to_owned())),
        Err(e) => return Err(Error::Read(name.to_owned(), describe(&e))),
    }
    .ok_or_else(|| Error::Read(name.to_owned(), "the answer holds no value".to_owned()))?;

    let deleted = match retry(&Backoff::SSM, is_transient, || {
        client.delete_parameter().name(name).send()
    })
    .await
    {
        Ok(_) => Deleted::Now,
        Err(e) if is_not_found(&e) => Deleted::AlreadyGone,
        Err(e) => return Err(Error::Delete(name.to_owned(), describe(&e))),
    };
    Ok((value, deleted))
}

/// Worth another attempt: no answer at all (connect failure, timeout, broken response), a
/// server error, or throttling.
fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            // Throttling is a 400 with this code, common to every AWS JSON API; GetParameter and
            // DeleteParameter model only InternalServerError (a 500) besides client errors.
            service.err().code() == Some("ThrottlingException")
                || service.raw().status().is_server_error()
        }
        _ => false,
    }
}

fn is_not_found<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.code() == Some("ParameterNotFound")
}

/// The error and its causes on one line (the SDK's `Debug` form would add a long dump).
fn describe(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        line.push_str(": ");
        line.push_str(&error.to_string());
        cause = error.source();
    }
    line
}
