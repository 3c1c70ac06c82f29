//! The editable document of an item: its slug, its writable fields (references by slug)
//! and its link sets (`{"benefits": [{"slug": …, "note": …}]}`). Write bodies are merge
//! patches of it, revisions are snapshots of it, and restore writes one back.

use std::collections::HashSet;

use sea_orm::ConnectionTrait;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::domain::evidence::Evidence;
use crate::domain::model::COMMON_FIELDS;
use crate::domain::relations::{Relation, RelationKind, relations};
use crate::domain::validate;
use crate::domain::{Collection, FieldKind, Slug, Status};
use crate::error::{AppError, FieldError, Result};
use crate::service::item::{ItemObject, ItemSelect, item_etag};
use crate::service::link_rows::LinkRows;
use crate::service::sql::SqlBuilder;
use crate::service::syndication;
use crate::service::{Visibility, claims};

pub type Document = Map<String, Json>;

/// Most entries of one link set.
pub const MAX_LINKS: usize = 500;
pub use crate::domain::validate::MAX_NOTE;

/// Fields the server sets, never a write body: review dates (recording a review sets
/// them) and why a scheduled step was refused (the scheduler sets it).
pub fn server_fields(collection: Collection) -> &'static [&'static str] {
    if collection.reviewable() {
        &["last_reviewed_at", "next_review_due", "schedule_error"]
    } else {
        &["schedule_error"]
    }
}

/// The many-to-many relations of a collection, writable as link sets.
pub fn link_relations(collection: Collection) -> Vec<Relation> {
    relations(collection)
        .into_iter()
        .filter(|r| matches!(r.kind, RelationKind::Link { .. }))
        .collect()
}

pub fn link_relation(collection: Collection, name: &str) -> Option<Relation> {
    link_relations(collection)
        .into_iter()
        .find(|r| r.name == name)
}

/// Rejects keys a body may not carry: read-only fields (no mass assignment) and
/// anything the collection does not have.
pub fn check_keys(collection: Collection, body: &Document, errors: &mut Vec<FieldError>) {
    let links: Vec<&str> = link_relations(collection).iter().map(|r| r.name).collect();
    for key in body.keys() {
        let pointer = format!("/{}", escape(key));
        if key == "slug" || links.contains(&key.as_str()) {
            continue;
        }
        if COMMON_FIELDS.contains(&key.as_str()) {
            let detail = match key.as_str() {
                "status" | "published_at" => {
                    "is read-only; change it with submit, publish, unpublish or archive"
                }
                _ => "is read-only; the server sets it",
            };
            errors.push(FieldError::new(pointer, detail));
        } else if server_fields(collection).contains(&key.as_str()) {
            let detail = if key == "schedule_error" {
                "is read-only; the scheduler sets it when a scheduled step is refused".to_owned()
            } else {
                format!(
                    "is read-only; record a medical review (POST /v1/{collection}/{{slug}}/reviews)"
                )
            };
            errors.push(FieldError::new(pointer, detail));
        } else if collection.field(key).is_none() {
            errors.push(FieldError::new(
                pointer,
                format!("is not a field of {collection}"),
            ));
        }
    }
}

/// JSON-pointer escaping of one reference token (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The fields and link sets that differ between two documents.
pub fn differing(
    collection: Collection,
    before: &Document,
    after: &Document,
) -> HashSet<&'static str> {
    collection
        .fields()
        .iter()
        .map(|field| field.name)
        .chain(link_relations(collection).iter().map(|r| r.name))
        .filter(|name| before.get(*name) != after.get(*name))
        .collect()
}

/// Applies an RFC 7396 merge patch at the top level (no field of a document is an
/// object, so deeper merging never applies): `null` clears a field or empties a link set.
pub fn merge(document: &mut Document, patch: &Document) {
    for (key, value) in patch {
        document.insert(key.clone(), value.clone());
    }
}

/// Every rule a whole document must satisfy before it is stored. Link sets are
/// normalized in place to `[{slug, note}]`.
pub fn validate(collection: Collection, document: &mut Document) -> Vec<FieldError> {
    check(collection, document, true)
}

/// The rules that apply to the fields a patch carries, checked before anything is read:
/// a malformed patch is 422 whatever the stored item looks like.
pub fn validate_patch(collection: Collection, patch: &mut Document) -> Vec<FieldError> {
    check(collection, patch, false)
}

/// `whole`: the document must be complete (missing required fields are violations);
/// otherwise only the keys present are checked.
fn check(collection: Collection, document: &mut Document, whole: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if whole && collection == Collection::Citations {
        errors.extend(crate::domain::citation::normalize(document));
    }
    match document.get("slug") {
        Some(Json::String(s)) => {
            if let Err(e) = Slug::parse_for(collection, s) {
                errors.push(FieldError::new("/slug", e.to_string()));
            }
        }
        None if !whole => {}
        None | Some(Json::Null) => errors.push(FieldError::new("/slug", "is required")),
        Some(_) => errors.push(FieldError::new("/slug", "must be a string")),
    }
    for field in collection.fields() {
        if server_fields(collection).contains(&field.name) {
            continue;
        }
        let pointer = format!("/{}", field.name);
        if document.get(field.name).is_some_and(Json::is_null) && !field.required {
            document.insert(field.name.into(), empty_value(field.kind));
        }
        match document.get(field.name) {
            None if !whole => {}
            None | Some(Json::Null) if field.required => {
                errors.push(FieldError::new(pointer, "is required"))
            }
            None | Some(Json::Null) => {}
            Some(value) => {
                for (suffix, detail) in validate::check_value(field, value) {
                    errors.push(FieldError::new(format!("{pointer}{suffix}"), detail));
                }
            }
        }
    }
    if whole {
        super::schedule::check_document(document, &mut errors);
    }
    for relation in link_relations(collection) {
        if let Some(value) = document.get_mut(relation.name) {
            let pointer = format!("/{}", relation.name);
            let claims =
                matches!(relation.kind, RelationKind::Link { link, .. } if link.claim.is_some());
            match normalize_links(&pointer, value, relation.to, claims) {
                Ok(normalized) => *value = normalized,
                Err(mut found) => errors.append(&mut found),
            }
        }
    }
    errors
}

/// `claims`: the entries may carry `evidence` (the link is a claim).
fn normalize_links(
    pointer: &str,
    value: &Json,
    target: Collection,
    claims: bool,
) -> Result<Json, Vec<FieldError>> {
    let items = match value {
        Json::Null => return Ok(Json::Array(vec![])),
        Json::Array(items) if items.len() <= MAX_LINKS => items,
        Json::Array(_) => {
            return Err(vec![FieldError::new(
                pointer,
                format!("has more than {MAX_LINKS} links"),
            )]);
        }
        _ => {
            return Err(vec![FieldError::new(
                pointer,
                format!(
                    "must be a list of {} slugs or {{\"slug\", \"note\"}} objects",
                    target.singular()
                ),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        let mut evidence = None;
        let (slug, note) = match item {
            Json::String(slug) => (Some(slug.as_str()), None),
            Json::Object(map) => {
                let known = |k: &str| k == "slug" || k == "note" || (claims && k == "evidence");
                if let Some(key) = map.keys().find(|k| !known(k)) {
                    errors.push(FieldError::new(
                        format!("{at}/{}", escape(key)),
                        "is not a link field",
                    ));
                }
                let note = match map.get("note") {
                    None | Some(Json::Null) => None,
                    Some(Json::String(n)) => match crate::domain::validate::check_note(n) {
                        Ok(()) => Some(n.clone()),
                        Err(e) => {
                            errors.push(FieldError::new(format!("{at}/note"), e));
                            None
                        }
                    },
                    Some(_) => {
                        errors.push(FieldError::new(
                            format!("{at}/note"),
                            format!("must be a string of at most {MAX_NOTE} characters"),
                        ));
                        None
                    }
                };
                if let Some(value) = map.get("evidence").filter(|_| claims) {
                    match Evidence::parse(&format!("{at}/evidence"), value) {
                        Ok(parsed) => evidence = parsed,
                        Err(mut found) => errors.append(&mut found),
                    }
                }
                (map.get("slug").and_then(Json::as_str), note)
            }
            _ => (None, None),
        };
        match slug.map(Slug::parse) {
            Some(Ok(slug)) => {
                if !seen.insert(slug.as_str().to_owned()) {
                    errors.push(FieldError::new(
                        &at,
                        format!("links {:?} twice", slug.as_str()),
                    ));
                }
                let mut entry = json!({ "slug": slug.as_str(), "note": note });
                if let Some(evidence) = &evidence {
                    entry["evidence"] = evidence.to_json();
                }
                out.push(entry);
            }
            Some(Err(e)) => errors.push(FieldError::new(&at, e.to_string())),
            None => errors.push(FieldError::new(
                &at,
                format!("must be the slug of a {}", target.singular()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(Json::Array(out))
    } else {
        Err(errors)
    }
}

/// An item as stored now, with its draft if it has one.
#[derive(Debug, Clone)]
pub struct Current {
    pub id: Uuid,
    /// The version editors read and name in `If-Match`: the draft's when there is one.
    pub version: i64,
    /// The stored row's version (what readers see).
    pub row_version: i64,
    /// The stored row's status.
    pub status: Status,
    pub draft: Option<super::drafts::Draft>,
    /// The row as stored (what readers see when it is published).
    pub stored: ItemObject,
    /// The item as a reader with the preview scope gets it (the draft over the row).
    pub item: ItemObject,
    /// The item as `GET /v1/{collection}/{slug}` shows preview readers (with its
    /// syndication terms).
    pub shown: ItemObject,
    /// The ETag of that response: what a write's `If-Match` must name.
    pub etag: String,
}

impl Current {
    /// The status editing goes by: the draft's, else the item's.
    pub fn editing_status(&self) -> Status {
        self.draft.as_ref().map_or(self.status, |d| d.status)
    }
}

pub async fn load_current(
    conn: &impl ConnectionTrait,
    collection: Collection,
    slug: &str,
) -> Result<Option<Current>> {
    if Slug::parse(slug).is_err() {
        return Ok(None);
    }
    let select = ItemSelect::stored_with_draft(collection, conn.get_database_backend());
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    select.push_select(&mut sql);
    sql.push(" WHERE t.slug = ").bind(slug.to_owned());
    let Some(row) = conn.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    let id: Uuid = row.try_get("", "id")?;
    let stored = select.object(&row, true)?;
    let draft = select
        .draft(&row)?
        .map(super::drafts::Draft::from_row)
        .transpose()?;
    let mut item = stored.clone();
    if let Some(draft) = &draft {
        select.overlay(&mut item, &draft.row(), true);
        crate::service::item::review_status(collection, &mut item);
    }
    let shown = syndication::shown(conn, collection, &item).await?;
    let row_version = row.try_get("", "version")?;
    Ok(Some(Current {
        id,
        version: draft.as_ref().map_or(row_version, |d| d.version),
        row_version,
        status: stored_status(&row.try_get::<String>("", "status")?)?,
        draft,
        stored,
        item,
        etag: item_etag(&shown),
        shown,
    }))
}

/// The editable document of `current` as editors see it: its draft's, else the stored
/// item's with its link sets.
pub async fn editable(
    conn: &impl ConnectionTrait,
    collection: Collection,
    current: &Current,
) -> Result<Document> {
    if let Some(draft) = &current.draft {
        return Ok(draft.document.clone());
    }
    let links = load_links(conn, collection, current.id).await?;
    Ok(document_of(collection, &current.stored, links))
}

/// Link sets of an item: relation name → `[{slug, note}]`, in stored order. One
/// statement for all relations.
pub async fn load_links(
    conn: &impl ConnectionTrait,
    collection: Collection,
    id: Uuid,
) -> Result<Document> {
    let relations = link_relations(collection);
    let mut out: Document = relations
        .iter()
        .map(|r| (r.name.to_owned(), Json::Array(vec![])))
        .collect();
    let backend = conn.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    for (n, relation) in relations.iter().enumerate() {
        let RelationKind::Link {
            link,
            parent_column,
            child_column,
        } = relation.kind
        else {
            continue;
        };
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!(
            "SELECT '{}' AS relation, o.slug AS slug, l.note AS note, l.position AS position, \
             {} FROM {} l JOIN {} o ON o.id = l.{child_column} WHERE l.{parent_column} = ",
            relation.name,
            claims::columns(
                Some(link),
                LinkRows::Stored,
                Visibility::All,
                backend,
                claims::Cited::Slugs
            ),
            link.table,
            relation.to.table()
        ))
        .bind(id);
    }
    if relations.is_empty() {
        return Ok(out);
    }
    sql.push(" ORDER BY relation, position, slug");
    for row in conn.query_all_raw(sql.build()).await? {
        let relation: String = row.try_get("", "relation")?;
        let slug: String = row.try_get("", "slug")?;
        let note: Option<String> = row.try_get("", "note")?;
        let mut entry = json!({ "slug": slug, "note": note });
        if let Some(evidence) = claims::stored(&row)? {
            entry["evidence"] = evidence.to_json();
        }
        if let Some(Json::Array(list)) = out.get_mut(&relation) {
            list.push(entry);
        }
    }
    Ok(out)
}

/// The editable document of a stored item.
pub fn document_of(collection: Collection, item: &ItemObject, links: Document) -> Document {
    let mut document = Document::new();
    document.insert(
        "slug".into(),
        item.get("slug").cloned().unwrap_or(Json::Null),
    );
    for field in collection.fields() {
        if server_fields(collection).contains(&field.name) {
            continue;
        }
        document.insert(
            field.name.into(),
            item.get(field.name).cloned().unwrap_or(Json::Null),
        );
    }
    document.extend(links);
    document
}

/// What an unset field reads as: `[]` for lists, else null.
fn empty_value(kind: FieldKind) -> Json {
    match kind {
        FieldKind::StringList | FieldKind::Statistics => Json::Array(vec![]),
        _ => Json::Null,
    }
}

/// A document with every writable field null and every link set empty.
pub fn empty(collection: Collection) -> Document {
    let mut document = Document::new();
    document.insert("slug".into(), Json::Null);
    for field in collection.fields() {
        if !server_fields(collection).contains(&field.name) {
            document.insert(field.name.into(), empty_value(field.kind));
        }
    }
    for relation in link_relations(collection) {
        document.insert(relation.name.into(), Json::Array(vec![]));
    }
    document
}

/// A status read from the database (the schema's check constraint admits only these).
pub fn stored_status(text: &str) -> Result<Status> {
    Status::parse(text).ok_or_else(|| AppError::internal_msg(format!("stored status {text:?}")))
}
