//! A player's id as the server sees it.
//!
//! `player.id` is `VARCHAR(36) COLLATE utf8mb4_bin`, and that collation (in
//! TiDB, MySQL 8.0 and MariaDB alike) is PAD SPACE: before comparing, the
//! shorter string is padded with spaces. So `a` and `a ` are the same key, one
//! row, while `a` and `A` are two. Rust's `String` equality disagrees, and a
//! program that decides with one and writes with the other can trade a player
//! with itself. [`PlayerId`] is checked once, when it is made, and compares,
//! orders and hashes the way the column does.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::mysql::{Mysql, MysqlValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Varchar;

/// The longest id the `player.id` column holds: `VARCHAR(36)` counts
/// characters (a hyphenated UUID is 36).
pub const MAX_ID_LEN: usize = 36;

/// A player id: 1 to [`MAX_ID_LEN`] characters, not all of them spaces, kept
/// verbatim (quotes, backslashes and SQL fragments included: queries bind it,
/// never splice it).
///
/// Equality, order and hash follow the column's collation, `utf8mb4_bin` with
/// PAD SPACE: trailing spaces do not count (`"a" == "a "`), everything else is
/// compared by code point. An id read from the table is kept as stored.
#[derive(Clone, AsExpression, FromSqlRow)]
#[diesel(sql_type = Varchar)]
pub struct PlayerId(String);

/// Why a string cannot be a [`PlayerId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidId {
    /// The empty string, or only spaces: the column compares `"  "` equal
    /// to `""`, so it would be the empty id under another spelling.
    #[error("a player id cannot be empty or only spaces")]
    Empty,
    /// More characters than the column holds.
    #[error("a player id has at most {MAX_ID_LEN} characters, this one has {0}")]
    TooLong(usize),
}

impl PlayerId {
    /// Checks `id` against what the column holds faithfully: 1 to
    /// [`MAX_ID_LEN`] characters, and something besides the trailing spaces
    /// the collation ignores.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidId> {
        let id = id.into();
        match id.chars().count() {
            _ if id.trim_end_matches(' ').is_empty() => Err(InvalidId::Empty),
            n if n > MAX_ID_LEN => Err(InvalidId::TooLong(n)),
            _ => Ok(Self(id)),
        }
    }

    /// A random (v4) UUID, as the tutorial's `random_player` makes ids.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as given (or as stored, for one read from the table).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id without the trailing spaces the collation ignores: what
    /// equality and hashing look at.
    fn key(&self) -> &str {
        self.0.trim_end_matches(' ')
    }
}

/// Compares two strings as a PAD SPACE binary collation does: byte by byte
/// (UTF-8 byte order is code point order), the shorter one padded with spaces.
fn pad_space_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len().max(b.len());
    let padded = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(b' ');
    (0..len)
        .map(|i| padded(a, i).cmp(&padded(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl PartialEq for PlayerId {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for PlayerId {}

impl Hash for PlayerId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Ord for PlayerId {
    fn cmp(&self, other: &Self) -> Ordering {
        pad_space_cmp(&self.0, &other.0)
    }
}

impl PartialOrd for PlayerId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for PlayerId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for PlayerId {
    type Error = InvalidId;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl fmt::Display for PlayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PlayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for PlayerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl ToSql<Varchar, Mysql> for PlayerId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        <str as ToSql<Varchar, Mysql>>::to_sql(&self.0, out)
    }
}

impl FromSql<Varchar, Mysql> for PlayerId {
    /// Kept as stored, unchecked: the column holds only what it can.
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        <String as FromSql<Varchar, Mysql>>::from_sql(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PlayerId {
        PlayerId::new(s).expect("valid id")
    }

    #[test]
    fn ids_are_1_to_36_characters_not_bytes() {
        assert_eq!(PlayerId::new(""), Err(InvalidId::Empty));
        // Only spaces: the column compares it equal to the empty string.
        assert_eq!(PlayerId::new(" "), Err(InvalidId::Empty));
        assert_eq!(PlayerId::new(" ".repeat(36)), Err(InvalidId::Empty));
        assert_eq!(PlayerId::new(" ".repeat(37)), Err(InvalidId::Empty));
        // Other blanks are characters the collation keeps.
        assert!(PlayerId::new("\t").is_ok());
        assert!(PlayerId::new("\u{a0}").is_ok());
        assert!(PlayerId::new(" a").is_ok());
        assert_eq!(PlayerId::new("a".repeat(37)), Err(InvalidId::TooLong(37)));
        assert!(PlayerId::new("a".repeat(36)).is_ok());
        assert_eq!(id(&"é".repeat(36)).as_str(), "é".repeat(36));
        assert_eq!(id(&"🦀".repeat(36)).as_str().len(), 36 * 4);
        assert_eq!(id(r#"x' OR '1'='1\"#).to_string(), r#"x' OR '1'='1\"#);
    }

    #[test]
    fn trailing_spaces_do_not_count_other_characters_do() {
        assert_eq!(id("a"), id("a "));
        assert_eq!(id("a"), id("a   "));
        assert_ne!(id("a"), id(" a"));
        assert_ne!(id("a"), id("A"));
        assert_ne!(id("a"), id("a\t"));
        assert_ne!(id("a"), id("a\u{a0}"));
        let hash = |i: &PlayerId| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            i.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&id("a")), hash(&id("a  ")));
        // Ids the collation tells apart spread over the hash space.
        assert_ne!(hash(&id("a")), hash(&id("b")));
        assert_ne!(hash(&id("a")), hash(&id("A")));
    }

    #[test]
    fn the_id_reads_back_as_written() {
        let twin = id("a  ");
        let as_ref: &str = twin.as_ref();
        assert_eq!(as_ref, "a  ");
        assert_eq!(twin.as_str(), "a  ");
        assert_eq!(format!("{twin:?}"), "\"a  \"");
        assert_eq!(
            "b".parse::<PlayerId>().map(|i| i.to_string()),
            Ok("b".to_owned())
        );
        assert_eq!(
            PlayerId::try_from("").map(|i| i.to_string()),
            Err(InvalidId::Empty)
        );
        assert_eq!(PlayerId::random().as_str().len(), 36);
    }

    #[test]
    fn order_pads_the_shorter_id_with_spaces() {
        // "a" is compared as "a ": a tab (0x09) sorts before the padding space.
        assert!(id("a\t") < id("a"));
        assert!(id("a") < id("ab"));
        assert!(id("A") < id("a"));
        assert_eq!(id("b ").cmp(&id("b")), Ordering::Equal);
        assert!(id("é") > id("z"));
    }
}
