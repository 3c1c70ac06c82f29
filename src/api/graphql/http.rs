//! `/graphql` over HTTP: `POST` with JSON (bounded body, never buffered past the limit),
//! cacheable `GET` (queries only), the in-browser IDE, persisted queries, and every
//! limit checked before execution.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{Error, Response, ServerError, Variables};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value as Json;

use super::errors::coded;
use super::loader::RelationLoader;
use super::{GraphqlApi, RequestData, ide, limits, persisted, text};
use crate::api::http_cache::{latest_graphql_update, render, respond as respond_cached};
use crate::domain::Scope;
use crate::error::codes;
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(ide::configure).service(
        web::resource("/graphql")
            .route(web::post().to(post))
            .route(web::get().to(get))
            .default_service(web::to(crate::api::method_not_allowed)),
    );
}

/// A GraphQL request as sent in a JSON body (or GET parameters).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlRequest {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Json>,
    pub extensions: Option<Json>,
}

async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    api: web::Data<GraphqlApi>,
    caller: Caller,
    mut payload: web::Payload,
) -> Result<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && mime != "application/graphql-response+json" {
        // Form, multipart and text/plain bodies are what cross-site forms can send.
        return Err(AppError::UnsupportedMediaType(
            "send GraphQL requests as application/json".into(),
        ));
    }
    let limit = api.settings.graphql_max_body_bytes;
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "GraphQL request bodies are limited to {limit} bytes"
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::bad_request("batched requests are not supported"));
    }
    let request: GraphqlRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(match e.classify() {
            serde_json::error::Category::Data => format!("not a GraphQL request: {e}"),
            _ => format!("the body is not valid JSON: {e}"),
        })
    })?;
    execute(&req, &state, &api, &caller, request, Method::POST).await
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    api: web::Data<GraphqlApi>,
    caller: Caller,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let mut request = GraphqlRequest::default();
    for (key, value) in query.into_inner() {
        let json = |v: &str, what: &str| {
            serde_json::from_str::<Json>(v)
                .map_err(|e| AppError::invalid_parameter(format!("{what}: not valid JSON: {e}")))
        };
        match key.as_str() {
            "query" => request.query = Some(value),
            "operationName" => request.operation_name = Some(value),
            "variables" => request.variables = Some(json(&value, "variables")?),
            "extensions" => request.extensions = Some(json(&value, "extensions")?),
            "version" => {} // read with the caller (`api::auth`)
            other => {
                return Err(AppError::invalid_parameter(format!(
                    "{other}: unknown parameter (allowed: query, operationName, variables, \
                     extensions, version)"
                )));
            }
        }
    }
    if request.query.is_none() && request.extensions.is_none() {
        return Ok(ide::page());
    }
    execute(&req, &state, &api, &caller, request, Method::GET).await
}

/// A response carrying errors raised before execution.
fn rejected(req: &HttpRequest, error: Error) -> HttpResponse {
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    respond(req, &Response::from_errors(vec![server_error]), true)
}

fn respond(req: &HttpRequest, response: &Response, request_error: bool) -> HttpResponse {
    let wants_graphql_response = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"));
    let (content_type, status) = if wants_graphql_response {
        let status = if request_error {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        ("application/graphql-response+json", status)
    } else {
        ("application/json", StatusCode::OK)
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(response)
}

/// A document that parsed and passed every check, ready to execute.
struct Prepared {
    parsed: async_graphql::parser::types::ExecutableDocument,
    variables: Variables,
    is_query: bool,
}

/// Parses the document and checks its strings, variables, operation and limits; a
/// refused request gets its response instead.
fn prepare(
    req: &HttpRequest,
    api: &GraphqlApi,
    document: &str,
    request: &GraphqlRequest,
    method: &Method,
) -> std::result::Result<Prepared, Box<HttpResponse>> {
    let parsed = match async_graphql::parser::parse_query(document) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Err(refuse(
                req,
                coded(&codes::GRAPHQL_PARSE_FAILED, e.to_string()),
            ));
        }
    };
    let variables = match &request.variables {
        None | Some(Json::Null) => Variables::default(),
        Some(value @ Json::Object(_)) => Variables::from_json(value.clone()),
        Some(_) => {
            return Err(refuse(
                req,
                coded(&codes::BAD_REQUEST, "variables must be an object"),
            ));
        }
    };
    if let Err(error) = text::check_strings(&parsed, request.variables.as_ref()) {
        return Err(refuse(req, error));
    }
    let operation = match limits::operation(&parsed, request.operation_name.as_deref()) {
        Ok(operation) => operation,
        Err(error) => return Err(refuse(req, error)),
    };
    if *method == Method::GET && operation.ty != OperationType::Query {
        // Mutations over GET would be open to cross-site requests and caches.
        let mut response = actix_web::ResponseError::error_response(&AppError::MethodNotAllowed(
            "only queries run over GET; send mutations with POST".into(),
        ));
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Err(Box::new(response));
    }
    if let Err(error) =
        limits::check_operation(&parsed, operation, &variables, &api.catalog, &api.settings)
    {
        return Err(refuse(req, error));
    }
    let is_query = operation.ty == OperationType::Query;
    Ok(Prepared {
        parsed,
        variables,
        is_query,
    })
}

/// A request refused before execution, boxed: the refusal is the rare path.
fn refuse(req: &HttpRequest, error: Error) -> Box<HttpResponse> {
    Box::new(rejected(req, error))
}

async fn execute(
    req: &HttpRequest,
    state: &AppState,
    api: &GraphqlApi,
    caller: &Caller,
    request: GraphqlRequest,
    method: Method,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let persisted::Resolved { document, register } =
        match persisted::resolve(state, api, caller, &request).await? {
            Ok(found) => found,
            Err(error) => return Ok(rejected(req, error)),
        };
    if let Err(error) = limits::check_text(&document, &api.settings) {
        return Ok(rejected(req, error));
    }
    // Published-content queries are served from the read cache, keyed by the document,
    // variables and operation (whatever the transport). The lookup comes before parsing:
    // only queries that passed every limit and ran without errors are stored, and the
    // same text, variables and operation pass the same checks again.
    let cacheable =
        caller.visibility() == crate::service::Visibility::PublishedOnly && state.cache.enabled();
    let cache_key = cacheable
        .then(|| graphql_cache_key(&document, &request))
        .flatten();
    let mut ticket = None;
    if let Some(key) = &cache_key {
        match state.cache.probe(key) {
            Ok(hit) => {
                // Stored answers passed every limit: the same document passes them again.
                if let Some(hash) = register {
                    persisted::register(state, api, hash, &document).await?;
                }
                return Ok(cached_response(req, state, caller, &hit, method));
            }
            Err(t) => ticket = Some(t),
        }
    }
    let Prepared {
        parsed,
        variables,
        is_query,
    } = match prepare(req, api, &document, &request, &method) {
        Ok(prepared) => prepared,
        Err(response) => return Ok(*response),
    };
    let cacheable = cacheable && is_query;
    let cache_key = cache_key.filter(|_| cacheable);
    if cacheable {
        state.cache.note_miss();
    }
    let registration = register.map(|hash| (hash, document.clone()));
    let mut gql = async_graphql::Request::new(document).variables(variables);
    // Executes the document the limits checked, rather than parsing it a second time.
    gql.set_parsed_query(parsed);
    if let Some(name) = request.operation_name {
        gql = gql.operation_name(name);
    }
    let visibility = caller.visibility();
    let tags = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let wants_tags = method == Method::GET || cacheable;
    let gql = gql.data(RequestData {
        caller: caller.clone(),
        request_id: crate::api::request::request_id(req),
        state: state.clone(),
        visibility,
        loader: RelationLoader::data_loader(
            state.db.clone(),
            visibility,
            api.settings.graphql_link_row_budget,
            state.settings.serve.content_language.as_str().into(),
        ),
        prefetched: Default::default(),
        link_row_budget: api.settings.graphql_link_row_budget,
        tags: tags.clone(),
        wants_tags,
    });
    let mut response = api.schema.execute(gql).await;
    let failed_validation = response.data == async_graphql::Value::Null;
    // Stored only once it passed every limit and the schema's validation.
    if let Some((hash, document)) = registration.filter(|_| !failed_validation) {
        persisted::register(state, api, hash, &document).await?;
    }
    for error in &mut response.errors {
        add_default_code(error, failed_validation);
    }
    if response.errors.is_empty() && wants_tags {
        let latest = latest_graphql_update(&response.data);
        let tags: Vec<String> = std::mem::take(
            &mut *tags
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        // Serialized as is: the fields stay in selection order, as when not cached.
        let (rendered, tags) = render(&response, latest, tags)?;
        let rendered = std::sync::Arc::new(rendered);
        if let (Some(key), Some(ticket)) = (&cache_key, ticket) {
            state.cache.put(key, &tags, rendered.clone(), ticket);
        }
        return Ok(cached_response(req, state, caller, &rendered, method));
    }
    Ok(respond(
        req,
        &response,
        failed_validation && !response.errors.is_empty(),
    ))
}

/// The read-cache key of a query: its document, variables and operation name.
fn graphql_cache_key(document: &str, request: &GraphqlRequest) -> Option<String> {
    let variables = match &request.variables {
        None | Some(Json::Null) => &Json::Null,
        Some(value) => value,
    };
    let identity = (document, variables, &request.operation_name);
    // Serializing strings and JSON values cannot fail; if it did, the query is not cached.
    let identity = serde_json::to_vec(&identity).ok()?;
    Some(format!(
        "graphql {}",
        crate::service::item::strong_etag(&identity)
    ))
}

/// Errors raised by async-graphql itself (validation, input coercion) get a code too.
fn add_default_code(error: &mut ServerError, failed_validation: bool) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if has_code {
        return;
    }
    let code = if failed_validation {
        &codes::GRAPHQL_VALIDATION_FAILED
    } else {
        &codes::INTERNAL_ERROR
    };
    if !failed_validation {
        tracing::error!(message = %error.message, "GraphQL execution error");
        error.message = "internal error".into();
    }
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.graphql());
}

/// A successful query response: with validators over GET (cacheable by browsers and
/// CDNs), as an ordinary `no-store` JSON body over POST.
fn cached_response(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    cached: &crate::service::cache::Cached,
    method: Method,
) -> HttpResponse {
    if method == Method::GET {
        return respond_cached(req, state, caller, cached);
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if !cached.surrogate_keys.is_empty() {
        response.insert_header((
            header::HeaderName::from_static("surrogate-key"),
            cached.surrogate_keys.clone(),
        ));
    }
    response.body(cached.body.clone())
}
