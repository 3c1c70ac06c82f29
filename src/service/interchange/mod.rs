//! The interchange format of PRODUCT.md §2: one NDJSON file per collection and per link,
//! references by slug. Import streams (constant memory), validates every row, and is
//! all-or-nothing; export writes a canonical form (sorted keys, rows ordered by slug) so
//! export → import → export is byte-identical.

mod batch;
mod claims;
mod csl;
mod demo;
mod drafts;
mod export;
mod import;
mod parse;
mod reviews;
mod rules;
mod source;
mod terms;

pub use demo::{DEMO, database_is_empty};
pub use export::export;
pub use import::{
    FileReport, ImportError, ImportMode, ImportReport, RowError, import, known_files,
};
pub use source::{DirSource, EmbeddedSource, Source};

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision both engines store (microseconds), so a value
/// read back equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Rows per SQL statement: large enough to amortise round trips, small enough to stay
/// under both engines' bind-parameter limits and keep memory flat.
const BATCH_ROWS: usize = 500;

/// Import stops collecting errors after this many.
pub const MAX_REPORTED_ERRORS: usize = 20;
