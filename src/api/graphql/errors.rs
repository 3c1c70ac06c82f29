//! GraphQL errors with stable `extensions.code`: the codes of the one error table.

use async_graphql::dynamic::ObjectAccessor;
use async_graphql::{Error, ErrorExtensions};

use crate::domain::PageSize;
use crate::error::{AppError, ErrorCode, codes};

/// An error with `extensions.code`.
pub fn coded(code: &ErrorCode, message: impl Into<String>) -> Error {
    let code = code.graphql();
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// An `AppError` as a GraphQL error: the same code as REST, upper-cased; internal
/// details are logged, never returned.
pub fn gql_error(error: &AppError) -> Error {
    match error {
        AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
        AppError::Unavailable(cause) => tracing::warn!(error = ?cause, "database unavailable"),
        _ => {}
    }
    let code = error.kind().graphql();
    let message = error.to_string();
    match error {
        AppError::Validation(errors) | AppError::Blocked(_, errors) => {
            let list: Vec<async_graphql::Value> = errors
                .iter()
                .map(|e| {
                    let mut map = async_graphql::indexmap::IndexMap::new();
                    map.insert(
                        async_graphql::Name::new("pointer"),
                        async_graphql::Value::from(e.pointer.clone()),
                    );
                    map.insert(
                        async_graphql::Name::new("detail"),
                        async_graphql::Value::from(e.detail.clone()),
                    );
                    async_graphql::Value::Object(map)
                })
                .collect();
            Error::new(message).extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("errors", async_graphql::Value::List(list));
            })
        }
        _ => coded(error.kind(), message),
    }
}

/// The one rule of a `first` argument, whoever reads it (the limits before execution,
/// the resolvers, the relation prefetch): `default` when absent or null, else a
/// [`PageSize`]. `number` is `Some(None)` for a value that is not an integer.
pub fn first(number: Option<Option<i64>>, default: PageSize) -> Result<PageSize, Error> {
    match number {
        None => Ok(default),
        Some(n) => n
            .ok_or(crate::domain::paging::PageSizeError)
            .and_then(PageSize::new)
            .map_err(|e| coded(&codes::PAGE_SIZE_EXCEEDED, format!("first: {e}"))),
    }
}

/// A resolver's `first` argument (see [`first`]).
pub fn page_size(args: &ObjectAccessor<'_>, default: PageSize) -> Result<PageSize, Error> {
    let number = args
        .get("first")
        .filter(|v| !v.is_null())
        .map(|v| v.i64().ok());
    first(number, default)
}
