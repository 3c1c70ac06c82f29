//! Salve patch 5: column values copied out of a result row into Rust memory.
//!
//! Upstream, every column of every row became its own `sqlite3_value_dup` (one SQLite
//! allocation for the value and one more for its text), made on the connection's worker
//! thread and freed on the async side: on the GraphQL benchmark query that was a fifth of
//! the server's CPU time, most of it mimalloc collecting blocks freed by other threads.
//! A row now copies its text and blobs into one buffer, numbers inline (see `row.rs`),
//! and decoding reads them from there with SQLite's own conversion rules.

use std::borrow::Cow;

use crate::type_info::DataType;

/// One column's value in a row: its storage class and contents.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Datum<'a> {
    Null,
    Integer(i64),
    Float(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

/// A [`Datum`] that owns its bytes (`SqliteValueRef::to_owned`).
#[derive(Clone, Debug)]
pub(crate) enum OwnedDatum {
    Null,
    Integer(i64),
    Float(f64),
    Text(Box<[u8]>),
    Blob(Box<[u8]>),
}

impl OwnedDatum {
    pub(crate) fn as_datum(&self) -> Datum<'_> {
        match self {
            Self::Null => Datum::Null,
            Self::Integer(i) => Datum::Integer(*i),
            Self::Float(f) => Datum::Float(*f),
            Self::Text(bytes) => Datum::Text(bytes),
            Self::Blob(bytes) => Datum::Blob(bytes),
        }
    }
}

impl<'a> Datum<'a> {
    pub(crate) fn to_owned_datum(self) -> OwnedDatum {
        match self {
            Self::Null => OwnedDatum::Null,
            Self::Integer(i) => OwnedDatum::Integer(i),
            Self::Float(f) => OwnedDatum::Float(f),
            Self::Text(bytes) => OwnedDatum::Text(bytes.into()),
            Self::Blob(bytes) => OwnedDatum::Blob(bytes.into()),
        }
    }

    pub(crate) fn data_type(self) -> DataType {
        match self {
            Self::Null => DataType::Null,
            Self::Integer(_) => DataType::Integer,
            Self::Float(_) => DataType::Float,
            Self::Text(_) => DataType::Text,
            Self::Blob(_) => DataType::Blob,
        }
    }

    pub(crate) fn data_type_name(self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Integer(_) => "INTEGER",
            Self::Float(_) => "REAL",
            Self::Text(_) => "TEXT",
            Self::Blob(_) => "BLOB",
        }
    }

    /// `sqlite3_value_int64`: reals truncate (saturating), text and blobs parse their
    /// leading integer (`sqlite3Atoi64`), NULL is 0.
    pub(crate) fn int64(self) -> i64 {
        match self {
            Self::Null => 0,
            Self::Integer(i) => i,
            Self::Float(f) => real_to_int(f),
            Self::Text(bytes) | Self::Blob(bytes) => leading_integer(bytes),
        }
    }

    /// `sqlite3_value_double`: text and blobs parse their leading number
    /// (`sqlite3AtoF`), NULL is 0.0.
    pub(crate) fn double(self) -> f64 {
        match self {
            Self::Null => 0.0,
            Self::Integer(i) => i as f64,
            Self::Float(f) => f,
            Self::Text(bytes) | Self::Blob(bytes) => leading_real(bytes),
        }
    }

    /// The bytes of a text or blob value, borrowed from the row; `None` for a number,
    /// whose text form only exists once converted (see [`Datum::bytes`]).
    pub(crate) fn borrowed_bytes(self) -> Option<&'a [u8]> {
        match self {
            Self::Null => Some(&[]),
            Self::Text(bytes) | Self::Blob(bytes) => Some(bytes),
            Self::Integer(_) | Self::Float(_) => None,
        }
    }

    /// `sqlite3_value_blob` / `sqlite3_value_text`: numbers render as SQLite renders them.
    pub(crate) fn bytes(self) -> Cow<'a, [u8]> {
        match self {
            Self::Integer(i) => Cow::Owned(i.to_string().into_bytes()),
            Self::Float(f) => Cow::Owned(real_to_text(f).into_bytes()),
            other => Cow::Borrowed(other.borrowed_bytes().unwrap_or_default()),
        }
    }
}

fn real_to_int(f: f64) -> i64 {
    // As SQLite's doubleToInt64: out-of-range values clamp (Rust's `as` saturates and
    // maps NaN to 0).
    f as i64
}

/// `sqlite3Atoi64`'s reading: leading spaces, a sign, digits up to the first other
/// character; overflow clamps.
fn leading_integer(bytes: &[u8]) -> i64 {
    let text = trim_leading_space(bytes);
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i128 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        value = (value * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let value = if negative { -value } else { value };
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `sqlite3AtoF`'s reading: the longest prefix (after spaces) that is a decimal real.
fn leading_real(bytes: &[u8]) -> f64 {
    let text = trim_leading_space(bytes);
    let mut end = 0;
    let digits = |from: usize| {
        text[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    if matches!(text.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let integer = digits(end);
    end += integer;
    let mut fraction = 0;
    if text.get(end) == Some(&b'.') {
        fraction = digits(end + 1);
        if integer + fraction > 0 {
            end += 1 + fraction;
        }
    }
    if integer + fraction == 0 {
        return 0.0;
    }
    if matches!(text.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(text.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        let exponent_digits = digits(exponent);
        if exponent_digits > 0 {
            end = exponent + exponent_digits;
        }
    }
    std::str::from_utf8(&text[..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0)
}

fn trim_leading_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// A real as text: the shortest form that reads back the same, with `.0` on whole
/// numbers as SQLite writes them (`1.0`, not `1`).
fn real_to_text(f: f64) -> String {
    let mut text = f.to_string();
    if f.is_finite() && !text.contains(['.', 'e', 'E']) {
        text.push_str(".0");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_as_sqlite_reads_it() {
        assert_eq!(Datum::Text(b"  42abc").int64(), 42);
        assert_eq!(Datum::Text(b"-7").int64(), -7);
        assert_eq!(Datum::Text(b"1.9").int64(), 1);
        assert_eq!(Datum::Text(b"abc").int64(), 0);
        assert_eq!(Datum::Text(b"99999999999999999999").int64(), i64::MAX);
        assert_eq!(Datum::Text(b"-99999999999999999999").int64(), i64::MIN);
        assert_eq!(Datum::Text(b" 2.5e2x").double(), 250.0);
        assert_eq!(Datum::Text(b".5").double(), 0.5);
        assert_eq!(Datum::Text(b"1e").double(), 1.0);
        assert_eq!(Datum::Text(b"-").double(), 0.0);
        assert_eq!(Datum::Float(2.9).int64(), 2);
        assert_eq!(Datum::Float(f64::MAX).int64(), i64::MAX);
        assert_eq!(Datum::Integer(3).double(), 3.0);
        assert_eq!(&*Datum::Integer(-12).bytes(), b"-12");
        assert_eq!(&*Datum::Float(1.0).bytes(), b"1.0");
        assert_eq!(&*Datum::Float(0.25).bytes(), b"0.25");
        assert_eq!(Datum::Null.int64(), 0);
        assert_eq!(Datum::Integer(5).borrowed_bytes(), None);
    }
}
