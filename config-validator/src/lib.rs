//! The AppConfig validator: the same validation as `runner-controller validate`, run by AppConfig
//! before a new config version can be deployed, so a bad file never reaches the controller.
//!
//! AppConfig invokes the Lambda with the candidate version base64-encoded in `content`; an
//! error fails the validation and AppConfig shows its message to whoever started the
//! deployment, here every problem as `URI:LINE:COL: message`.

use base64::Engine;
use serde::Deserialize;

/// The event AppConfig sends a Lambda validator.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationRequest {
    /// The candidate configuration, base64-encoded.
    pub content: String,
    /// Where the content came from (e.g. `hosted`), used to name it in messages.
    #[serde(default)]
    pub uri: Option<String>,
    /// The version being validated.
    #[serde(default)]
    pub configuration_version: Option<String>,
}

/// Why a candidate config was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// `content` is not base64.
    #[error("content is not base64: {0}")]
    NotBase64(String),
    /// The decoded content is not UTF-8 text.
    #[error("content is not UTF-8 text")]
    NotText,
    /// The YAML is not a valid config; every problem, one per line.
    #[error("{0}")]
    Invalid(String),
}

/// Validates one candidate version.
///
/// # Errors
///
/// Why AppConfig must not deploy it.
pub fn validate(request: &ValidationRequest) -> Result<(), Rejection> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(request.content.trim())
        .map_err(|e| Rejection::NotBase64(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| Rejection::NotText)?;
    let name = match (&request.uri, &request.configuration_version) {
        (Some(uri), Some(version)) => format!("{uri}@{version}"),
        (Some(uri), None) => uri.clone(),
        (None, Some(version)) => format!("version {version}"),
        (None, None) => "config".to_string(),
    };
    rc_config::parse(&text)
        .map(drop)
        .map_err(|problems| Rejection::Invalid(problems.render(&name).trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(yaml: &str) -> ValidationRequest {
        serde_json::from_value(serde_json::json!({
            "applicationId": "abc1234",
            "configurationProfileId": "def5678",
            "configurationVersion": "3",
            "content": base64::engine::general_purpose::STANDARD.encode(yaml),
            "uri": "hosted"
        }))
        .expect("the AppConfig validator event shape")
    }

    #[test]
    fn accepts_the_shipped_examples() {
        assert_eq!(
            validate(&request(include_str!("../../config/examples/dena.yaml"))),
            Ok(())
        );
        assert_eq!(
            validate(&request(include_str!("../../config/examples/minimal.yaml"))),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_broken_config_with_every_problem_located() {
        let Err(Rejection::Invalid(message)) = validate(&request(include_str!(
            "../../config/tests/data/broken.yaml"
        ))) else {
            panic!("a broken config must be refused")
        };
        assert!(message.lines().count() >= 10, "{message}");
        assert!(
            message
                .contains("hosted@3:4:3: unknown key `api_ur` in github; did you mean `api_url`?"),
            "{message}"
        );
    }

    #[test]
    fn refuses_content_that_is_not_text() {
        let mut bad = request("");
        bad.content = "***".into();
        assert!(matches!(validate(&bad), Err(Rejection::NotBase64(_))));
        bad.content = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]);
        assert_eq!(validate(&bad), Err(Rejection::NotText));
    }
}
