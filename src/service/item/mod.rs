//! Items as the API serves them: the [`ItemObject`], its id and ETag, the `SELECT` list of
//! a collection (optionally only some of its fields) and the conversion of a row into an
//! item.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DbBackend, QueryResult};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::model::{COMMON_FIELDS, Field};
use crate::domain::reference_style::CitationStyle;
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, FieldKind};
use crate::error::Result;
use crate::service::Visibility;
use crate::service::renditions;
use crate::service::sql::{SqlBuilder, column, required};

mod draft;
use draft::DRAFT_COLUMNS;
pub use draft::{DRAFT_JOIN, DraftRow, draft_aware};

/// An item as a JSON object with every field (null when absent) and its includes.
pub type ItemObject = BTreeMap<&'static str, Json>;

/// The body of a single-item response: `{"data": {...}}`.
#[derive(serde::Serialize)]
pub struct ItemBody<'a> {
    pub data: &'a ItemObject,
}

/// A strong ETag of a response body: the same bytes give the same tag on every instance.
pub fn strong_etag(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// The ETag `GET /v1/{collection}/{slug}` sends for this item (no `include` or `fields`):
/// what a write's `If-Match` must carry.
pub fn item_etag(item: &ItemObject) -> String {
    strong_etag(&serde_json::to_vec(&ItemBody { data: item }).unwrap_or_default())
}

/// The id of an item object built by [`ItemSelect::object`].
pub fn item_id(item: &ItemObject) -> Option<Uuid> {
    item.get("id")
        .and_then(Json::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

pub fn timestamp(value: Option<DateTime<Utc>>) -> Json {
    value.map_or(Json::Null, |t| {
        Json::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    })
}

/// Which of a collection's fields to read, and in which format its Markdown fields: bit
/// `n` is `collection.fields()[n]`, and [`FieldSet::META`] the common fields past id and
/// slug (status, timestamps, version). Id, slug and references are always read: they are
/// cheap, and batching and cache tags need them. A GraphQL selection reads only what it
/// shows; everything else reads [`FieldSet::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldSet {
    bits: u64,
    format: TextFormat,
    /// Citations: also their stored reference in this style, under [`reference_key`].
    style: Option<CitationStyle>,
}

/// Bits for a collection's own fields; fields past these have none and are always read.
const OWN_BITS: usize = 63;

impl FieldSet {
    pub const ALL: FieldSet = FieldSet {
        bits: u64::MAX,
        format: TextFormat::Markdown,
        style: None,
    };
    const META: u64 = 1 << OWN_BITS;

    /// The fields of `collection` whose names `wanted` accepts (common ones included), plus
    /// id, slug and its references.
    pub fn matching(collection: Collection, wanted: impl Fn(&str) -> bool) -> Self {
        let own = collection
            .fields()
            .iter()
            .enumerate()
            .filter(|(n, f)| {
                *n < OWN_BITS && (matches!(f.kind, FieldKind::Reference(_)) || wanted(f.name))
            })
            .fold(0u64, |bits, (n, _)| bits | (1 << n));
        let meta = COMMON_FIELDS[2..].iter().any(|name| wanted(name));
        FieldSet {
            bits: own | if meta { Self::META } else { 0 },
            format: TextFormat::Markdown,
            style: None,
        }
    }

    pub fn format(self) -> TextFormat {
        self.format
    }

    /// The same fields, with Markdown fields read in `format`.
    pub fn in_format(self, format: TextFormat) -> Self {
        Self { format, ..self }
    }

    pub fn style(self) -> Option<CitationStyle> {
        self.style
    }

    /// The same fields, and a citation's reference in `style` when one is given (for the
    /// citations behind claims too).
    pub fn in_style(self, style: Option<CitationStyle>) -> Self {
        Self { style, ..self }
    }

    fn contains(self, index: usize) -> bool {
        index >= OWN_BITS || self.bits & (1 << index) != 0
    }

    fn has_meta(self) -> bool {
        self.bits & Self::META != 0
    }
}

/// `SELECT … FROM <table> t` with references resolved to slugs. A reference to an item
/// the caller cannot see reads as null.
pub struct ItemSelect {
    collection: Collection,
    /// Whether status, published_at, created_at, updated_at and version are read (after
    /// id and slug); else objects lack them.
    meta: bool,
    /// The model fields read, in column order after the common ones.
    fields: Vec<&'static Field>,
    /// The style of the stored reference read after the fields, if one is.
    reference: Option<CitationStyle>,
    /// Markdown fields' format (for a draft's, rendered when read).
    format: TextFormat,
    /// Whether a draft of the item is read after the fields.
    drafts: bool,
    /// Whether that draft is shown instead of the stored version (preview readers).
    overlay: bool,
    /// The item columns, on alias `t` (and `r<n>` for references).
    pub columns: String,
    /// The same columns' expressions, without aliases.
    pub exprs: Vec<String>,
    /// Joins that resolve references to slugs.
    pub joins: String,
    /// Columns read after the item's own (at that index), and what they add to it.
    extra: Option<(usize, Box<dyn ExtraColumns>)>,
}

/// Columns an item's statement reads besides the item's own, and what they add to the
/// item's object.
pub trait ExtraColumns: Send + Sync {
    /// The expressions, in order.
    fn exprs(&self) -> Vec<String>;
    /// The join they need, if any.
    fn join(&self) -> &'static str;
    /// Adds what the row's columns from `first` on say to `item`.
    fn put(&self, row: &QueryResult, first: usize, item: &mut ItemObject) -> Result<()>;
}

impl ItemSelect {
    pub fn new(collection: Collection, visibility: Visibility, backend: DbBackend) -> Self {
        Self::projected(collection, visibility, backend, FieldSet::ALL)
    }

    /// Every field, with Markdown fields in `format` and (citations) the reference in
    /// `style`, if one is given.
    pub fn formatted(
        collection: Collection,
        visibility: Visibility,
        backend: DbBackend,
        format: TextFormat,
        style: Option<CitationStyle>,
    ) -> Self {
        Self::projected(
            collection,
            visibility,
            backend,
            FieldSet::ALL.in_format(format).in_style(style),
        )
    }

    /// Reads only `only` of the collection's own fields; objects lack the others. Preview
    /// readers ([`Visibility::All`]) get an item's draft where it has one.
    pub fn projected(
        collection: Collection,
        visibility: Visibility,
        backend: DbBackend,
        only: FieldSet,
    ) -> Self {
        Self::build(
            collection,
            visibility,
            backend,
            only,
            visibility == Visibility::All,
        )
    }

    /// Every field of every item as stored, drafts aside (exports).
    pub fn stored(collection: Collection, backend: DbBackend) -> Self {
        Self::build(collection, Visibility::All, backend, FieldSet::ALL, false)
    }

    /// Every field of every item as stored, and its draft apart ([`Self::draft`]): what
    /// writes start from.
    pub fn stored_with_draft(collection: Collection, backend: DbBackend) -> Self {
        let mut select = Self::build(collection, Visibility::All, backend, FieldSet::ALL, true);
        select.overlay = false;
        select
    }

    fn build(
        collection: Collection,
        visibility: Visibility,
        backend: DbBackend,
        only: FieldSet,
        drafts: bool,
    ) -> Self {
        let meta = only.has_meta();
        let common = if meta {
            &COMMON_FIELDS[..]
        } else {
            &COMMON_FIELDS[..2]
        };
        let mut exprs: Vec<String> = common.iter().map(|c| format!("t.{c}")).collect();
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
                FieldKind::Markdown(renditions) if only.format != TextFormat::Markdown => {
                    exprs.push(format!(
                        "t.{}",
                        renditions::column_for(field, renditions, only.format)
                    ));
                    aliases.push(Some(field.name));
                }
                FieldKind::Statistics if visibility == Visibility::PublishedOnly => {
                    exprs.push(visible_statistics(backend, field.column));
                    aliases.push(Some(field.name));
                }
                _ => {
                    exprs.push(format!("t.{}", field.column));
                    aliases.push(None);
                }
            }
        }
        let reference = only.style.filter(|_| collection == Collection::Citations);
        if let Some(style) = reference {
            exprs.push(stored_reference(backend, "t", style));
            aliases.push(None);
        }
        if drafts {
            joins.push_str(DRAFT_JOIN);
            for (expr, alias) in DRAFT_COLUMNS {
                exprs.push(expr.to_owned());
                aliases.push(Some(alias));
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
            meta,
            fields,
            reference,
            format: only.format,
            drafts,
            overlay: drafts,
            columns,
            exprs,
            joins,
            extra: None,
        }
    }

    /// Also reads `extra`'s columns, after the item's own, in the same statement.
    pub fn with_extra(mut self, extra: Box<dyn ExtraColumns>) -> Self {
        let exprs = extra.exprs();
        for expr in &exprs {
            self.columns.push_str(", ");
            self.columns.push_str(expr);
        }
        self.joins.push_str(extra.join());
        self.extra = Some((self.exprs.len(), extra));
        self.exprs.extend(exprs);
        self
    }

    pub fn collection(&self) -> Collection {
        self.collection
    }

    /// The alias a reference to `target` is joined as, if the select reads one.
    pub fn reference_alias(&self, target: Collection) -> Option<String> {
        let fields = self.collection.fields();
        let n = fields
            .iter()
            .position(|f| matches!(f.kind, FieldKind::Reference(t) if t == target))?;
        let read = self.fields.iter().any(|f| f.name == fields[n].name);
        read.then(|| format!("r{n}"))
    }

    /// The PostgreSQL type of each column, in order.
    pub fn column_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        static COMMON: [&str; 7] = [
            "uuid",
            "text",
            "text",
            "timestamptz",
            "timestamptz",
            "timestamptz",
            "bigint",
        ];
        let common = if self.meta { &COMMON[..] } else { &COMMON[..2] };
        common
            .iter()
            .copied()
            .chain(self.fields.iter().map(|f| match f.kind {
                FieldKind::Text
                | FieldKind::Markdown(_)
                | FieldKind::Enum(_)
                | FieldKind::Reference(_) => "text",
                FieldKind::Integer => "bigint",
                FieldKind::StringList | FieldKind::Statistics | FieldKind::Names { .. } => "jsonb",
                FieldKind::Timestamp => "timestamptz",
            }))
            .chain(self.reference.map(|_| "jsonb"))
            .chain(
                self.drafts
                    .then_some(["jsonb", "text", "bigint", "timestamptz"])
                    .into_iter()
                    .flatten(),
            )
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
        let id: Uuid = required(row, first)?;
        object.insert("id", Json::String(id.to_string()));
        object.insert("slug", Json::String(required(row, first + 1)?));
        let mut own = first + 2;
        if self.meta {
            object.insert("status", Json::String(required(row, first + 2)?));
            object.insert("published_at", timestamp(row.try_get_by_index(first + 3)?));
            if with_meta {
                object.insert("created_at", timestamp(row.try_get_by_index(first + 4)?));
                object.insert("updated_at", timestamp(row.try_get_by_index(first + 5)?));
                object.insert("version", Json::from(required::<i64>(row, first + 6)?));
            }
            own = first + COMMON_FIELDS.len();
        }
        for (n, field) in self.fields.iter().enumerate() {
            let at = own + n;
            let value = match field.kind {
                FieldKind::Text
                | FieldKind::Markdown(_)
                | FieldKind::Enum(_)
                | FieldKind::Reference(_) => {
                    column::<String>(row, at)?.map_or(Json::Null, Json::String)
                }
                FieldKind::Integer => column::<i64>(row, at)?.map_or(Json::Null, Json::from),
                FieldKind::StringList | FieldKind::Statistics | FieldKind::Names { .. } => row
                    .try_get_by_index::<Option<Json>>(at)?
                    .unwrap_or(Json::Array(vec![])),
                FieldKind::Timestamp => timestamp(row.try_get_by_index(at)?),
            };
            object.insert(field.name, value);
        }
        if let Some(style) = self.reference {
            let at = own + self.fields.len();
            let reference = row.try_get_by_index::<Option<Json>>(at)?;
            object.insert(reference_key(style), reference.unwrap_or(Json::Null));
        }
        if self.overlay
            && let Some(draft) = self.draft_at(row, first)?
        {
            self.overlay(&mut object, &draft, with_meta);
        }
        debug_assert!(self.extra.as_ref().is_none_or(|(at, _)| {
            *at == self.draft_column() + if self.drafts { DRAFT_COLUMNS.len() } else { 0 }
        }));
        review_status(self.collection, &mut object);
        if let Some((at, extra)) = &self.extra {
            extra.put(row, first + at, &mut object)?;
        }
        Ok(object)
    }
}

/// Sets a reviewed item's [`ReviewStatus`] from its reviewer (when it was read).
pub fn review_status(collection: Collection, object: &mut ItemObject) {
    if collection.reviewable()
        && let Some(reviewer) = object.get("reviewer")
    {
        let status = ReviewStatus::of(!reviewer.is_null());
        object.insert(REVIEW_STATUS, Json::from(status.as_str()));
    }
}

/// The key of a reviewed item's [`ReviewStatus`] in its object.
pub const REVIEW_STATUS: &str = "review_status";

/// Whether readers are shown who medically reviewed an item: `reviewed` when it names a
/// reviewer they may see, else `unreviewed` (published so under the `optional` policy, or
/// its reviewer is no longer shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Reviewed,
    Unreviewed,
}

impl ReviewStatus {
    pub const NAMES: &[&str] = &["reviewed", "unreviewed"];

    pub fn of(has_reviewer: bool) -> Self {
        if has_reviewer {
            ReviewStatus::Reviewed
        } else {
            ReviewStatus::Unreviewed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Reviewed => "reviewed",
            ReviewStatus::Unreviewed => "unreviewed",
        }
    }
}

/// The key of a citation's reference in `style` in its object, when its [`FieldSet`]
/// asks for one: `{text, html}`, or null when it has none.
pub fn reference_key(style: CitationStyle) -> &'static str {
    match style {
        CitationStyle::Ama => "formatted:ama",
        CitationStyle::Apa => "formatted:apa",
        CitationStyle::Vancouver => "formatted:vancouver",
    }
}

/// The stored reference in `style` of the citation on `alias`, as JSON (the style's name
/// is the enum's own, never a client's text).
pub fn stored_reference(backend: DbBackend, alias: &str, style: CitationStyle) -> String {
    match backend {
        DbBackend::Postgres => format!("{alias}.formatted -> '{}'", style.as_str()),
        _ => format!("json_extract({alias}.formatted, '$.{}')", style.as_str()),
    }
}

/// Statistics as a reader sees them: a cited citation the reader cannot see reads as
/// null, as a reference to it would.
fn visible_statistics(backend: DbBackend, column: &str) -> String {
    let hidden = |slug: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM {} c WHERE c.slug = {slug} AND {})",
            Collection::Citations.table(),
            Visibility::PublishedOnly.status_filter("c"),
        )
    };
    match backend {
        DbBackend::Postgres => format!(
            "(SELECT COALESCE(jsonb_agg(CASE WHEN jsonb_typeof(e.s->'citation') = 'string' \
             AND {} THEN jsonb_set(e.s, '{{citation}}', 'null') ELSE e.s END ORDER BY e.n), \
             '[]'::jsonb) FROM jsonb_array_elements(t.{column}) WITH ORDINALITY AS e(s, n))",
            hidden("e.s->>'citation'")
        ),
        _ => format!(
            "(SELECT json_group_array(CASE WHEN json_type(e.value, '$.citation') = 'text' \
             AND {} THEN json_set(e.value, '$.citation', NULL) ELSE json(e.value) END) \
             FROM (SELECT value FROM json_each(t.{column}) ORDER BY key) e)",
            hidden("json_extract(e.value, '$.citation')")
        ),
    }
}

/// The items of `collection` named by `slugs` that `visibility` shows, by slug, with
/// `fields` (one statement).
pub async fn by_slugs(
    db: &sea_orm::DatabaseConnection,
    collection: Collection,
    visibility: Visibility,
    slugs: &[String],
    fields: FieldSet,
) -> Result<Vec<(String, ItemObject)>> {
    use sea_orm::ConnectionTrait;
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let select = ItemSelect::projected(collection, visibility, db.get_database_backend(), fields);
    let mut sql = SqlBuilder::new(db.get_database_backend());
    select.push_select(&mut sql);
    sql.push(" WHERE t.slug IN ")
        .bind_list(slugs.iter().cloned())
        .push(&format!(" AND {}", visibility.status_filter("t")));
    let mut found = Vec::with_capacity(slugs.len());
    for row in db.query_all_raw(sql.build()).await? {
        let item = select.object(&row, true)?;
        if let Some(Json::String(slug)) = item.get("slug") {
            found.push((slug.clone(), item));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_set_keeps_references_and_the_chosen_fields() {
        let set = FieldSet::matching(Collection::Articles, |name| name == "title");
        let select = ItemSelect::projected(
            Collection::Articles,
            Visibility::PublishedOnly,
            DbBackend::Sqlite,
            set,
        );
        let names: Vec<&str> = select.fields.iter().map(|f| f.name).collect();
        assert_eq!(names, ["title", "author", "reviewer", "publisher"]);
        assert!(select.columns.starts_with("t.id, t.slug, t.title, "));
        assert!(!select.columns.contains("t.body"));
        assert!(!select.columns.contains("t.status"));
        let dated = FieldSet::matching(Collection::Articles, |name| name == "updated_at");
        let select = ItemSelect::projected(
            Collection::Articles,
            Visibility::PublishedOnly,
            DbBackend::Sqlite,
            dated,
        );
        assert!(
            select
                .columns
                .starts_with("t.id, t.slug, t.status, t.published_at")
        );
        let all = ItemSelect::new(
            Collection::Articles,
            Visibility::PublishedOnly,
            DbBackend::Sqlite,
        );
        assert_eq!(all.fields.len(), Collection::Articles.fields().len());
    }
}
