//! Row-level validation of interchange lines: syntax, required fields, types, enums,
//! slugs. References are only collected here; they are resolved against the database in
//! batches by the importer.

use chrono::{DateTime, Utc};
use entity::json::Statistic;
use sea_orm::Value;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::domain::evidence::Evidence;
use crate::domain::{Collection, Field, FieldKind, LinkSpec, Slug, Status, validate};

/// A field value ready to bind, or a reference still to resolve.
#[derive(Debug)]
pub enum FieldValue {
    Ready(Value),
    Reference {
        target: Collection,
        slug: Option<String>,
    },
}

#[derive(Debug)]
pub struct ItemRow {
    pub line: usize,
    pub id: Option<Uuid>,
    pub slug: String,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    /// As exported: a new item keeps them (a restore reproduces the backup); a changed
    /// one gets a new version and the import's time instead.
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub version: Option<i64>,
    pub values: Vec<FieldValue>,
    /// Citation slugs named by condition statistics; they must exist.
    pub cited: Vec<String>,
}

#[derive(Debug)]
pub struct LinkRow {
    pub line: usize,
    pub left: String,
    pub right: String,
    pub note: Option<String>,
    /// The link's place in its editorial order (0 when the row gives none).
    pub position: i32,
    /// A claim's evidence (only claim links carry it).
    pub evidence: Option<Evidence>,
}

/// One entry of an inline mention list: the slug and the link's note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub slug: String,
    pub note: Option<String>,
}

/// An article's inline mention lists, one per inline link (in `Collection::inline_links`
/// order).
#[derive(Debug)]
pub struct InlineRow {
    pub line: usize,
    pub slug: String,
    pub lists: Vec<Vec<Mention>>,
}

fn object(line: &str) -> Result<Map<String, Json>, String> {
    match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(format!("malformed JSON: {e}")),
    }
}

fn check_keys<'a>(
    map: &Map<String, Json>,
    allowed: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    let allowed: Vec<&str> = allowed.collect();
    match map.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!("unknown field {key:?}")),
        None => Ok(()),
    }
}

fn slug_at(map: &Map<String, Json>, key: &str) -> Result<String, String> {
    match map.get(key) {
        Some(Json::String(s)) => Slug::parse(s)
            .map(Slug::into_string)
            .map_err(|e| format!("field {key:?}: {e}")),
        None | Some(Json::Null) => Err(format!("field {key:?} is required")),
        Some(_) => Err(format!("field {key:?} must be a string")),
    }
}

fn optional_string(map: &Map<String, Json>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("field {key:?} must be a string or null")),
    }
}

fn timestamp(key: &str, text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("field {key:?}: {text:?} is not an RFC 3339 timestamp"))
}

pub fn parse_item(collection: Collection, line_no: usize, line: &str) -> Result<ItemRow, String> {
    parse_item_object(collection, line_no, object(line)?)
}

/// [`parse_item`] for a row already read as an object.
pub fn parse_item_object(
    collection: Collection,
    line_no: usize,
    mut map: Map<String, Json>,
) -> Result<ItemRow, String> {
    if collection == Collection::Citations
        && let Some(error) = crate::domain::citation::normalize(&mut map).first()
    {
        return Err(format!(
            "field {:?} {}",
            error.pointer.trim_start_matches('/'),
            error.detail
        ));
    }
    // Every item field as exported, read-only ones included: a restore keeps them.
    check_keys(
        &map,
        crate::domain::model::COMMON_FIELDS
            .into_iter()
            .chain(collection.fields().iter().map(|f| f.name))
            .chain(collection.inline_links().filter_map(|l| l.inline)),
    )?;
    let slug = slug_at(&map, "slug")?;
    Slug::parse_for(collection, &slug).map_err(|e| format!("field \"slug\": {e}"))?;
    let id = optional_string(&map, "id")?
        .map(|text| {
            Uuid::parse_str(&text).map_err(|_| format!("field \"id\": {text:?} is not a UUID"))
        })
        .transpose()?;
    let status = match optional_string(&map, "status")? {
        None => Status::Published,
        Some(text) => Status::parse(&text).ok_or_else(|| {
            format!(
                "field \"status\": {text:?} is not one of {}",
                Status::NAMES.join(", ")
            )
        })?,
    };
    let [published_at, created_at, updated_at] =
        ["published_at", "created_at", "updated_at"].map(|name| {
            optional_string(&map, name)?
                .map(|text| timestamp(name, &text))
                .transpose()
        });
    let (published_at, created_at, updated_at) = (published_at?, created_at?, updated_at?);
    if let (Some(created), Some(updated)) = (created_at, updated_at)
        && updated < created
    {
        return Err("field \"updated_at\" is before \"created_at\"".into());
    }
    let version = match map.get("version") {
        None | Some(Json::Null) => None,
        Some(v) => match v.as_i64().filter(|n| *n >= 1) {
            Some(n) => Some(n),
            None => return Err("field \"version\" must be a whole number of at least 1".into()),
        },
    };
    let mut cited = Vec::new();
    let values = collection
        .fields()
        .iter()
        .map(|field| parse_field(field, map.get(field.name), &mut cited))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ItemRow {
        line: line_no,
        id,
        slug,
        status,
        published_at,
        created_at,
        updated_at,
        version,
        values,
        cited,
    })
}

fn parse_field(
    field: &Field,
    value: Option<&Json>,
    cited: &mut Vec<String>,
) -> Result<FieldValue, String> {
    let name = field.name;
    let value = value.filter(|v| !v.is_null());
    // The same field rules as the write APIs.
    if let Some(value) = value
        && let Some((pointer, detail)) = validate::check_value(field, value).into_iter().next()
    {
        return Err(format!("field \"{name}{pointer}\" {detail}"));
    }
    let blank = matches!(value, Some(Json::String(s)) if s.trim().is_empty());
    if field.required && (value.is_none() || blank) {
        return Err(format!("field {name:?} is required"));
    }
    let ready = |v: Value| Ok(FieldValue::Ready(v));
    match (field.kind, value) {
        (FieldKind::Text | FieldKind::Markdown(_), None) => ready(Option::<String>::None.into()),
        (FieldKind::Text | FieldKind::Markdown(_), Some(Json::String(s))) => {
            ready(s.clone().into())
        }
        (FieldKind::Text | FieldKind::Markdown(_), Some(_)) => {
            Err(format!("field {name:?} must be a string"))
        }
        (FieldKind::Integer, None) => ready(Option::<i64>::None.into()),
        (FieldKind::Integer, Some(Json::Number(n))) => match n.as_i64() {
            Some(i) if i >= 0 => ready(i.into()),
            _ => Err(format!("field {name:?} must be a non-negative integer")),
        },
        (FieldKind::Integer, Some(_)) => Err(format!("field {name:?} must be an integer")),
        (FieldKind::Enum(_), None) => ready(Option::<String>::None.into()),
        (FieldKind::Enum(allowed), Some(Json::String(s))) if allowed.contains(&s.as_str()) => {
            ready(s.clone().into())
        }
        (FieldKind::Enum(allowed), Some(other)) => Err(format!(
            "field {name:?}: {other} is not one of {}",
            allowed.join(", ")
        )),
        (FieldKind::StringList, None) => ready(Json::Array(vec![]).into()),
        (FieldKind::StringList, Some(Json::Array(items))) if items.iter().all(Json::is_string) => {
            ready(Json::Array(items.clone()).into())
        }
        (FieldKind::StringList, Some(_)) => {
            Err(format!("field {name:?} must be a list of strings"))
        }
        (FieldKind::Names { .. }, None) => ready(Json::Array(vec![]).into()),
        (FieldKind::Names { .. }, Some(json)) => {
            let names: Vec<Json> = crate::domain::names::stored(json)
                .iter()
                .map(|name| name.to_json())
                .collect();
            ready(Json::Array(names).into())
        }
        (FieldKind::Statistics, None) => ready(Json::Array(vec![]).into()),
        (FieldKind::Statistics, Some(json)) => {
            let stats: Vec<Statistic> =
                serde_json::from_value(json.clone()).map_err(|e| format!("field {name:?}: {e}"))?;
            for stat in &stats {
                if let Some(citation) = &stat.citation {
                    Slug::parse(citation).map_err(|e| format!("field {name:?}: {e}"))?;
                    cited.push(citation.clone());
                }
            }
            let normalized = serde_json::to_value(&stats).map_err(|e| e.to_string())?;
            ready(normalized.into())
        }
        (FieldKind::Reference(target), None) => Ok(FieldValue::Reference { target, slug: None }),
        (FieldKind::Reference(target), Some(Json::String(s))) => {
            let slug = Slug::parse(s).map_err(|e| format!("field {name:?}: {e}"))?;
            Ok(FieldValue::Reference {
                target,
                slug: Some(slug.into_string()),
            })
        }
        (FieldKind::Reference(_), Some(_)) => Err(format!("field {name:?} must be a slug")),
        (FieldKind::Timestamp, None) => ready(Option::<DateTime<Utc>>::None.into()),
        (FieldKind::Timestamp, Some(Json::String(s))) => ready(Some(timestamp(name, s)?).into()),
        (FieldKind::Timestamp, Some(_)) => Err(format!("field {name:?} must be a timestamp")),
    }
}

pub fn parse_link(link: &LinkSpec, line_no: usize, line: &str) -> Result<LinkRow, String> {
    let map = object(line)?;
    let (left_key, right_key) = (link.left_key(), link.right_key());
    let evidence_key = link.claim.map(|_| "evidence");
    check_keys(
        &map,
        [left_key, right_key, "note", "position"]
            .into_iter()
            .chain(evidence_key),
    )?;
    let position = match map.get("position") {
        None | Some(Json::Null) => 0,
        Some(Json::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("field \"position\": {n} is not a non-negative integer"))?,
        Some(_) => return Err("field \"position\" must be a non-negative integer".into()),
    };
    let evidence = match map.get("evidence") {
        Some(value) => Evidence::parse("", value).map_err(|errors| {
            let found: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.pointer, e.detail).trim().to_owned())
                .collect();
            format!("field \"evidence\": {}", found.join("; "))
        })?,
        None => None,
    };
    Ok(LinkRow {
        evidence,
        line: line_no,
        left: slug_at(&map, left_key)?,
        right: slug_at(&map, right_key)?,
        note: note(optional_string(&map, "note")?, "note")?,
        position,
    })
}

fn note(note: Option<String>, key: &str) -> Result<Option<String>, String> {
    note.map(|note| {
        crate::domain::validate::check_note(&note)
            .map(|()| note)
            .map_err(|e| format!("field {key:?} {e}"))
    })
    .transpose()
}

/// Reads only the slug and inline lists of an article line that already passed
/// [`parse_item`].
pub fn parse_inline(
    collection: Collection,
    line_no: usize,
    line: &str,
) -> Result<InlineRow, String> {
    let map = object(line)?;
    let slug = slug_at(&map, "slug")?;
    let lists = collection
        .inline_links()
        .map(|link| {
            let key = link.inline.unwrap_or_default();
            match map.get(key) {
                None | Some(Json::Null) => Ok(vec![]),
                Some(Json::Array(items)) => {
                    let mut mentions: Vec<Mention> = Vec::with_capacity(items.len());
                    for item in items {
                        let mention = mention(key, item)?;
                        if mentions.iter().any(|m| m.slug == mention.slug) {
                            return Err(format!("field {key:?} lists {:?} twice", mention.slug));
                        }
                        mentions.push(mention);
                    }
                    Ok(mentions)
                }
                Some(_) => Err(format!("field {key:?} must be a list of slugs")),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(InlineRow {
        line: line_no,
        slug,
        lists,
    })
}

/// An inline list's entry: a slug, or `{"slug": …, "note": …}` for a link with a note.
fn mention(key: &str, item: &Json) -> Result<Mention, String> {
    let (slug, note_text) = match item {
        Json::String(slug) => (slug.as_str(), None),
        Json::Object(entry) => {
            check_keys(entry, ["slug", "note"].into_iter())
                .map_err(|e| format!("field {key:?}: {e}"))?;
            let slug = entry
                .get("slug")
                .and_then(Json::as_str)
                .ok_or_else(|| format!("field {key:?}: an entry needs its \"slug\""))?;
            let note_text = optional_string(entry, "note").map_err(|e| format!("{key:?}: {e}"))?;
            (slug, note_text)
        }
        _ => return Err(format!("field {key:?} must be a list of slugs")),
    };
    let slug = Slug::parse(slug).map_err(|e| format!("field {key:?}: {e}"))?;
    Ok(Mention {
        slug: slug.into_string(),
        note: note(note_text, &format!("{key}.note"))?,
    })
}
