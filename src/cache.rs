//! A cache of public (no token) GraphQL responses, keyed by the exact request, valid for one content
//! generation. Any write in this process makes every entry stale at once; a write in another process
//! is noticed by polling the generation row (every 200 ms by default), so no process serves a stale
//! page for more than that after a write is acknowledged. Responses for token holders are never cached.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use sea_orm::DatabaseConnection;

use crate::service::generation;

/// What a cached entry is valid for: the database generation and this process's write count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(i64, u64);

#[derive(Clone)]
pub struct CachedResponse {
    pub body: Bytes,
    pub etag: String,
    stamp: Stamp,
}

pub struct ResponseCache {
    entries: RwLock<HashMap<Vec<u8>, CachedResponse>>,
    bytes: AtomicUsize,
    max_bytes: usize,
    /// -1 until the first poll: nothing is cached before the generation is known.
    db_generation: AtomicI64,
}

pub fn etag_of(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

impl ResponseCache {
    pub fn new(max_bytes: usize) -> Arc<ResponseCache> {
        Arc::new(ResponseCache {
            entries: RwLock::new(HashMap::new()),
            bytes: AtomicUsize::new(0),
            max_bytes,
            db_generation: AtomicI64::new(-1),
        })
    }

    /// The stamp to record before executing a request (so a write during execution makes it stale).
    pub fn stamp(&self) -> Option<Stamp> {
        let db = self.db_generation.load(Ordering::SeqCst);
        (db >= 0).then(|| Stamp(db, generation::local_writes()))
    }

    pub fn get(&self, key: &[u8]) -> Option<CachedResponse> {
        let stamp = self.stamp()?;
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|e| e.stamp == stamp).cloned()
    }

    pub fn put(&self, key: Vec<u8>, stamp: Stamp, body: Bytes) -> CachedResponse {
        let entry = CachedResponse { etag: etag_of(&body), body, stamp };
        if self.stamp() != Some(stamp) {
            return entry;
        }
        let size = key.len() + entry.body.len();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Past the budget, start over: simpler than LRU and bounded.
        if self.bytes.load(Ordering::Relaxed) + size > self.max_bytes {
            entries.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        if size <= self.max_bytes && entries.insert(key, entry.clone()).is_none() {
            self.bytes.fetch_add(size, Ordering::Relaxed);
        }
        entry
    }

    fn observe(&self, db_generation: i64) {
        if self.db_generation.swap(db_generation, Ordering::SeqCst) != db_generation {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            entries.retain(|_, e| e.stamp.0 == db_generation && e.stamp.1 == generation::local_writes());
            self.bytes.store(entries.iter().map(|(k, v)| k.len() + v.body.len()).sum(), Ordering::Relaxed);
        }
    }

    /// Polls the database generation for the life of the process.
    pub fn spawn_poller(self: &Arc<Self>, db: DatabaseConnection, interval: Duration) {
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(cache) = cache.upgrade() else { return };
                match generation::current(&db).await {
                    Ok(g) => cache.observe(g),
                    Err(e) => {
                        // Unknown generation: stop serving from the cache until the database answers again.
                        cache.db_generation.store(-1, Ordering::SeqCst);
                        tracing::warn!("cannot read the content generation: {e}");
                    }
                }
                drop(cache);
                tokio::time::sleep(interval).await;
            }
        });
    }
}
