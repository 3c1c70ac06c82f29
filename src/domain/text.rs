//! The characters client text may carry. NUL is never storable (PostgreSQL refuses it)
//! and control characters in identifiers, filters or headers end up in cache tags, logs and
//! terminals; prose may break lines.

/// What a text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Identifiers, filters, query parameters, path segments, single-line fields: no
    /// control character at all.
    Line,
    /// Multi-line content (Markdown bodies, summaries, GraphQL strings): tab, line feed
    /// and carriage return, but no other control character.
    Prose,
}

/// `Err` names the first control character `text` may not carry.
pub fn check_controls(text: &str, kind: TextKind) -> Result<(), String> {
    let allowed = |c: char| kind == TextKind::Prose && matches!(c, '\t' | '\n' | '\r');
    match text.chars().find(|&c| c.is_control() && !allowed(c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "contains the control character U+{:04X}",
            u32::from(c)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_no_control_character() {
        assert!(check_controls("foam roller, 45 cm — ünïcode", TextKind::Line).is_ok());
        for bad in [
            "a\0b",
            "a\nb",
            "\t",
            "\u{1b}[31m",
            "\u{7f}",
            "\u{85}",
            "x\r",
        ] {
            assert!(check_controls(bad, TextKind::Line).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_controls("a\0", TextKind::Line).unwrap_err(),
            "contains the control character U+0000"
        );
    }

    #[test]
    fn prose_breaks_lines_but_carries_no_other_control() {
        assert!(check_controls("## Title\n\nText\twith tab\r\n", TextKind::Prose).is_ok());
        for bad in ["a\0b", "\u{1b}[31m", "\u{7}", "\u{7f}", "\u{9b}"] {
            assert!(check_controls(bad, TextKind::Prose).is_err(), "{bad:?}");
        }
    }
}
