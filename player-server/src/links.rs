//! Where a created resource lives: the `Location` of a 201.

use axum::http::HeaderValue;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `collection/segment`, the segment percent-encoded (an id or a key may
/// hold spaces, slashes, anything).
pub(crate) fn location(collection: &'static str, segment: &str) -> HeaderValue {
    let path = format!("{collection}/{}", utf8_percent_encode(segment, SEGMENT));
    HeaderValue::try_from(path).unwrap_or(HeaderValue::from_static(collection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_but_unreserved_characters() {
        assert_eq!(
            location("/trades", "order-1.a_b~c"),
            "/trades/order-1.a_b~c"
        );
        assert_eq!(location("/players", "a b/é"), "/players/a%20b%2F%C3%A9");
    }
}
