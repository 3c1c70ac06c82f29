//! Batched loading of relation fields: every relation field (`Technique.benefits(first: 3)`,
//! `Technique.products`, …) requested in one execution step is loaded by one SQL
//! statement, whatever the number of parents or of relations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::Collection;
use crate::domain::evidence::Certainty;
use crate::domain::relations::relation;
use crate::domain::rich_text::TextFormat;
use crate::domain::syndication::Syndication;
use crate::error::AppError;
use crate::service::claims::WorkForm;
use crate::service::item::{FieldSet, ItemObject};
use crate::service::syndication::{self, Subject};
use crate::service::{Visibility, include, jsonld, renditions};

/// One relation field of one parent, capped at `first` children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelationKey {
    pub from: Collection,
    pub relation: &'static str,
    pub first: u32,
    pub parent: Uuid,
    /// The child fields the query shows (the statement reads only those).
    pub fields: FieldSet,
    /// Through a claim: only links at or above this certainty (`minCertainty`).
    pub min_certainty: Option<Certainty>,
}

pub type Children = Arc<Vec<Arc<ItemObject>>>;

/// Loads relation children for one request, with the caller's visibility.
pub struct RelationLoader {
    db: DatabaseConnection,
    visibility: Visibility,
    row_budget: usize,
    /// The content's language, for JSON-LD.
    language: Arc<str>,
}

impl RelationLoader {
    /// A per-request loader. Batches are dispatched as soon as the resolvers of the
    /// current step have queued their keys (no timer wait).
    pub fn data_loader(
        db: DatabaseConnection,
        visibility: Visibility,
        row_budget: usize,
        language: Arc<str>,
    ) -> DataLoader<Self> {
        let loader = Self {
            db,
            visibility,
            row_budget,
            language,
        };
        DataLoader::new(loader, tokio::spawn)
            .delay(std::time::Duration::ZERO)
            .max_batch_size(1000)
    }
}

impl RelationLoader {
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn visibility(&self) -> Visibility {
        self.visibility
    }
}

impl Loader<RelationKey> for RelationLoader {
    type Value = Children;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[RelationKey],
    ) -> Result<HashMap<RelationKey, Children>, Self::Error> {
        type Group = (Collection, &'static str, u32, FieldSet, Option<Certainty>);
        let mut groups: HashMap<Group, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((
                    key.from,
                    key.relation,
                    key.first,
                    key.fields,
                    key.min_certainty,
                ))
                .or_default()
                .push(key.parent);
        }
        // In a stable order: the statement's text is its prepared-statement cache key.
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_unstable_by_key(|((from, name, first, fields, min), _)| {
            (from.as_str(), *name, *first, *fields, *min)
        });
        let mut queries = Vec::with_capacity(groups.len());
        for ((from, name, first, fields, min_certainty), parents) in &mut groups {
            let relation = relation(*from, name).ok_or_else(|| {
                Arc::new(AppError::internal_msg(format!("no relation {from}.{name}")))
            })?;
            parents.sort();
            parents.dedup();
            queries.push(include::ChildQuery {
                relation,
                parents,
                per_parent: Some(*first),
                fields: *fields,
                min_certainty: *min_certainty,
                works: WorkForm::Citations,
            });
        }
        // Every relation of the step in one statement.
        let found = include::children_of_many(&self.db, self.visibility, self.row_budget, &queries)
            .await
            .map_err(Arc::new)?;
        let mut out = HashMap::with_capacity(keys.len());
        for (((from, name, first, fields, min_certainty), parents), mut found) in
            groups.iter().zip(found)
        {
            for &parent in parents {
                let children = found.remove(&parent).unwrap_or_default();
                out.insert(
                    RelationKey {
                        from: *from,
                        relation: name,
                        first: *first,
                        parent,
                        fields: *fields,
                        min_certainty: *min_certainty,
                    },
                    Arc::new(children.into_iter().map(Arc::new).collect()),
                );
            }
        }
        Ok(out)
    }
}

/// One Markdown field of one item in a rendered format (`body(format: HTML)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenditionKey {
    pub collection: Collection,
    /// The field's name.
    pub field: &'static str,
    pub format: TextFormat,
    pub id: Uuid,
}

impl Loader<RenditionKey> for RelationLoader {
    type Value = String;
    type Error = Arc<AppError>;

    /// One statement per (collection, field, format) of the step. The items were read
    /// with the caller's visibility already, so this reads by id only.
    async fn load(
        &self,
        keys: &[RenditionKey],
    ) -> Result<HashMap<RenditionKey, String>, Self::Error> {
        let mut groups: HashMap<(Collection, &'static str, TextFormat), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.collection, key.field, key.format))
                .or_default()
                .push(key.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((collection, name, format), ids) in groups {
            let field = collection.field(name).ok_or_else(|| {
                Arc::new(AppError::internal_msg(format!(
                    "no field {collection}.{name}"
                )))
            })?;
            let found = renditions::load(&self.db, collection, field, format, &ids)
                .await
                .map_err(Arc::new)?;
            for (id, value) in found {
                let key = RenditionKey {
                    collection,
                    field: name,
                    format,
                    id,
                };
                out.insert(key, value);
            }
        }
        Ok(out)
    }
}

impl Loader<Subject> for RelationLoader {
    type Value = Syndication;
    type Error = Arc<AppError>;

    /// The terms of every item of the step whose `syndication` is asked, in one statement.
    async fn load(&self, keys: &[Subject]) -> Result<HashMap<Subject, Syndication>, Self::Error> {
        let found = syndication::resolve(&self.db, keys)
            .await
            .map_err(Arc::new)?;
        Ok(keys.iter().cloned().zip(found).collect())
    }
}

/// The JSON-LD document of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonLdKey {
    pub collection: Collection,
    pub id: Uuid,
}

/// A document and the cache tags of what it shows.
pub type JsonLd = Arc<(serde_json::Value, Vec<String>)>;

impl Loader<JsonLdKey> for RelationLoader {
    type Value = JsonLd;
    type Error = Arc<AppError>;

    /// The documents of every item of the step whose `jsonLd` is asked: per collection,
    /// one statement for the items, then one per level of what they show.
    async fn load(&self, keys: &[JsonLdKey]) -> Result<HashMap<JsonLdKey, JsonLd>, Self::Error> {
        let mut groups: HashMap<Collection, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups.entry(key.collection).or_default().push(key.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (collection, ids) in groups {
            let found =
                jsonld::documents(&self.db, self.visibility, collection, &ids, &self.language)
                    .await
                    .map_err(Arc::new)?;
            for (id, document) in found {
                out.insert(JsonLdKey { collection, id }, Arc::new(document));
            }
        }
        Ok(out)
    }
}

/// A citation a claim's evidence names, by slug, read with the fields the query shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CitationSlug {
    pub slug: String,
    pub fields: FieldSet,
}

impl Loader<CitationSlug> for RelationLoader {
    type Value = Arc<ItemObject>;
    type Error = Arc<AppError>;

    /// Every citation the step's evidence names, that the caller may see: one statement
    /// per field set (a query rarely shows two).
    async fn load(
        &self,
        keys: &[CitationSlug],
    ) -> Result<HashMap<CitationSlug, Arc<ItemObject>>, Self::Error> {
        let mut groups: HashMap<FieldSet, Vec<String>> = HashMap::new();
        for key in keys {
            groups.entry(key.fields).or_default().push(key.slug.clone());
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (fields, slugs) in groups {
            let found = crate::service::item::by_slugs(
                &self.db,
                Collection::Citations,
                self.visibility,
                &slugs,
                fields,
            )
            .await
            .map_err(Arc::new)?;
            out.extend(
                found
                    .into_iter()
                    .map(|(slug, item)| (CitationSlug { slug, fields }, Arc::new(item))),
            );
        }
        Ok(out)
    }
}
