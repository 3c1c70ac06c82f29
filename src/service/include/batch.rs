//! Several relations, each for many parents, in one statement: a `UNION ALL` with one
//! branch per relation. Every statement is a round trip and, on PostgreSQL, a trip
//! through the executor; a storefront page asking for a technique's benefits, citations
//! and products pays for one instead of three.
//!
//! Every branch yields the same columns: `rel` (the branch), `parent_id`, `link_note`,
//! three sort keys (the child's place under its parent), then the child's columns. On
//! PostgreSQL each child shape (a collection and the fields read) has its own column
//! range, NULL in the other branches, so each column holds one type; on SQLite the
//! shapes share one range.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::domain::Collection;
use crate::domain::evidence::Certainty;
use crate::domain::relations::{Relation, RelationKind};
use crate::error::Result;
use crate::service::item::{FieldSet, ItemObject, ItemSelect};
use crate::service::link_rows::LinkRows;
use crate::service::sql::{SqlBuilder, column};
use crate::service::{Visibility, claims};

use super::branch::{BranchSql, typed_null};

use super::ChildrenByParent;

/// One relation to load for many parents.
pub struct ChildQuery<'a> {
    pub relation: Relation,
    pub parents: &'a [Uuid],
    /// At most this many children per parent (GraphQL's `first`); all when `None`.
    pub per_parent: Option<u32>,
    /// The child fields to read.
    pub fields: FieldSet,
    /// Through a claim: only links at or above this certainty.
    pub min_certainty: Option<Certainty>,
    /// The form of the works behind claims (their references in `fields`' style).
    pub works: claims::WorkForm,
}

/// An item found by a unique column, read by the same statement as its children (the
/// level's parents are then that item, not bound ids).
pub struct RootLookup<'a> {
    pub collection: Collection,
    pub column: &'static str,
    pub value: &'a str,
    /// The item's fields to read.
    pub fields: FieldSet,
}

/// The item `root` names, if visible, and the visible children of each query under it
/// (the queries' `parents` are ignored): one statement, where a lookup followed by
/// [`children_of_many`] takes two.
pub async fn item_with_children(
    db: &DatabaseConnection,
    visibility: Visibility,
    row_budget: usize,
    root: &RootLookup<'_>,
    queries: &[ChildQuery<'_>],
) -> Result<Option<(ItemObject, Vec<ChildrenByParent>)>> {
    let mut found: Vec<ChildrenByParent> = queries.iter().map(|_| HashMap::new()).collect();
    if queries.len() >= MAX_BRANCHES {
        return Err(crate::error::AppError::internal_msg(format!(
            "{} relations on one level",
            queries.len()
        )));
    }
    let branches: Vec<Branch> = (0..queries.len())
        .map(|query| Branch {
            query,
            parents: &[],
        })
        .collect();
    let item = run(
        db,
        visibility,
        row_budget,
        queries,
        &branches,
        Some(root),
        &mut found,
    )
    .await?;
    Ok(item.map(|item| (item, found)))
}

/// Parent ids bound by one statement: under SQLite's 32,766 variables (PostgreSQL allows
/// 65,535). Larger sets take more statements.
const MAX_BOUND: usize = 20_000;
/// Branches in one statement: under SQLite's limit of 500 terms in a compound SELECT.
const MAX_BRANCHES: usize = 64;
/// The columns before the first shape's range: rel, parent_id, link_note, three sort keys,
/// the evidence columns.
const SHAPES_AT: usize = 6 + claims::COLUMNS;

/// The visible children of each query's parents, in editorial order, grouped by parent;
/// one result per query, in order. One statement for all of them (more only past
/// [`MAX_BOUND`] parent ids or [`MAX_BRANCHES`] relations). Items reached through a link
/// carry `link: {note}`.
///
/// A capped relation (`per_parent`) reads every child of its parents, and Rust keeps each
/// parent's first ones: numbering them in SQL (a window over a sort) cost SQLite more than
/// the join itself. When a statement would return more than `row_budget` rows (a parent
/// with thousands of links), it stops there and a second statement numbers the children in
/// SQL, so memory stays bounded whatever the data.
pub async fn children_of_many(
    db: &DatabaseConnection,
    visibility: Visibility,
    row_budget: usize,
    queries: &[ChildQuery<'_>],
) -> Result<Vec<ChildrenByParent>> {
    let mut found: Vec<ChildrenByParent> = queries.iter().map(|_| HashMap::new()).collect();
    let branches: Vec<Branch> = queries
        .iter()
        .enumerate()
        .flat_map(|(query, q)| {
            q.parents
                .chunks(MAX_BOUND)
                .map(move |parents| Branch { query, parents })
        })
        .collect();
    let mut rest = &branches[..];
    while !rest.is_empty() {
        let mut take = 0;
        let mut bound = 0;
        while take < rest.len()
            && take < MAX_BRANCHES
            && (take == 0 || bound + rest[take].parents.len() <= MAX_BOUND)
        {
            bound += rest[take].parents.len();
            take += 1;
        }
        run(
            db,
            visibility,
            row_budget,
            queries,
            &rest[..take],
            None,
            &mut found,
        )
        .await?;
        rest = &rest[take..];
    }
    Ok(found)
}

/// A query's share of one statement.
struct Branch<'a> {
    query: usize,
    parents: &'a [Uuid],
}

/// The columns of one child collection with one field set, and where they start.
struct Shape {
    key: (Collection, FieldSet),
    select: ItemSelect,
    at: usize,
}

/// Runs `branches` as one statement, with `root`'s row in it when given (returned).
async fn run(
    db: &DatabaseConnection,
    visibility: Visibility,
    row_budget: usize,
    queries: &[ChildQuery<'_>],
    branches: &[Branch<'_>],
    root: Option<&RootLookup<'_>>,
    found: &mut [ChildrenByParent],
) -> Result<Option<ItemObject>> {
    let backend = db.get_database_backend();
    let capped = branches
        .iter()
        .any(|b| queries[b.query].per_parent.is_some());
    let layout = Layout::new(backend, visibility, queries, branches, root, false);
    let limit = capped.then_some(row_budget);
    let rows = db.query_all_raw(layout.statement(limit)).await?;
    if limit.is_some_and(|limit| rows.len() > limit) {
        let layout = Layout::new(backend, visibility, queries, branches, root, true);
        let rows = db.query_all_raw(layout.statement(None)).await?;
        return layout.collect(rows, found);
    }
    layout.collect(rows, found)
}

/// The columns of one statement's branches and how to read its rows.
struct Layout<'a> {
    backend: DbBackend,
    visibility: Visibility,
    queries: &'a [ChildQuery<'a>],
    branches: &'a [Branch<'a>],
    root: Option<&'a RootLookup<'a>>,
    shapes: Vec<Shape>,
    shape_of: Vec<usize>,
    root_shape: Option<usize>,
    /// Per shape: typed NULLs standing for its columns in other branches (PostgreSQL).
    nulls: Vec<String>,
    widest: usize,
    /// Whether capped branches number their children in SQL (see [`BranchSql`]).
    numbered: bool,
}

impl<'a> Layout<'a> {
    fn new(
        backend: DbBackend,
        visibility: Visibility,
        queries: &'a [ChildQuery<'a>],
        branches: &'a [Branch<'a>],
        root: Option<&'a RootLookup<'a>>,
        numbered: bool,
    ) -> Self {
        // PostgreSQL types each column of a UNION, so each shape gets its own columns,
        // with typed NULLs elsewhere (it resolves the types pair by pair: two untyped
        // NULLs would make a column text before the branch that fills it). SQLite does
        // not type columns and copies every value of a row, NULLs included: there the
        // shapes share one range.
        let disjoint = backend == DbBackend::Postgres;
        let mut shapes: Vec<Shape> = Vec::new();
        let mut shape_of = Vec::with_capacity(branches.len());
        for branch in branches {
            let q = &queries[branch.query];
            let index = shape_index(&mut shapes, backend, visibility, q.relation.to, q.fields);
            shape_of.push(index);
        }
        let root_shape =
            root.map(|r| shape_index(&mut shapes, backend, visibility, r.collection, r.fields));
        let nulls: Vec<String> = match disjoint {
            true => shapes
                .iter()
                .map(|shape| {
                    let types = shape.select.column_types();
                    types
                        .map(|ty| format!(", {}", typed_null(backend, ty)))
                        .collect()
                })
                .collect(),
            false => Vec::new(),
        };
        let widest = shapes
            .iter()
            .map(|s| s.select.exprs.len())
            .max()
            .unwrap_or(0);
        Self {
            backend,
            visibility,
            queries,
            branches,
            root,
            shapes,
            shape_of,
            root_shape,
            nulls,
            widest,
            numbered,
        }
    }

    /// The NULLs before and after shape `own`'s columns.
    fn padding(&self, own: usize) -> (String, String) {
        if self.backend == DbBackend::Postgres {
            (self.nulls[..own].concat(), self.nulls[own + 1..].concat())
        } else {
            let missing = self.widest - self.shapes[own].select.exprs.len();
            (String::new(), ", NULL".repeat(missing))
        }
    }

    /// The statement, returning at most `limit + 1` rows when given (one past the limit
    /// says there are more).
    fn statement(&self, limit: Option<usize>) -> sea_orm::Statement {
        let backend = self.backend;
        let mut sql = SqlBuilder::new(backend);
        for (n, branch) in self.branches.iter().enumerate() {
            if n > 0 {
                sql.push(" UNION ALL ");
            }
            let own = self.shape_of[n];
            let (nulls_before, nulls_after) = self.padding(own);
            let branch_sql = BranchSql {
                n,
                backend,
                visibility: self.visibility,
                root: self.root,
                query: &self.queries[branch.query],
                child: &self.shapes[own].select,
                nulls_before,
                nulls_after,
                numbered: self.numbered,
            };
            branch_sql.push(&mut sql, branch.parents);
        }
        if let (Some(root), Some(own)) = (self.root, self.root_shape) {
            if !self.branches.is_empty() {
                sql.push(" UNION ALL ");
            }
            let (before, after) = self.padding(own);
            let select = &self.shapes[own].select;
            sql.push(&format!(
                "SELECT CAST({} AS BIGINT) AS rel, t.id AS parent_id, {} AS link_note, {} AS s1, \
                 {} AS s2, t.id AS s3, {}{before}, {}{after} FROM {} t{} WHERE t.{} = ",
                self.branches.len(),
                typed_null(backend, "text"),
                typed_null(backend, "bigint"),
                typed_null(backend, "text"),
                claims::columns(
                    None,
                    LinkRows::Stored,
                    self.visibility,
                    backend,
                    claims::Cited::Slugs,
                ),
                select.exprs.join(", "),
                root.collection.table(),
                select.joins,
                root.column,
            ))
            .bind(root.value.to_owned());
            sql.push(&format!(" AND {}", self.visibility.status_filter("t")));
        }
        // Each parent's children in editorial order: the branches order by their own
        // keys. SQLite compares text byte by byte (BINARY), as Rust does, and sorts in a
        // temporary B-tree costing as much as the join: its rows are sorted once read
        // (`collect`). PostgreSQL's text order follows the database's collation.
        if backend == DbBackend::Postgres {
            sql.push(" ORDER BY 1, 2, 4, 5, 6");
        }
        if let Some(limit) = limit {
            sql.push(&format!(" LIMIT {}", limit.saturating_add(1)));
        }
        sql.build()
    }

    /// Files each row under its branch's query and parent, in order; returns the root's
    /// row.
    fn collect(
        &self,
        mut rows: Vec<sea_orm::QueryResult>,
        found: &mut [ChildrenByParent],
    ) -> Result<Option<ItemObject>> {
        if self.backend != DbBackend::Postgres {
            sort_rows(&mut rows)?;
        }
        let mut item = None;
        for row in rows {
            let n = column::<i64>(&row, 0)?
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(usize::MAX);
            if let Some(own) = self.root_shape.filter(|_| n == self.branches.len()) {
                item = Some(
                    self.shapes[own]
                        .select
                        .object_at(&row, self.shapes[own].at, true)?,
                );
                continue;
            }
            let (Some(branch), Some(&shape)) = (self.branches.get(n), self.shape_of.get(n)) else {
                continue;
            };
            let query = &self.queries[branch.query];
            let Some(parent) = column::<Uuid>(&row, 1)? else {
                continue;
            };
            let children = found[branch.query].entry(parent).or_default();
            // Rows come in each parent's editorial order: past the cap, the rest are
            // dropped (a numbered branch returned only those within it).
            if let Some(cap) = query.per_parent
                && children.len() >= cap as usize
            {
                continue;
            }
            let shape = &self.shapes[shape];
            let mut object = shape.select.object_at(&row, shape.at, true)?;
            if let RelationKind::Link { link: spec, .. } = query.relation.kind {
                let note: Option<String> = column(&row, 2)?;
                let mut link = Map::new();
                link.insert("note".into(), note.map_or(Json::Null, Json::String));
                if spec.claim.is_some() {
                    let evidence = claims::read(&row, spec)?;
                    link.insert("evidence".into(), evidence.unwrap_or(Json::Null));
                }
                object.insert("link", Json::Object(link));
            }
            children.push(object);
        }
        Ok(item)
    }
}

/// Sorts rows as `ORDER BY 1, 2, 4, 5, 6` does on SQLite: NULLs first, integers by value,
/// text and ids (blobs) byte by byte.
fn sort_rows(rows: &mut Vec<sea_orm::QueryResult>) -> Result<()> {
    type Key = (i64, Option<Uuid>, Option<i64>, Option<String>, Option<Uuid>);
    let mut keyed: Vec<(Key, sea_orm::QueryResult)> = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        let key = (
            column(&row, 0)?.unwrap_or_default(),
            column(&row, 1)?,
            column(&row, 3)?,
            column(&row, 4)?,
            column(&row, 5)?,
        );
        keyed.push((key, row));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    rows.extend(keyed.into_iter().map(|(_, row)| row));
    Ok(())
}

/// The shape reading `fields` of `collection`, added if new.
fn shape_index(
    shapes: &mut Vec<Shape>,
    backend: DbBackend,
    visibility: Visibility,
    collection: Collection,
    fields: FieldSet,
) -> usize {
    let key = (collection, fields);
    if let Some(index) = shapes.iter().position(|s| s.key == key) {
        return index;
    }
    let at = match shapes.last() {
        Some(last) if backend == DbBackend::Postgres => last.at + last.select.exprs.len(),
        _ => SHAPES_AT,
    };
    let select = ItemSelect::projected(collection, visibility, backend, fields);
    shapes.push(Shape { key, select, at });
    shapes.len() - 1
}
