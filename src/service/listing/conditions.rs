//! The WHERE clause of list statements: visibility, the full-text match and filters,
//! over an item's columns as the reader sees them (drafts included for preview readers).

use chrono::Utc;
use sea_orm::DbBackend;

use crate::domain::Collection;
use crate::domain::filters::Filter;
use crate::domain::listing::ListParams;
use crate::domain::relations::RelationKind;
use crate::service::fulltext::SearchSql;
use crate::service::item::{DRAFT_JOIN, draft_aware};
use crate::service::link_rows::LinkRows;
use crate::service::sql::SqlBuilder;
use crate::service::{Visibility, claims};

/// How a list statement names an item's columns (`t`): as stored, or for preview readers
/// as their drafts read ([`draft_aware`], the draft joined by [`DRAFT_JOIN`]), so that
/// filters and sorts match what the page shows.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns {
    collection: Collection,
    visibility: Visibility,
    backend: DbBackend,
}

impl Columns {
    pub(super) fn new(collection: Collection, visibility: Visibility, backend: DbBackend) -> Self {
        Columns {
            collection,
            visibility,
            backend,
        }
    }

    pub(super) fn expr(self, column: &str) -> String {
        match self.visibility {
            Visibility::All => draft_aware(self.collection, column, self.backend),
            Visibility::PublishedOnly => format!("t.{column}"),
        }
    }

    /// What the FROM clause needs for [`Columns::expr`].
    pub(super) fn join(self) -> &'static str {
        match self.visibility {
            Visibility::All => DRAFT_JOIN,
            Visibility::PublishedOnly => "",
        }
    }
}

pub(super) fn push_conditions(
    sql: &mut SqlBuilder,
    columns: Columns,
    params: &ListParams,
    search: Option<&SearchSql>,
) {
    let visibility = columns.visibility;
    sql.push(&format!(" WHERE {}", visibility.status_filter("t")));
    if let Some(search) = search {
        sql.push(" AND ");
        search.push_match(sql);
    }
    for filter in &params.filters {
        sql.push(" AND ");
        match filter {
            Filter::AnyOf { column, values } => {
                sql.push(&format!("{} IN ", columns.expr(column)));
                sql.bind_list(values.iter().cloned());
            }
            Filter::AtLeast { column, value } => {
                sql.push(&format!("{} >= ", columns.expr(column)))
                    .bind(*value);
            }
            Filter::AtMost { column, value } => {
                sql.push(&format!("{} <= ", columns.expr(column)))
                    .bind(*value);
            }
            Filter::DueBy {
                column,
                days,
                strict,
            } => {
                let op = if *strict { "<" } else { "<=" };
                let at = Utc::now() + chrono::Duration::days(*days);
                let column = columns.expr(column);
                sql.push(&format!("{column} IS NOT NULL AND {column} {op} "))
                    .bind(at);
            }
            Filter::Related {
                relation,
                slug,
                min_certainty,
            } => {
                let other = relation.to.table();
                let visible = visibility.status_filter("o");
                match relation.kind {
                    RelationKind::Link {
                        parent_column,
                        child_column,
                        ..
                    } => {
                        let claims = min_certainty
                            .map(|min| format!("{} AND ", claims::certainty_filter("l", min)))
                            .unwrap_or_default();
                        sql.push(&format!(
                            "t.id IN (SELECT l.{parent_column} FROM {} l JOIN {other} o \
                             ON o.id = l.{child_column} WHERE {claims}{visible} AND o.slug = ",
                            LinkRows::for_reader(visibility).source(relation, sql.backend())
                        ));
                    }
                    RelationKind::ToOne { column } => {
                        sql.push(&format!(
                            "{} IN (SELECT o.id FROM {other} o WHERE {visible} AND o.slug = ",
                            columns.expr(column)
                        ));
                    }
                    RelationKind::ToMany { column } => {
                        sql.push(&format!(
                            "t.id IN (SELECT o.{column} FROM {other} o WHERE {visible} AND o.slug = "
                        ));
                    }
                }
                sql.bind(slug.clone()).push(")");
            }
        }
    }
}
