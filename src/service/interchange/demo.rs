//! The bundled demo content (one real article as structured content), compiled into the
//! binary so `salve serve` works from any directory of a fresh clone.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::EmbeddedSource;
use crate::domain::Collection;
use crate::error::Result;

macro_rules! demo_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../assets/demo/", $name)))),*]
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
    "syndication.ndjson",
));

/// Whether the database holds no content yet (decides whether to load the demo).
pub async fn database_is_empty(db: &DatabaseConnection) -> Result<bool> {
    let mut total = 0i64;
    for collection in Collection::ALL {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {} LIMIT 1) AS t",
                    collection.table()
                ),
            ))
            .await?;
        total += row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
    }
    Ok(total == 0)
}
