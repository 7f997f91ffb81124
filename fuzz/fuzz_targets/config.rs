//! The config parser over arbitrary text: it must never panic, and every problem it reports must
//! point at a line and column inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(problems) = rc_config::parse(text) {
        let lines = text.lines().count().max(1) + 1;
        for problem in &problems.0 {
            assert!(problem.line >= 1 && problem.line <= lines && problem.column >= 1);
        }
    }
});
