//! Search across collections (`GET /v1/search`): one ranked, paginated list of hits of
//! several types, each hit saying its type.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::Collection;
use crate::domain::cursor::{Cursor, CursorCodec};
use crate::domain::listing::{SearchParams, SearchTerms};
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::fulltext::SearchSql;
use crate::service::item::{ItemObject, ItemSelect};
use crate::service::keyset::{self, KeyKind, OrderKey};
use crate::service::sql::SqlBuilder;
use crate::service::{references_store, syndication};

mod postings;
mod pruned;

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

/// Where a page starts: after this hit, in the order of [`Ranked::order`].
pub(super) struct After {
    score: f64,
    kind: Collection,
    id: Uuid,
}

/// The order of hits: best score first, then by type name, then by id; `score` and
/// `kind` are their expressions (`kind` a literal where the type is fixed).
pub(super) fn hit_order(score: &str, kind: &str) -> [OrderKey; 2] {
    [
        OrderKey {
            expr: score.into(),
            descending: true,
            nullable: false,
            kind: KeyKind::Real,
        },
        OrderKey {
            expr: kind.into(),
            descending: false,
            nullable: false,
            kind: KeyKind::Text,
        },
    ]
}

impl After {
    /// Hits strictly after this one, in [`hit_order`] (`id` is the id's expression).
    pub(super) fn push_after(
        &self,
        sql: &mut SqlBuilder,
        keys: &[OrderKey],
        id: &str,
    ) -> Result<()> {
        let values = [Json::from(self.score), Json::from(self.kind.as_str())];
        keyset::push_after(sql, keys, &values, self.id, id)
    }

    fn from_cursor(cursor: &Cursor) -> Result<Self> {
        let (Some(score), Some(kind)) = (
            cursor.keys.first().and_then(Json::as_f64),
            cursor
                .keys
                .get(1)
                .and_then(Json::as_str)
                .and_then(Collection::parse),
        ) else {
            return Err(AppError::invalid_parameter("cursor: not a search cursor"));
        };
        Ok(Self {
            score,
            kind,
            id: cursor.id,
        })
    }
}

/// A hit before its item is read.
pub(super) struct Ranked {
    pub collection: Collection,
    pub id: Uuid,
    pub score: f64,
}

impl Ranked {
    /// A hit from a row's `kind`, `id` and `score`.
    pub fn from_row(row: &sea_orm::QueryResult) -> Result<Self> {
        let kind: String = row.try_get("", "kind")?;
        let collection = Collection::parse(&kind)
            .ok_or_else(|| AppError::internal_msg(format!("unknown hit type {kind}")))?;
        Ok(Self {
            collection,
            id: row.try_get("", "id")?,
            score: row.try_get("", "score")?,
        })
    }

    /// Best first; ties by type name, then id (as the SQL orders them).
    pub fn order(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.collection.as_str().cmp(b.collection.as_str()))
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// What a ranking is asked for: the first `want` hits of `terms` in `types` after `after`,
/// as `visibility` shows them.
pub(super) struct Wanted<'a> {
    pub visibility: Visibility,
    pub terms: &'a SearchTerms,
    pub types: &'a [Collection],
    pub want: usize,
    pub after: Option<&'a After>,
}

/// Every visible hit of `terms` in `types`, best first, ranked by one statement: the
/// order every page follows (the pruned ranking on SQLite and the postings on PostgreSQL
/// must agree with it).
pub async fn rank_all(
    db: &DatabaseConnection,
    visibility: Visibility,
    terms: &SearchTerms,
    types: &[Collection],
) -> Result<Vec<(Collection, Uuid, f64)>> {
    let wanted = Wanted {
        visibility,
        terms,
        types,
        want: usize::try_from(i64::MAX).unwrap_or(usize::MAX),
        after: None,
    };
    let ranked = rank_in_one_statement(db, &wanted).await?;
    Ok(ranked
        .into_iter()
        .map(|hit| (hit.collection, hit.id, hit.score))
        .collect())
}

/// Every type ranked in one statement (`UNION ALL`).
async fn rank_in_one_statement(
    db: &DatabaseConnection,
    wanted: &Wanted<'_>,
) -> Result<Vec<Ranked>> {
    let backend = db.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT kind, id, score FROM (");
    let searches =
        SearchSql::for_readers(db, wanted.visibility, wanted.types, wanted.terms).await?;
    for (n, (collection, search)) in wanted.types.iter().zip(searches).enumerate() {
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        search.push_scored_matches(
            &mut sql,
            &format!("'{collection}' AS kind, t.id AS id"),
            &wanted.visibility.status_filter("t"),
        );
    }
    sql.push(") hits");
    let keys = hit_order("score", "kind");
    if let Some(after) = wanted.after {
        sql.push(" WHERE ");
        after.push_after(&mut sql, &keys, "id")?;
    }
    sql.push(&format!(
        " ORDER BY {} LIMIT {}",
        keyset::order_by(&keys, "id"),
        wanted.want
    ));
    let mut ranked = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        ranked.push(Ranked::from_row(&row)?);
    }
    Ok(ranked)
}

/// Hits for `terms` in `types`, best first (ties by type, then id), `limit` per page.
pub async fn search(
    db: &DatabaseConnection,
    codec: &CursorCodec,
    visibility: Visibility,
    params: &SearchParams,
) -> Result<HitPage> {
    let (terms, types) = (&params.terms, &params.types[..]);
    let cursor = params.cursor.as_deref();
    let limit = params.limit.get();
    let backend = db.get_database_backend();
    let fingerprint =
        crate::domain::cursor::fingerprint(&format!("search|{visibility:?}|{terms:?}|{types:?}"));
    let cursor = cursor
        .map(|text| codec.decode(text, &fingerprint))
        .transpose()
        .map_err(|e| AppError::invalid_parameter(format!("cursor: {e}")))?;
    let after = cursor.as_ref().map(After::from_cursor).transpose()?;
    let wanted = Wanted {
        visibility,
        terms,
        types,
        want: limit as usize + 1,
        after: after.as_ref(),
    };
    // The pruned ranking and the postings read the published index only.
    let mut ranked = match (visibility, backend) {
        (Visibility::All, _) => rank_in_one_statement(db, &wanted).await?,
        (_, DbBackend::Sqlite) => pruned::rank(db, &wanted).await?,
        _ => match postings::rank(db, &wanted).await? {
            Some(ranked) => ranked,
            None => rank_in_one_statement(db, &wanted).await?,
        },
    };
    let has_more = ranked.len() > limit as usize;
    ranked.truncate(limit as usize);
    let ranked: Vec<(Collection, Uuid, f64)> = ranked
        .into_iter()
        .map(|hit| (hit.collection, hit.id, hit.score))
        .collect();

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
        let select = syndication::read_with(
            ItemSelect::formatted(
                *collection,
                visibility,
                backend,
                params.format,
                params.style,
            ),
            params.syndication.as_ref(),
        );
        let mut sql = SqlBuilder::new(backend);
        select.push_select(&mut sql);
        sql.push(" WHERE t.id IN ").bind_list(ids.iter().copied());
        let mut found = Vec::with_capacity(ids.len());
        for row in db.query_all_raw(sql.build()).await? {
            found.push(select.object(&row, true)?);
        }
        if let (Some(style), Collection::Citations) = (params.style, collection) {
            references_store::attach(db, style, *collection, &mut found, &[]).await?;
        }
        for item in found {
            if let Some(id) = crate::service::item::item_id(&item) {
                items.insert(id, item);
            }
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
        .chain(
            params
                .syndication
                .is_some()
                .then(|| syndication::TAG.to_owned()),
        )
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
