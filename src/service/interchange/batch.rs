//! Validation against the database and batched writes for the importer.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::import::{ImportResult, Importer, SEEN_TABLE};
use super::parse::{FieldValue, InlineRow, ItemRow, LinkRow};
use super::{BATCH_ROWS, now};
use crate::domain::model::UniqueField;
use crate::domain::{Collection, FieldKind, LinkSpec};
use crate::service::renditions;
use crate::service::sql::SqlBuilder;

const COMMON_COLUMNS: [&str; 4] = ["id", "slug", "status", "published_at"];

/// A citation row's stored references, from the values it is written with.
fn reference_columns(
    fields: &[crate::domain::Field],
    slug: &str,
    values: &[FieldValue],
) -> Vec<Value> {
    let mut document = serde_json::Map::new();
    document.insert("slug".into(), serde_json::Value::from(slug));
    for (field, value) in fields.iter().zip(values) {
        let json = match value {
            FieldValue::Ready(Value::String(Some(s))) => serde_json::Value::from(s.as_str()),
            FieldValue::Ready(Value::BigInt(Some(n))) => serde_json::Value::from(*n),
            FieldValue::Ready(Value::Json(Some(json))) => (**json).clone(),
            _ => serde_json::Value::Null,
        };
        document.insert(field.name.into(), json);
    }
    crate::service::references::columns(&|f| document.get(f))
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

fn json_of(value: &FieldValue) -> Option<&serde_json::Value> {
    match value {
        FieldValue::Ready(Value::Json(Some(json))) => Some(json),
        _ => None,
    }
}

fn text_of(value: &FieldValue) -> Option<&str> {
    match value {
        FieldValue::Ready(Value::String(Some(s))) => Some(s.as_str()),
        _ => None,
    }
}

impl Importer<'_> {
    /// Records `keys` as seen in this import and returns the indexes of those already
    /// seen (earlier in the batch or in an earlier batch).
    pub(super) async fn mark_seen(&self, keys: &[String]) -> ImportResult<HashSet<usize>> {
        let mut duplicates = HashSet::new();
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if first.contains_key(key.as_str()) {
                duplicates.insert(i);
            } else {
                first.insert(key, i);
            }
        }
        let unique: Vec<(&str, usize)> = first.into_iter().collect();
        for chunk in unique.chunks(BATCH_ROWS) {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!("INSERT INTO {SEEN_TABLE} (key) VALUES "));
            for (n, (key, _)) in chunk.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { ", (" });
                sql.bind(key.to_string()).push(")");
            }
            sql.push(" ON CONFLICT DO NOTHING RETURNING key");
            let inserted: HashSet<String> = self
                .txn
                .query_all_raw(sql.build())
                .await?
                .iter()
                .map(|row| row.try_get::<String>("", "key"))
                .collect::<Result<_, _>>()?;
            duplicates.extend(
                chunk
                    .iter()
                    .filter(|(key, _)| !inserted.contains(*key))
                    .map(|(_, i)| *i),
            );
        }
        Ok(duplicates)
    }

    /// Maps each of `slugs` that exists in `collection` to its id.
    pub(super) async fn resolve<'s>(
        &self,
        collection: Collection,
        slugs: impl IntoIterator<Item = &'s str>,
    ) -> ImportResult<HashMap<String, Uuid>> {
        self.lookup(collection, "slug", slugs)
            .await
            .map(|rows| rows.into_iter().map(|(slug, id, _)| (slug, id)).collect())
    }

    /// Rows of `collection` whose `column` is one of `values`: (column value, id, slug).
    async fn lookup<'s>(
        &self,
        collection: Collection,
        column: &str,
        values: impl IntoIterator<Item = &'s str>,
    ) -> ImportResult<Vec<(String, Uuid, String)>> {
        let values: Vec<&str> = values
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut found = Vec::new();
        for chunk in values.chunks(BATCH_ROWS) {
            let mut sql = SqlBuilder::new(self.backend);
            let cast = if column == "id" && self.backend == sea_orm::DbBackend::Postgres {
                "::text"
            } else {
                ""
            };
            sql.push(&format!(
                "SELECT {column}{cast} AS value, id, slug FROM {} WHERE {column} IN ",
                collection.table()
            ));
            if column == "id" {
                sql.bind_list(chunk.iter().filter_map(|v| Uuid::parse_str(v).ok()));
            } else {
                sql.bind_list(chunk.iter().map(|v| v.to_string()));
            }
            for row in self.txn.query_all_raw(sql.build()).await? {
                let id: Uuid = row.try_get("", "id")?;
                let value = if column == "id" {
                    id.to_string()
                } else {
                    row.try_get("", "value")?
                };
                found.push((value, id, row.try_get("", "slug")?));
            }
        }
        Ok(found)
    }

    pub(super) async fn flush_items(
        &mut self,
        collection: Collection,
        file: &str,
        mut rows: Vec<ItemRow>,
    ) -> ImportResult<u64> {
        let fields = collection.fields();
        let unique: Vec<(usize, &UniqueField)> = collection
            .unique_fields()
            .iter()
            .filter_map(|unique| {
                fields
                    .iter()
                    .position(|f| f.name == unique.field)
                    .map(|i| (i, unique))
            })
            .collect();

        // Each slug, explicit id and unique value (by its key) appears once per import.
        let mut keys = Vec::new();
        let mut owners = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            keys.push(format!("{collection}:slug:{}", row.slug));
            owners.push((i, "slug", row.slug.clone()));
            if let Some(id) = row.id {
                keys.push(format!("{collection}:id:{id}"));
                owners.push((i, "id", id.to_string()));
            }
            for (field, unique) in &unique {
                if let Some(key) = text_of(&row.values[*field]).and_then(unique.key) {
                    keys.push(format!("{collection}:{}:{key}", unique.field));
                    owners.push((i, unique.field, key));
                }
            }
        }
        for i in self.mark_seen(&keys).await? {
            let (row, what, value) = &owners[i];
            self.reject(
                file,
                rows[*row].line,
                format!("duplicate {what} {value:?} in this import"),
            );
        }

        // An explicit id or unique value must not belong to another item already stored.
        let columns = std::iter::once(("id", "id")).chain(
            collection
                .unique_fields()
                .iter()
                .map(|u| (u.field, u.column)),
        );
        for (name, column) in columns {
            let wanted: Vec<(usize, String)> = owners
                .iter()
                .filter(|(_, what, _)| *what == name)
                .map(|(row, _, value)| (*row, value.clone()))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let existing = self
                .lookup(collection, column, wanted.iter().map(|(_, v)| v.as_str()))
                .await?;
            let owner: HashMap<&str, &str> = existing
                .iter()
                .map(|(v, _, slug)| (v.as_str(), slug.as_str()))
                .collect();
            for (row, value) in &wanted {
                if let Some(other) = owner.get(value.as_str()).filter(|s| **s != rows[*row].slug) {
                    let line = rows[*row].line;
                    self.reject(
                        file,
                        line,
                        format!("{name} {value:?} already belongs to {other:?}"),
                    );
                }
            }
        }

        self.apply_publish_rules(collection, file, &mut rows)
            .await?;
        // References by slug must name stored items.
        let mut wanted: HashMap<Collection, HashSet<String>> = HashMap::new();
        for row in &rows {
            for value in &row.values {
                if let FieldValue::Reference {
                    target,
                    slug: Some(slug),
                } = value
                {
                    wanted.entry(*target).or_default().insert(slug.clone());
                }
            }
            for cited in &row.cited {
                wanted
                    .entry(Collection::Citations)
                    .or_default()
                    .insert(cited.clone());
            }
        }
        let mut ids: HashMap<Collection, HashMap<String, Uuid>> = HashMap::new();
        for (target, slugs) in &wanted {
            ids.insert(
                *target,
                self.resolve(*target, slugs.iter().map(String::as_str))
                    .await?,
            );
        }
        for row in &mut rows {
            for (field, value) in fields.iter().zip(row.values.iter_mut()) {
                if let FieldValue::Reference { target, slug } = value {
                    let resolved = slug.as_ref().map(|s| ids[target].get(s).copied());
                    match resolved {
                        Some(None) => {
                            let reason = format!(
                                "field {:?}: unknown {} {:?}",
                                field.name,
                                target.singular(),
                                slug.as_deref().unwrap_or_default()
                            );
                            self.reject(file, row.line, reason);
                        }
                        resolved => *value = FieldValue::Ready(resolved.flatten().into()),
                    }
                }
            }
            for cited in &row.cited {
                if !ids[&Collection::Citations].contains_key(cited) {
                    let reason = format!("field \"statistics\": unknown citation {cited:?}");
                    self.reject(file, row.line, reason);
                }
            }
        }
        if !self.errors.is_empty() {
            return Ok(0);
        }
        self.upsert_items(collection, rows).await
    }

    async fn upsert_items(&self, collection: Collection, rows: Vec<ItemRow>) -> ImportResult<u64> {
        let table = collection.table();
        let fields = collection.fields();
        let markdown: Vec<_> = renditions::markdown_fields(collection).collect();
        let derived: Vec<(usize, &UniqueField)> = collection
            .unique_fields()
            .iter()
            .filter(|u| u.derived())
            .filter_map(|u| {
                fields
                    .iter()
                    .position(|f| f.name == u.field)
                    .map(|i| (i, u))
            })
            .collect();
        // Names are also kept as lines of text, for full-text search.
        let names: Vec<(usize, &str)> = fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f.kind {
                FieldKind::Names { text } => Some((i, text)),
                _ => None,
            })
            .collect();
        let references: &[&str] = if collection == Collection::Citations {
            &["formatted", "formatted_with"]
        } else {
            &[]
        };
        let sources = COMMON_COLUMNS.len() + fields.len();
        let columns: Vec<&str> = COMMON_COLUMNS
            .into_iter()
            .chain(fields.iter().map(|f| f.column))
            .chain(derived.iter().map(|(_, u)| u.column))
            .chain(names.iter().map(|(_, text)| *text))
            .chain(references.iter().copied())
            .chain(markdown.iter().flat_map(|(_, r)| [r.html, r.text]))
            .chain((!markdown.is_empty()).then_some(renditions::RENDERED_WITH))
            .collect();
        let now = now();
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(&format!(
            "INSERT INTO {table} ({}, created_at, updated_at, version) VALUES ",
            columns.join(", ")
        ));
        for (n, row) in rows.into_iter().enumerate() {
            let meta = (
                row.created_at.unwrap_or(now),
                row.updated_at.unwrap_or(now),
                row.version.unwrap_or(1),
            );
            sql.push(if n == 0 { "(" } else { ", (" });
            sql.bind(row.id.unwrap_or_else(Uuid::now_v7))
                .push(", ")
                .bind(row.slug.clone())
                .push(", ")
                .bind(row.status.as_str())
                .push(", ")
                .bind(row.published_at);
            let keys: Vec<Value> = derived
                .iter()
                .map(|(at, u)| Value::from(text_of(&row.values[*at]).and_then(u.key)))
                .chain(names.iter().map(|(at, _)| {
                    let written = json_of(&row.values[*at]).map(crate::domain::names::stored);
                    Value::from(crate::domain::names::search_text(
                        &written.unwrap_or_default(),
                    ))
                }))
                .chain(
                    (!references.is_empty())
                        .then(|| reference_columns(fields, &row.slug, &row.values))
                        .into_iter()
                        .flatten(),
                )
                .collect();
            let rendered: Vec<(&str, Value)> = markdown
                .iter()
                .flat_map(|(field, kinds)| {
                    let at = fields.iter().position(|f| f.name == field.name);
                    let source = at.and_then(|at| text_of(&row.values[at]));
                    renditions::rendered_columns(*kinds, source)
                })
                .chain((!markdown.is_empty()).then(renditions::rendered_with))
                .collect();
            for value in row.values {
                sql.push(", ");
                match value {
                    FieldValue::Ready(value) => sql.bind(value),
                    FieldValue::Reference { .. } => sql.bind(Option::<Uuid>::None),
                };
            }
            for value in keys.into_iter().chain(rendered.into_iter().map(|(_, v)| v)) {
                sql.push(", ").bind(value);
            }
            sql.push(", ").bind(meta.0).push(", ").bind(meta.1);
            sql.push(", ").bind(meta.2).push(")");
        }
        // Identical rows are left alone, so re-importing a set changes nothing (no
        // version bump); changed rows get a new version and updated_at.
        let updated: Vec<&str> = columns[2..].to_vec();
        let set = updated
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Renditions follow from the Markdown: only a changed source rewrites the row.
        let changed = columns[2..sources]
            .iter()
            .map(|c| format!("{table}.{c} IS DISTINCT FROM excluded.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        sql.push(&format!(
            " ON CONFLICT (slug) DO UPDATE SET {set}, updated_at = "
        ))
        .bind(now)
        .push(&format!(", version = {table}.version + 1 WHERE {changed}"));
        Ok(self.txn.execute_raw(sql.build()).await?.rows_affected())
    }

    pub(super) async fn flush_links(
        &mut self,
        link: &LinkSpec,
        file: &str,
        rows: Vec<LinkRow>,
    ) -> ImportResult<u64> {
        let keys: Vec<String> = rows
            .iter()
            .map(|r| format!("{}:{}:{}", link.table, r.left, r.right))
            .collect();
        for i in self.mark_seen(&keys).await? {
            let row = &rows[i];
            let reason = format!(
                "duplicate link {:?} → {:?} in this import",
                row.left, row.right
            );
            self.reject(file, row.line, reason);
        }
        let left = self
            .resolve(link.left, rows.iter().map(|r| r.left.as_str()))
            .await?;
        let right = self
            .resolve(link.right, rows.iter().map(|r| r.right.as_str()))
            .await?;
        for row in &rows {
            for (ids, slug, end) in [
                (&left, &row.left, link.left),
                (&right, &row.right, link.right),
            ] {
                if !ids.contains_key(slug) {
                    self.reject(
                        file,
                        row.line,
                        format!("unknown {} {slug:?}", end.singular()),
                    );
                }
            }
        }
        if !self.errors.is_empty() {
            return Ok(0);
        }
        if link.claim.is_some() {
            return self.upsert_claims(link, file, rows, &left, &right).await;
        }
        let links = rows
            .into_iter()
            .map(|r| (left[&r.left], right[&r.right], r.note, r.position))
            .collect();
        self.upsert_links(link, links).await
    }

    async fn upsert_links(
        &self,
        link: &LinkSpec,
        links: Vec<(Uuid, Uuid, Option<String>, i32)>,
    ) -> ImportResult<u64> {
        let (table, l, r) = (link.table, link.left_column, link.right_column);
        let mut affected = 0;
        let mut links = links.into_iter().peekable();
        while links.peek().is_some() {
            let mut sql = SqlBuilder::new(self.backend);
            sql.push(&format!(
                "INSERT INTO {table} ({l}, {r}, note, position) VALUES "
            ));
            for (n, (left, right, note, position)) in links.by_ref().take(BATCH_ROWS).enumerate() {
                sql.push(if n == 0 { "(" } else { ", (" });
                sql.bind(left).push(", ").bind(right).push(", ").bind(note);
                sql.push(", ").bind(position).push(")");
            }
            sql.push(&format!(
                " ON CONFLICT ({l}, {r}) DO UPDATE SET note = excluded.note, position = excluded.position \
                 WHERE {table}.note IS DISTINCT FROM excluded.note \
                 OR {table}.position IS DISTINCT FROM excluded.position"
            ));
            affected += self.txn.execute_raw(sql.build()).await?.rows_affected();
        }
        Ok(affected)
    }

    /// Replaces the inline link sets (articles' mentions) of a batch of items.
    pub(super) async fn flush_inline(
        &mut self,
        collection: Collection,
        file: &str,
        rows: Vec<InlineRow>,
    ) -> ImportResult<u64> {
        let owners = self
            .resolve(collection, rows.iter().map(|r| r.slug.as_str()))
            .await?;
        for (index, link) in collection.inline_links().enumerate() {
            let key = link.inline.unwrap_or_default();
            let targets = self
                .resolve(
                    link.right,
                    rows.iter()
                        .flat_map(|r| r.lists[index].iter().map(|m| m.slug.as_str())),
                )
                .await?;
            let mut links = Vec::new();
            for row in &rows {
                for (position, mention) in row.lists[index].iter().enumerate() {
                    let slug = &mention.slug;
                    match targets.get(slug) {
                        None => self.reject(
                            file,
                            row.line,
                            format!("field {key:?}: unknown {} {slug:?}", link.right.singular()),
                        ),
                        Some(_) if link.right == collection && *slug == row.slug => self.reject(
                            file,
                            row.line,
                            format!("field {key:?}: an item cannot be linked to itself"),
                        ),
                        Some(target) => {
                            let position = i32::try_from(position).unwrap_or(i32::MAX);
                            let note = mention.note.clone();
                            links.push((owners[&row.slug], *target, note, position));
                        }
                    }
                }
            }
            if !self.errors.is_empty() {
                return Ok(0);
            }
            for chunk in rows.chunks(BATCH_ROWS) {
                let mut sql = SqlBuilder::new(self.backend);
                sql.push(&format!(
                    "DELETE FROM {} WHERE {} IN ",
                    link.table, link.left_column
                ));
                sql.bind_list(chunk.iter().map(|r| owners[&r.slug]));
                self.txn.execute_raw(sql.build()).await?;
            }
            self.upsert_links(link, links).await?;
        }
        Ok(0)
    }
}
