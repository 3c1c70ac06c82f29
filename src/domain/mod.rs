//! Validated domain types and the content model, independent of transport and storage.

pub mod citation;
pub mod csl;
pub mod cursor;
pub mod docs;
pub mod embed;
pub mod evidence;
pub mod filters;
pub mod gtin;
pub mod key_lifetime;
pub mod listing;
pub mod model;
pub mod names;
pub mod paging;
pub mod rate_limit;
pub mod reference_style;
pub mod relations;
pub mod rich_text;
pub mod scope;
pub mod slug;
pub mod status;
pub mod syndication;
pub mod text;
pub mod validate;
pub mod webhook;

pub use model::{Collection, Field, FieldKind, LinkSpec};
pub use paging::PageSize;
pub use scope::{Scope, Scopes};
pub use slug::Slug;
pub use status::{ContentVersion, Status};

/// The error for a parameter whose value breaks a rule: 400, naming the parameter.
pub(crate) fn bad(parameter: &str, detail: impl std::fmt::Display) -> crate::error::AppError {
    crate::error::AppError::invalid_parameter(format!("{parameter}: {detail}"))
}
