//! A cache of public (no token) GraphQL responses, keyed by the exact request, valid for one content
//! generation. Any write in this process makes every entry stale at once; a write in another process
//! is noticed by polling the generation row (every 200 ms by default), so no process serves a stale
//! page for more than that after a write is acknowledged. Responses for token holders are never cached.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
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
    /// The earliest frame expiry in the body: past it the answer is wrong (the frame must go), so it is not served.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The body compressed, made on the first hit that asks for it and kept, so hits never recompress.
    encoded: Arc<Encoded>,
}

#[derive(Default)]
struct Encoded {
    gzip: OnceLock<Bytes>,
    br: OnceLock<Bytes>,
}

/// A content coding the cache can store a body in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Br,
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Br => "br",
        }
    }

    /// The coding to send for an `Accept-Encoding` header: br before gzip, neither for tiny bodies.
    pub fn negotiate(accept_encoding: Option<&str>, body_len: usize) -> Option<Coding> {
        // Below this a compressed body is no smaller (the same threshold as the compression layer's).
        const MIN_BYTES: usize = 32;
        let accept = accept_encoding?;
        if body_len < MIN_BYTES {
            return None;
        }
        let accepted = |name: &str| {
            accept.split(',').any(|item| {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
        };
        if accepted("br") {
            Some(Coding::Br)
        } else if accepted("gzip") {
            Some(Coding::Gzip)
        } else {
            None
        }
    }
}

fn compress(coding: Coding, body: &[u8]) -> Bytes {
    use std::io::Write;
    match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(body);
            Bytes::from(encoder.finish().unwrap_or_default())
        }
        Coding::Br => {
            let params = brotli::enc::BrotliEncoderParams { quality: 5, ..Default::default() };
            let mut out = Vec::new();
            let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
            Bytes::from(out)
        }
    }
}

impl CachedResponse {
    fn fresh(&self) -> bool {
        self.expires_at.is_none_or(|at| chrono::Utc::now() < at)
    }

    /// The entity tag of the body in `coding` (each representation has its own, as HTTP requires).
    pub fn etag_for(&self, coding: Option<Coding>) -> String {
        match coding {
            None => self.etag.clone(),
            Some(c) => format!("{}-{}\"", self.etag.trim_end_matches('"'), c.name()),
        }
    }

    /// Whether `tag` (from `If-None-Match`) names this response in any coding.
    pub fn matches(&self, tag: &str) -> bool {
        tag == "*" || tag == self.etag || [Coding::Gzip, Coding::Br].iter().any(|c| tag == self.etag_for(Some(*c)))
    }
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
        let found = self.stamp().and_then(|stamp| {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            entries.get(key).filter(|e| e.stamp == stamp && e.fresh()).cloned()
        });
        crate::http::observe::note_cache(found.is_some());
        found
    }

    /// The entry's body in `coding`, compressed on first use and kept with the entry.
    pub fn body_in(&self, entry: &CachedResponse, coding: Option<Coding>) -> Bytes {
        let Some(coding) = coding else {
            return entry.body.clone();
        };
        let slot = match coding {
            Coding::Gzip => &entry.encoded.gzip,
            Coding::Br => &entry.encoded.br,
        };
        slot.get_or_init(|| {
            let encoded = compress(coding, &entry.body);
            self.bytes.fetch_add(encoded.len(), Ordering::Relaxed);
            self.report();
            encoded
        })
        .clone()
    }

    fn report(&self) {
        let metrics = &crate::http::metrics::METRICS;
        metrics.cache_bytes.set(i64::try_from(self.bytes.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
    }

    pub fn put(
        &self,
        key: Vec<u8>,
        stamp: Stamp,
        body: Bytes,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> CachedResponse {
        let entry = CachedResponse { etag: etag_of(&body), body, stamp, expires_at, encoded: Arc::default() };
        if self.stamp() != Some(stamp) || !entry.fresh() {
            return entry;
        }
        let size = key.len() + entry.body.len();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Past the budget, start over: simpler than LRU and bounded.
        if self.bytes.load(Ordering::Relaxed) + size > self.max_bytes {
            crate::http::metrics::METRICS.cache_evictions.inc_by(entries.len() as u64);
            entries.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        if size <= self.max_bytes && entries.insert(key, entry.clone()).is_none() {
            self.bytes.fetch_add(size, Ordering::Relaxed);
        }
        crate::http::metrics::METRICS.cache_entries.set(entries.len() as i64);
        self.report();
        entry
    }

    fn observe(&self, db_generation: i64) {
        if self.db_generation.swap(db_generation, Ordering::SeqCst) != db_generation {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            let before = entries.len();
            entries.retain(|_, e| e.stamp.0 == db_generation && e.stamp.1 == generation::local_writes() && e.fresh());
            let size = |e: &CachedResponse| {
                let encoded = [&e.encoded.gzip, &e.encoded.br];
                e.body.len() + encoded.iter().filter_map(|s| s.get()).map(Bytes::len).sum::<usize>()
            };
            self.bytes.store(entries.iter().map(|(k, v)| k.len() + size(v)).sum(), Ordering::Relaxed);
            let metrics = &crate::http::metrics::METRICS;
            metrics.cache_evictions.inc_by((before - entries.len()) as u64);
            metrics.cache_entries.set(entries.len() as i64);
            self.report();
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
