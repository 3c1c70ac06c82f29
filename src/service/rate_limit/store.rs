//! governor's rate-limiting state, in bounded memory: keyed by caller in shards, each
//! holding at most its share of `capacity` keys. A shard that is full first forgets the
//! callers idle for a whole window (their state is the same as a new caller's), then, if
//! still full, the half idle longest: under a flood of new addresses the quietest callers
//! start over with a full quota, and memory never grows past the bound.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::nanos::Nanos;
use governor::state::StateStore;

const SHARDS: usize = 16;

struct Entry {
    tat: Nanos,
    seen: Instant,
}

pub struct BoundedStore<K> {
    shards: Vec<Mutex<HashMap<K, Entry>>>,
    per_shard: usize,
    window: Duration,
    hasher: std::collections::hash_map::RandomState,
}

impl<K: Hash + Eq + Clone> BoundedStore<K> {
    /// At most about `capacity` keys; `window` is the quota's (after it an idle key's
    /// state equals a fresh one's).
    pub fn new(capacity: usize, window: Duration) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            window,
            hasher: Default::default(),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, Entry>> {
        let n = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[n]
    }

    fn make_room(&self, map: &mut HashMap<K, Entry>, now: Instant) {
        map.retain(|_, entry| now.duration_since(entry.seen) < self.window);
        if map.len() < self.per_shard {
            return;
        }
        let mut seen: Vec<Instant> = map.values().map(|e| e.seen).collect();
        seen.sort_unstable();
        let cutoff = seen[seen.len() / 2];
        map.retain(|_, entry| entry.seen > cutoff);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let now = Instant::now();
        let mut map = lock(self.shard(key));
        if let Some(entry) = map.get_mut(key) {
            let (outcome, tat) = f(Some(entry.tat))?;
            *entry = Entry { tat, seen: now };
            return Ok(outcome);
        }
        let (outcome, tat) = f(None)?;
        if map.len() >= self.per_shard {
            self.make_room(&mut map, now);
        }
        map.insert(key.clone(), Entry { tat, seen: now });
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::middleware::NoOpMiddleware;
    use governor::{Quota, RateLimiter, clock::DefaultClock};
    use std::num::NonZeroU32;

    #[test]
    fn limits_hold_for_recent_callers_through_a_flood() {
        let quota = Quota::per_minute(NonZeroU32::new(3).unwrap());
        let store = BoundedStore::new(1_000, Duration::from_secs(60));
        let limiter: RateLimiter<u32, _, _, NoOpMiddleware<_>> =
            RateLimiter::new(quota, store, DefaultClock::default());
        for caller in 0..100_000u32 {
            assert!(limiter.check_key(&caller).is_ok());
        }
        // A caller seen recently keeps its state: the fourth request in the minute fails.
        for _ in 0..3 {
            assert!(limiter.check_key(&u32::MAX).is_ok());
        }
        assert!(limiter.check_key(&u32::MAX).is_err());
    }

    #[test]
    fn a_full_shard_forgets_the_idlest_half() {
        let store: BoundedStore<u32> = BoundedStore::new(SHARDS * 10, Duration::from_secs(60));
        for key in 0..10_000u32 {
            let _: Result<(), ()> =
                store.measure_and_replace(&key, |_| Ok(((), Nanos::from(1u64))));
        }
        assert!(store.len() <= SHARDS * 10, "{}", store.len());
        assert!(store.len() >= SHARDS * 5, "{}", store.len());
    }
}
