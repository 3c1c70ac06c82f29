//! What blocks a publication (unpublished references, an article without a medical
//! reviewer) or a hard delete (published items pointing at the item).

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value as Json;
use uuid::Uuid;

use super::document::Current;
use crate::config::MedicalReview;
use crate::domain::model::LINKS;
use crate::domain::relations::{RelationKind, relations};
use crate::domain::{Collection, FieldKind, Status};
use crate::error::{FieldError, Result};
use crate::service::Visibility;
use crate::service::editing::document::stored_status;
use crate::service::sql::SqlBuilder;

/// Why an item cannot be published: unpublished references and cited citations, and
/// for articles a missing medical reviewer where the policy requires one.
pub async fn publish_blockers(
    txn: &DatabaseTransaction,
    collection: Collection,
    stored: &Current,
    policy: MedicalReview,
) -> Result<Vec<FieldError>> {
    let mut blockers = Vec::new();
    let reviewer = stored.item.get("reviewer").and_then(Json::as_str);
    if let Some(reason) = missing_reviewer(collection, reviewer.is_some(), policy) {
        blockers.push(FieldError::new("/reviewer", reason));
    }
    // Link sets are not part of the stored item: their claims' citations count too.
    let links = super::document::editable(txn, collection, stored).await?;
    let get = |name: &str| stored.item.get(name).or_else(|| links.get(name));
    blockers.extend(unpublished_references(txn, collection, &get, &|_| true).await?);
    Ok(blockers)
}

/// Why `collection`'s item cannot be published for want of a medical reviewer, if so:
/// articles need one unless the deployment's policy lets them go without.
pub fn missing_reviewer(
    collection: Collection,
    has_reviewer: bool,
    policy: MedicalReview,
) -> Option<&'static str> {
    (collection == Collection::Articles && !has_reviewer && policy == MedicalReview::Required)
        .then_some(
            "an article needs a medical reviewer (an author with credentials) before it is \
             published (the deployment's medical-review policy is `required`)",
        )
}

/// The references and cited citations among the fields `wanted` picks that name an item
/// which is not published: what a published item may not point at.
pub async fn unpublished_references<'a>(
    txn: &DatabaseTransaction,
    collection: Collection,
    get: &(dyn Fn(&str) -> Option<&'a Json> + Sync),
    wanted_field: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<FieldError>> {
    let mut wanted: Vec<(String, Collection, String)> = Vec::new();
    for field in collection.fields() {
        if !wanted_field(field.name) {
            continue;
        }
        match (field.kind, get(field.name)) {
            (FieldKind::Reference(target), Some(Json::String(slug))) => {
                wanted.push((format!("/{}", field.name), target, slug.clone()));
            }
            (FieldKind::Statistics, Some(Json::Array(stats))) => {
                for (i, stat) in stats.iter().enumerate() {
                    if let Some(slug) = stat.get("citation").and_then(Json::as_str) {
                        wanted.push((
                            format!("/statistics/{i}/citation"),
                            Collection::Citations,
                            slug.to_owned(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    for relation in relations(collection) {
        if relation.makes_claims() && wanted_field(relation.name) {
            wanted.extend(claim_citations(relation.name, get(relation.name)));
        }
    }
    let mut blockers = Vec::new();
    for (pointer, target, slug) in wanted {
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "SELECT status FROM {} WHERE slug = ",
            target.table()
        ))
        .bind(slug.clone());
        let status: Option<Status> = match txn.query_one_raw(sql.build()).await? {
            Some(row) => Some(stored_status(&row.try_get::<String>("", "status")?)?),
            None => None,
        };
        if !status.is_some_and(Status::is_public) {
            blockers.push(FieldError::new(
                pointer,
                format!(
                    "{} {slug:?} is {}; publish it first",
                    target.singular(),
                    status.map_or("missing", Status::as_str)
                ),
            ));
        }
    }
    Ok(blockers)
}

/// The citations a link set's claims cite: (pointer, citations, slug).
fn claim_citations(name: &str, links: Option<&Json>) -> Vec<(String, Collection, String)> {
    let mut cited = Vec::new();
    for (i, entry) in links
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let slugs = entry
            .get("evidence")
            .and_then(|e| e.get("citations"))
            .and_then(Json::as_array);
        for (j, slug) in slugs.into_iter().flatten().enumerate() {
            if let Some(slug) = slug.as_str() {
                cited.push((
                    format!("/{name}/{i}/evidence/citations/{j}"),
                    Collection::Citations,
                    slug.to_owned(),
                ));
            }
        }
    }
    cited
}

/// The claims that cite a citation (whatever their status): it may not be deleted while
/// they do.
async fn citing_claims(txn: &DatabaseTransaction, id: Uuid) -> Result<Vec<FieldError>> {
    let mut blockers = Vec::new();
    for link in LINKS {
        let Some(claim) = link.claim else { continue };
        let (left, right) = (link.left_column, link.right_column);
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!(
            "SELECT a.slug AS left_slug, b.slug AS right_slug FROM {} e \
             JOIN {} a ON a.id = e.{left} JOIN {} b ON b.id = e.{right} WHERE e.citation_id = ",
            claim.citations,
            link.left.table(),
            link.right.table()
        ))
        .bind(id)
        .push(" ORDER BY a.slug, b.slug LIMIT 10");
        for row in txn.query_all_raw(sql.build()).await? {
            let (a, b): (String, String) = (
                row.try_get("", "left_slug")?,
                row.try_get("", "right_slug")?,
            );
            blockers.push(FieldError::new(
                "/evidence",
                format!(
                    "the claim {} {a:?} → {} {b:?} cites it as evidence; change that claim first",
                    link.left.singular(),
                    link.right.singular()
                ),
            ));
        }
    }
    Ok(blockers)
}

/// What points at an item that is about to be deleted: links from published items
/// (cleared when `cascade_links`), and references (an item naming it as a required
/// reference always blocks; a published item naming it as an optional one blocks
/// unless `cascade_links`, which clears that reference).
pub async fn inbound_blockers(
    txn: &DatabaseTransaction,
    collection: Collection,
    id: Uuid,
    cascade_links: bool,
) -> Result<Vec<FieldError>> {
    let mut blockers = if collection == Collection::Citations {
        citing_claims(txn, id).await?
    } else {
        Vec::new()
    };
    for relation in relations(collection) {
        let mut referencing_field = "";
        let (sql_text, required) = match relation.kind {
            RelationKind::Link {
                link,
                parent_column,
                child_column,
            } if !cascade_links => (
                format!(
                    "SELECT o.slug FROM {} l JOIN {} o ON o.id = l.{child_column} \
                     WHERE {} AND l.{parent_column} = ",
                    link.table,
                    relation.to.table(),
                    Visibility::PublishedOnly.status_filter("o"),
                ),
                false,
            ),
            RelationKind::ToMany { column } => {
                let required = relation
                    .to
                    .fields()
                    .iter()
                    .any(|f| f.column == column && f.required);
                referencing_field = relation
                    .to
                    .fields()
                    .iter()
                    .find(|f| f.column == column)
                    .map_or(column, |f| f.name);
                if !required && cascade_links {
                    continue;
                }
                let published = if required {
                    String::new()
                } else {
                    format!("{} AND ", Visibility::PublishedOnly.status_filter("o"))
                };
                (
                    format!(
                        "SELECT o.slug FROM {} o WHERE {published}o.{column} = ",
                        relation.to.table()
                    ),
                    required,
                )
            }
            _ => continue,
        };
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&sql_text)
            .bind(id)
            .push(" ORDER BY o.slug LIMIT 10");
        for row in txn.query_all_raw(sql.build()).await? {
            let slug: String = row.try_get("", "slug")?;
            let detail = if required {
                format!(
                    "{} {slug:?} names this {} as its {}; change that first",
                    relation.to.singular(),
                    collection.singular(),
                    referencing_field
                )
            } else {
                format!("published {} {slug:?} links to it", relation.to.singular())
            };
            blockers.push(FieldError::new(format!("/{}", relation.name), detail));
        }
    }
    Ok(blockers)
}
