//! sea-orm entities: the persistence model of Salve, and nothing else (the public API
//! shapes are separate DTOs in the `salve` crate, so schema and contract evolve apart).

pub mod api_key;
pub mod article;
pub mod author;
pub mod benefit;
pub mod citation;
pub mod condition;
pub mod json;
pub mod links;
pub mod prelude;
pub mod product;
pub mod publisher;
pub mod technique;
