//! GraphQL API (`/graphql`): a schema generated from the content model, resolved on the
//! service layer REST uses, batched with DataLoader, and guarded by limits that run
//! before any SQL.

pub mod catalog;
mod drafts;
pub mod errors;
mod evidence;
mod history;
pub mod http;
pub mod ide;
pub mod items;
mod keys;
pub mod limits;
pub mod loader;
pub mod mutation;
pub mod persisted;
pub mod prefetch;
mod references;
pub mod reviews;
pub mod root;
pub mod syndication;
pub mod text;
pub mod types;
pub mod values;
mod webhooks;

use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{Schema, SchemaError};

use crate::config::GraphqlSettings;
use crate::domain::Collection;
use crate::service::Visibility;
use catalog::Catalog;
use loader::RelationLoader;

/// What resolvers of one request share.
pub struct RequestData {
    /// Who is calling (mutations check scopes and record the key in revisions).
    pub caller: crate::service::Caller,
    pub request_id: Option<String>,
    /// The read pool, the cursor codec, and what mutations write with (the editor pool,
    /// the write gate, the read cache).
    pub state: crate::state::AppState,
    /// Cache tags of every item the response shows (see `service::cache`).
    pub tags: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
    /// Whether the response is stored or sent with `Surrogate-Key` (else no tag is kept).
    pub wants_tags: bool,
    pub visibility: Visibility,
    pub loader: DataLoader<RelationLoader>,
    /// Relation children read with a root lookup's item (see `prefetch`).
    pub prefetched: prefetch::Prefetched,
    /// `GraphqlSettings::graphql_link_row_budget`.
    pub link_row_budget: usize,
}

impl RequestData {
    fn tags(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<String>> {
        self.tags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes the cache tags of items a resolver returns.
    pub fn note_items<'a>(
        &self,
        collection: Collection,
        items: impl IntoIterator<Item = &'a crate::service::item::ItemObject>,
    ) {
        if !self.wants_tags {
            return;
        }
        let mut tags = self.tags();
        for item in items {
            crate::service::content::collect_tags(
                collection,
                std::slice::from_ref(item),
                &[],
                &mut tags,
            );
        }
    }

    /// Notes cache tags a service call reported.
    pub fn note_tags(&self, tags: &[String]) {
        if !self.wants_tags {
            return;
        }
        self.tags().extend(tags.iter().cloned());
    }
}

/// The executable schema and what the limits need to know about it.
#[derive(Clone)]
pub struct GraphqlApi {
    pub schema: Schema,
    pub catalog: std::sync::Arc<Catalog>,
    pub settings: GraphqlSettings,
    pub memo: persisted::Memo,
}

impl GraphqlApi {
    pub fn build(settings: &GraphqlSettings) -> Result<Self, SchemaError> {
        let mut catalog = Catalog::default();
        let mut builder = Schema::build("Query", Some("Mutation"), None)
            .register(root::query(&mut catalog))
            .register(mutation::mutation(&mut catalog))
            .register(types::node_interface())
            .register(types::statistic())
            .register(types::person_name())
            .register(types::page_info())
            .register(syndication::input())
            .register(evidence::input())
            .register(evidence::object(&mut catalog))
            .register(references::object())
            .register(references::style_enum());
        let objects = syndication::types()
            .into_iter()
            .chain(reviews::types(&mut catalog))
            .chain(history::types())
            .chain(drafts::types())
            .chain(keys::types())
            .chain(webhooks::types());
        for object in objects {
            builder = builder.register(object);
        }
        for input in keys::inputs().into_iter().chain(webhooks::inputs()) {
            builder = builder.register(input);
        }
        for scalar in types::scalars() {
            builder = builder.register(scalar);
        }
        for e in types::enums()
            .into_iter()
            .chain(evidence::enums())
            .chain([reviews::status_enum()])
        {
            builder = builder.register(e);
        }
        for input in mutation::shared_inputs() {
            builder = builder.register(input);
        }
        let (search_objects, union) = types::search_types(&mut catalog);
        builder = builder.register(union);
        for object in search_objects {
            builder = builder.register(object);
        }
        for collection in Collection::ALL {
            for object in items::object_types(collection, &mut catalog) {
                builder = builder.register(object);
            }
            for object in types::connection_types(collection, &mut catalog) {
                builder = builder.register(object);
            }
            for e in items::enums(collection) {
                builder = builder.register(e);
            }
            let (inputs, link_sets) = mutation::types(collection);
            for input in inputs {
                builder = builder.register(input);
            }
            if let Some(link_sets) = link_sets {
                builder = builder.register(link_sets);
            }
            builder = builder
                .register(root::filter_input(collection))
                .register(root::sort_enum(collection));
        }
        // Depth, cost and the other limits are ours (`limits`), checked before execution.
        builder = builder.disable_suggestions();
        if settings.graphql_no_introspection {
            builder = builder.disable_introspection();
        }
        Ok(Self {
            schema: builder.finish()?,
            catalog: std::sync::Arc::new(catalog),
            settings: settings.clone(),
            memo: persisted::Memo::default(),
        })
    }

    /// The SDL of this schema.
    pub fn sdl(&self) -> String {
        self.schema.sdl()
    }
}

/// The SDL committed as `openapi/schema.graphql` (default settings: every type, with
/// introspection on).
pub fn sdl() -> String {
    GraphqlApi::build(&GraphqlSettings::default())
        .map(|api| api.sdl())
        .unwrap_or_else(|e| format!("# the schema does not build: {e}\n"))
}
