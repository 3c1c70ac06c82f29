//! Structured values stored in JSON columns.

use serde::{Deserialize, Serialize};

/// One statistic about a condition, e.g. "US population with severe back pain: 8.2 % (2022)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statistic {
    pub label: String,
    pub value: serde_json::Number,
    pub unit: Option<String>,
    pub year: Option<i32>,
    /// Slug of the citation that backs the figure.
    pub citation: Option<String>,
}
