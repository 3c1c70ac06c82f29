//! The two sea-orm entities Salve uses: API keys (read and written through sea-orm) and
//! the shape of a condition's statistics. Content is not modelled here: its SQL is built
//! from the content model (`src/domain/model.rs`), which also generates routes, the
//! OpenAPI document, the GraphQL schema and validation.

pub mod api_key;
pub mod json;
