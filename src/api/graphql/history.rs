//! An item's history in GraphQL, as REST serves it: `revisions`, `revision` and
//! `revisionDiff` (preview scope), and `auditEntries` (admin scope). Reviews are on the
//! items themselves (`reviews`); restoring is the `restore{Type}Revision` mutation.

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Error, Name, Value};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::{gql_error, page_size};
use super::keys::{camel_value, invalid, parent_field};
use crate::domain::{Collection, PageSize};
use crate::service::editing::audit::{self, AuditQuery};
use crate::service::editing::history;

/// The collection a `ContentType` argument names.
fn content_type(ctx: &ResolverContext<'_>, name: &str) -> Result<Option<Collection>, Error> {
    let Some(value) = ctx.args.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let text = value.enum_name()?;
    Collection::ALL
        .into_iter()
        .find(|c| c.singular().eq_ignore_ascii_case(text))
        .map(Some)
        .ok_or_else(|| invalid(&format!("/{name}"), format!("unknown type {text:?}")))
}

/// The item the arguments name: `type` and `slug`.
pub(super) fn item(ctx: &ResolverContext<'_>) -> Result<(Collection, String), Error> {
    let collection = content_type(ctx, "type")?.ok_or_else(|| invalid("/type", "is required"))?;
    Ok((collection, ctx.args.try_get("slug")?.string()?.to_owned()))
}

fn revision_number(ctx: &ResolverContext<'_>, name: &str) -> Result<Option<i64>, Error> {
    match ctx.args.get(name).filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(value) => value
            .i64()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| invalid(&format!("/{name}"), "must be a revision number (1, 2, …)")),
    }
}

pub(super) fn item_arguments(field: Field) -> Field {
    field
        .argument(InputValue::new("type", TypeRef::named_nn("ContentType")))
        .argument(InputValue::new("slug", TypeRef::named_nn(TypeRef::STRING)))
}

fn object(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (Name::new(key), value))
            .collect(),
    )
}

fn revisions() -> Field {
    let field = Field::new("revisions", TypeRef::named_nn("RevisionPage"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (collection, slug) = item(&ctx)?;
            let limit = page_size(&ctx.args, PageSize::DEFAULT)?;
            let before = revision_number(&ctx, "before")?;
            let (list, next) = history::list(
                &data.state.db,
                &data.caller,
                collection,
                &slug,
                limit,
                before,
            )
            .await
            .map_err(|e| gql_error(&e))?;
            let nodes = list
                .iter()
                .map(camel_value)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(FieldValue::value(object(vec![
                ("nodes", Value::List(nodes)),
                ("nextCursor", next.map_or(Value::Null, Value::from)),
            ]))))
        })
    })
    .description(
        "An item's revisions, newest first, without their documents (preview scope): who \
         wrote each, when, from which request, and a summary.",
    );
    item_arguments(field)
        .argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT))
                .description("How many (default 20, at most 100)."),
        )
        .argument(
            InputValue::new("before", TypeRef::named(TypeRef::INT))
                .description("`nextCursor` of the previous page."),
        )
}

fn revision() -> Field {
    let field = Field::new("revision", TypeRef::named_nn("Revision"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (collection, slug) = item(&ctx)?;
            let number = revision_number(&ctx, "number")?.unwrap_or_default();
            let found = history::get(&data.state.db, &data.caller, collection, &slug, number)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(camel_value(&found)?)))
        })
    })
    .description("One revision of an item, with its full document (preview scope).");
    item_arguments(field).argument(InputValue::new("number", TypeRef::named_nn(TypeRef::INT)))
}

fn revision_diff() -> Field {
    let field = Field::new("revisionDiff", TypeRef::named_nn("RevisionDiff"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (collection, slug) = item(&ctx)?;
            let to = revision_number(&ctx, "number")?.unwrap_or_default();
            let from = match ctx.args.get("from").filter(|v| !v.is_null()) {
                Some(value) => Some(
                    value
                        .i64()
                        .ok()
                        .filter(|n| (0..to).contains(n))
                        .ok_or_else(|| invalid("/from", "must be an earlier revision (0: none)"))?,
                ),
                None => None,
            };
            let diff = history::diff(&data.state.db, &data.caller, collection, &slug, to, from)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(camel_value(&diff)?)))
        })
    })
    .description(
        "What changed in an item from revision `from` (default: the one before; 0: nothing) \
         to revision `number`, field by field (preview scope).",
    );
    item_arguments(field)
        .argument(InputValue::new("number", TypeRef::named_nn(TypeRef::INT)))
        .argument(InputValue::new("from", TypeRef::named(TypeRef::INT)))
}

fn audit_entries() -> Field {
    Field::new("auditEntries", TypeRef::named_nn("AuditPage"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let text = |name: &str| -> Result<Option<String>, Error> {
                match ctx.args.get(name).filter(|v| !v.is_null()) {
                    Some(value) => Ok(Some(value.string()?.to_owned())),
                    None => Ok(None),
                }
            };
            let before = text("after")?
                .map(|c| {
                    uuid::Uuid::parse_str(&c)
                        .map_err(|_| invalid("/after", "not a cursor from this list"))
                })
                .transpose()?;
            let query = AuditQuery {
                collection: content_type(&ctx, "type")?,
                slug: text("slug")?,
                action: text("action")?,
                limit: page_size(&ctx.args, PageSize::DEFAULT)?,
                before,
            };
            let page = audit::list(&data.state.db, &data.caller, &query)
                .await
                .map_err(|e| gql_error(&e))?;
            let nodes = page
                .data
                .iter()
                .map(camel_value)
                .collect::<Result<Vec<_>, _>>()?;
            let next = page.page.next_cursor.map_or(Value::Null, Value::from);
            Ok(Some(FieldValue::value(object(vec![
                ("nodes", Value::List(nodes)),
                ("nextCursor", next),
            ]))))
        })
    })
    .description(
        "The audit log, newest first (admin scope): every write, workflow step, review, \
         restore and key change, with who made it and from which request.",
    )
    .argument(InputValue::new("type", TypeRef::named("ContentType")))
    .argument(InputValue::new("slug", TypeRef::named(TypeRef::STRING)))
    .argument(
        InputValue::new("action", TypeRef::named(TypeRef::STRING))
            .description("`create`, `update`, `publish`, `review`, `key.create`, …"),
    )
    .argument(InputValue::new("first", TypeRef::named(TypeRef::INT)))
    .argument(
        InputValue::new("after", TypeRef::named(TypeRef::STRING))
            .description("`nextCursor` of the previous page."),
    )
}

pub fn query_fields(catalog: &mut Catalog) -> Vec<Field> {
    for (field, ty) in [
        ("revisions", "RevisionPage"),
        ("revision", "Revision"),
        ("revisionDiff", "RevisionDiff"),
        ("auditEntries", "AuditPage"),
    ] {
        catalog.add("Query", field, ty, None);
    }
    catalog.add("RevisionPage", "nodes", "Revision", Some(PageSize::DEFAULT));
    catalog.add("RevisionDiff", "changes", "RevisionChange", None);
    catalog.add("AuditPage", "nodes", "AuditEntry", Some(PageSize::DEFAULT));
    vec![revisions(), revision(), revision_diff(), audit_entries()]
}

pub fn types() -> Vec<Object> {
    let string = || TypeRef::named(TypeRef::STRING);
    let json = || TypeRef::named("JSON");
    let revision = [
        (
            "number",
            TypeRef::named_nn(TypeRef::INT),
            "Revision number (1 is the creation).",
        ),
        (
            "version",
            TypeRef::named_nn(TypeRef::INT),
            "The item's version it produced.",
        ),
        (
            "status",
            TypeRef::named_nn(TypeRef::STRING),
            "The item's status then (its draft's, for a draft).",
        ),
        (
            "draft",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "Whether it is a revision of a published item's draft (readers did not see it).",
        ),
        (
            "createdAt",
            TypeRef::named_nn("DateTime"),
            "When it was written.",
        ),
        (
            "actor",
            string(),
            "The API key that wrote it (null: the command line).",
        ),
        (
            "summary",
            TypeRef::named_nn(TypeRef::STRING),
            "What the write did.",
        ),
        ("requestId", string(), "The request that wrote it."),
        (
            "document",
            json(),
            "The full editable document (on `revision` only).",
        ),
    ];
    let audit = [
        ("id", TypeRef::named_nn(TypeRef::ID), "The entry's id."),
        ("at", TypeRef::named_nn("DateTime"), "When."),
        (
            "actor",
            string(),
            "The API key name (null: the command line).",
        ),
        (
            "action",
            TypeRef::named_nn(TypeRef::STRING),
            "What was done.",
        ),
        (
            "collection",
            string(),
            "The item's collection, if an item was concerned.",
        ),
        ("itemId", TypeRef::named(TypeRef::ID), "The item's id."),
        ("slug", string(), "The item's slug then."),
        ("requestId", string(), "The request."),
        (
            "detail",
            TypeRef::named_nn("JSON"),
            "What changed (versions, statuses, …).",
        ),
    ];
    let change = [
        (
            "pointer",
            TypeRef::named_nn(TypeRef::STRING),
            "JSON pointer into the document.",
        ),
        ("before", json(), "The value before (null: absent)."),
        ("after", json(), "The value after (null: absent)."),
    ];
    let with = |object: Object, fields: &[(&str, TypeRef, &str)]| {
        fields
            .iter()
            .fold(object, |object, (name, ty, description)| {
                object.field(parent_field(name, ty.clone(), description))
            })
    };
    vec![
        with(
            Object::new("Revision").description("One revision of an item."),
            &revision,
        ),
        with(
            Object::new("AuditEntry").description("One audit log entry."),
            &audit,
        ),
        with(
            Object::new("RevisionChange").description("One changed field."),
            &change,
        ),
        Object::new("RevisionPage")
            .description("A page of revisions, newest first.")
            .field(parent_field(
                "nodes",
                TypeRef::named_nn_list_nn("Revision"),
                "The revisions.",
            ))
            .field(parent_field(
                "nextCursor",
                TypeRef::named(TypeRef::INT),
                "Pass as `before` for the next page; null on the last.",
            )),
        Object::new("RevisionDiff")
            .description("What changed between two revisions.")
            .field(parent_field(
                "from",
                TypeRef::named_nn(TypeRef::INT),
                "From revision.",
            ))
            .field(parent_field(
                "to",
                TypeRef::named_nn(TypeRef::INT),
                "To revision.",
            ))
            .field(parent_field(
                "changes",
                TypeRef::named_nn_list_nn("RevisionChange"),
                "The fields that changed, in key order.",
            )),
        Object::new("AuditPage")
            .description("A page of audit entries, newest first.")
            .field(parent_field(
                "nodes",
                TypeRef::named_nn_list_nn("AuditEntry"),
                "The entries.",
            ))
            .field(parent_field(
                "nextCursor",
                TypeRef::named(TypeRef::STRING),
                "Pass as `after` for the next page; null on the last.",
            )),
    ]
}
