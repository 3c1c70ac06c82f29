//! Reads that let the database build item JSON must produce exactly the items the
//! column-by-column path builds (ids, timestamps, lists, references), on both engines.

use salve::domain::Collection;
use salve::service::Visibility;
use salve::service::content::ItemSelect;
use salve::service::sql::SqlBuilder;
use sea_orm::ConnectionTrait;

use crate::engine_tests;
use crate::helpers::{Engine, generate, spawn_app, stderr};

async fn database_built_json_matches_the_column_path(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let backend = app.db.get_database_backend();
    for collection in Collection::ALL {
        for visibility in [Visibility::All, Visibility::PublishedOnly] {
            let select = ItemSelect::new(collection, visibility);
            let mut sql = SqlBuilder::new(backend);
            sql.push(&format!(
                "SELECT {}, {} AS item_json FROM {} t{} ORDER BY t.id LIMIT 300",
                select.columns,
                select.json_expr(backend),
                collection.table(),
                select.joins
            ));
            let rows = app.db.query_all_raw(sql.build()).await.unwrap();
            assert!(!rows.is_empty(), "{collection}");
            for row in rows {
                let by_columns = select.object(&row, true).unwrap();
                let text: String = row.try_get("", "item_json").unwrap();
                let by_json = select.object_from_json(&text).unwrap();
                assert_eq!(by_json, by_columns, "{collection}: {text}");
            }
        }
    }
}

engine_tests!(database_built_json_matches_the_column_path);
