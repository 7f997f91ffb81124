//! The parser over arbitrary text, the stable counterpart of `fuzz/`'s `config` target that
//! runs in CI: it never panics, and every problem points at a line and column of the text.

use proptest::prelude::*;

/// Text that looks like a config often enough to get past the YAML layer.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("github:".to_string()),
        Just("classes:".to_string()),
        Just("  - name: x".to_string()),
        Just("    labels: [self-hosted, a]".to_string()),
        Just("scope: org".to_string()),
        Just("{".to_string()),
        Just("- ".to_string()),
        Just("&a *a".to_string()),
        "\\PC{0,20}",
    ];
    proptest::collection::vec(token, 0..30).prop_map(|lines| lines.join("\n"))
}

fn problems_are_located(text: &str) -> Result<(), TestCaseError> {
    if let Err(problems) = rc_config::parse(text) {
        prop_assert!(!problems.0.is_empty());
        // YAML breaks lines at `\n`, `\r\n` and a lone `\r`; one past the end is the end of input.
        let lines = text.split(['\n', '\r']).count() + 1;
        for problem in &problems.0 {
            prop_assert!(
                (1..=lines).contains(&problem.line) && problem.column >= 1,
                "{}:{}: {}",
                problem.line,
                problem.column,
                problem.message
            );
        }
    }
    Ok(())
}

#[test]
fn a_lone_carriage_return_is_a_line_break() {
    // Found by `cargo fuzz run config`: YAML counts `\r` as a line break, `str::lines` does not.
    problems_are_located("-\r--").expect("located");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_and_every_problem_is_located(text in "\\PC{0,400}") {
        problems_are_located(&text)?;
    }

    #[test]
    fn config_like_text_never_panics_and_every_problem_is_located(text in yamlish()) {
        problems_are_located(&text)?;
    }
}
