//! Syndication terms on every item read: the deployment's terms, the article's publisher's
//! own where it states them, and each item's canonical page. Read with the items
//! themselves where one statement reads them (the deployment's terms only when the
//! instance does not hold them), else in one statement of their own; edited by admins.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde_json::{Map, Value as Json};

use crate::domain::Collection;
use crate::domain::syndication::{
    DEPLOYMENT_TERMS, PUBLISHER_OVERRIDES, Syndication, Terms, TermsSource,
};
use crate::error::{AppError, Result};
use crate::service::cache::ReadCache;
use crate::service::item::{ExtraColumns, ItemObject, ItemSelect};
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
    match db.query_one_raw(sql.build()).await? {
        Some(row) => terms_of(&row, 0),
        None => Ok(Terms::default()),
    }
}

/// The terms in a row's columns from `first` on, in [`DEPLOYMENT_TERMS`] order.
fn terms_of(row: &QueryResult, first: usize) -> Result<Terms> {
    let get = |n: usize| column::<String>(row, first + n);
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

/// Adds `syndication` to each of `items` (of `collection`); the response then carries
/// [`TAG`]. One statement at most: the publishers the articles name, with the
/// deployment's terms unless the instance holds them.
pub async fn attach(
    db: &impl ConnectionTrait,
    collection: Collection,
    items: &mut [ItemObject],
    source: &TermsSource,
) -> Result<()> {
    let subjects: Vec<Subject> = items.iter().map(|i| Subject::of(collection, i)).collect();
    let publishers: BTreeSet<&str> = subjects
        .iter()
        .filter_map(|s| s.publisher.as_deref())
        .collect();
    let (terms, overrides) = match source {
        TermsSource::Held(terms) if publishers.is_empty() => (Arc::clone(terms), HashMap::new()),
        TermsSource::Held(terms) => (Arc::clone(terms), publisher_terms(db, &publishers).await?),
        TermsSource::Read => {
            let (terms, overrides) = load(db, &publishers).await?;
            (Arc::new(terms), overrides)
        }
    };
    for (item, subject) in items.iter_mut().zip(&subjects) {
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

/// Reads each item's terms (from `source`, if any) in `select`'s own statement; objects
/// carry them under [`KEY`].
pub fn read_with(select: ItemSelect, source: Option<&TermsSource>) -> ItemSelect {
    let Some(source) = source else {
        return select;
    };
    let publisher = select.reference_alias(Collection::Publishers);
    let extra = InStatement::new(select.collection(), publisher, source);
    select.with_extra(Box::new(extra))
}

/// An item's terms read in the item's own statement ([`read_with`]): its
/// publisher's, through the select's own join of the publisher (so only one the reader
/// may see counts), and the deployment's (joined as `syn`) unless the instance holds them.
#[derive(Debug, Clone)]
struct InStatement {
    collection: Collection,
    /// The alias the select joins the item's publisher as (articles).
    publisher: Option<String>,
    held: Option<Arc<Terms>>,
}

impl InStatement {
    fn new(collection: Collection, publisher: Option<String>, source: &TermsSource) -> Self {
        let held = match source {
            TermsSource::Held(terms) => Some(Arc::clone(terms)),
            TermsSource::Read => None,
        };
        Self {
            collection,
            publisher,
            held,
        }
    }
}

impl ExtraColumns for InStatement {
    fn exprs(&self) -> Vec<String> {
        let mut exprs = Vec::new();
        if let Some(alias) = &self.publisher {
            exprs.extend(PUBLISHER_OVERRIDES.iter().map(|c| format!("{alias}.{c}")));
        }
        if self.held.is_none() {
            exprs.extend(DEPLOYMENT_TERMS.iter().map(|(c, _)| format!("syn.{c}")));
        }
        exprs
    }

    fn join(&self) -> &'static str {
        match self.held {
            Some(_) => "",
            None => " LEFT JOIN syndication syn ON syn.id = 1",
        }
    }

    fn put(&self, row: &QueryResult, first: usize, item: &mut ItemObject) -> Result<()> {
        let publisher = match self.publisher {
            Some(_) => Some(overrides_of(row, first)?),
            None => None,
        };
        let read;
        let terms = match &self.held {
            Some(terms) => terms.as_ref(),
            None => {
                let at = first + publisher.as_ref().map_or(0, |_| PUBLISHER_OVERRIDES.len());
                read = terms_of(row, at)?;
                &read
            }
        };
        let subject = Subject::of(self.collection, item);
        let syndication = terms.for_item(
            self.collection,
            &subject.slug,
            subject.canonical_url.as_deref(),
            publisher.as_ref(),
        );
        put(item, syndication)
    }
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
    publishers: &BTreeSet<&str>,
) -> Result<HashMap<String, Map<String, Json>>> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT slug, {} FROM publishers WHERE slug IN ",
        PUBLISHER_OVERRIDES.join(", ")
    ))
    .bind_list(publishers.iter().map(|s| (*s).to_owned()));
    let mut out = HashMap::new();
    for row in db.query_all_raw(sql.build()).await? {
        out.insert(required::<String>(&row, 0)?, overrides_of(&row, 1)?);
    }
    Ok(out)
}

fn overrides_of(row: &QueryResult, first: usize) -> Result<Map<String, Json>> {
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
/// write it could see. With the read cache off, nothing follows the changes: reads take
/// the terms with the content instead (`TermsSource::Read`).
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
        match column::<String>(&row, 0)? {
            None => terms = terms_of(&row, 1)?,
            Some(slug) => {
                overrides.insert(slug, overrides_of(&row, 1)?);
            }
        }
    }
    Ok((terms, overrides))
}
