//! Search across collections (`GET /v1/search`): one ranked, paginated list of hits of
//! several types, each hit saying its type.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::Collection;
use crate::domain::cursor::{Cursor, CursorCodec};
use crate::domain::listing::SearchTerms;
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::content::{ItemObject, ItemSelect};
use crate::service::fulltext::SearchSql;
use crate::service::sql::SqlBuilder;

/// One search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub collection: Collection,
    pub score: f64,
    pub item: ItemObject,
}

#[derive(Debug, Clone)]
pub struct HitPage {
    pub hits: Vec<Hit>,
    pub next_cursor: Option<String>,
    pub limit: u32,
    /// Cache tags: every hit, and the lists of every searched collection.
    pub tags: Vec<String>,
}

/// The types a search covers: every searchable collection when none is asked for, else
/// the asked ones (sorted, without repeats), each of which must be searchable.
pub fn search_types(requested: &[Collection]) -> Result<Vec<Collection>> {
    if requested.is_empty() {
        return Ok(crate::service::fulltext::searchable().collect());
    }
    let mut types = Vec::with_capacity(requested.len());
    for collection in requested {
        if !crate::service::fulltext::searchable().any(|s| s == *collection) {
            return Err(not_searchable(collection.as_str()));
        }
        types.push(*collection);
    }
    types.sort();
    types.dedup();
    Ok(types)
}

/// The error for a type that cannot be searched (or does not exist).
pub fn not_searchable(name: &str) -> AppError {
    let allowed: Vec<&str> = crate::service::fulltext::searchable()
        .map(|c| c.as_str())
        .collect();
    AppError::invalid_parameter(format!(
        "type: {name:?} is not searchable (allowed: {})",
        allowed.join(", ")
    ))
}

/// Hits for `terms` in `types`, best first (ties by type, then id), `limit` per page.
pub async fn search(
    db: &DatabaseConnection,
    codec: &CursorCodec,
    visibility: Visibility,
    terms: &SearchTerms,
    types: &[Collection],
    limit: u32,
    cursor: Option<&str>,
) -> Result<HitPage> {
    let backend = db.get_database_backend();
    let fingerprint =
        crate::domain::cursor::fingerprint(&format!("search|{visibility:?}|{terms:?}|{types:?}"));
    let cursor = cursor
        .map(|text| codec.decode(text, &fingerprint))
        .transpose()
        .map_err(|e| AppError::invalid_parameter(format!("cursor: {e}")))?;
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT kind, id, score FROM (");
    for (n, collection) in types.iter().enumerate() {
        let search = SearchSql::new(backend, *collection, terms)?;
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!("SELECT '{collection}' AS kind, t.id AS id, "));
        search.push_score(&mut sql);
        sql.push(&format!(
            " AS score FROM {} WHERE {} AND ",
            search.from(),
            visibility.status_filter("t")
        ));
        search.push_match(&mut sql);
    }
    sql.push(") hits");
    if let Some(cursor) = &cursor {
        let (Some(score), Some(kind)) = (
            cursor.keys.first().and_then(Json::as_f64),
            cursor.keys.get(1).and_then(Json::as_str),
        ) else {
            return Err(AppError::invalid_parameter("cursor: not a search cursor"));
        };
        sql.push(" WHERE (score < ").bind(score);
        sql.push(" OR (score = ").bind(score);
        sql.push(" AND (kind > ").bind(kind.to_owned());
        sql.push(" OR (kind = ").bind(kind.to_owned());
        sql.push(" AND id > ").bind(cursor.id).push("))))");
    }
    sql.push(&format!(
        " ORDER BY score DESC, kind ASC, id ASC LIMIT {}",
        limit + 1
    ));
    let rows = db.query_all_raw(sql.build()).await?;
    let has_more = rows.len() > limit as usize;
    let mut ranked = Vec::with_capacity(rows.len());
    for row in rows.iter().take(limit as usize) {
        let kind: String = row.try_get("", "kind")?;
        let collection = Collection::parse(&kind)
            .ok_or_else(|| AppError::internal_msg(format!("unknown hit type {kind}")))?;
        ranked.push((
            collection,
            row.try_get::<Uuid>("", "id")?,
            row.try_get::<f64>("", "score")?,
        ));
    }

    // One statement per type present loads the hits' items.
    let mut items: HashMap<Uuid, ItemObject> = HashMap::new();
    for collection in types {
        let ids: Vec<Uuid> = ranked
            .iter()
            .filter(|(c, ..)| c == collection)
            .map(|(_, id, _)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let select = ItemSelect::new(*collection, visibility, backend);
        let mut sql = SqlBuilder::new(backend);
        select.push_select(&mut sql);
        sql.push(" WHERE t.id IN ").bind_list(ids.iter().copied());
        for row in db.query_all_raw(sql.build()).await? {
            let id: Uuid = row.try_get("", "id")?;
            items.insert(id, select.object(&row, true)?);
        }
    }
    let next_cursor = match (has_more, ranked.last()) {
        (true, Some((collection, id, score))) => Some(codec.encode(&Cursor {
            keys: vec![Json::from(*score), Json::from(collection.as_str())],
            id: *id,
            query: fingerprint,
        })),
        _ => None,
    };
    let hits: Vec<Hit> = ranked
        .into_iter()
        .filter_map(|(collection, id, score)| {
            items.remove(&id).map(|item| Hit {
                collection,
                score,
                item,
            })
        })
        .collect();
    let mut tags: std::collections::BTreeSet<String> = types
        .iter()
        .map(|c| crate::service::cache::list_tag(c.as_str()))
        .collect();
    for hit in &hits {
        crate::service::content::collect_tags(
            hit.collection,
            std::slice::from_ref(&hit.item),
            &[],
            &mut tags,
        );
    }
    Ok(HitPage {
        tags: tags.into_iter().collect(),
        hits,
        next_cursor,
        limit,
    })
}
