//! A root lookup (`condition(slug)`, `productBySku(sku)`) reads its item and the relation
//! fields selected on it in one statement, as REST's `GET /v1/{collection}/{slug}?include=`
//! does: the storefront's usual query costs one statement less. The children wait in the
//! request's [`Prefetched`] store, where the relation resolvers look before asking the
//! DataLoader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::Value;
use async_graphql::context::SelectionField;

use super::RequestData;
use super::errors::first;
use super::items::selected_fields;
use super::loader::{Children, RelationKey};
use super::values::{relation_field_name, stored_value};
use crate::domain::Collection;
use crate::domain::PageSize;
use crate::domain::evidence::Certainty;
use crate::domain::relations::{Relation, RelationKind, relations};
use crate::error::Result;
use crate::service::claims::WorkForm;
use crate::service::include::{ChildQuery, RootLookup, item_with_children};
use crate::service::item::{FieldSet, ItemObject, item_id};

/// Relation children read with their parent, by the key the resolver would load.
#[derive(Default)]
pub struct Prefetched(Mutex<HashMap<RelationKey, Children>>);

impl Prefetched {
    pub fn get(&self, key: &RelationKey) -> Option<Children> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn insert(&self, key: RelationKey, children: Children) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, children);
    }
}

/// Relations on one statement at most (the batch's branch limit is 64).
const MAX_PREFETCHED: usize = 32;

/// The item of `collection` whose `column` is `value`, if the caller may see it, read with
/// the fields `field` selects and, in the same statement, the relation fields it selects
/// (stored in `data.prefetched`). `None` when `field` selects no relation: the caller
/// then looks the item up alone.
pub async fn item_with_relations(
    data: &RequestData,
    field: SelectionField<'_>,
    collection: Collection,
    column: &'static str,
    value: &str,
) -> Option<Result<Option<ItemObject>>> {
    let wanted = selected_relations(field, collection);
    if wanted.is_empty() || wanted.len() > MAX_PREFETCHED {
        return None;
    }
    let root = RootLookup {
        collection,
        column,
        value,
        fields: selected_fields(field, collection, false),
    };
    let queries: Vec<ChildQuery> = wanted
        .iter()
        .map(|&(relation, first, fields, min_certainty)| ChildQuery {
            relation,
            parents: &[],
            per_parent: Some(first),
            fields,
            min_certainty,
            works: WorkForm::Citations,
        })
        .collect();
    let found = item_with_children(
        &data.state.db,
        data.visibility,
        data.link_row_budget,
        &root,
        &queries,
    )
    .await;
    let found = match found {
        Ok(found) => found,
        Err(e) => return Some(Err(e)),
    };
    let Some((item, found)) = found else {
        return Some(Ok(None));
    };
    if let Some(parent) = item_id(&item) {
        for ((relation, first, fields, min_certainty), mut children) in
            wanted.into_iter().zip(found)
        {
            let children = children.remove(&parent).unwrap_or_default();
            let key = RelationKey {
                from: collection,
                relation: relation.name,
                first,
                parent,
                fields,
                min_certainty,
            };
            data.prefetched
                .insert(key, Arc::new(children.into_iter().map(Arc::new).collect()));
        }
    }
    Some(Ok(Some(item)))
}

/// A relation field to read: relation, first, child fields, minimum certainty.
type Wanted = (Relation, u32, FieldSet, Option<Certainty>);

/// Each distinct relation field `field` selects on an item of `collection`. A field whose
/// `first` or `minCertainty` is invalid is left to its resolver, which reports the error.
fn selected_relations(field: SelectionField<'_>, collection: Collection) -> Vec<Wanted> {
    let mut wanted: Vec<Wanted> = Vec::new();
    for child in field.selection_set() {
        let Some((relation, edges)) = relation_named(collection, child.name()) else {
            continue;
        };
        let first = if relation.is_to_one() {
            Some(1)
        } else {
            first_argument(child)
        };
        let (Some(first), Some(min)) = (first, min_certainty_argument(child)) else {
            continue;
        };
        let fields = selected_fields(child, relation.to, edges);
        let key = (relation, first, fields, min);
        let seen = wanted
            .iter()
            .any(|(r, f, s, m)| r.name == relation.name && (*f, *s, *m) == (first, fields, min));
        if !seen {
            wanted.push(key);
        }
    }
    wanted
}

/// The relation a field of `collection` named `name` shows, and whether it lists link
/// entries (`benefitsLinks`) rather than items.
fn relation_named(collection: Collection, name: &str) -> Option<(Relation, bool)> {
    relations(collection).into_iter().find_map(|relation| {
        if name == relation_field_name(relation, false) {
            return Some((relation, false));
        }
        let links = matches!(relation.kind, RelationKind::Link { .. })
            && name == relation_field_name(relation, true);
        links.then_some((relation, true))
    })
}

/// The field's `minCertainty` (`Some(None)` when absent); `None` when not a certainty.
fn min_certainty_argument(field: SelectionField<'_>) -> Option<Option<Certainty>> {
    let arguments = field.arguments().ok()?;
    match arguments
        .iter()
        .find(|(name, _)| name.as_str() == "minCertainty")
    {
        None | Some((_, Value::Null)) => Some(None),
        Some((_, Value::Enum(name))) => Certainty::parse(&stored_value(name)).map(Some),
        Some(_) => None,
    }
}

/// The field's `first`, or the default; `None` when it is not a valid page size.
fn first_argument(field: SelectionField<'_>) -> Option<u32> {
    let arguments = field.arguments().ok()?;
    let value = arguments
        .iter()
        .find(|(name, _)| name.as_str() == "first")
        .map(|(_, value)| value);
    let number = match value {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64()),
        // Not prefetched: the resolver reports the error.
        Some(_) => return None,
    };
    first(number, PageSize::RELATION_DEFAULT)
        .ok()
        .map(PageSize::get)
}
