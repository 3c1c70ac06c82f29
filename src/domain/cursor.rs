//! Opaque, tamper-evident keyset cursors: base64url(JSON payload) + "." + base64url(HMAC).
//! The payload carries the sort-key values of the last row and a fingerprint of the query
//! it belongs to, so an edited cursor, or one from another query, is rejected.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Values of the sort keys of the last row (null for a null value).
    #[serde(rename = "k")]
    pub keys: Vec<Value>,
    #[serde(rename = "i")]
    pub id: Uuid,
    /// Fingerprint of the query (collection, filters, sort, search, visibility).
    #[serde(rename = "q")]
    pub query: String,
}

/// A short digest of a query's shape, stored in its cursors.
pub fn fingerprint(shape: &str) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(shape.as_bytes())[..12])
}

/// Signs and verifies cursors with a secret shared by every instance on a database.
#[derive(Clone)]
pub struct CursorCodec {
    secret: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

impl CursorCodec {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!())
    }

    pub fn encode(&self, cursor: &Cursor) -> String {
        let payload = serde_json::to_vec(cursor).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..16])
        )
    }

    /// Decodes a cursor issued for the query with fingerprint `query`.
    pub fn decode(&self, text: &str, query: &str) -> Result<Cursor, String> {
        let invalid = || "the cursor is not valid (edited, truncated or expired)".to_owned();
        if text.len() > 2048 {
            return Err(invalid());
        }
        let (payload, tag) = text.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_truncated_left(&tag).map_err(|_| invalid())?;
        if tag.len() != 16 {
            return Err(invalid());
        }
        let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if cursor.query != query {
            return Err(
                "the cursor belongs to another query (its filters, sort or search differ)".into(),
            );
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            keys: vec![Value::from("Foam rolling")],
            id: Uuid::nil(),
            query: "techniques|sort=name".into(),
        }
    }

    #[test]
    fn round_trips() {
        let codec = CursorCodec::new(b"secret");
        let text = codec.encode(&cursor());
        assert_eq!(
            codec.decode(&text, "techniques|sort=name").unwrap(),
            cursor()
        );
    }

    #[test]
    fn rejects_tampering_other_queries_and_other_keys() {
        let codec = CursorCodec::new(b"secret");
        let text = codec.encode(&cursor());
        let mut edited = text.clone().into_bytes();
        edited[3] = if edited[3] == b'A' { b'B' } else { b'A' };
        assert!(
            codec
                .decode(&String::from_utf8(edited).unwrap(), "techniques|sort=name")
                .is_err()
        );
        assert!(codec.decode(&text, "techniques|sort=-name").is_err());
        assert!(
            CursorCodec::new(b"other")
                .decode(&text, "techniques|sort=name")
                .is_err()
        );
        for junk in ["", ".", "abc", "a.b", "%%%.%%%", &"x".repeat(5000)] {
            assert!(
                codec.decode(junk, "techniques|sort=name").is_err(),
                "{junk}"
            );
        }
    }
}
