//! The read cache: whole response bodies of published-content reads (REST items, lists and
//! search, GraphQL queries), shared by every transport, bounded in bytes (LRU), and
//! invalidated exactly by tags.
//!
//! Every entry carries the tags of what it shows: `technique:foam-rolling` for each item
//! in it (and for each item it names by reference or filters by), and `list:techniques`
//! when it is a list or search page of that collection. A write invalidates the tags of
//! the item, of every item linked to or referenced by it before or after the write (so a
//! technique appears in a cached condition the moment it is published), and the lists of
//! all their collections. Writes through another instance or the CLI reach this one
//! through the `change_log` table (see `service::changes`).
//!
//! Correctness under races: a reader notes the invalidation epoch before it computes;
//! if any invalidation happened meanwhile, its result is returned but not stored, so an
//! entry computed from pre-write data can never outlive the write.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::HeaderValue;

/// A cached HTTP response: its body and the header values that describe it, validated
/// once when stored, so sending one copies and checks nothing.
#[derive(Debug)]
pub struct Cached {
    /// Shared, not copied, by every response that sends it.
    pub body: bytes::Bytes,
    pub content_type: HeaderValue,
    /// `Link` (an item's canonical page and licence), if any.
    pub links: Option<HeaderValue>,
    /// `Content-Security-Policy` of an HTML page.
    pub csp: Option<HeaderValue>,
    pub etag: HeaderValue,
    pub last_modified: Option<HeaderValue>,
    /// Space-separated tags, as sent in `Surrogate-Key`.
    pub surrogate_keys: HeaderValue,
    /// The same, comma-separated, as sent in `Cache-Tag`.
    pub cache_tags: HeaderValue,
}

#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
    pub invalidations: AtomicU64,
    pub bypasses: AtomicU64,
}

struct Entry {
    value: Arc<Cached>,
    tags: Vec<Arc<str>>,
    size: usize,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Arc<str>, Entry>,
    /// Least recently used first.
    order: BTreeMap<u64, Arc<str>>,
    by_tag: HashMap<Arc<str>, HashSet<Arc<str>>>,
    bytes: usize,
    tick: u64,
}

/// Entry overhead beyond the body (key, tags, index slots), counted against the budget.
const OVERHEAD: usize = 256;

pub struct ReadCache {
    inner: Mutex<Inner>,
    budget: usize,
    enabled: std::sync::atomic::AtomicBool,
    epoch: AtomicU64,
    pub stats: CacheStats,
}

/// Where a reader stands: the epoch it saw before computing.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl ReadCache {
    pub fn new(budget_bytes: usize, enabled: bool) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            budget: budget_bytes,
            enabled: std::sync::atomic::AtomicBool::new(enabled),
            epoch: AtomicU64::new(0),
            stats: CacheStats::default(),
        }
    }

    /// Bumped by every invalidation: what was read before may be stale once it moves.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Turns the cache off for good (when changes by others could not be followed).
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Relaxed);
        self.invalidate(["*"]);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every update is
        // completed before unlocking or not started), so a poisoned lock is usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached response for `key`, or a ticket to store one computed now.
    pub fn get(&self, key: &str) -> Result<Arc<Cached>, Ticket> {
        self.probe(key).inspect_err(|_| self.note_miss())
    }

    /// Counts a cacheable read that was not in the cache.
    pub fn note_miss(&self) {
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// As [`ReadCache::get`], without counting a miss: for callers that learn only later
    /// whether the read was cacheable at all.
    pub fn probe(&self, key: &str) -> Result<Arc<Cached>, Ticket> {
        let ticket = Ticket(self.epoch.load(Ordering::SeqCst));
        if !self.enabled() {
            return Err(ticket);
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let window = (inner.entries.len() as u64 / 4).max(1);
        let Some(entry) = inner.entries.get_mut(key) else {
            return Err(ticket);
        };
        // Approximate LRU: an entry used recently enough keeps its place, so most hits
        // do not reorder the index.
        let recent = tick.saturating_sub(entry.tick) < window;
        let value = entry.value.clone();
        if !recent {
            let old = std::mem::replace(&mut entry.tick, tick);
            if let Some(name) = inner.order.remove(&old) {
                inner.order.insert(tick, name);
            }
        }
        drop(inner);
        self.stats.hits.fetch_add(1, Ordering::Relaxed);
        Ok(value)
    }

    /// Stores `value` under `key` unless an invalidation happened since `ticket`.
    pub fn put(&self, key: &str, tags: &[String], value: Arc<Cached>, ticket: Ticket) {
        if !self.enabled() {
            return;
        }
        // What the entry really holds: body, key, header text, and each tag twice (the
        // entry's list and the tag index).
        let size = value.body.len()
            + key.len()
            + value.surrogate_keys.len()
            + value.cache_tags.len()
            + tags.iter().map(|t| 2 * t.len() + 96).sum::<usize>()
            + OVERHEAD;
        if size > self.budget / 8 {
            return; // one response may not crowd out the rest
        }
        let mut inner = self.lock();
        if self.epoch.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        let key: Arc<str> = Arc::from(key);
        remove(&mut inner, &key);
        inner.tick += 1;
        let tick = inner.tick;
        let tags: Vec<Arc<str>> = tags.iter().map(|t| Arc::from(t.as_str())).collect();
        for tag in &tags {
            inner
                .by_tag
                .entry(tag.clone())
                .or_default()
                .insert(key.clone());
        }
        inner.order.insert(tick, key.clone());
        inner.bytes += size;
        inner.entries.insert(
            key,
            Entry {
                value,
                tags,
                size,
                tick,
            },
        );
        while inner.bytes > self.budget {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            remove(&mut inner, &oldest);
            self.stats.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops every entry carrying one of `tags` (`*` drops everything).
    pub fn invalidate<'a>(&self, tags: impl IntoIterator<Item = &'a str>) {
        let mut inner = self.lock();
        // Bumped under the lock: a reader either stored before this (and is dropped
        // below) or sees the new epoch and does not store.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for tag in tags {
            if tag == "*" {
                let count = inner.entries.len() as u64;
                *inner = Inner::default();
                self.stats.invalidations.fetch_add(count, Ordering::Relaxed);
                return;
            }
            let Some(keys) = inner.by_tag.remove(tag) else {
                continue;
            };
            for key in keys {
                if remove(&mut inner, &key) {
                    self.stats.invalidations.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn budget(&self) -> usize {
        self.budget
    }
}

fn remove(inner: &mut Inner, key: &Arc<str>) -> bool {
    let Some(entry) = inner.entries.remove(key) else {
        return false;
    };
    inner.order.remove(&entry.tick);
    inner.bytes -= entry.size;
    for tag in entry.tags {
        if let Some(keys) = inner.by_tag.get_mut(&tag) {
            keys.remove(key);
            if keys.is_empty() {
                inner.by_tag.remove(&tag);
            }
        }
    }
    true
}

/// The tag of one item.
pub fn item_tag(singular: &str, slug: &str) -> String {
    format!("{singular}:{slug}")
}

/// The tag of every answer showing a condition's statistics or a claim's evidence: a
/// citation's change (a publication, an unpublication, a new slug) can show or hide what
/// they cite.
pub const CITED_BY_STATISTICS: &str = "statistics";

/// The tag every list and search page of a collection carries.
pub fn list_tag(collection: &str) -> String {
    format!("list:{collection}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(bytes: usize) -> Arc<Cached> {
        Arc::new(Cached {
            body: vec![b'x'; bytes].into(),
            content_type: HeaderValue::from_static("application/json"),
            links: None,
            csp: None,
            etag: HeaderValue::from_static("\"e\""),
            last_modified: None,
            surrogate_keys: HeaderValue::from_static(""),
            cache_tags: HeaderValue::from_static(""),
        })
    }

    #[test]
    fn invalidation_by_tag_and_lru_eviction() {
        let cache = ReadCache::new(100_000, true);
        let t = cache.get("a").unwrap_err();
        cache.put("a", &["technique:x".into()], value(10), t);
        let t = cache.get("b").unwrap_err();
        cache.put("b", &["technique:y".into()], value(10), t);
        assert!(cache.get("a").is_ok());
        cache.invalidate(["technique:x"]);
        assert!(cache.get("a").is_err());
        assert!(cache.get("b").is_ok());
        // Filling past the budget evicts the least recently used.
        for i in 0..20 {
            let t = cache.get(&format!("k{i}")).unwrap_err();
            cache.put(&format!("k{i}"), &[], value(10_000), t);
        }
        assert!(cache.bytes() <= 100_000);
        assert!(cache.get("b").is_err());
        assert!(cache.stats.evictions.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn a_result_computed_across_an_invalidation_is_not_stored() {
        let cache = ReadCache::new(100_000, true);
        let ticket = cache.get("a").unwrap_err();
        cache.invalidate(["technique:x"]);
        cache.put("a", &["technique:x".into()], value(10), ticket);
        assert!(cache.get("a").is_err());
    }
}
