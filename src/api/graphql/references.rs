//! `Citation.formatted(style: AMA)`: a citation's stored reference in a style.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::context::SelectionField;
use async_graphql::dataloader::Loader;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef,
};
use serde_json::Value as Json;
use uuid::Uuid;

use super::RequestData;
use super::errors::gql_error;
use super::loader::RelationLoader;
use super::values::{Item, enum_value, stored_value};
use crate::domain::reference_style::CitationStyle;
use crate::error::AppError;
use crate::service::item::reference_key;

/// One citation's reference in one style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReferenceKey {
    pub id: Uuid,
    pub style: CitationStyle,
}

impl Loader<ReferenceKey> for RelationLoader {
    type Value = Json;
    type Error = Arc<AppError>;

    /// Every reference the step asks for, in one statement per style.
    async fn load(
        &self,
        keys: &[ReferenceKey],
    ) -> Result<HashMap<ReferenceKey, Json>, Self::Error> {
        let mut found = HashMap::with_capacity(keys.len());
        // One statement per style asked for (a query rarely asks for two).
        for style in CitationStyle::ALL {
            let mut ids: Vec<Uuid> = keys
                .iter()
                .filter(|k| k.style == style)
                .map(|k| k.id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            ids.sort_unstable();
            ids.dedup();
            let stored = crate::service::references_store::stored(self.db(), &ids, style)
                .await
                .map_err(Arc::new)?;
            found.extend(
                stored
                    .into_iter()
                    .map(|(id, reference)| (ReferenceKey { id, style }, reference)),
            );
        }
        Ok(found)
    }
}

pub fn style_enum() -> Enum {
    CitationStyle::ALL.into_iter().fold(
        Enum::new("CitationStyle").description("A style of references."),
        |e, style| {
            e.item(EnumItem::new(enum_value(style.as_str())).description(style.description()))
        },
    )
}

pub fn object() -> Object {
    let part = |name: &'static str, description: &'static str| {
        Field::new(name, TypeRef::named_nn(TypeRef::STRING), move |ctx| {
            let value = ctx
                .parent_value
                .downcast_ref::<Json>()
                .and_then(|r| r.get(name))
                .and_then(Json::as_str)
                .map(|s| Value::String(s.to_owned()));
            FieldFuture::from_value(value)
        })
        .description(description)
    };
    Object::new("FormattedReference")
        .description("A citation's reference in a style.")
        .field(part("text", "Plain text."))
        .field(part(
            "html",
            "HTML: italics as <span style=\"font-style: italic;\">, the DOI as a link.",
        ))
}

/// The style a `formatted(style:)` selection asks for, if it names a valid one.
pub fn style_argument(field: SelectionField<'_>) -> Option<CitationStyle> {
    let arguments = field.arguments().ok()?;
    match arguments
        .iter()
        .find(|(name, _)| name.as_str() == "style")?
    {
        // A variable's value is still a string here: it is coerced later.
        (_, Value::Enum(name)) => CitationStyle::parse(&stored_value(name)),
        (_, Value::String(name)) => CitationStyle::parse(&stored_value(name)),
        _ => None,
    }
}

/// The citation and the style a `formatted` field asks for.
fn asked<'a>(ctx: &ResolverContext<'a>) -> async_graphql::Result<(&'a Item, CitationStyle)> {
    let item = ctx.parent_value.try_downcast_ref::<Item>()?;
    let name = stored_value(ctx.args.try_get("style")?.enum_name()?);
    let style = CitationStyle::parse(&name).ok_or("unknown style")?;
    Ok((item, style))
}

/// `formatted(style: AMA)` on `Citation`: the reference read with the citation when its
/// selection asked for this style, else through the loader.
pub fn field() -> Field {
    Field::new("formatted", TypeRef::named("FormattedReference"), |ctx| {
        let (item, style) = match asked(&ctx) {
            Ok(asked) => asked,
            Err(e) => return FieldFuture::new(async move { Err::<Option<FieldValue>, _>(e) }),
        };
        // Most often read with the citation: answered at once, without a future.
        if let Some(reference) = item.object.get(reference_key(style)) {
            return FieldFuture::Value(
                (!reference.is_null()).then(|| FieldValue::borrowed_any(reference)),
            );
        }
        FieldFuture::new(async move {
            let Some(id) = item.id() else {
                return Ok(None);
            };
            let data = ctx.data::<RequestData>()?;
            let reference = data
                .loader
                .load_one(ReferenceKey { id, style })
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(reference
                .filter(|r| !r.is_null())
                .map(FieldValue::owned_any))
        })
    })
    .argument(InputValue::new("style", TypeRef::named_nn("CitationStyle")))
    .description("The citation's reference in a style (AMA 11th, APA 7th, Vancouver).")
}
