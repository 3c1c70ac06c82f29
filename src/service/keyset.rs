//! Keyset pagination, for list pages and searches alike: the `ORDER BY` of some keys and
//! then the id, and the condition "strictly after this cursor" in that order (nulls last).

use chrono::{DateTime, Utc};
use sea_orm::Value;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::{AppError, Result};
use crate::service::sql::SqlBuilder;

/// The type of a key's values, as a cursor carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Integer,
    Timestamp,
    /// A relevance score.
    Real,
}

/// An expression rows are ordered by.
#[derive(Debug, Clone)]
pub struct OrderKey {
    pub expr: String,
    pub descending: bool,
    pub nullable: bool,
    pub kind: KeyKind,
}

/// `ORDER BY` text: the keys, then `id_expr` in the last key's direction.
pub fn order_by(keys: &[OrderKey], id_expr: &str) -> String {
    keys.iter()
        .map(|k| {
            let dir = if k.descending { "DESC" } else { "ASC" };
            if k.nullable {
                format!("{} {dir} NULLS LAST", k.expr)
            } else {
                format!("{} {dir}", k.expr)
            }
        })
        .chain([format!("{id_expr} {}", direction(id_descending(keys)))])
        .collect::<Vec<_>>()
        .join(", ")
}

fn id_descending(keys: &[OrderKey]) -> bool {
    keys.last().is_some_and(|k| k.descending)
}

fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// Rows strictly after (`values`, `id`) in [`order_by`]'s order. `values` are the cursor's,
/// one per key; a value of the wrong type is the client's error.
pub fn push_after(
    sql: &mut SqlBuilder,
    keys: &[OrderKey],
    values: &[Json],
    id: Uuid,
    id_expr: &str,
) -> Result<()> {
    if values.len() != keys.len() {
        return Err(mismatch());
    }
    let id_descending = id_descending(keys);
    let uniform = keys
        .iter()
        .all(|k| !k.nullable && k.descending == id_descending);
    if uniform {
        // A row-value comparison lets both engines seek the (key…, id) index directly.
        let columns: Vec<&str> = keys.iter().map(|k| k.expr.as_str()).collect();
        let after = if id_descending { "<" } else { ">" };
        sql.push(&format!("({}, {id_expr}) {after} (", columns.join(", ")));
        for (key, value) in keys.iter().zip(values) {
            bind_key(sql, key, value)?;
            sql.push(", ");
        }
        sql.bind(id).push(")");
        return Ok(());
    }
    push_expanded(sql, keys, values, id, id_descending, id_expr)
}

/// `k1 > v1 OR (k1 = v1 AND (…)) … OR (… AND id > last)`, with nulls sorting last.
fn push_expanded(
    sql: &mut SqlBuilder,
    keys: &[OrderKey],
    values: &[Json],
    id: Uuid,
    id_descending: bool,
    id_expr: &str,
) -> Result<()> {
    let Some((key, rest)) = keys.split_first() else {
        sql.push(&format!(
            "{id_expr} {} ",
            if id_descending { "<" } else { ">" }
        ));
        sql.bind(id);
        return Ok(());
    };
    let value = &values[0];
    let expr = &key.expr;
    if value.is_null() {
        sql.push(&format!("({expr} IS NULL AND ("));
        push_expanded(sql, rest, &values[1..], id, id_descending, id_expr)?;
        sql.push("))");
        return Ok(());
    }
    let after = if key.descending { "<" } else { ">" };
    sql.push(&format!("({expr} {after} "));
    bind_key(sql, key, value)?;
    sql.push(&format!(" OR ({expr} = "));
    bind_key(sql, key, value)?;
    sql.push(" AND (");
    push_expanded(sql, rest, &values[1..], id, id_descending, id_expr)?;
    sql.push("))");
    if key.nullable {
        sql.push(&format!(" OR {expr} IS NULL"));
    }
    sql.push(")");
    Ok(())
}

fn mismatch() -> AppError {
    AppError::invalid_parameter("cursor: does not match the sort")
}

fn bind_key(sql: &mut SqlBuilder, key: &OrderKey, value: &Json) -> Result<()> {
    let bound: Value = match key.kind {
        KeyKind::Real => value.as_f64().ok_or_else(mismatch)?.into(),
        KeyKind::Text => value.as_str().ok_or_else(mismatch)?.to_owned().into(),
        KeyKind::Integer => value.as_i64().ok_or_else(mismatch)?.into(),
        KeyKind::Timestamp => {
            let text = value.as_str().ok_or_else(mismatch)?;
            let time: DateTime<Utc> = DateTime::parse_from_rfc3339(text)
                .map_err(|_| mismatch())?
                .with_timezone(&Utc);
            time.into()
        }
    };
    sql.bind(bound);
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    fn key(expr: &str, descending: bool, nullable: bool, kind: KeyKind) -> OrderKey {
        OrderKey {
            expr: expr.into(),
            descending,
            nullable,
            kind,
        }
    }

    #[test]
    fn the_id_follows_the_last_key() {
        let keys = [
            key("score", true, false, KeyKind::Real),
            key("kind", false, false, KeyKind::Text),
        ];
        assert_eq!(order_by(&keys, "id"), "score DESC, kind ASC, id ASC");
        let mut sql = SqlBuilder::new(DbBackend::Sqlite);
        let values = [Json::from(1.5), Json::from("techniques")];
        push_after(&mut sql, &keys, &values, Uuid::nil(), "id").expect("after");
        assert_eq!(
            sql.build().sql,
            "(score < ? OR (score = ? AND ((kind > ? OR (kind = ? AND (id > ?))))))"
        );
    }

    #[test]
    fn uniform_keys_compare_as_a_row_and_bad_cursors_are_refused() {
        let keys = [key("t.name", false, false, KeyKind::Text)];
        let mut sql = SqlBuilder::new(DbBackend::Sqlite);
        push_after(&mut sql, &keys, &[Json::from("a")], Uuid::nil(), "t.id").expect("after");
        assert_eq!(sql.build().sql, "(t.name, t.id) > (?, ?)");
        let mut sql = SqlBuilder::new(DbBackend::Sqlite);
        assert!(push_after(&mut sql, &keys, &[Json::from(3)], Uuid::nil(), "t.id").is_err());
        assert!(push_after(&mut sql, &keys, &[], Uuid::nil(), "t.id").is_err());
    }
}
