//! The bundled demo content (one real article as structured content), compiled into the
//! binary so `salve serve` works from any directory of a fresh clone.

use crate::service::interchange::EmbeddedSource;

macro_rules! demo_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../assets/demo/", $name)))),*]
    };
}

pub const DEMO: EmbeddedSource = EmbeddedSource(demo_files!(
    "publishers.ndjson",
    "authors.ndjson",
    "citations.ndjson",
    "conditions.ndjson",
    "techniques.ndjson",
    "benefits.ndjson",
    "products.ndjson",
    "articles.ndjson",
    "condition_techniques.ndjson",
    "condition_citations.ndjson",
    "technique_benefits.ndjson",
    "technique_citations.ndjson",
    "benefit_citations.ndjson",
    "technique_products.ndjson",
));
