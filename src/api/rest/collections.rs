//! `GET /v1/{collection}`, `GET /v1/{collection}/{slug}`, `GET /v1/products/sku/{sku}`,
//! `GET /v1/products/gtin/{gtin}`, and the writes mounted on the same resources (handlers in `writes.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::writes;
use crate::api::http_cache::{read_through, render_items, render_jsonld, with_links};
use crate::api::negotiate::{Representation, negotiate};
use crate::api::params::{item_params, list_params};
use crate::api::resource;
use crate::domain::gtin::Gtin;
use crate::domain::{Collection, Scope, bad};
use crate::error::Result;
use crate::service::content::{self, ItemKey};
use crate::service::editing::document::link_relations;
use crate::service::item::{ItemBody, ItemObject};
use crate::service::{Caller, jsonld, listing};
use crate::state::AppState;

type QueryPairs = web::Query<Vec<(String, String)>>;

#[derive(serde::Serialize)]
struct ListBody<'a> {
    data: &'a [ItemObject],
    page: serde_json::Value,
}

/// The collection's own routes, mounted inside its `/v1/{collection}` scope (which
/// carries the `Collection` as app data).
pub fn configure(cfg: &mut web::ServiceConfig, collection: Collection) {
    cfg.service(resource(
        "",
        [web::get().to(list_items), web::post().to(writes::create)],
    ))
    .service(resource(
        "/{slug}",
        [
            web::get().to(get_item),
            web::patch().to(writes::patch),
            web::delete().to(writes::delete),
        ],
    ));
    if collection == Collection::Products {
        // Before the link sets, so `/sku/{sku}` is never read as `/{slug}/{link}`.
        cfg.service(resource("/sku/{sku}", [web::get().to(get_product_by_sku)]))
            .service(resource(
                "/gtin/{gtin}",
                [web::get().to(get_product_by_gtin)],
            ));
    }
    for relation in link_relations(collection) {
        cfg.service(resource(
            &format!("/{{slug}}/{{link:{}}}", relation.name),
            [web::put().to(writes::put_links)],
        ));
    }
}

/// A page of a collection: filters, `q`, `sort`, `limit`, `cursor`, `count`, `include`,
/// `fields`.
async fn list_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    query: QueryPairs,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let json = negotiate(&req, &[Representation::Json])?;
    read_through(&req, &state, &caller, json, || async {
        let mut params = list_params(**collection, &query)?;
        params.syndication = Some(state.syndication_source().await?);
        let page = listing::list(
            &state.db,
            &state.cursors,
            caller.visibility(),
            **collection,
            &params,
        )
        .await?;
        let mut meta = json!({ "next_cursor": page.next_cursor, "limit": page.limit });
        if let Some(total) = page.total {
            meta["total"] = json!(total);
        }
        let body = ListBody {
            data: &page.items,
            page: meta,
        };
        render_items(&body, &page.items, page.tags)
    })
    .await
}

/// One item by slug, with `include` and `fields`.
async fn get_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    query: QueryPairs,
) -> Result<HttpResponse> {
    let key = ItemKey::Slug(path.as_str());
    respond_item(&req, &state, &caller, **collection, key, &query).await
}

/// A product by SKU — the call a storefront makes from its own product page.
async fn get_product_by_sku(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryPairs,
) -> Result<HttpResponse> {
    let key = ItemKey::Sku(path.as_str());
    respond_item(&req, &state, &caller, Collection::Products, key, &query).await
}

/// A product by GTIN (a retail barcode), in any of its forms: GTIN-8, -12, -13 or -14.
async fn get_product_by_gtin(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryPairs,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let gtin = Gtin::parse(&path).map_err(|e| bad("gtin", e))?;
    let key = ItemKey::Gtin(gtin.padded());
    respond_item(&req, &state, &caller, Collection::Products, key, &query).await
}

async fn respond_item(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    collection: Collection,
    key: ItemKey<'_>,
    query: &[(String, String)],
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let representation = negotiate(req, &[Representation::Json, Representation::JsonLd])?;
    read_through(req, state, caller, representation, || async {
        let mut params = item_params(collection, query)?;
        if representation == Representation::JsonLd {
            let terms = state.syndication_source().await?;
            let language = &state.settings.serve.content_language;
            let (document, item, tags) = jsonld::document(
                &state.db,
                caller.visibility(),
                collection,
                key,
                terms,
                language,
            )
            .await?;
            return with_links(render_jsonld(&document, &item, tags)?, &item);
        }
        params.syndication = Some(state.syndication_source().await?);
        let (item, tags) =
            content::get_item_tagged(&state.db, caller.visibility(), collection, key, &params)
                .await?;
        let rendered = render_items(&ItemBody { data: &item }, std::slice::from_ref(&item), tags)?;
        with_links(rendered, &item)
    })
    .await
}
