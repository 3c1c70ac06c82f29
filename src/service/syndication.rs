//! Syndication terms on every item read: the deployment's terms, the article's publisher's
//! own where it states them, and each item's canonical page. Read in one statement per
//! response (the terms row and the publishers the articles name); edited by admins.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Value};
use serde_json::{Map, Value as Json};

use crate::domain::Collection;
use crate::domain::syndication::{DEPLOYMENT_TERMS, PUBLISHER_OVERRIDES, Syndication, Terms};
use crate::error::{AppError, Result};
use crate::service::cache::ReadCache;
use crate::service::item::ItemObject;
use crate::service::sql::{SqlBuilder, column, required};

/// The cache tag of every response showing the terms.
pub const TAG: &str = "syndication";

/// The key items carry the terms under.
pub const KEY: &str = "syndication";

/// The columns of the terms row, in [`DEPLOYMENT_TERMS`] order.
fn term_columns() -> String {
    DEPLOYMENT_TERMS.map(|(name, _)| name).join(", ")
}

/// The deployment's terms.
pub async fn terms(db: &impl ConnectionTrait) -> Result<Terms> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT {} FROM syndication WHERE id = 1",
        term_columns()
    ));
    let row = db.query_one_raw(sql.build()).await?;
    let Some(row) = row else {
        return Ok(Terms::default());
    };
    let get = |n: usize| column::<String>(&row, n);
    Ok(Terms {
        licence_url: get(0)?,
        attribution_text: get(1)?,
        attribution_url: get(2)?,
        logo_url: get(3)?,
        disclaimer: get(4)?,
        canonical_base_url: get(5)?,
    })
}

/// Replaces the deployment's terms (inside the caller's transaction).
pub async fn store(conn: &impl ConnectionTrait, terms: &Terms) -> Result<()> {
    let violations = terms.violations();
    if !violations.is_empty() {
        return Err(AppError::Validation(violations));
    }
    let values = [
        &terms.licence_url,
        &terms.attribution_text,
        &terms.attribution_url,
        &terms.logo_url,
        &terms.disclaimer,
        &terms.canonical_base_url,
    ];
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("UPDATE syndication SET ");
    for ((column, _), value) in DEPLOYMENT_TERMS.iter().zip(values) {
        sql.push(column)
            .push(" = ")
            .bind(Value::from(value.clone()))
            .push(", ");
    }
    sql.push("updated_at = ")
        .bind(crate::service::interchange::now())
        .push(" WHERE id = 1");
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

/// What decides an item's terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    pub collection: Collection,
    pub slug: String,
    /// The item's own canonical page (articles).
    pub canonical_url: Option<String>,
    /// The slug of the article's publisher, if the reader may see it.
    pub publisher: Option<String>,
}

impl Subject {
    pub fn of(collection: Collection, item: &ItemObject) -> Self {
        let text = |key: &str| item.get(key).and_then(Json::as_str).map(str::to_owned);
        // The publisher's slug, or the publisher itself when `include=publisher` embeds it.
        let publisher = match item.get("publisher") {
            Some(Json::Object(embedded)) => embedded.get("slug").and_then(Json::as_str),
            Some(other) => other.as_str(),
            None => None,
        };
        Self {
            collection,
            slug: text("slug").unwrap_or_default(),
            canonical_url: text("canonical_url"),
            publisher: publisher.map(str::to_owned),
        }
    }
}

/// The terms of each subject, in order, read in one statement.
pub async fn resolve(db: &impl ConnectionTrait, subjects: &[Subject]) -> Result<Vec<Syndication>> {
    let publishers: BTreeSet<&str> = subjects
        .iter()
        .filter_map(|s| s.publisher.as_deref())
        .collect();
    let (terms, overrides) = load(db, &publishers).await?;
    Ok(subjects
        .iter()
        .map(|s| {
            let publisher = s.publisher.as_deref().and_then(|p| overrides.get(p));
            terms.for_item(s.collection, &s.slug, s.canonical_url.as_deref(), publisher)
        })
        .collect())
}

/// Adds `syndication` to each of `items` (of `collection`) under the deployment's
/// `terms`; the response then carries [`TAG`]. Only articles naming a publisher cost a
/// statement (their publishers' own terms).
pub async fn attach(
    db: &impl ConnectionTrait,
    collection: Collection,
    items: &mut [ItemObject],
    terms: &Terms,
) -> Result<()> {
    let subjects: Vec<Subject> = items.iter().map(|i| Subject::of(collection, i)).collect();
    let publishers: BTreeSet<String> = subjects
        .iter()
        .filter_map(|s| s.publisher.clone())
        .collect();
    let overrides = if publishers.is_empty() {
        HashMap::new()
    } else {
        publisher_terms(db, &publishers).await?
    };
    for (item, subject) in items.iter_mut().zip(subjects) {
        let publisher = subject.publisher.as_deref().and_then(|p| overrides.get(p));
        let syndication = terms.for_item(
            collection,
            &subject.slug,
            subject.canonical_url.as_deref(),
            publisher,
        );
        put(item, syndication)?;
    }
    Ok(())
}

/// The item as a read shows it: with its syndication terms (the deployment's and its
/// publisher's, read in one statement).
pub async fn shown(
    db: &impl ConnectionTrait,
    collection: Collection,
    item: &ItemObject,
) -> Result<ItemObject> {
    let mut shown = item.clone();
    if let Some(syndication) = resolve(db, &[Subject::of(collection, item)]).await?.pop() {
        put(&mut shown, syndication)?;
    }
    Ok(shown)
}

fn put(item: &mut ItemObject, syndication: Syndication) -> Result<()> {
    let value = serde_json::to_value(syndication).map_err(AppError::internal)?;
    item.insert(KEY, value);
    Ok(())
}

/// The terms `publishers` (by slug) state themselves.
async fn publisher_terms(
    db: &impl ConnectionTrait,
    publishers: &BTreeSet<String>,
) -> Result<HashMap<String, Map<String, Json>>> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT slug, {} FROM publishers WHERE slug IN ",
        PUBLISHER_OVERRIDES.join(", ")
    ))
    .bind_list(publishers.iter().cloned());
    let mut out = HashMap::new();
    for row in db.query_all_raw(sql.build()).await? {
        out.insert(required::<String>(&row, 0)?, overrides_of(&row, 1)?);
    }
    Ok(out)
}

fn overrides_of(row: &sea_orm::QueryResult, first: usize) -> Result<Map<String, Json>> {
    let mut fields = Map::new();
    for (n, name) in PUBLISHER_OVERRIDES.iter().enumerate() {
        if let Some(value) = column::<String>(row, first + n)? {
            fields.insert((*name).to_owned(), Json::String(value));
        }
    }
    Ok(fields)
}

/// The deployment's terms as an instance last read them, valid until its read cache is
/// next invalidated: every write bumps that epoch (an edit of the terms included, on any
/// instance, through the change feed), so a read never shows terms older than the last
/// write it could see. With the read cache off, the terms are read every time.
#[derive(Debug, Default)]
pub struct TermsCache {
    last: std::sync::Mutex<Option<(u64, Arc<Terms>)>>,
}

impl TermsCache {
    pub async fn get(&self, db: &impl ConnectionTrait, cache: &ReadCache) -> Result<Arc<Terms>> {
        if !cache.enabled() {
            return Ok(Arc::new(terms(db).await?));
        }
        let epoch = cache.epoch();
        if let Some((at, terms)) = &*self.lock()
            && *at == epoch
        {
            return Ok(Arc::clone(terms));
        }
        let loaded = Arc::new(terms(db).await?);
        *self.lock() = Some((epoch, Arc::clone(&loaded)));
        Ok(loaded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Arc<Terms>)>> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The terms and the overrides of `publishers` (by slug), in one statement.
async fn load(
    db: &impl ConnectionTrait,
    publishers: &BTreeSet<&str>,
) -> Result<(Terms, HashMap<String, Map<String, Json>>)> {
    if publishers.is_empty() {
        return Ok((terms(db).await?, HashMap::new()));
    }
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT NULL AS slug, {} FROM syndication WHERE id = 1 UNION ALL SELECT slug, {}, NULL \
         FROM publishers WHERE slug IN ",
        term_columns(),
        PUBLISHER_OVERRIDES.join(", ")
    ))
    .bind_list(publishers.iter().map(|s| (*s).to_owned()));
    let mut terms = Terms::default();
    let mut overrides = HashMap::new();
    for row in db.query_all_raw(sql.build()).await? {
        let values: Vec<Option<String>> = (1..=DEPLOYMENT_TERMS.len())
            .map(|n| column::<String>(&row, n))
            .collect::<Result<_>>()?;
        match column::<String>(&row, 0)? {
            None => {
                let mut v = values.into_iter();
                let mut next = || v.next().flatten();
                terms = Terms {
                    licence_url: next(),
                    attribution_text: next(),
                    attribution_url: next(),
                    logo_url: next(),
                    disclaimer: next(),
                    canonical_base_url: next(),
                };
            }
            Some(slug) => {
                overrides.insert(slug, overrides_of(&row, 1)?);
            }
        }
    }
    Ok((terms, overrides))
}
