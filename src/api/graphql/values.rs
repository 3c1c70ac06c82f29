//! GraphQL names derived from the content model, and conversion of service-layer items
//! into GraphQL values.

use std::sync::Arc;

use async_graphql::{Name, Value};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::{Collection, FieldKind};
use crate::service::item::{ItemObject, item_id};

/// An item as resolvers see it: which collection, and its fields.
#[derive(Debug, Clone)]
pub struct Item {
    pub collection: Collection,
    pub object: Arc<ItemObject>,
}

impl Item {
    pub fn new(collection: Collection, object: ItemObject) -> Self {
        Self {
            collection,
            object: Arc::new(object),
        }
    }

    pub fn id(&self) -> Option<Uuid> {
        item_id(&self.object)
    }
}

/// `Technique` for techniques.
pub fn type_name(collection: Collection) -> String {
    pascal(collection.singular())
}

/// Whether `camel` is [`camel`]`(snake)`, without building the string.
pub fn is_camel_of(camel: &str, snake: &str) -> bool {
    let mut expected = snake.chars();
    let mut actual = camel.chars();
    loop {
        match (expected.next(), actual.next()) {
            (Some('_'), Some(a)) => match expected.next() {
                Some(e) if e.to_uppercase().eq(std::iter::once(a)) => {}
                _ => return false,
            },
            (Some(e), Some(a)) if e == a => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// `alternate_names` → `alternateNames`.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `technique_kind` → `TechniqueKind`.
pub fn pascal(name: &str) -> String {
    let camel = camel(name);
    let mut chars = camel.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The GraphQL enum type of an enumerated field (`TechniqueKind`, `CitationKind`).
pub fn enum_type_name(collection: Collection, field: &str) -> String {
    format!("{}{}", type_name(collection), pascal(field))
}

/// `meta_analysis` → `META_ANALYSIS`.
pub fn enum_value(stored: &str) -> String {
    stored.to_uppercase()
}

/// `META_ANALYSIS` → `meta_analysis`.
pub fn stored_value(name: &str) -> String {
    name.to_lowercase()
}

/// A field of an item as a GraphQL value of the field's kind.
pub fn field_value(kind: FieldKind, value: Option<&Json>) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    match (kind, value) {
        (_, Json::Null) => Value::Null,
        (FieldKind::Enum(_), Json::String(s)) => Value::Enum(Name::new(enum_value(s))),
        (_, other) => Value::from_json(other.clone()).unwrap_or(Value::Null),
    }
}

/// The GraphQL field of `relation` on its owner: `benefits`, or `benefitsLinks` for the
/// link entries (`edges`).
pub fn relation_field_name(relation: crate::domain::relations::Relation, edges: bool) -> String {
    let name = camel(relation.name);
    if edges { name + "Links" } else { name }
}

#[cfg(test)]
mod tests {
    use super::{camel, is_camel_of};

    #[test]
    fn camel_names_match_their_snake_fields() {
        for snake in [
            "name",
            "alternate_names",
            "price_cents",
            "body_region",
            "icd10",
        ] {
            assert!(is_camel_of(&camel(snake), snake), "{snake}");
        }
        assert!(!is_camel_of("alternate_names", "alternate_names"));
        assert!(!is_camel_of("alternateName", "alternate_names"));
        assert!(!is_camel_of("names", "name"));
        assert!(!is_camel_of("sku", "skus"));
    }
}
