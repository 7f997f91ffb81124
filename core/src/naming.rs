//! Names of what one launch creates: the runner name, the ECS client token and the SSM
//! parameter holding the JIT config.
//!
//! The runner name and the client token are derived, never random, so a retried launch reuses
//! them: a job runner's name comes from (job id, attempt), a warm runner's from (class, decision
//! time, index). The client token is the runner name itself, which makes ECS's idempotency
//! cover exactly one runner registration.
//!
//! The parameter name is the opposite: random, and unrelated to the runner or the job, because
//! it is the only thing between a job step holding a runner task's credentials and another
//! runner's JIT config (see the README's trust boundary). Each attempt writes a new one.

use crate::Timestamp;

pub use crate::observed::JIT_PARAM_ENV;

/// ECS accepts client tokens of at most 64 characters (RunTask API reference).
pub const MAX_CLIENT_TOKEN_LEN: usize = 64;

/// Runner name for `attempt` at starting a runner for `job_id`: `{prefix}j{job id in base 36}-{attempt}`.
///
/// At most 40 (the longest prefix the config accepts) + 1 + 13 (`u64::MAX`) + 1 + 2 (the config
/// allows at most 50 re-checks) = 57 characters.
pub fn job_runner_name(prefix: &str, job_id: u64, attempt: u32) -> String {
    format!("{prefix}j{}-{attempt}", base36(job_id))
}

/// Runner name of the `index`-th warm runner started for `class` by the decision made at `now`:
/// `{prefix}w{hash of class and now in base 36}-{index}`.
///
/// Two decisions a millisecond apart get different names, so a second warm top-up in the same
/// minute is not mistaken for a retry of the first.
pub fn warm_runner_name(prefix: &str, class: &str, now: Timestamp, index: u32) -> String {
    let mut hash = Fnv1a::default();
    hash.write(class.as_bytes());
    hash.write(&[0]);
    hash.write(&now.0.to_be_bytes());
    format!("{prefix}w{}-{index}", base36(hash.0))
}

/// The RunTask client token of the `index`-th benchmark worker started by the decision made at
/// `decided_at`: a repeated call of the same decision starts nothing new on ECS, a later
/// decision gets new workers.
pub fn bench_worker_token(decided_at: Timestamp, index: u32) -> String {
    format!("bench-w{}-{index}", base36(decided_at.0.unsigned_abs()))
}

/// The RunTask client token of the task that runs `runner_name`: the name itself, which is
/// short enough (see [`MAX_CLIENT_TOKEN_LEN`]) and made only of allowed characters.
pub fn client_token(runner_name: &str) -> String {
    runner_name.to_owned()
}

/// The name of an SSM parameter holding a JIT config: `{ssm_prefix}/{32 hex digits}` of
/// `random`. Production draws `random` from the operating system's entropy source (128 bits), so
/// that a reader who may read any name under the prefix but list none must guess among 2^128;
/// the simulator draws it from its seeded generator.
pub fn parameter_name(ssm_prefix: &str, random: u128) -> String {
    format!("{}/{random:032x}", ssm_prefix.trim_end_matches('/'))
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("base-36 digits are ASCII")
}

/// 64-bit FNV-1a: a fixed, documented hash (unlike `std`'s `DefaultHasher`, whose output may
/// change between Rust releases), so names stay the same across deployments.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONGEST_PREFIX: &str = "runner-controller-production-eu-west-1-x";

    #[test]
    fn job_names_are_deterministic_and_distinct_per_attempt() {
        assert_eq!(job_runner_name("rc-", 29_679_449, 0), "rc-jho4t5-0");
        assert_eq!(
            job_runner_name("rc-", 29_679_449, 0),
            job_runner_name("rc-", 29_679_449, 0)
        );
        assert_ne!(
            job_runner_name("rc-", 29_679_449, 0),
            job_runner_name("rc-", 29_679_449, 1)
        );
        assert_ne!(job_runner_name("rc-", 1, 11), job_runner_name("rc-", 11, 1));
    }

    #[test]
    fn warm_names_differ_by_class_time_and_index() {
        let at = Timestamp(1_700_000_000_000);
        let name = warm_runner_name("rc-", "large", at, 0);
        assert!(name.starts_with("rc-w"), "{name}");
        assert_eq!(name, warm_runner_name("rc-", "large", at, 0));
        assert_ne!(name, warm_runner_name("rc-", "large", at, 1));
        assert_ne!(name, warm_runner_name("rc-", "small", at, 0));
        assert_ne!(
            name,
            warm_runner_name("rc-", "large", Timestamp(at.0 + 1), 0)
        );
    }

    #[test]
    fn client_tokens_fit_ecs_limits() {
        assert_eq!(LONGEST_PREFIX.len(), 40);
        for name in [
            job_runner_name(LONGEST_PREFIX, u64::MAX, 50),
            warm_runner_name(
                LONGEST_PREFIX,
                "a-very-long-class-name",
                Timestamp(i64::MAX),
                99,
            ),
        ] {
            let token = client_token(&name);
            assert_eq!(token, name, "the token is the runner name");
            assert!(token.len() <= MAX_CLIENT_TOKEN_LEN, "{token}");
            assert!(token.bytes().all(|b| (33..=126).contains(&b)), "{token}");
        }
    }

    #[test]
    fn parameter_names_are_the_random_number_under_the_prefix() {
        let names: Vec<String> = (0..64u128)
            .map(|i| {
                parameter_name(
                    "/rc/jit/",
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834),
                )
            })
            .collect();
        for name in &names {
            let random = name.strip_prefix("/rc/jit/").expect("under the prefix");
            assert_eq!(random.len(), 32, "{name}");
            assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        }
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert_eq!(
            parameter_name("/rc/jit", 255),
            "/rc/jit/000000000000000000000000000000ff"
        );
    }
}
