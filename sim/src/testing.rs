//! Fixtures for the crate's unit tests.

use rc_config::Config;

/// The bundled DeNA-like example config.
pub(crate) fn dena_like() -> Config {
    rc_config::parse(include_str!("../../config/examples/dena.yaml"))
        .expect("the bundled example is valid")
}
