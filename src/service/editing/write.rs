//! Create, merge-patch, replace a link set, restore a document, and delete.

use std::collections::HashSet;

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::document::{
    self, Document, check_keys, document_of, link_relation, load_links, merge, validate,
};
use super::links::write_links;
use super::resolve::{Resolved, resolve};
use super::{Editor, Precondition, Written, audit, check_precondition, current, history, now};
use crate::domain::model::UniqueField;
use crate::domain::webhook::EventType;
use crate::domain::{Collection, Scope, Status};
use crate::error::{AppError, FieldError, Result};
use crate::service::sql::SqlBuilder;
use crate::service::webhooks::ItemRef;

fn invalid(errors: Vec<FieldError>) -> AppError {
    AppError::Validation(errors)
}

impl Editor<'_> {
    /// Creates a draft. Links may be given inline (`"benefits": ["slug", …]`).
    pub async fn create(&self, collection: Collection, body: Document) -> Result<Written> {
        self.caller.require(Scope::Write)?;
        let mut errors = Vec::new();
        check_keys(collection, &body, &mut errors);
        super::schedule::check_body(self.caller, &body, &mut errors)?;
        // Start from an empty document, so a revision always holds every field and link set.
        let mut document = document::empty(collection);
        merge(&mut document, &body);
        errors.extend(validate(collection, &mut document));
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        // Checked before the transaction (so the write lock is held only for the writes);
        // a slug taken meanwhile still fails on the unique index (409).
        let mut errors = check_unique(self.db, collection, &document, None).await?;
        let resolved = match resolve(self.db, collection, &document, None, None).await? {
            Ok(resolved) if errors.is_empty() => resolved,
            Ok(_) => return Err(invalid(errors)),
            Err(found) => {
                errors.extend(found);
                return Err(invalid(errors));
            }
        };
        let id = Uuid::now_v7();
        let at = now();
        let txn = self.begin().await?;
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "INSERT INTO {} (id, status, created_at, updated_at, version",
            collection.table()
        ));
        for (column, _) in &resolved.columns {
            sql.push(", ").push(column);
        }
        sql.push(") VALUES (").bind(id).push(", ");
        sql.bind(Status::Draft.as_str())
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", 1");
        for (_, value) in resolved.columns.iter().cloned() {
            sql.push(", ").bind(value);
        }
        sql.push(")");
        txn.execute_raw(sql.build()).await?;
        write_links(&txn, id, &resolved, None).await?;
        let slug = slug_of(&document);
        history::record(
            &*txn,
            self,
            collection,
            id,
            &document,
            Status::Draft,
            1,
            "created",
        )
        .await?;
        audit::record(
            &*txn,
            self,
            "create",
            collection,
            Some(id),
            &slug,
            json!({}),
        )
        .await?;
        let stale = super::stale_tags(collection, &document::empty(collection), &document);
        let item = ItemRef {
            collection,
            id,
            slug: &slug,
            status: Status::Draft,
            version: 1,
        };
        self.finish(txn, &stale, EventType::ItemCreated, Some(item))
            .await?;
        super::written(self.db, collection, &slug).await
    }

    /// Applies a JSON merge patch (RFC 7396) to the item's document.
    pub async fn update(
        &self,
        collection: Collection,
        slug: &str,
        patch: Document,
        precondition: &Precondition,
    ) -> Result<Written> {
        self.caller.require(Scope::Write)?;
        let mut patch = patch;
        let mut errors = Vec::new();
        check_keys(collection, &patch, &mut errors);
        if patch.is_empty() {
            errors.push(FieldError {
                pointer: String::new(),
                detail: "the patch is empty; send the fields to change".into(),
            });
        }
        errors.extend(document::validate_patch(collection, &mut patch));
        super::schedule::check_body(self.caller, &patch, &mut errors)?;
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        // Everything up to the writes runs outside the transaction; the update applies
        // only `WHERE version = <the version read here>`, so nothing is lost meanwhile.
        let stored = current(self.db, collection, slug).await?;
        self.require_edit(stored.editing_status())?;
        check_precondition(precondition, &stored)?;
        let before = document::editable(self.db, collection, &stored).await?;
        let mut after = before.clone();
        merge(&mut after, &patch);
        let changed: Vec<String> = patch.keys().cloned().collect();
        self.replace(collection, stored, before, after, &changed, "update")
            .await
    }

    /// Replaces one link set (`PUT /v1/{collection}/{slug}/{link}`).
    pub async fn replace_links(
        &self,
        collection: Collection,
        slug: &str,
        link: &str,
        links: Json,
        precondition: &Precondition,
    ) -> Result<Written> {
        let Some(relation) = link_relation(collection, link) else {
            let names: Vec<&str> = document::link_relations(collection)
                .iter()
                .map(|r| r.name)
                .collect();
            return Err(AppError::NotFound(format!(
                "{collection} have no link set {link:?} (link sets: {})",
                names.join(", ")
            )));
        };
        let mut patch = Document::new();
        patch.insert(relation.name.to_owned(), links);
        self.update(collection, slug, patch, precondition).await
    }

    /// Checks `after` as an edit of the item `id`, whose document was `before`: its fields,
    /// the unique values it changes, and what its changed references and link sets name.
    /// Only what differs is looked up (and then rewritten): the resolved document, and
    /// the fields and link sets that differ.
    pub(super) async fn check_edit(
        &self,
        collection: Collection,
        id: Uuid,
        before: &Document,
        after: &mut Document,
    ) -> Result<(Resolved, HashSet<&'static str>)> {
        let mut errors = validate(collection, after);
        let renamed = std::iter::once("slug")
            .chain(collection.unique_fields().iter().map(|u| u.field))
            .any(|column| before.get(column) != after.get(column));
        if errors.is_empty() && renamed {
            errors = check_unique(self.db, collection, after, Some(id)).await?;
        }
        let differs = document::differing(collection, before, after);
        match resolve(self.db, collection, after, Some(id), Some(&differs)).await? {
            Ok(resolved) if errors.is_empty() => Ok((resolved, differs)),
            Ok(_) => Err(invalid(errors)),
            Err(found) => {
                errors.extend(found);
                Err(invalid(errors))
            }
        }
    }

    /// Validates `after` and stores it over `stored` (whose document is `before`) as one
    /// new version, with a revision and an audit entry; only link sets named in
    /// `changed` are rewritten. A published item's content changes go to its draft
    /// (readers keep the published version); only a new `unpublish_at` of an item without
    /// a draft is written to it directly.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn replace(
        &self,
        collection: Collection,
        stored: document::Current,
        before: Document,
        mut after: Document,
        changed: &[String],
        action: &str,
    ) -> Result<Written> {
        let schedule_only = after
            .keys()
            .filter(|k| before.get(*k) != after.get(*k))
            .all(|k| k == "unpublish_at");
        if stored.draft.is_some() || (stored.status.is_public() && !schedule_only) {
            return self
                .replace_draft(collection, stored, before, after, action)
                .await;
        }
        let (resolved, differs) = self
            .check_edit(collection, stored.id, &before, &mut after)
            .await?;
        let slug = slug_of(&after);
        if after == before {
            return super::written(self.db, collection, &slug).await;
        }
        let txn = self.begin().await?;
        if stored.status.is_public() {
            // Readers see a published item at once: it may not start pointing at
            // something they cannot see, as publishing it could not.
            let get = |name: &str| after.get(name);
            let wanted = |name: &str| differs.contains(name);
            let blockers =
                super::blockers::unpublished_references(&txn, collection, &get, &wanted).await?;
            if !blockers.is_empty() {
                return Err(AppError::Blocked(
                    format!(
                        "a published {} cannot point at unpublished items: {} blocker(s)",
                        collection.singular(),
                        blockers.len()
                    ),
                    blockers,
                ));
            }
        }
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!("UPDATE {} SET ", collection.table()));
        for (column, value) in resolved.columns.iter().cloned() {
            sql.push(column).push(" = ").bind(value).push(", ");
        }
        sql.push("updated_at = ").bind(now());
        super::update_at_version(&*txn, sql, stored.id, stored.version, "this write").await?;
        write_links(&txn, stored.id, &resolved, Some(changed)).await?;
        let version = stored.version + 1;
        let keys: Vec<&str> = after
            .keys()
            .filter(|k| before.get(*k) != after.get(*k))
            .map(String::as_str)
            .collect();
        let summary = match action {
            "update" => format!("updated {}", keys.join(", ")),
            other => format!("{other}: {}", keys.join(", ")),
        };
        history::record(
            &*txn,
            self,
            collection,
            stored.id,
            &after,
            stored.status,
            version,
            &summary,
        )
        .await?;
        let action = action.split(' ').next().unwrap_or("update");
        audit::record(
            &*txn,
            self,
            action,
            collection,
            Some(stored.id),
            &slug,
            json!({ "changed": keys, "version": version }),
        )
        .await?;
        let stale = super::stale_tags(collection, &before, &after);
        let item = ItemRef {
            collection,
            id: stored.id,
            slug: &slug,
            status: stored.status,
            version,
        };
        self.finish(txn, &stale, EventType::ItemUpdated, Some(item))
            .await?;
        super::written(self.db, collection, &slug).await
    }

    /// Deletes for good (admin). Refused while published items link to or reference the
    /// item, unless `cascade_links` (links are removed; a required reference such as an
    /// article's author still blocks).
    pub async fn hard_delete(
        &self,
        collection: Collection,
        slug: &str,
        cascade_links: bool,
        precondition: &Precondition,
    ) -> Result<()> {
        self.caller.require(Scope::Admin)?;
        self.precheck(collection, slug, precondition, false).await?;
        let txn = self.begin().await?;
        let stored = current(&*txn, collection, slug).await?;
        check_precondition(precondition, &stored)?;
        let links = load_links(&*txn, collection, stored.id).await?;
        let document = document_of(collection, &stored.stored, links);
        let blockers =
            super::blockers::inbound_blockers(&txn, collection, stored.id, cascade_links).await?;
        if !blockers.is_empty() {
            return Err(AppError::Blocked(
                format!(
                    "published items still point at this {}; pass cascade=links to remove \
                     the links (required references must be changed first)",
                    collection.singular()
                ),
                blockers,
            ));
        }
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!("DELETE FROM {} WHERE id = ", collection.table()))
            .bind(stored.id)
            .push(" AND version = ")
            .bind(stored.version);
        if txn.execute_raw(sql.build()).await?.rows_affected() != 1 {
            return Err(AppError::PreconditionFailed(
                "the item changed while it was being deleted".into(),
            ));
        }
        if collection.reviewable() {
            crate::service::reviews::forget(&*txn, collection, stored.id).await?;
        }
        super::drafts::forget(&*txn, stored.id).await?;
        audit::record(
            &*txn,
            self,
            "delete",
            collection,
            Some(stored.id),
            slug,
            json!({ "version": stored.version, "cascade_links": cascade_links }),
        )
        .await?;
        let stale = super::stale_tags(collection, &document, &document);
        let item = ItemRef {
            collection,
            id: stored.id,
            slug,
            status: stored.status,
            version: stored.version,
        };
        self.finish(txn, &stale, EventType::ItemDeleted, Some(item))
            .await?;
        Ok(())
    }
}

/// The slug an item is stored under (a draft may rename it; the row keeps its slug
/// until the draft is published).
pub(super) fn stored_slug(stored: &document::Current) -> String {
    stored
        .stored
        .get("slug")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn slug_of(document: &Document) -> String {
    document
        .get("slug")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Slug and unique fields (SKU) must not belong to another item.
pub(super) async fn check_unique(
    txn: &impl ConnectionTrait,
    collection: Collection,
    document: &Document,
    self_id: Option<Uuid>,
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    let slug = UniqueField {
        field: "slug",
        column: "slug",
        key: |slug| Some(slug.to_owned()),
    };
    for unique in std::iter::once(&slug).chain(collection.unique_fields()) {
        let Some(value) = document.get(unique.field).and_then(Json::as_str) else {
            continue;
        };
        let Some(key) = (unique.key)(value) else {
            continue;
        };
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "SELECT slug FROM {} WHERE {} = ",
            collection.table(),
            unique.column
        ))
        .bind(key.clone());
        if let Some(id) = self_id {
            sql.push(" AND id <> ").bind(id);
        }
        if let Some(row) = txn.query_one_raw(sql.build()).await? {
            let other: String = row.try_get("", "slug")?;
            let same = if key == value {
                String::new()
            } else {
                format!(" (as {key})")
            };
            errors.push(FieldError {
                pointer: format!("/{}", unique.field),
                detail: format!(
                    "{value:?}{same} is already used by {} {other:?}",
                    collection.singular()
                ),
            });
        }
    }
    Ok(errors)
}
