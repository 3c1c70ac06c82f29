//! GraphQL errors with stable `extensions.code`, from the one `AppError`.

use async_graphql::dynamic::ObjectAccessor;
use async_graphql::{Error, ErrorExtensions};

use crate::domain::listing::MAX_LIMIT;
use crate::error::AppError;

/// Codes of the errors the GraphQL layer itself raises (the others are `AppError` codes,
/// upper-cased: `INVALID_PARAMETER`, `UNAUTHORIZED`, `SERVICE_UNAVAILABLE`, …).
pub mod code {
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
    pub const TOKEN_LIMIT: &str = "TOKEN_LIMIT_EXCEEDED";
    pub const DEPTH_LIMIT: &str = "DEPTH_LIMIT_EXCEEDED";
    pub const COMPLEXITY_LIMIT: &str = "COMPLEXITY_LIMIT_EXCEEDED";
    pub const ALIAS_LIMIT: &str = "ALIAS_LIMIT_EXCEEDED";
    pub const ROOT_FIELD_LIMIT: &str = "ROOT_FIELD_LIMIT_EXCEEDED";
    pub const DIRECTIVE_LIMIT: &str = "DIRECTIVE_LIMIT_EXCEEDED";
    pub const PAGE_SIZE: &str = "PAGE_SIZE_EXCEEDED";
    pub const FRAGMENT_CYCLE: &str = "FRAGMENT_CYCLE";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const OPERATION_NOT_FOUND: &str = "OPERATION_NOT_FOUND";
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
    pub const PERSISTED_QUERY_ONLY: &str = "PERSISTED_QUERY_ONLY";
}

/// An error with `extensions.code`.
pub fn coded(code: &str, message: impl Into<String>) -> Error {
    let code = code.to_owned();
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
    let code = error.code().to_uppercase();
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
        _ => coded(&code, message),
    }
}

/// The `first` argument: `default` when absent, else 1 to `MAX_LIMIT`.
pub fn page_size(args: &ObjectAccessor<'_>, default: u32) -> Result<u32, Error> {
    let Some(first) = args.get("first").filter(|v| !v.is_null()) else {
        return Ok(default);
    };
    match first.i64() {
        Ok(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => Ok(n as u32),
        _ => Err(coded(
            code::PAGE_SIZE,
            format!("first must be from 1 to {MAX_LIMIT}"),
        )),
    }
}
