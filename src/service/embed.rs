//! What an embed page shows: the item with its Markdown as sanitised HTML, the related
//! items a storefront reader needs beside it, its syndication terms and its JSON-LD.

use sea_orm::DatabaseConnection;
use serde_json::Value as Json;

use crate::domain::Collection;
use crate::domain::embed::{EmbedKey, EmbedTarget};
use crate::domain::listing::{ItemParams, include_tree};
use crate::domain::rich_text::TextFormat;
use crate::domain::syndication::TermsSource;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::content::{self, ItemKey};
use crate::service::item::ItemObject;
use crate::service::jsonld;

/// The related items each page shows (include paths).
pub fn shown(collection: Collection) -> &'static [&'static str] {
    match collection {
        Collection::Articles => &[
            "author",
            "reviewer",
            "publisher",
            "conditions",
            "techniques",
            "citations",
        ],
        // With who medically reviewed it: the page's footer names them.
        Collection::Techniques => &["benefits", "conditions", "citations", "reviewer"],
        Collection::Conditions => &["techniques", "citations", "reviewer"],
        // The product module: the techniques that use it, their benefits, the evidence,
        // and the articles about it with who wrote and reviewed them.
        Collection::Products => &[
            "techniques.benefits",
            "techniques.citations",
            "articles.author",
            "articles.reviewer",
            "articles.publisher",
        ],
        _ => &[],
    }
}

/// An embed page's content.
pub struct Page {
    pub item: ItemObject,
    pub jsonld: Json,
    /// Cache tags of everything the page shows.
    pub tags: Vec<String>,
}

/// The page of `target`, if the caller may see it.
pub async fn page(
    db: &DatabaseConnection,
    visibility: Visibility,
    target: &EmbedTarget,
    terms: TermsSource,
    language: &str,
) -> Result<Page> {
    let key = match &target.key {
        EmbedKey::Slug(slug) => ItemKey::Slug(slug),
        EmbedKey::Sku(sku) => ItemKey::Sku(sku),
    };
    let paths: Vec<Vec<&str>> = shown(target.collection)
        .iter()
        .map(|path| path.split('.').collect())
        .collect();
    let params = ItemParams {
        include: include_tree(target.collection, &paths)?,
        fields: None,
        format: TextFormat::Html,
        syndication: Some(terms.clone()),
        style: None,
    };
    let (item, mut tags) =
        content::get_item_tagged(db, visibility, target.collection, key, &params).await?;
    let (jsonld, _, more) =
        jsonld::document(db, visibility, target.collection, key, terms, language).await?;
    tags.extend(more);
    tags.sort_unstable();
    tags.dedup();
    Ok(Page { item, jsonld, tags })
}
