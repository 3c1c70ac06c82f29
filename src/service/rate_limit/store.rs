//! governor's rate-limiting state, in bounded memory: keyed by caller in shards, each
//! holding at most its share of `capacity` keys. A shard that is full first forgets the
//! callers whose quota is whole again (their state is the same as a new caller's), then,
//! if still full, the half with the fullest quotas: under a flood of new addresses the
//! quietest callers start over with a full quota, and memory never grows past the bound.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use governor::nanos::Nanos;
use governor::state::StateStore;

const SHARDS: usize = 16;

/// A caller's state: GCRA's theoretical arrival time (nanoseconds since the limiter
/// began), an atomic so that callers already known share a read lock. Once it is past, the
/// caller's quota is whole again: the state is the same as a new caller's.
struct Entry {
    tat: AtomicU64,
}

pub struct BoundedStore<K> {
    shards: Vec<RwLock<HashMap<K, Entry>>>,
    per_shard: usize,
    began: Instant,
    hasher: std::collections::hash_map::RandomState,
}

impl<K: Hash + Eq + Clone> BoundedStore<K> {
    /// At most about `capacity` keys. Made just before its limiter, whose clock starts
    /// then too: the store's idea of now stays within microseconds of the limiter's.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            began: Instant::now(),
            hasher: Default::default(),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map_or(0, |m| m.len()))
            .sum()
    }

    fn shard(&self, key: &K) -> &RwLock<HashMap<K, Entry>> {
        let n = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[n]
    }

    fn now(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Forgets the callers whose quota is whole again, then, if the shard is still full,
    /// the half whose quota is fullest (the idlest).
    fn make_room(&self, map: &mut HashMap<K, Entry>) {
        let now = self.now();
        map.retain(|_, entry| *entry.tat.get_mut() > now);
        if map.len() < self.per_shard {
            return;
        }
        let mut tats: Vec<u64> = map.values_mut().map(|e| *e.tat.get_mut()).collect();
        tats.sort_unstable();
        let cutoff = tats[tats.len() / 2];
        map.retain(|_, entry| *entry.tat.get_mut() > cutoff);
    }
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let shard = self.shard(key);
        {
            let map = shard
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(entry) = map.get(key) {
                let mut current = entry.tat.load(Ordering::Acquire);
                loop {
                    let (outcome, next) = f(Some(Nanos::from(current)))?;
                    match entry.tat.compare_exchange_weak(
                        current,
                        next.as_u64(),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return Ok(outcome),
                        Err(actual) => current = actual,
                    }
                }
            }
        }
        let mut map = shard
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = map.get_mut(key) {
            // Another request inserted it meanwhile.
            let (outcome, next) = f(Some(Nanos::from(*entry.tat.get_mut())))?;
            *entry.tat.get_mut() = next.as_u64();
            return Ok(outcome);
        }
        let (outcome, tat) = f(None)?;
        if map.len() >= self.per_shard {
            self.make_room(&mut map);
        }
        let entry = Entry {
            tat: AtomicU64::new(tat.as_u64()),
        };
        map.insert(key.clone(), entry);
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
        let store = BoundedStore::new(1_000);
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

    /// An hour from the store's start: quotas not yet whole again.
    const FUTURE: u64 = 3_600_000_000_000;

    #[test]
    fn callers_whose_quota_is_whole_are_forgotten_first() {
        let store: BoundedStore<u32> = BoundedStore::new(SHARDS * 10);
        for key in 0..10_000u32 {
            let tat = if key % 2 == 0 { 1 } else { FUTURE };
            let _: Result<(), ()> = store.measure_and_replace(&key, |_| Ok(((), Nanos::from(tat))));
        }
        assert!(store.len() <= SHARDS * 10, "{}", store.len());
        let kept_busy = (0..10_000u32)
            .filter(|k| k % 2 == 1)
            .filter(|k| {
                let shard = store.shard(k).read().unwrap();
                shard.contains_key(k)
            })
            .count();
        assert!(
            kept_busy * 2 >= store.len(),
            "busy callers are kept before idle ones"
        );
    }

    #[test]
    fn a_full_shard_forgets_the_idlest_half() {
        let store: BoundedStore<u32> = BoundedStore::new(SHARDS * 10);
        for key in 0..10_000u32 {
            let _: Result<(), ()> =
                store.measure_and_replace(&key, |_| Ok(((), Nanos::from(FUTURE + u64::from(key)))));
        }
        assert!(store.len() <= SHARDS * 10, "{}", store.len());
        assert!(store.len() >= SHARDS * 5, "{}", store.len());
    }
}
