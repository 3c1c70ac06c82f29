//! Structured values stored in JSON columns.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// A list of strings (alternate names, ICD-10 codes, specialties, profile URLs, authors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct StatisticList(pub Vec<Statistic>);
