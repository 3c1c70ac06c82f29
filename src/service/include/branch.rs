//! One branch of a batched statement: the children of one relation for many parents (or
//! for the item a root lookup names).

use sea_orm::DbBackend;
use uuid::Uuid;

use crate::domain::listing::sort_fields;
use crate::domain::relations::RelationKind;
use crate::service::item::ItemSelect;
use crate::service::link_rows::LinkRows;
use crate::service::sql::SqlBuilder;
use crate::service::{Visibility, claims};

use super::{ChildQuery, RootLookup};

/// One branch: `rel, parent_id, link_note`, three sort keys, the link's evidence columns
/// ([`claims::columns`]), then every shape's columns (NULL but for the branch's own).
pub(super) struct BranchSql<'a> {
    pub n: usize,
    pub backend: DbBackend,
    pub visibility: Visibility,
    /// The parent is this item (its children are read with it), not bound ids.
    pub root: Option<&'a RootLookup<'a>>,
    pub query: &'a ChildQuery<'a>,
    pub child: &'a ItemSelect,
    pub nulls_before: String,
    pub nulls_after: String,
    /// Whether a capped branch numbers each parent's children in SQL (a window) and keeps
    /// the first ones; else it yields them all, for the caller to cap.
    pub numbered: bool,
}

impl BranchSql<'_> {
    /// The children of `parents`. Sort keys: a link's position, the child collection's
    /// first sort field (always text: a name or title), its id; a numbered branch numbers
    /// each parent's children in that order (a window) and sorts by the number.
    pub fn push(&self, sql: &mut SqlBuilder, parents: &[Uuid]) {
        let relation = self.query.relation;
        let table = relation.to.table();
        let order = sort_fields(relation.to)[0].column;
        let rows = LinkRows::for_reader(self.visibility);
        let evidence = match relation.kind {
            RelationKind::Link { link, .. } => claims::columns(
                Some(link),
                rows,
                self.visibility,
                self.backend,
                self.query.works.cited(self.query.fields.style()),
            ),
            _ => claims::columns(
                None,
                rows,
                self.visibility,
                self.backend,
                claims::Cited::Slugs,
            ),
        };
        let (parent_expr, note, from, keys) = match relation.kind {
            RelationKind::Link {
                parent_column,
                child_column,
                ..
            } => (
                format!("l.{parent_column}"),
                "l.note".to_owned(),
                format!(
                    "{} l JOIN {table} t ON t.id = l.{child_column}",
                    rows.source(&relation, self.backend)
                ),
                [
                    "l.position".to_owned(),
                    format!("t.{order}"),
                    "t.id".to_owned(),
                ],
            ),
            RelationKind::ToOne { column } => (
                "p.id".to_owned(),
                typed_null(self.backend, "text"),
                format!(
                    "{} p JOIN {table} t ON t.id = p.{column}",
                    relation.from.table()
                ),
                [
                    typed_null(self.backend, "bigint"),
                    typed_null(self.backend, "text"),
                    "t.id".to_owned(),
                ],
            ),
            RelationKind::ToMany { column } => (
                format!("t.{column}"),
                typed_null(self.backend, "text"),
                format!("{table} t"),
                [
                    typed_null(self.backend, "bigint"),
                    format!("t.{order}"),
                    "t.id".to_owned(),
                ],
            ),
        };
        let n = self.n;
        let (before, after) = (&self.nulls_before, &self.nulls_after);
        let filter = format!("FROM {from}{} WHERE {parent_expr} IN ", self.child.joins);
        let cap = self.query.per_parent.filter(|_| self.numbered);
        match cap {
            None => {
                let [k1, k2, k3] = &keys;
                sql.push(&format!(
                    "SELECT CAST({n} AS BIGINT) AS rel, {parent_expr} AS parent_id, \
                     {note} AS link_note, {k1} AS s1, {k2} AS s2, {k3} AS s3, {evidence}\
                     {before}, {}{after} {filter}",
                    self.child.exprs.join(", ")
                ));
            }
            Some(_) => {
                let own: Vec<String> = (0..self.child.exprs.len())
                    .map(|c| format!("w.c{c}"))
                    .collect();
                let inner: Vec<String> = self
                    .child
                    .exprs
                    .iter()
                    .enumerate()
                    .map(|(c, expr)| format!("{expr} AS c{c}"))
                    .collect();
                sql.push(&format!(
                    "SELECT CAST({n} AS BIGINT) AS rel, w.parent_id, w.link_note, w.rn AS s1, \
                     {} AS s2, {} AS s3, {}{before}, {}{after} FROM (SELECT {parent_expr} AS \
                     parent_id, {note} AS link_note, {evidence}, {}, ROW_NUMBER() OVER \
                     (PARTITION BY {parent_expr} ORDER BY {}) AS rn {filter}",
                    typed_null(self.backend, "text"),
                    typed_null(self.backend, "uuid"),
                    claims::names("w"),
                    own.join(", "),
                    inner.join(", "),
                    keys.join(", ")
                ));
            }
        }
        match self.root {
            Some(root) => {
                sql.push(&format!(
                    "(SELECT p0.id FROM {} p0 WHERE p0.{} = ",
                    root.collection.table(),
                    root.column
                ))
                .bind(root.value.to_owned());
                sql.push(&format!(" AND {})", self.visibility.status_filter("p0")));
            }
            None => {
                sql.bind_list(parents.iter().copied());
            }
        }
        sql.push(&format!(" AND {}", self.visibility.status_filter("t")));
        if let (RelationKind::Link { .. }, Some(min)) = (relation.kind, self.query.min_certainty) {
            sql.push(&format!(" AND {}", claims::certainty_filter("l", min)));
        }
        if let Some(limit) = cap {
            sql.push(&format!(") w WHERE w.rn <= {limit}"));
        }
    }
}

/// A NULL of the PostgreSQL type `ty` (PostgreSQL types a UNION's columns from its
/// branches, pair by pair); a plain NULL on SQLite.
pub(super) fn typed_null(backend: DbBackend, ty: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("NULL::{ty}"),
        _ => "NULL".to_owned(),
    }
}
