//! `drafts.ndjson`: the drafts of published items, one per line (`{collection, item,
//! status, version, created_at, updated_at, document}`), ordered by collection and item. A
//! draft is checked as an edit is (the document's rules, references and link targets that
//! exist) and must stand beside a published item.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::import::{ImportResult, Importer, RowFile};
use crate::domain::validate::parse_timestamp;
use crate::domain::{Collection, Status};
use crate::error::Result;
use crate::service::editing::document::{self, stored_status};
use crate::service::editing::drafts::{NewDraft, forget, save};
use crate::service::item::timestamp;
use crate::service::sql::SqlBuilder;

pub const FILE: &str = "drafts.ndjson";

/// Writes every draft through `write`, returning how many.
pub(super) async fn export(
    txn: &DatabaseTransaction,
    mut write: impl FnMut(&BTreeMap<&str, Json>) -> Result<()>,
) -> Result<u64> {
    let mut total = 0;
    for collection in Collection::ALL {
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "SELECT t.slug AS item, d.status, d.version, d.document, d.created_at, \
             d.updated_at FROM drafts d JOIN {} t ON t.id = d.item_id ORDER BY t.slug",
            collection.table()
        ));
        // Drafts are few (one per published item at most): one statement per collection.
        for row in txn.query_all_raw(sql.build()).await? {
            let mut line = BTreeMap::new();
            line.insert("collection", Json::from(collection.as_str()));
            line.insert("item", Json::from(row.try_get::<String>("", "item")?));
            line.insert("status", Json::from(row.try_get::<String>("", "status")?));
            line.insert("version", Json::from(row.try_get::<i64>("", "version")?));
            line.insert("document", row.try_get::<Json>("", "document")?);
            line.insert("created_at", timestamp(row.try_get("", "created_at")?));
            line.insert("updated_at", timestamp(row.try_get("", "updated_at")?));
            write(&line)?;
            total += 1;
        }
    }
    Ok(total)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Line {
    collection: String,
    item: String,
    status: String,
    version: i64,
    created_at: String,
    updated_at: String,
    document: Map<String, Json>,
}

/// A line checked against the file's rules and the database.
pub(super) struct Checked {
    collection: Collection,
    item: Uuid,
    status: Status,
    document: Map<String, Json>,
    line: Line,
}

/// The drafts file, read after the items and links its drafts name.
pub(super) struct Drafts;

impl RowFile for Drafts {
    const FILE: &'static str = FILE;
    const DUPLICATE: &'static str = "the item already has a draft in this file";
    type Line = Line;
    type Checked = Checked;
    type Key = Uuid;

    async fn check(importer: &Importer<'_>, line: Line) -> ImportResult<Result<Checked, String>> {
        importer.check_draft(line).await
    }

    fn key(checked: &Checked) -> Uuid {
        checked.item
    }

    async fn store(importer: &Importer<'_>, checked: &Checked) -> ImportResult<bool> {
        importer.store_draft(checked).await
    }
}

impl Importer<'_> {
    async fn check_draft(&self, line: Line) -> ImportResult<Result<Checked, String>> {
        let Some(collection) = Collection::parse(&line.collection) else {
            return Ok(Err(format!("collection: unknown {:?}", line.collection)));
        };
        let status = match Status::parse(&line.status) {
            Some(status @ (Status::Draft | Status::InReview)) => status,
            _ => return Ok(Err("status: must be draft or in_review".into())),
        };
        if line.version < 1 {
            return Ok(Err("version: must be 1 or more".into()));
        }
        for (name, text) in [
            ("created_at", &line.created_at),
            ("updated_at", &line.updated_at),
        ] {
            if let Err(e) = parse_timestamp(text) {
                return Ok(Err(format!("{name}: {e}")));
            }
        }
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(&format!(
            "SELECT id, status FROM {} WHERE slug = ",
            collection.table()
        ))
        .bind(line.item.clone());
        let Some(row) = self.txn.query_one_raw(sql.build()).await? else {
            return Ok(Err(format!(
                "item: no {} {:?}",
                collection.singular(),
                line.item
            )));
        };
        if !stored_status(&row.try_get::<String>("", "status")?)?.is_public() {
            return Ok(Err(format!(
                "item: {:?} is not published; only a published item has a draft",
                line.item
            )));
        }
        let item: Uuid = row.try_get("", "id")?;
        let mut errors = Vec::new();
        document::check_keys(collection, &line.document, &mut errors);
        let mut whole = document::empty(collection);
        document::merge(&mut whole, &line.document);
        errors.extend(document::validate(collection, &mut whole));
        if errors.is_empty() {
            let resolved = crate::service::editing::resolve::resolve(
                self.txn,
                collection,
                &whole,
                Some(item),
                None,
            )
            .await?;
            if let Err(found) = resolved {
                errors = found;
            }
        }
        if let Some(error) = errors.first() {
            return Ok(Err(format!("document{}: {}", error.pointer, error.detail)));
        }
        Ok(Ok(Checked {
            collection,
            item,
            status,
            document: whole,
            line,
        }))
    }

    /// Writes the draft; false when it was already as the file says.
    async fn store_draft(&self, draft: &Checked) -> ImportResult<bool> {
        let mut sql = SqlBuilder::new(self.backend);
        sql.push("SELECT status, version, document FROM drafts WHERE item_id = ")
            .bind(draft.item);
        if let Some(row) = self.txn.query_one_raw(sql.build()).await? {
            let same = row.try_get::<String>("", "status")? == draft.status.as_str()
                && row.try_get::<i64>("", "version")? == draft.line.version
                && row.try_get::<Json>("", "document")? == Json::Object(draft.document.clone());
            if same {
                return Ok(false);
            }
            forget(self.txn, draft.item).await?;
        }
        let at = |text: &str| parse_timestamp(text).unwrap_or_else(|_| super::now());
        let new = NewDraft {
            collection: draft.collection,
            id: draft.item,
            document: &draft.document,
            status: draft.status,
            version: draft.line.version,
            replaces: None,
            actor: None,
            at: at(&draft.line.updated_at),
        };
        save(self.txn, &new).await?;
        let mut sql = SqlBuilder::new(self.backend);
        sql.push("UPDATE drafts SET created_at = ")
            .bind(at(&draft.line.created_at))
            .push(" WHERE item_id = ")
            .bind(draft.item);
        self.txn.execute_raw(sql.build()).await?;
        Ok(true)
    }
}
