//! Text for a terminal: every id and every string a server or a user gave
//! that a text form prints goes through [`escape`], so that it can neither
//! break a line nor speak to the terminal.
//!
//! An id is any 1 to 36 characters, and a terminal obeys some of them: ESC
//! starts a control sequence (`\x1b]0;title\x07` retitles the window,
//! `\x1b[2J` clears it), a newline starts what looks like a line of output of
//! its own (`fake\nid:bob, coins:999999`), and the Unicode bidi controls
//! reorder what follows on the line. JSON output escapes by itself and stays
//! exact; a text line is for reading, so those characters are shown as Rust's
//! `char::escape_debug` shows them (`\n`, `\u{1b}`). Printable text, the
//! tutorial's ids included, passes unchanged, backslashes too: `a\n` may
//! thus be the three characters or an escaped newline, and `--json` tells.

use std::borrow::Cow;
use std::fmt;

use player_core::Player;

/// True for the characters a text line must not hold raw: C0 controls
/// (newline, tab and ESC among them), DEL and the C1 controls (`char::is_control`),
/// the line and paragraph separators U+2028 and U+2029, and the bidi
/// embeddings, overrides and isolates U+202A to U+202E and U+2066 to U+2069.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_unsafe`] character escaped as `char::escape_debug`
/// does (`\t`, `\r`, `\n`, `\0`, else `\u{..}`); borrowed when there is none.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A string shown through [`escape`], for `format!` arguments.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// The tutorial's line for a player, `id:ID, coins:N, goods:N`, its id escaped:
/// for a printable id exactly what `Player`'s `Display` prints.
pub fn player_line(p: &Player) -> String {
    format!(
        "id:{}, coins:{}, goods:{}",
        Escaped(p.id.as_str()),
        p.coins,
        p.goods
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_printable_text_is_not() {
        assert_eq!(escape("alice"), "alice");
        assert!(matches!(escape("ünï 🦀 ✓ \\n"), Cow::Borrowed(_)));
        assert_eq!(
            escape("evil\x1b]0;pwned\x07\x1b[2J"),
            r"evil\u{1b}]0;pwned\u{7}\u{1b}[2J"
        );
        assert_eq!(escape("a\nb\tc\rd\0"), r"a\nb\tc\rd\0");
        assert_eq!(escape("\u{7f}\u{85}\u{9f}"), r"\u{7f}\u{85}\u{9f}");
        assert_eq!(
            escape("\u{202e}\u{2066}\u{2069}\u{2028}\u{2029}"),
            r"\u{202e}\u{2066}\u{2069}\u{2028}\u{2029}"
        );
        // Neighbours of the escaped ranges pass.
        assert_eq!(
            escape("\u{a0}\u{2027}\u{202f}\u{2065}\u{206a}"),
            "\u{a0}\u{2027}\u{202f}\u{2065}\u{206a}"
        );
    }

    #[test]
    fn a_printable_player_line_is_the_tutorials() {
        for id in ["test", "1", "O'Brien", r"back\slash", "é 🦀", "a  "] {
            let p = Player {
                id: id.parse().expect("id"),
                coins: 3,
                goods: 4,
            };
            assert_eq!(player_line(&p), p.to_string());
        }
    }
}
