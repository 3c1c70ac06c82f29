//! A published item's draft in GraphQL, as in REST: `draftDiff` (what the draft changes,
//! preview scope) and the `discard{Type}Draft` mutations. Edits, `submit` and `publish`
//! reach the draft through the usual mutations.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::gql_error;
use super::history::{item, item_arguments};
use super::keys::{camel_value, parent_field};
use super::mutation::{editor, expected_version, slug_arg, slug_input, version_input, written};
use crate::domain::Collection;
use crate::service::editing::history;

/// `discard{Type}Draft`: drops the draft of a published item.
pub fn discard_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            written(editor(data).discard(collection, &slug, &expected).await)
        })
    })
    .description(
        "Drops the draft of a published item (write scope); readers saw none of it. The item \
         as editors now see it: the published version.",
    )
    .argument(slug_input())
    .argument(version_input())
}

fn draft_diff() -> Field {
    let field = Field::new("draftDiff", TypeRef::named_nn("DraftDiff"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (collection, slug) = item(&ctx)?;
            let diff = history::draft_diff(&data.state.db, &data.caller, collection, &slug)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(camel_value(&diff)?)))
        })
    })
    .description(
        "What the draft of a published item changes against the published version, field \
         by field (preview scope); an error when it has no draft.",
    );
    item_arguments(field)
}

pub fn query_fields(catalog: &mut Catalog) -> Vec<Field> {
    catalog.add("Query", "draftDiff", "DraftDiff", None);
    catalog.add("DraftDiff", "changes", "RevisionChange", None);
    vec![draft_diff()]
}

pub fn types() -> Vec<Object> {
    let int = || TypeRef::named_nn(TypeRef::INT);
    vec![
        Object::new("DraftDiff")
            .description("What a published item's draft changes.")
            .field(parent_field(
                "publishedVersion",
                int(),
                "The version readers see.",
            ))
            .field(parent_field("draftVersion", int(), "The draft's version."))
            .field(parent_field(
                "draftStatus",
                TypeRef::named_nn(TypeRef::STRING),
                "The draft's status: draft or in_review.",
            ))
            .field(parent_field(
                "changes",
                TypeRef::named_nn_list_nn("RevisionChange"),
                "The fields and link sets the draft changes, in key order.",
            )),
    ]
}
