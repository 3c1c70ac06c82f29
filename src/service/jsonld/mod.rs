//! schema.org JSON-LD for every item: the most specific type the vocabulary has for each
//! collection, its related items as nested nodes, and nothing the vocabulary lacks or has
//! superseded (checked in CI against schema-dts). Only what the caller may see is shown:
//! the item and its related items are read with the caller's visibility.
//!
//! Products carry identifiers only, never an `Offer`: price and availability are the
//! retailer's own markup.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::domain::Collection;
use crate::domain::listing::{ItemParams, include_tree};
use crate::domain::rich_text::TextFormat;
use crate::domain::syndication::TermsSource;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::content::{self, ItemKey};
use crate::service::item::{ItemObject, ItemSelect, item_id};
use crate::service::sql::SqlBuilder;
use crate::service::{include, syndication};

mod mapping;

pub use mapping::node;

pub const CONTEXT: &str = "https://schema.org";

/// The relations a collection's document shows.
fn shown(collection: Collection) -> &'static [&'static str] {
    match collection {
        Collection::Articles => &[
            "author",
            "reviewer",
            "publisher",
            "conditions",
            "techniques",
            "benefits",
            "products",
            "citations",
        ],
        Collection::Conditions => &["techniques", "citations"],
        Collection::Techniques => &["conditions", "citations"],
        Collection::Benefits => &["citations"],
        _ => &[],
    }
}

/// The item's JSON-LD document, the item it was made of (with what it shows embedded),
/// and the cache tags of everything it shows.
pub async fn document(
    db: &DatabaseConnection,
    visibility: Visibility,
    collection: Collection,
    key: ItemKey<'_>,
    terms: TermsSource,
    language: &str,
) -> Result<(Json, ItemObject, Vec<String>)> {
    let paths: Vec<Vec<&str>> = shown(collection).iter().map(|name| vec![*name]).collect();
    let params = ItemParams {
        include: include_tree(collection, &paths)?,
        fields: None,
        // Descriptions in JSON-LD are plain text.
        format: TextFormat::Text,
        // For the canonical page and the licence.
        syndication: Some(terms),
        style: None,
    };
    let (item, tags) = content::get_item_tagged(db, visibility, collection, key, &params).await?;
    Ok((finish(collection, &item, language), item, tags))
}

/// The JSON-LD documents of the items `ids` of `collection` the caller may see, each with
/// the cache tags of what it shows: one statement for the items and their terms, then one
/// per level of what they show, however many items.
pub async fn documents(
    db: &DatabaseConnection,
    visibility: Visibility,
    collection: Collection,
    ids: &[Uuid],
    language: &str,
) -> Result<HashMap<Uuid, (Json, Vec<String>)>> {
    let backend = db.get_database_backend();
    let select = syndication::read_with(
        ItemSelect::formatted(collection, visibility, backend, TextFormat::Text, None),
        Some(&TermsSource::Read),
    );
    let mut sql = SqlBuilder::new(backend);
    select.push_select(&mut sql);
    sql.push(" WHERE t.id IN ").bind_list(ids.iter().copied());
    sql.push(&format!(" AND {}", visibility.status_filter("t")));
    let mut items = db
        .query_all_raw(sql.build())
        .await?
        .iter()
        .map(|row| select.object(row, true))
        .collect::<Result<Vec<_>>>()?;
    let paths: Vec<Vec<&str>> = shown(collection).iter().map(|name| vec![*name]).collect();
    let include = include_tree(collection, &paths)?;
    let rendering = include::Rendering {
        format: TextFormat::Text,
        style: None,
    };
    include::load(db, visibility, rendering, &include, &mut items).await?;
    let mut out = HashMap::with_capacity(items.len());
    for item in items {
        let Some(id) = item_id(&item) else { continue };
        let mut tags = BTreeSet::from([syndication::TAG.to_owned()]);
        content::collect_tags(collection, std::slice::from_ref(&item), &include, &mut tags);
        let document = finish(collection, &item, language);
        out.insert(id, (document, tags.into_iter().collect()));
    }
    Ok(out)
}

/// The document of an item read with what its collection shows.
fn finish(collection: Collection, item: &ItemObject, language: &str) -> Json {
    let fields: Map<String, Json> = item
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut node = node(collection, &fields, false);
    if collection == Collection::Articles {
        node.insert("inLanguage".into(), json!(language));
    }
    node.insert("@context".into(), json!(CONTEXT));
    Json::Object(node)
}
