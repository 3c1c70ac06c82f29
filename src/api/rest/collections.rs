//! `GET /v1/{collection}`, `GET /v1/{collection}/{slug}`, `GET /v1/products/sku/{sku}`,
//! `GET /v1/products/gtin/{gtin}`, and the writes mounted on the same resources (handlers in `writes.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::writes;
use crate::api::http_cache::{
    read_through, render_csl, render_items, render_jsonld, with_links, with_next,
};
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
    let representation = negotiate(&req, offered(**collection))?;
    read_through(&req, &state, &caller, representation, || async {
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
        let next = page.next_cursor.as_deref();
        if representation == Representation::CslJson {
            let items: Vec<Value> = page.items.iter().map(csl_item).collect();
            let rendered = render_csl(&Value::Array(items), &page.items, page.tags)?;
            return with_next(rendered, &req, &query, next);
        }
        let body = ListBody {
            data: &page.items,
            page: meta,
        };
        with_next(
            render_items(&body, &page.items, page.tags)?,
            &req,
            &query,
            next,
        )
    })
    .await
}

/// The representations of a collection's items: JSON, and CSL-JSON for citations.
fn offered(collection: Collection) -> &'static [Representation] {
    match collection {
        Collection::Citations => &[Representation::Json, Representation::CslJson],
        _ => &[Representation::Json],
    }
}

fn csl_item(item: &ItemObject) -> Value {
    crate::domain::csl::exchanged(&|field| item.get(field))
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
    let mut offers = offered(collection).to_vec();
    offers.push(Representation::JsonLd);
    let representation = negotiate(req, &offers)?;
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
        if representation == Representation::CslJson {
            let rendered = render_csl(&csl_item(&item), std::slice::from_ref(&item), tags)?;
            return with_links(rendered, &item);
        }
        let rendered = render_items(&ItemBody { data: &item }, std::slice::from_ref(&item), tags)?;
        with_links(rendered, &item)
    })
    .await
}
