//! The config parser over arbitrary text: it must never panic, and every problem it reports must
//! point at a line and column inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(problems) = rc_config::parse(text) {
        // YAML breaks lines at `\n`, `\r\n` and a lone `\r`; one past the end is the end of input.
        let lines = text.split(['\n', '\r']).count() + 1;
        for problem in &problems.0 {
            assert!(problem.line >= 1 && problem.line <= lines && problem.column >= 1);
        }
    }
});
