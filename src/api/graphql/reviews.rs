//! `reviews` on reviewed items (articles, conditions, techniques, benefits): their
//! medical review history, newest first, loaded for every item of a step at once.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::dynamic::{Enum, Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use async_graphql::{Error, Name, Value};
use uuid::Uuid;

use super::RequestData;
use super::catalog::Catalog;
use super::errors::{gql_error, page_size};
use super::loader::RelationLoader;
use super::types::value_field;
use super::values::{Item, type_name};
use crate::domain::{Collection, PageSize};
use crate::error::AppError;
use crate::service::item::{REVIEW_STATUS, ReviewStatus};
use crate::service::reviews::{self, Review};

/// The reviews of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReviewKey {
    pub collection: Collection,
    pub id: Uuid,
}

/// An item's reviews and the tags of the reviewers they name.
pub type Reviews = Arc<(Vec<Review>, Vec<String>)>;

impl Loader<ReviewKey> for RelationLoader {
    type Value = Reviews;
    type Error = Arc<AppError>;

    /// One statement per collection of the step.
    async fn load(&self, keys: &[ReviewKey]) -> Result<HashMap<ReviewKey, Reviews>, Self::Error> {
        let mut groups: HashMap<Collection, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups.entry(key.collection).or_default().push(key.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (collection, ids) in groups {
            let mut found = reviews::histories(self.db(), self.visibility(), collection, &ids)
                .await
                .map_err(Arc::new)?;
            for id in ids {
                let history = found.remove(&id).unwrap_or_default();
                out.insert(ReviewKey { collection, id }, Arc::new(history));
            }
        }
        Ok(out)
    }
}

/// `reviewStatus`: whether the item names a medical reviewer the reader may see.
pub fn status_field() -> Field {
    Field::new("reviewStatus", TypeRef::named_nn("ReviewStatus"), |ctx| {
        let status = ctx.parent_value.downcast_ref::<Item>().and_then(|item| {
            item.object
                .get(REVIEW_STATUS)
                .and_then(|s| s.as_str())
                .map(|s| Value::Enum(Name::new(s.to_uppercase())))
        });
        FieldFuture::from_value(status)
    })
    .description(
        "`REVIEWED` when the item names a medical reviewer you may see; `UNREVIEWED` \
         otherwise (published under the deployment's `optional` medical-review policy, or \
         its reviewer is no longer shown).",
    )
}

/// `ReviewStatus`.
pub fn status_enum() -> Enum {
    Enum::new("ReviewStatus")
        .description("Whether an item names a medical reviewer you may see.")
        .items(ReviewStatus::NAMES.iter().map(|s| s.to_uppercase()))
}

/// `reviews(first:)` of a reviewed collection's object type.
pub fn item_field(collection: Collection, catalog: &mut Catalog) -> Field {
    catalog.add(
        &type_name(collection),
        "reviews",
        "Review",
        Some(PageSize::DEFAULT),
    );
    Field::new("reviews", TypeRef::named_nn_list_nn("Review"), move |ctx| {
        FieldFuture::new(async move {
            let item = ctx.parent_value.try_downcast_ref::<Item>()?;
            let id = crate::service::item::item_id(&item.object)
                .ok_or_else(|| Error::new("an item without an id"))?;
            let first = page_size(&ctx.args, PageSize::DEFAULT)?;
            let data = ctx.data::<RequestData>()?;
            let found = data
                .loader
                .load_one(ReviewKey { collection, id })
                .await
                .map_err(|e| gql_error(&e))?
                .unwrap_or_default();
            let (list, tags) = found.as_ref();
            data.note_tags(tags);
            let values = list
                .iter()
                .take(first.get() as usize)
                .map(|review| FieldValue::value(review_value(review)));
            Ok(Some(FieldValue::list(values)))
        })
    })
    .description(format!(
        "The medical reviews of this {} (reviewer as they were then, date, note), newest \
         first.",
        collection.singular()
    ))
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description("How many, newest first (default 20, at most 100)."),
    )
}

fn review_value(review: &Review) -> Value {
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
    let mut out = async_graphql::indexmap::IndexMap::new();
    out.insert(
        Name::new("reviewedAt"),
        Value::String(review.reviewed_at.clone()),
    );
    out.insert(Name::new("note"), text(&review.note));
    out.insert(
        Name::new("version"),
        review.version.map_or(Value::Null, Value::from),
    );
    let reviewer = review.reviewer.as_ref().map_or(Value::Null, |r| {
        let mut person = async_graphql::indexmap::IndexMap::new();
        person.insert(Name::new("slug"), Value::String(r.slug.clone()));
        person.insert(Name::new("name"), Value::String(r.name.clone()));
        person.insert(Name::new("credentials"), text(&r.credentials));
        Value::Object(person)
    });
    out.insert(Name::new("reviewer"), reviewer);
    out.insert(Name::new("draft"), Value::Boolean(review.draft));
    Value::Object(out)
}

/// `Review` and `Reviewer`.
pub fn types(catalog: &mut Catalog) -> Vec<Object> {
    catalog.add("Review", "reviewer", "Reviewer", None);
    let review = Object::new("Review")
        .description("A medical review of an item.")
        .field(value_field(
            "reviewedAt",
            TypeRef::named_nn("DateTime"),
            "When the review took place.",
        ))
        .field(value_field(
            "note",
            TypeRef::named(TypeRef::STRING),
            "The reviewer's note.",
        ))
        .field(value_field(
            "version",
            TypeRef::named(TypeRef::INT),
            "The item's version the review made (null for reviews recorded before reviews \
             made versions).",
        ))
        .field(value_field(
            "reviewer",
            TypeRef::named("Reviewer"),
            "Who reviewed, as they were then; null when they are no longer an author you \
             may see.",
        ))
        .field(value_field(
            "draft",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "A review of the item's draft, pending its publication (only keys with the \
             preview scope see these).",
        ));
    let reviewer = Object::new("Reviewer")
        .description("A medical reviewer as they were when they reviewed.")
        .field(value_field(
            "slug",
            TypeRef::named_nn(TypeRef::STRING),
            "The author's slug (`author(slug:)` reads them as they are now).",
        ))
        .field(value_field(
            "name",
            TypeRef::named_nn(TypeRef::STRING),
            "Their name then.",
        ))
        .field(value_field(
            "credentials",
            TypeRef::named(TypeRef::STRING),
            "Their credentials then.",
        ));
    vec![review, reviewer]
}
