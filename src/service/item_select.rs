//! Reading item rows: the `SELECT` list of a collection (optionally only some of its
//! fields) and the conversion of a row into an [`ItemObject`].

use std::collections::BTreeMap;

use sea_orm::QueryResult;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::model::{COMMON_FIELDS, Field};
use crate::domain::{Collection, FieldKind};
use crate::error::Result;
use crate::service::Visibility;
use crate::service::content::{ItemObject, timestamp};
use crate::service::sql::SqlBuilder;

/// Which of a collection's own fields to read (bit `n` is `collection.fields()[n]`). The
/// common fields (id, slug, status, timestamps, version) and references are always read:
/// they are cheap, and cache tags need the references. A GraphQL selection reads only
/// what it shows; everything else reads [`FieldSet::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldSet(u64);

impl FieldSet {
    pub const ALL: FieldSet = FieldSet(u64::MAX);

    /// The fields of `collection` whose names `wanted` accepts, plus its references.
    pub fn matching(collection: Collection, wanted: impl Fn(&Field) -> bool) -> Self {
        let bits = collection
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.kind, FieldKind::Reference(_)) || wanted(f))
            // Fields past the 64th have no bit: `contains` always reads them.
            .fold(0u64, |bits, (n, _)| {
                bits | 1u64.checked_shl(n as u32).unwrap_or(0)
            });
        FieldSet(bits)
    }

    fn contains(self, index: usize) -> bool {
        index >= 64 || self.0 & (1 << index) != 0
    }
}

/// `SELECT … FROM <table> t` with references resolved to slugs. A reference to an item
/// the caller cannot see reads as null.
pub struct ItemSelect {
    collection: Collection,
    /// The model fields read, in column order after the common ones.
    fields: Vec<&'static Field>,
    /// The item columns, on alias `t` (and `r<n>` for references).
    pub columns: String,
    /// The same columns' expressions, without aliases.
    pub exprs: Vec<String>,
    /// Joins that resolve references to slugs.
    pub joins: String,
}

impl ItemSelect {
    pub fn new(collection: Collection, visibility: Visibility) -> Self {
        Self::projected(collection, visibility, FieldSet::ALL)
    }

    /// Reads only `only` of the collection's own fields; objects lack the others.
    pub fn projected(collection: Collection, visibility: Visibility, only: FieldSet) -> Self {
        let mut exprs: Vec<String> = COMMON_FIELDS.iter().map(|c| format!("t.{c}")).collect();
        let mut aliases: Vec<Option<&str>> = vec![None; exprs.len()];
        let mut fields = Vec::new();
        let mut joins = String::new();
        for (n, field) in collection.fields().iter().enumerate() {
            if !only.contains(n) {
                continue;
            }
            fields.push(field);
            match field.kind {
                FieldKind::Reference(target) => {
                    exprs.push(format!("r{n}.slug"));
                    aliases.push(Some(field.name));
                    joins.push_str(&format!(
                        " LEFT JOIN {} r{n} ON r{n}.id = t.{} AND {}",
                        target.table(),
                        field.column,
                        visibility.status_filter(&format!("r{n}"))
                    ));
                }
                _ => {
                    exprs.push(format!("t.{}", field.column));
                    aliases.push(None);
                }
            }
        }
        let columns = exprs
            .iter()
            .zip(&aliases)
            .map(|(expr, alias)| match alias {
                Some(alias) => format!("{expr} AS {alias}"),
                None => expr.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            collection,
            fields,
            columns,
            exprs,
            joins,
        }
    }

    /// The PostgreSQL type of each column, in order.
    pub fn column_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        const COMMON: [&str; 7] = [
            "uuid",
            "text",
            "text",
            "timestamptz",
            "timestamptz",
            "timestamptz",
            "bigint",
        ];
        COMMON
            .into_iter()
            .chain(self.fields.iter().map(|f| match f.kind {
                FieldKind::Text | FieldKind::Enum(_) | FieldKind::Reference(_) => "text",
                FieldKind::Integer => "bigint",
                FieldKind::StringList | FieldKind::Statistics => "jsonb",
                FieldKind::Timestamp => "timestamptz",
            }))
    }

    /// `SELECT <columns> FROM <table> t <joins>`.
    pub fn push_select(&self, sql: &mut SqlBuilder) {
        sql.push(&format!(
            "SELECT {} FROM {} t{}",
            self.columns,
            self.collection.table(),
            self.joins
        ));
    }

    /// The row, whose first columns are [`Self::columns`], as a JSON object; `with_meta`
    /// adds created_at, updated_at and version.
    pub fn object(&self, row: &QueryResult, with_meta: bool) -> Result<ItemObject> {
        self.object_at(row, 0, with_meta)
    }

    /// [`Self::object`] when [`Self::columns`] start at column `first`. Columns are read
    /// by position: by name, every value costs a formatted key and a hash lookup.
    pub fn object_at(
        &self,
        row: &QueryResult,
        first: usize,
        with_meta: bool,
    ) -> Result<ItemObject> {
        let mut object = BTreeMap::new();
        let id: Uuid = row.try_get_by_index(first)?;
        object.insert("id", Json::String(id.to_string()));
        object.insert("slug", Json::String(row.try_get_by_index(first + 1)?));
        object.insert("status", Json::String(row.try_get_by_index(first + 2)?));
        object.insert("published_at", timestamp(row.try_get_by_index(first + 3)?));
        if with_meta {
            object.insert("created_at", timestamp(row.try_get_by_index(first + 4)?));
            object.insert("updated_at", timestamp(row.try_get_by_index(first + 5)?));
            object.insert(
                "version",
                Json::from(row.try_get_by_index::<i64>(first + 6)?),
            );
        }
        let own = first + COMMON_FIELDS.len();
        for (n, field) in self.fields.iter().enumerate() {
            let at = own + n;
            let value = match field.kind {
                FieldKind::Text | FieldKind::Enum(_) | FieldKind::Reference(_) => row
                    .try_get_by_index::<Option<String>>(at)?
                    .map_or(Json::Null, Json::String),
                FieldKind::Integer => row
                    .try_get_by_index::<Option<i64>>(at)?
                    .map_or(Json::Null, Json::from),
                FieldKind::StringList | FieldKind::Statistics => row
                    .try_get_by_index::<Option<Json>>(at)?
                    .unwrap_or(Json::Array(vec![])),
                FieldKind::Timestamp => timestamp(row.try_get_by_index(at)?),
            };
            object.insert(field.name, value);
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_set_keeps_references_and_the_chosen_fields() {
        let set = FieldSet::matching(Collection::Articles, |f| f.name == "title");
        let select = ItemSelect::projected(Collection::Articles, Visibility::PublishedOnly, set);
        let names: Vec<&str> = select.fields.iter().map(|f| f.name).collect();
        assert_eq!(names, ["title", "author", "reviewer", "publisher"]);
        assert!(select.columns.starts_with("t.id, t.slug, t.status"));
        assert!(!select.columns.contains("t.body"));
        let all = ItemSelect::new(Collection::Articles, Visibility::PublishedOnly);
        assert_eq!(all.fields.len(), Collection::Articles.fields().len());
    }
}
