//! Text from outside (webhook payloads and headers) shortened before it is echoed.
//!
//! A signed delivery can still carry a 1 MB label or 5,000 of them; every reason, reply and log
//! line that repeats such text goes through [`abbreviate`] or [`abbreviate_list`], so its size
//! stays bounded whatever arrives.

use std::borrow::Cow;
use std::fmt::Write;

/// How many characters of one outside string a reason repeats.
pub const ECHO_CHARS: usize = 64;

/// How many items of an outside list a reason repeats.
pub const ECHO_ITEMS: usize = 8;

/// `text` when it has at most `max_chars` characters, else its first `max_chars` characters,
/// an ellipsis and how many characters were left out.
pub fn abbreviate(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let left_out = text[cut..].chars().count();
            Cow::Owned(format!("{}…(+{left_out} chars)", &text[..cut]))
        }
    }
}

/// A list rendered as `["a", "b", …(+N more)]`, at most [`ECHO_ITEMS`] items of at most
/// [`ECHO_CHARS`] characters each.
pub fn abbreviate_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().take(ECHO_ITEMS).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{:?}", abbreviate(item, ECHO_CHARS)).expect("writing to a String");
    }
    if items.len() > ECHO_ITEMS {
        write!(out, ", …(+{} more)", items.len() - ECHO_ITEMS).expect("writing to a String");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_kept_and_long_text_says_what_was_cut() {
        assert!(matches!(abbreviate("linux", 5), Cow::Borrowed("linux")));
        assert_eq!(abbreviate("abcdef", 3), "abc…(+3 chars)");
        assert_eq!(abbreviate("日本語です", 2), "日本…(+3 chars)");
        let labels: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(
            abbreviate_list(&labels),
            r#"["0", "1", "2", "3", "4", "5", "6", "7", …(+2 more)]"#
        );
        assert_eq!(abbreviate_list(&[]), "[]");
    }

    proptest! {
        /// Whatever the list, its rendering stays within a bound set by the two constants.
        #[test]
        fn list_rendering_is_bounded(items in proptest::collection::vec(".{0,300}", 0..40)) {
            let rendered = abbreviate_list(&items);
            // A debug-escaped char takes at most 10 bytes (`\u{10ffff}`).
            prop_assert!(rendered.len() <= ECHO_ITEMS * (ECHO_CHARS * 10 + 40) + 40);
        }
    }
}
