//! A cache of public (no token) GraphQL responses, keyed by the exact request, valid for one content
//! generation. Any write in this process makes every entry stale at once; a write in another process
//! is noticed through PostgreSQL's LISTEN/NOTIFY within milliseconds, and by polling the generation row
//! (every 200 ms by default; the only way on SQLite), so no process serves a stale page for longer than
//! that after a write is acknowledged. Responses for token holders are never cached.
//!
//! Memory is bounded by moka's TinyLFU policy: a new entry is admitted only if it is likely to be asked
//! for more often than what it would push out, so a flood of one-off requests cannot empty the hot set.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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
    /// The earliest frame expiry in the body: past it the answer is wrong (the frame must go), so it is not served, and
    /// the entry leaves the cache then.
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
    entries: moka::sync::Cache<Vec<u8>, CachedResponse>,
    /// -1 until the first poll: nothing is cached before the generation is known.
    db_generation: AtomicI64,
}

/// An entry's weight: its key and body, plus room for the compressed copies made on demand (which moka
/// cannot re-weigh later; text compresses to well under half).
fn weight(key: &[u8], entry: &CachedResponse) -> u32 {
    u32::try_from(key.len() + entry.body.len() + entry.body.len() / 2).unwrap_or(u32::MAX)
}

/// Entries with an `expires_at` leave the cache then, whatever else happens.
struct EntryExpiry;

impl moka::Expiry<Vec<u8>, CachedResponse> for EntryExpiry {
    fn expire_after_create(&self, _key: &Vec<u8>, entry: &CachedResponse, created_at: Instant) -> Option<Duration> {
        // A wall-clock expiry, as a duration from now (`created_at` is now: entries are created as inserted).
        let _ = created_at;
        entry.expires_at.map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO))
    }
}

pub fn etag_of(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

impl ResponseCache {
    pub fn new(max_bytes: usize) -> Arc<ResponseCache> {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes as u64)
            .weigher(|key: &Vec<u8>, entry: &CachedResponse| weight(key, entry))
            .expire_after(EntryExpiry)
            .eviction_listener(|_key, _entry, cause| {
                if cause != moka::notification::RemovalCause::Replaced {
                    crate::http::metrics::METRICS.cache_evictions.inc();
                }
            })
            .build();
        Arc::new(ResponseCache { entries, db_generation: AtomicI64::new(-1) })
    }

    /// The stamp to record before executing a request (so a write during execution makes it stale).
    pub fn stamp(&self) -> Option<Stamp> {
        let db = self.db_generation.load(Ordering::SeqCst);
        (db >= 0).then(|| Stamp(db, generation::local_writes()))
    }

    pub fn get(&self, key: &[u8]) -> Option<CachedResponse> {
        let found = self.stamp().and_then(|stamp| {
            // moka removes expired entries lazily; an entry past its time is never served.
            self.entries.get(key).filter(|e| e.stamp == stamp && e.fresh())
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
        slot.get_or_init(|| compress(coding, &entry.body)).clone()
    }

    fn report(&self) {
        let metrics = &crate::http::metrics::METRICS;
        metrics.cache_bytes.set(i64::try_from(self.entries.weighted_size()).unwrap_or(i64::MAX));
        metrics.cache_entries.set(i64::try_from(self.entries.entry_count()).unwrap_or(i64::MAX));
    }

    /// Caches `body` for `key` if nothing was written since `stamp` was taken; `expires_at` ends the
    /// entry's life early (the earliest frame expiry it shows).
    pub fn put(
        &self,
        key: Vec<u8>,
        stamp: Stamp,
        body: Bytes,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> CachedResponse {
        let entry = CachedResponse { etag: etag_of(&body), body, stamp, expires_at, encoded: Arc::default() };
        if self.stamp() == Some(stamp) && entry.fresh() {
            self.entries.insert(key, entry.clone());
            self.report();
        }
        entry
    }

    /// A generation seen by polling or notification. Only a newer one matters: notifications and polls
    /// may arrive out of order, and going back would only empty the cache once more.
    fn observe(&self, db_generation: i64) {
        let previous = self.db_generation.load(Ordering::SeqCst);
        if db_generation > previous || previous < 0 {
            self.advance(db_generation);
        }
    }

    fn advance(&self, db_generation: i64) {
        // Before stamping with it, so no replica answer older than it is cached under it.
        crate::service::replica::observe(db_generation);
        if self.db_generation.swap(db_generation, Ordering::SeqCst) != db_generation {
            // Stale entries are never served (their stamp no longer matches); this frees their memory.
            self.entries.invalidate_all();
            self.report();
        }
    }

    /// Follows the database generation for the life of the process: a poll every `interval`, and on
    /// PostgreSQL a LISTEN for the notification every write sends, so other processes' writes arrive
    /// within milliseconds.
    pub fn spawn_poller(self: &Arc<Self>, db: DatabaseConnection, interval: Duration) {
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.spawn_listener(db.get_postgres_connection_pool().clone());
        }
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(cache) = cache.upgrade() else { return };
                match generation::current(&db).await {
                    Ok(g) => cache.advance(g),
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

    fn spawn_listener(self: &Arc<Self>, pool: sea_orm::sqlx::PgPool) {
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!("cannot listen for content changes (polling goes on): {e}");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(generation::CHANNEL).await {
                    tracing::warn!("cannot listen for content changes (polling goes on): {e}");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
                // `recv` reconnects by itself after a lost connection; notifications sent meanwhile are
                // lost, which the poll covers.
                while let Ok(notification) = listener.recv().await {
                    let Some(cache) = cache.upgrade() else { return };
                    if let Ok(g) = notification.payload().parse::<i64>() {
                        cache.observe(g);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(i: usize, len: usize) -> Bytes {
        Bytes::from(format!("{i:08}").repeat(len / 8))
    }

    #[test]
    fn a_flood_of_one_off_entries_leaves_the_hot_set_cached() {
        let cache = ResponseCache::new(1024 * 1024);
        cache.advance(1);
        let stamp = cache.stamp().expect("generation known");
        let hot: Vec<Vec<u8>> = (0..20).map(|i| format!("hot {i}").into_bytes()).collect();
        for (i, key) in hot.iter().enumerate() {
            cache.put(key.clone(), stamp, body(i, 8 * 1024), None);
        }
        for _ in 0..5 {
            for key in &hot {
                assert!(cache.get(key).is_some());
            }
            cache.entries.run_pending_tasks();
        }
        // Ten times the budget in requests seen once each.
        for i in 0..1280 {
            cache.put(format!("flood {i}").into_bytes(), stamp, body(i, 8 * 1024), None);
            if i % 64 == 0 {
                cache.entries.run_pending_tasks();
            }
        }
        cache.entries.run_pending_tasks();
        let kept = hot.iter().filter(|key| cache.get(key).is_some()).count();
        assert!(kept * 10 >= hot.len() * 9, "only {kept} of {} hot entries survived the flood", hot.len());
        assert!(cache.entries.weighted_size() <= 1024 * 1024);
    }

    #[test]
    fn an_entry_is_not_served_past_its_expiry_or_after_a_newer_generation() {
        let cache = ResponseCache::new(1024 * 1024);
        cache.advance(1);
        let stamp = cache.stamp().expect("generation known");
        let soon = chrono::Utc::now() + chrono::Duration::milliseconds(50);
        cache.put(b"expiring".to_vec(), stamp, body(1, 64), Some(soon));
        cache.put(b"lasting".to_vec(), stamp, body(2, 64), None);
        assert!(cache.get(b"expiring").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(b"expiring").is_none(), "served past its expiry");
        assert!(cache.get(b"lasting").is_some());
        cache.observe(0);
        assert!(cache.get(b"lasting").is_some(), "an older generation arriving late changes nothing");
        cache.observe(2);
        assert!(cache.get(b"lasting").is_none(), "a newer generation makes every entry stale");
    }
}
