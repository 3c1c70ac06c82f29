//! Drafts in item reads: the columns a preview read adds (an item's draft, joined on its
//! key) and the draft shown over the stored item.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, QueryResult};
use serde_json::Value as Json;

use super::{ItemObject, ItemSelect, reference_key, timestamp};
use crate::domain::model::COMMON_FIELDS;
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, FieldKind};
use crate::error::Result;
use crate::service::sql::required;

impl ItemSelect {
    /// Where the draft's columns start, if they are read.
    pub(super) fn draft_column(&self) -> usize {
        let common = if self.meta { COMMON_FIELDS.len() } else { 2 };
        common + self.fields.len() + usize::from(self.reference.is_some())
    }

    /// The item's draft, if this select reads drafts and the item has one.
    pub fn draft(&self, row: &QueryResult) -> Result<Option<DraftRow>> {
        self.draft_at(row, 0)
    }

    pub(super) fn draft_at(&self, row: &QueryResult, first: usize) -> Result<Option<DraftRow>> {
        if !self.drafts {
            return Ok(None);
        }
        let at = first + self.draft_column();
        let Some(Json::Object(document)) = row.try_get_by_index::<Option<Json>>(at)? else {
            return Ok(None);
        };
        Ok(Some(DraftRow {
            document,
            status: required(row, at + 1)?,
            version: required(row, at + 2)?,
            updated_at: row.try_get_by_index(at + 3)?,
        }))
    }
}

/// What a preview read adds to an item's columns: its draft, if it has one.
pub(super) const DRAFT_COLUMNS: [(&str, &str); 4] = [
    ("dr.document", "draft_document"),
    ("dr.status", "draft_status"),
    ("dr.version", "draft_version"),
    ("dr.updated_at", "draft_updated_at"),
];

/// An item's draft as read with it.
#[derive(Debug, Clone)]
pub struct DraftRow {
    pub document: serde_json::Map<String, Json>,
    pub status: String,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ItemSelect {
    /// Shows `draft` instead of the stored item in `object`: the draft's fields (Markdown
    /// rendered in this select's format), status, version and time.
    pub fn overlay(&self, object: &mut ItemObject, draft: &DraftRow, with_meta: bool) {
        if let Some(slug) = draft.document.get("slug") {
            object.insert("slug", slug.clone());
        }
        for field in &self.fields {
            let Some(value) = draft.document.get(field.name) else {
                continue;
            };
            let shown = match (field.kind, value) {
                (FieldKind::Markdown(_), Json::String(text)) => match self.format {
                    TextFormat::Markdown => value.clone(),
                    TextFormat::Html => Json::String(crate::domain::rich_text::html(text)),
                    TextFormat::Text => Json::String(crate::domain::rich_text::text(text)),
                },
                (FieldKind::Timestamp, Json::String(text)) => {
                    timestamp(crate::domain::validate::parse_timestamp(text).ok())
                }
                (
                    FieldKind::StringList | FieldKind::Statistics | FieldKind::Names { .. },
                    Json::Null,
                ) => Json::Array(vec![]),
                _ => value.clone(),
            };
            object.insert(field.name, shown);
        }
        if let Some(style) = self.reference {
            let csl = crate::domain::csl::item(&|name| draft.document.get(name));
            let reference = crate::service::references::format(&csl, style);
            object.insert(reference_key(style), reference.unwrap_or(Json::Null));
        }
        if self.meta {
            object.insert("status", Json::String(draft.status.clone()));
            if with_meta {
                object.insert("updated_at", timestamp(draft.updated_at));
                object.insert("version", Json::from(draft.version));
            }
        }
    }
}

/// The expression preview statements filter and sort an item's `column` by (the item `t`,
/// its draft joined as `dr`): the draft's value where the item has one, as the item reads.
/// Columns a draft does not hold (timestamps it keeps as text, server-kept dates, renditions)
/// read the row.
pub fn draft_aware(collection: Collection, column: &str, backend: DbBackend) -> String {
    let row = format!("t.{column}");
    match column {
        "status" | "updated_at" => return format!("COALESCE(dr.{column}, {row})"),
        "slug" => return with_draft(&row, &json_text(backend, "slug")),
        _ => {}
    }
    let Some(field) = collection.fields().iter().find(|f| f.column == column) else {
        return row;
    };
    let value = json_text(backend, field.name);
    match (field.kind, backend) {
        (FieldKind::Text | FieldKind::Enum(_), _) => with_draft(&row, &value),
        (FieldKind::Integer, DbBackend::Postgres) => {
            with_draft(&row, &format!("CAST({value} AS BIGINT)"))
        }
        // SQLite's `json_extract` reads a JSON number as an integer.
        (FieldKind::Integer, _) => with_draft(&row, &value),
        (FieldKind::Reference(target), _) => with_draft(
            &row,
            &format!(
                "(SELECT x.id FROM {} x WHERE x.slug = {value})",
                target.table()
            ),
        ),
        _ => row,
    }
}

fn with_draft(row: &str, draft: &str) -> String {
    format!("CASE WHEN dr.item_id IS NULL THEN {row} ELSE {draft} END")
}

/// The draft document's scalar at key `name` (a field of the content model), as text.
fn json_text(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("(dr.document ->> '{name}')"),
        _ => format!("json_extract(dr.document, '$.{name}')"),
    }
}

/// Joins an item's draft (`dr`) to `t`, for [`draft_aware`] expressions.
pub const DRAFT_JOIN: &str = " LEFT JOIN drafts dr ON dr.item_id = t.id";
