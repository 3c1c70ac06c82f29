//! Resolving a validated document against the database: references, link targets and
//! cited citations by slug → id (any status: drafts may link to drafts), with every
//! unknown slug reported at its pointer.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, Value};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::document::{Document, link_relations, server_fields};
use crate::domain::evidence::Evidence;
use crate::domain::names;
use crate::domain::relations::Relation;
use crate::domain::validate::{self, cited_citations};
use crate::domain::{Collection, Field, FieldKind};
use crate::error::{FieldError, Result};
use crate::service::renditions;
use crate::service::sql::SqlBuilder;

/// A linked item's id, the link's note and, for a claim, its evidence with the ids of
/// the citations behind it (in order).
pub struct LinkTarget {
    pub id: Uuid,
    pub note: Option<String>,
    pub evidence: Option<(Evidence, Vec<Uuid>)>,
}

/// A validated document with every slug resolved to an id, ready to bind.
pub struct Resolved {
    /// `(column, value)` for every writable field.
    pub columns: Vec<(&'static str, Value)>,
    /// Link sets present in the document, each in order.
    pub links: Vec<(Relation, Vec<LinkTarget>)>,
}

/// Resolves references, link targets and cited citations (any status: drafts may link
/// to drafts); an unknown slug is a violation at its pointer.
///
/// With `only`, references, citation statistics and link sets not named there are left
/// out of the result (their stored values stand: an edit that changes a summary looks
/// up none of the item's links again).
pub async fn resolve(
    conn: &impl ConnectionTrait,
    collection: Collection,
    document: &Document,
    self_id: Option<Uuid>,
    only: Option<&HashSet<&str>>,
) -> Result<Result<Resolved, Vec<FieldError>>> {
    let wanted_field = |name: &str| only.is_none_or(|names| names.contains(name));
    let relations: Vec<_> = link_relations(collection)
        .into_iter()
        .filter(|relation| wanted_field(relation.name))
        .collect();
    let mut ids = Known::new();
    for (target, slugs) in wanted_slugs(collection, document, &wanted_field, &relations) {
        ids.insert(target, lookup(conn, target, &slugs).await?);
    }
    let mut errors = Vec::new();
    let slug = document
        .get("slug")
        .and_then(Json::as_str)
        .map(str::to_owned);
    let mut columns = vec![("slug", Value::from(slug))];
    let mut rendered_all = true;
    for field in collection.fields() {
        if server_fields(collection).contains(&field.name) {
            continue;
        }
        // Rendering is the costly part of a write: an unchanged Markdown field keeps
        // its stored renditions.
        let derived = matches!(
            field.kind,
            FieldKind::Reference(_) | FieldKind::Statistics | FieldKind::Markdown(_)
        );
        if derived && !wanted_field(field.name) {
            rendered_all &= !matches!(field.kind, FieldKind::Markdown(_));
            continue;
        }
        let value = document.get(field.name).filter(|v| !v.is_null());
        if let FieldKind::Markdown(kinds) = field.kind {
            columns.extend(renditions::rendered_columns(
                kinds,
                value.and_then(Json::as_str),
            ));
        }
        columns.push((field.column, bind_field(field, value, &ids, &mut errors)));
        if let FieldKind::Names { text } = field.kind {
            let names = value.map(names::stored).unwrap_or_default();
            columns.push((text, Value::from(names::search_text(&names))));
        }
        if let Some(unique) = collection
            .unique_fields()
            .iter()
            .find(|u| u.field == field.name && u.derived())
        {
            let key = value.and_then(Json::as_str).and_then(unique.key);
            columns.push((unique.column, Value::from(key)));
        }
    }
    if collection == Collection::Citations {
        // References follow from every field: made again on any change.
        columns.extend(crate::service::references::columns(&|f| document.get(f)));
    }
    if rendered_all && renditions::markdown_fields(collection).next().is_some() {
        columns.push(renditions::rendered_with());
    }
    let links = link_targets(relations, document, &ids, self_id, &mut errors);
    Ok(if errors.is_empty() {
        Ok(Resolved { columns, links })
    } else {
        Err(errors)
    })
}

/// Items found by slug, per collection: id and (for authors) credentials.
type Known = HashMap<Collection, HashMap<String, (Uuid, Option<String>)>>;

fn known<'a>(ids: &'a Known, target: Collection, slug: &str) -> Option<&'a (Uuid, Option<String>)> {
    ids.get(&target).and_then(|m| m.get(slug))
}

/// Every slug the document names, per collection: references, cited citations and the
/// targets of the link sets in `relations`.
fn wanted_slugs(
    collection: Collection,
    document: &Document,
    wanted_field: &dyn Fn(&str) -> bool,
    relations: &[Relation],
) -> HashMap<Collection, HashSet<String>> {
    let mut wanted: HashMap<Collection, HashSet<String>> = HashMap::new();
    for field in collection.fields() {
        if !wanted_field(field.name) {
            continue;
        }
        match (field.kind, document.get(field.name)) {
            (FieldKind::Reference(target), Some(Json::String(slug))) => {
                wanted.entry(target).or_default().insert(slug.clone());
            }
            (FieldKind::Statistics, Some(value)) => wanted
                .entry(Collection::Citations)
                .or_default()
                .extend(cited_citations(value)),
            _ => {}
        }
    }
    for relation in relations {
        for slug in link_slugs(document.get(relation.name)) {
            wanted
                .entry(relation.to)
                .or_default()
                .insert(slug.to_owned());
        }
        let evidence = entries(document.get(relation.name)).filter_map(|e| e.get("evidence"));
        for cited in evidence
            .filter_map(|e| e.get("citations"))
            .filter_map(Json::as_array)
        {
            wanted
                .entry(Collection::Citations)
                .or_default()
                .extend(cited.iter().filter_map(Json::as_str).map(str::to_owned));
        }
    }
    wanted
}

/// A field's value as its column takes it; an unknown reference or cited citation, or a
/// reviewer without credentials, is an error at the field's pointer.
fn bind_field(
    field: &Field,
    value: Option<&Json>,
    ids: &Known,
    errors: &mut Vec<FieldError>,
) -> Value {
    let pointer = format!("/{}", field.name);
    match (field.kind, value) {
        (FieldKind::Reference(target), Some(Json::String(slug))) => {
            match known(ids, target, slug) {
                Some((id, credentials)) => {
                    if field.name == "reviewer" && credentials.as_deref().is_none_or(str::is_empty)
                    {
                        errors.push(FieldError::new(
                            pointer,
                            format!("{slug:?} has no credentials; a medical reviewer needs them"),
                        ));
                    }
                    Value::from(Some(*id))
                }
                None => {
                    errors.push(FieldError::new(
                        pointer,
                        format!("unknown {} {slug:?}", target.singular()),
                    ));
                    Value::from(Option::<Uuid>::None)
                }
            }
        }
        (FieldKind::Reference(_), _) => Value::from(Option::<Uuid>::None),
        (FieldKind::Statistics, Some(stats)) => {
            for (i, stat) in stats.as_array().into_iter().flatten().enumerate() {
                if let Some(slug) = stat.get("citation").and_then(Json::as_str)
                    && known(ids, Collection::Citations, slug).is_none()
                {
                    errors.push(FieldError::new(
                        format!("{pointer}/{i}/citation"),
                        format!("unknown citation {slug:?}"),
                    ));
                }
            }
            Value::from(stats.clone())
        }
        (FieldKind::Names { .. }, v) => {
            let names = v.map(names::stored).unwrap_or_default();
            Value::from(Json::Array(names.iter().map(|n| n.to_json()).collect()))
        }
        (FieldKind::Statistics | FieldKind::StringList, None) => Value::from(json!([])),
        (FieldKind::StringList, Some(list)) => Value::from(list.clone()),
        (FieldKind::Integer, v) => Value::from(v.and_then(Json::as_i64)),
        (FieldKind::Timestamp, v) => Value::from(
            v.and_then(Json::as_str)
                .and_then(|s| validate::parse_timestamp(s).ok()),
        ),
        (FieldKind::Text | FieldKind::Markdown(_) | FieldKind::Enum(_), v) => {
            Value::from(v.and_then(Json::as_str).map(str::to_owned))
        }
    }
}

/// The link sets the document gives, as target ids with notes; an unknown target or a
/// link to the item itself is an error at the entry's pointer.
fn link_targets(
    relations: Vec<Relation>,
    document: &Document,
    ids: &Known,
    self_id: Option<Uuid>,
    errors: &mut Vec<FieldError>,
) -> Vec<(Relation, Vec<LinkTarget>)> {
    let mut links = Vec::new();
    for relation in relations {
        let Some(list) = document.get(relation.name) else {
            continue;
        };
        let mut targets = Vec::new();
        for (i, entry) in list.as_array().into_iter().flatten().enumerate() {
            let slug = entry.get("slug").and_then(Json::as_str).unwrap_or_default();
            let note = entry.get("note").and_then(Json::as_str).map(str::to_owned);
            let at = format!("/{}/{i}", relation.name);
            let evidence = claim_evidence(&at, entry.get("evidence"), ids, errors);
            match known(ids, relation.to, slug) {
                Some((id, _)) if Some(*id) == self_id => errors.push(FieldError::new(
                    format!("/{}/{i}", relation.name),
                    "an item cannot be linked to itself",
                )),
                Some((id, _)) => targets.push(LinkTarget {
                    id: *id,
                    note,
                    evidence,
                }),
                None => errors.push(FieldError::new(
                    format!("/{}/{i}", relation.name),
                    format!("unknown {} {slug:?}", relation.to.singular()),
                )),
            }
        }
        links.push((relation, targets));
    }
    links
}

/// A normalized entry's evidence with its citations' ids; an unknown citation is an
/// error at its pointer.
fn claim_evidence(
    at: &str,
    value: Option<&Json>,
    ids: &Known,
    errors: &mut Vec<FieldError>,
) -> Option<(Evidence, Vec<Uuid>)> {
    let evidence = Evidence::parse(&format!("{at}/evidence"), value?).ok()??;
    let mut cited = Vec::with_capacity(evidence.citations.len());
    for (j, slug) in evidence.citations.iter().enumerate() {
        match known(ids, Collection::Citations, slug) {
            Some((id, _)) => cited.push(*id),
            None => errors.push(FieldError::new(
                format!("{at}/evidence/citations/{j}"),
                format!("unknown citation {slug:?}"),
            )),
        }
    }
    Some((evidence, cited))
}

fn entries(value: Option<&Json>) -> impl Iterator<Item = &Json> {
    value.and_then(Json::as_array).into_iter().flatten()
}

fn link_slugs(value: Option<&Json>) -> impl Iterator<Item = &str> {
    entries(value).filter_map(|entry| entry.get("slug").and_then(Json::as_str))
}

/// slug → (id, credentials for authors) for the `slugs` that exist in `collection`.
async fn lookup(
    conn: &impl ConnectionTrait,
    collection: Collection,
    slugs: &HashSet<String>,
) -> Result<HashMap<String, (Uuid, Option<String>)>> {
    if slugs.is_empty() {
        return Ok(HashMap::new());
    }
    let credentials = if collection == Collection::Authors {
        "credentials"
    } else {
        "CAST(NULL AS TEXT)"
    };
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT slug, id, {credentials} AS credentials FROM {} WHERE slug IN ",
        collection.table()
    ));
    sql.bind_list(slugs.iter().cloned());
    let mut out = HashMap::new();
    for row in conn.query_all_raw(sql.build()).await? {
        out.insert(
            row.try_get("", "slug")?,
            (row.try_get("", "id")?, row.try_get("", "credentials")?),
        );
    }
    Ok(out)
}
