#![allow(clippy::rc_buffer)]

use std::sync::Arc;

use sqlx_core::column::ColumnIndex;
use sqlx_core::error::Error;
use sqlx_core::ext::ustr::UStr;
use sqlx_core::row::{debug_row, Row};
use sqlx_core::HashMap;

use libsqlite3_sys::{SQLITE_BLOB, SQLITE_FLOAT, SQLITE_INTEGER, SQLITE_TEXT};

use crate::datum::Datum;
use crate::statement::StatementHandle;
use crate::{Sqlite, SqliteColumn, SqliteValueRef};

/// Implementation of [`Row`] for SQLite.
///
/// Salve patch 5: the row's values are copied into Rust memory when it is read, numbers
/// inline and every text and blob into one buffer (`crate::datum` says why).
pub struct SqliteRow {
    values: Box<[Stored]>,
    bytes: Box<[u8]>,
    pub(crate) columns: Arc<Vec<SqliteColumn>>,
    pub(crate) column_names: Arc<HashMap<UStr, usize>>,
}

/// One column of a row; text and blobs as a range of the row's buffer.
#[derive(Clone, Copy)]
enum Stored {
    Null,
    Integer(i64),
    Float(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

impl SqliteRow {
    fn datum(&self, index: usize) -> Datum<'_> {
        match self.values[index] {
            Stored::Null => Datum::Null,
            Stored::Integer(i) => Datum::Integer(i),
            Stored::Float(f) => Datum::Float(f),
            Stored::Text(start, end) => Datum::Text(&self.bytes[start..end]),
            Stored::Blob(start, end) => Datum::Blob(&self.bytes[start..end]),
        }
    }
}

// Accessing values from the statement object is
// safe across threads as long as we don't call [sqlite3_step]

// we block ourselves from doing that by only exposing
// a set interface on [StatementHandle]

unsafe impl Send for SqliteRow {}
unsafe impl Sync for SqliteRow {}

impl SqliteRow {
    pub(crate) fn current(
        statement: &StatementHandle,
        columns: &Arc<Vec<SqliteColumn>>,
        column_names: &Arc<HashMap<UStr, usize>>,
    ) -> Self {
        let size = statement.column_count();
        // The buffer is sized first, so it is allocated once. Asking a text or blob
        // column for its length converts nothing (the connection's encoding is UTF-8).
        let total: usize = (0..size)
            .filter(|&i| matches!(statement.column_type(i), SQLITE_TEXT | SQLITE_BLOB))
            .map(|i| statement.column_blob(i).len())
            .sum();
        let mut bytes = Vec::with_capacity(total);
        let mut values = Vec::with_capacity(size);
        for i in 0..size {
            let stored = match statement.column_type(i) {
                SQLITE_INTEGER => Stored::Integer(statement.column_int64(i)),
                SQLITE_FLOAT => Stored::Float(statement.column_double(i)),
                kind @ (SQLITE_TEXT | SQLITE_BLOB) => {
                    let start = bytes.len();
                    bytes.extend_from_slice(statement.column_blob(i));
                    if kind == SQLITE_TEXT {
                        Stored::Text(start, bytes.len())
                    } else {
                        Stored::Blob(start, bytes.len())
                    }
                }
                _ => Stored::Null,
            };
            values.push(stored);
        }

        Self {
            values: values.into_boxed_slice(),
            bytes: bytes.into_boxed_slice(),
            columns: Arc::clone(columns),
            column_names: Arc::clone(column_names),
        }
    }
}

impl Row for SqliteRow {
    type Database = Sqlite;

    fn columns(&self) -> &[SqliteColumn] {
        &self.columns
    }

    fn try_get_raw<I>(&self, index: I) -> Result<SqliteValueRef<'_>, Error>
    where
        I: ColumnIndex<Self>,
    {
        let index = index.index(self)?;
        Ok(SqliteValueRef::datum(
            self.datum(index),
            Some(self.columns[index].type_info.clone()),
        ))
    }
}

impl ColumnIndex<SqliteRow> for &'_ str {
    fn index(&self, row: &SqliteRow) -> Result<usize, Error> {
        row.column_names
            .get(*self)
            .ok_or_else(|| Error::ColumnNotFound((*self).into()))
            .copied()
    }
}

impl std::fmt::Debug for SqliteRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_row(self, f)
    }
}

// #[cfg(feature = "any")]
// impl From<SqliteRow> for crate::any::AnyRow {
//     #[inline]
//     fn from(row: SqliteRow) -> Self {
//         crate::any::AnyRow {
//             columns: row.columns.iter().map(|col| col.clone().into()).collect(),
//             kind: crate::any::row::AnyRowKind::Sqlite(row),
//         }
//     }
// }
