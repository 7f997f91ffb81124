//! Who is asking: a bearer token checked against the configured SHA-256 digests.
//!
//! The token is hashed once and compared with every team's digest in constant time, without
//! stopping at a match, so neither the time to answer nor its shape tells a caller how much of
//! a token was right or which team's it resembles.

use rc_config::Team;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Longest bearer token looked at; longer ones are refused before hashing.
pub const MAX_TOKEN_BYTES: usize = 512;

/// SHA-256 of a token.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_TOKEN_BYTES)
        .then_some(token)
}

/// The team whose digest matches `token`, if any.
pub fn team_for_token<'a>(teams: &'a [Team], token: &str) -> Option<&'a Team> {
    let digest = token_digest(token);
    // Index + 1 of the matching team, 0 for none, chosen without branching on secrets.
    let mut found = 0u32;
    for (i, team) in teams.iter().enumerate() {
        let index = u32::try_from(i + 1).expect("team count is bounded by validation");
        let hit = team.token_sha256.ct_eq(&digest);
        found = u32::conditional_select(&found, &index, hit);
    }
    found.checked_sub(1).map(|i| &teams[i as usize])
}

/// Whether `token` is the ops token whose digest is `ops_digest`.
pub fn is_ops(ops_digest: Option<&[u8; 32]>, token: &str) -> bool {
    ops_digest.is_some_and(|d| bool::from(d.ct_eq(&token_digest(token))))
}

/// Who a read request is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader<'a> {
    /// The ops token: sees everything.
    Ops,
    /// A team's token: sees its own jobs only.
    Team(&'a Team),
}

impl Reader<'_> {
    /// Whether this reader may see a job of `team`. Another team's job answers as if it did
    /// not exist (404), so ids cannot be probed.
    pub fn may_see(&self, team: &str) -> bool {
        match self {
            Reader::Ops => true,
            Reader::Team(t) => t.id == team,
        }
    }
}

/// The reader a token identifies: ops first, then the teams.
pub fn reader<'a>(
    teams: &'a [Team],
    ops_digest: Option<&[u8; 32]>,
    token: &str,
) -> Option<Reader<'a>> {
    if is_ops(ops_digest, token) {
        return Some(Reader::Ops);
    }
    team_for_token(teams, token).map(Reader::Team)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn team(id: &str, token: &str) -> Team {
        Team {
            id: id.into(),
            token_sha256: token_digest(token),
            target: "192.0.2.1".into(),
        }
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_token() {
        // `printf %s test | sha256sum`
        assert_eq!(
            crate::bench::to_hex(&token_digest("test")),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn bearer_tokens_are_taken_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
        assert_eq!(
            bearer(Some(&format!("Bearer {}", "x".repeat(MAX_TOKEN_BYTES + 1)))),
            None
        );
    }

    #[test]
    fn ops_and_teams_are_told_apart() {
        let teams = [team("a", "ta"), team("b", "tb")];
        let ops = token_digest("ops");
        assert_eq!(reader(&teams, Some(&ops), "ops"), Some(Reader::Ops));
        assert_eq!(
            reader(&teams, Some(&ops), "tb"),
            Some(Reader::Team(&teams[1]))
        );
        assert_eq!(reader(&teams, None, "ops"), None);
        assert!(Reader::Team(&teams[0]).may_see("a"));
        assert!(!Reader::Team(&teams[0]).may_see("b"));
        assert!(Reader::Ops.may_see("b"));
    }

    proptest! {
        #[test]
        fn each_team_is_found_by_its_own_token_only(tokens in proptest::collection::btree_set("[a-z0-9]{1,16}", 1..20), probe in "[a-z0-9]{1,16}") {
            let tokens: Vec<String> = tokens.into_iter().collect();
            let teams: Vec<Team> = tokens.iter().enumerate().map(|(i, t)| team(&format!("t{i}"), t)).collect();
            for (i, t) in tokens.iter().enumerate() {
                prop_assert_eq!(team_for_token(&teams, t).map(|t| t.id.clone()), Some(format!("t{i}")));
            }
            let expected = tokens.iter().position(|t| *t == probe).map(|i| format!("t{i}"));
            prop_assert_eq!(team_for_token(&teams, &probe).map(|t| t.id.clone()), expected);
        }
    }
}
