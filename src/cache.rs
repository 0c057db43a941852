//! A cache of public (no token) GraphQL responses, keyed by the exact request. Each entry carries the tags
//! of what its answer read (see `graphql::tags`), and each write names the tags it changed
//! (`service::changes`): a write drops only the entries that share a tag with it, and an entry that could
//! not be tagged is dropped by any write. A write in this process reaches the cache at commit; a write in
//! another process through the change log, read when PostgreSQL's LISTEN/NOTIFY announces a new
//! generation (within milliseconds) or when polling the generation row finds one (every 200 ms by
//! default; the only way on SQLite). Responses for token holders are never cached.
//!
//! Memory is bounded by moka's TinyLFU policy: a new entry is admitted only if it is likely to be asked
//! for more often than what it would push out, so a flood of one-off requests cannot empty the hot set.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use sea_orm::DatabaseConnection;

use crate::service::changes::Changed;
use crate::service::generation;

/// When a request started, on the cache's invalidation clock: its answer is current unless a change to
/// one of its tags was applied after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64);

/// What an answer read: the tags of the documents and lists behind it, or `None` when that is unknown
/// (it then goes stale with any write).
pub type Tags = Option<Arc<[String]>>;

/// Past this many distinct tags remembered, the cache starts over (drops every entry) rather than grow.
const MAX_REMEMBERED_TAGS: usize = 100_000;

/// The invalidation clock's readings: when each tag was last changed, when anything was, and before
/// which nothing is current (the last full invalidation).
#[derive(Default)]
struct Invalidated {
    by_tag: HashMap<String, u64>,
    any: u64,
    floor: u64,
}

impl Invalidated {
    fn current(&self, seq: u64, tags: &Tags) -> bool {
        seq >= self.floor
            && match tags {
                None => seq >= self.any,
                Some(tags) => tags.iter().all(|t| self.by_tag.get(t).is_none_or(|&changed| changed <= seq)),
            }
    }
}

#[derive(Clone)]
pub struct CachedResponse {
    pub body: Bytes,
    pub etag: String,
    stamp: Stamp,
    /// What the answer read (sent as `Surrogate-Key`/`Cache-Tag`, so a CDN can purge by the same keys).
    pub tags: Tags,
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
    /// The last database generation whose changes were applied; -1 until the first poll (and while the
    /// database cannot be read): nothing is cached while it is unknown.
    db_generation: AtomicI64,
    /// The invalidation clock: one tick per change applied.
    seq: AtomicU64,
    invalidated: RwLock<Invalidated>,
    /// One catch-up with the change log at a time (the poll and the listener both start them).
    catching_up: tokio::sync::Mutex<()>,
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
        let cache = Arc::new(ResponseCache {
            entries,
            db_generation: AtomicI64::new(-1),
            seq: AtomicU64::new(0),
            invalidated: RwLock::default(),
            catching_up: tokio::sync::Mutex::new(()),
        });
        // This process's writes reach the cache at commit.
        let weak = Arc::downgrade(&cache);
        generation::on_local_write(move |changed| {
            let Some(cache) = weak.upgrade() else { return false };
            cache.invalidate(changed);
            true
        });
        cache
    }

    /// The stamp to record before executing a request (so a write during execution makes it stale).
    pub fn stamp(&self) -> Option<Stamp> {
        (self.db_generation.load(Ordering::SeqCst) >= 0).then(|| Stamp(self.seq.load(Ordering::SeqCst)))
    }

    fn current(&self, stamp: Stamp, tags: &Tags) -> bool {
        self.invalidated.read().unwrap_or_else(|e| e.into_inner()).current(stamp.0, tags)
    }

    pub fn get(&self, key: &[u8]) -> Option<CachedResponse> {
        let found = self.stamp().and_then(|_| {
            // moka removes expired entries lazily; an entry past its time is never served.
            let entry = self.entries.get(key).filter(|e| e.fresh())?;
            if self.current(entry.stamp, &entry.tags) {
                Some(entry)
            } else {
                self.entries.invalidate(key);
                None
            }
        });
        crate::http::observe::note_cache(found.is_some());
        found
    }

    /// Applies a change: entries that read any of its tags (or could not say what they read) stop being
    /// served at once, and leave the cache when next asked for or pushed out.
    pub fn invalidate(&self, changed: &Changed) {
        let mut invalidated = self.invalidated.write().unwrap_or_else(|e| e.into_inner());
        let full = match changed {
            Changed::Tags(tags) if tags.is_empty() => return,
            Changed::Tags(tags) => {
                let tick = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
                invalidated.any = tick;
                for tag in tags {
                    invalidated.by_tag.insert(tag.clone(), tick);
                }
                invalidated.by_tag.len() > MAX_REMEMBERED_TAGS
            }
            Changed::Everything => true,
        };
        if full {
            let tick = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
            *invalidated = Invalidated { by_tag: HashMap::new(), any: tick, floor: tick };
            self.entries.invalidate_all();
            self.report();
        }
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
        tags: Tags,
    ) -> CachedResponse {
        let entry = CachedResponse { etag: etag_of(&body), body, stamp, tags, expires_at, encoded: Arc::default() };
        if self.stamp().is_some() && entry.fresh() && self.current(stamp, &entry.tags) {
            self.entries.insert(key, entry.clone());
            self.report();
        }
        entry
    }

    /// Brings the cache up to the database generation `seen` (by a poll, or a notification when
    /// `notified`): applies what other processes changed since the last one applied, from the change log.
    async fn catch_up(&self, db: &DatabaseConnection, seen: i64, notified: bool) {
        let _one_at_a_time = self.catching_up.lock().await;
        let known = self.db_generation.load(Ordering::SeqCst);
        if seen == known || (notified && seen < known) {
            // Notifications and polls may arrive out of order: an older one changes nothing.
            return;
        }
        let changed = if known < 0 || seen < known {
            // The first reading, or the database went back (it was replaced): nothing cached can be trusted.
            Changed::Everything
        } else {
            generation::changes_between(db, known, seen).await.unwrap_or_else(|e| {
                tracing::warn!("cannot read the content change log, dropping the response cache: {e}");
                Changed::Everything
            })
        };
        // Before the entries go: a read replica must have replayed `seen` before its answers are cached again.
        crate::service::replica::observe(seen);
        self.invalidate(&changed);
        self.db_generation.store(seen, Ordering::SeqCst);
    }

    /// Follows the database generation for the life of the process: a poll every `interval`, and on
    /// PostgreSQL a LISTEN for the notification every write sends, so other processes' writes arrive
    /// within milliseconds.
    pub fn spawn_poller(self: &Arc<Self>, db: DatabaseConnection, interval: Duration) {
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.spawn_listener(db.clone());
        }
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(cache) = cache.upgrade() else { return };
                match generation::current(&db).await {
                    Ok(g) => cache.catch_up(&db, g, false).await,
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

    fn spawn_listener(self: &Arc<Self>, db: DatabaseConnection) {
        let cache = Arc::downgrade(self);
        let pool = db.get_postgres_connection_pool().clone();
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
                        cache.catch_up(&db, g, true).await;
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

    fn tags(names: &[&str]) -> Tags {
        Some(names.iter().map(|n| n.to_string()).collect())
    }

    fn changed(names: &[&str]) -> Changed {
        Changed::Tags(names.iter().map(|n| n.to_string()).collect())
    }

    fn ready(max_bytes: usize) -> Arc<ResponseCache> {
        let cache = ResponseCache::new(max_bytes);
        cache.db_generation.store(1, Ordering::SeqCst);
        cache
    }

    #[test]
    fn a_flood_of_one_off_entries_leaves_the_hot_set_cached() {
        let cache = ready(1024 * 1024);
        let stamp = cache.stamp().expect("generation known");
        let hot: Vec<Vec<u8>> = (0..20).map(|i| format!("hot {i}").into_bytes()).collect();
        for (i, key) in hot.iter().enumerate() {
            cache.put(key.clone(), stamp, body(i, 8 * 1024), None, None);
        }
        for _ in 0..5 {
            for key in &hot {
                assert!(cache.get(key).is_some());
            }
            cache.entries.run_pending_tasks();
        }
        // Ten times the budget in requests seen once each.
        for i in 0..1280 {
            cache.put(format!("flood {i}").into_bytes(), stamp, body(i, 8 * 1024), None, None);
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
    fn an_entry_is_not_served_past_its_expiry() {
        let cache = ready(1024 * 1024);
        let stamp = cache.stamp().expect("generation known");
        let soon = chrono::Utc::now() + chrono::Duration::milliseconds(50);
        cache.put(b"expiring".to_vec(), stamp, body(1, 64), Some(soon), None);
        cache.put(b"lasting".to_vec(), stamp, body(2, 64), None, None);
        assert!(cache.get(b"expiring").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(b"expiring").is_none(), "served past its expiry");
        assert!(cache.get(b"lasting").is_some());
    }

    #[test]
    fn a_change_drops_the_entries_that_read_its_tags_and_keeps_the_others() {
        let cache = ready(1024 * 1024);
        let stamp = cache.stamp().expect("generation known");
        cache.put(b"page a".to_vec(), stamp, body(1, 64), None, tags(&["article:a", "proof-record:a"]));
        cache.put(b"page b".to_vec(), stamp, body(2, 64), None, tags(&["article:b"]));
        cache.put(b"index".to_vec(), stamp, body(3, 64), None, tags(&["articles"]));
        cache.put(b"untagged".to_vec(), stamp, body(4, 64), None, None);
        cache.invalidate(&changed(&[]));
        assert!(cache.get(b"untagged").is_some(), "a write that changed nothing public keeps everything");
        cache.invalidate(&changed(&["article:b", "articles"]));
        assert!(cache.get(b"page a").is_some(), "another article's page is kept");
        assert!(cache.get(b"page b").is_none(), "the changed article's page is dropped");
        assert!(cache.get(b"index").is_none(), "a list the change could be in is dropped");
        assert!(cache.get(b"untagged").is_none(), "an answer that could not say what it read is dropped");
        cache.invalidate(&Changed::Everything);
        assert!(cache.get(b"page a").is_none(), "a change to anything drops everything");
    }

    #[test]
    fn an_answer_read_before_a_change_to_its_tags_is_not_cached_after_it() {
        let cache = ready(1024 * 1024);
        let before = cache.stamp().expect("generation known");
        cache.invalidate(&changed(&["article:a"]));
        cache.put(b"page a".to_vec(), before, body(1, 64), None, tags(&["article:a"]));
        assert!(cache.get(b"page a").is_none(), "an answer begun before the change was cached after it");
        cache.put(b"page b".to_vec(), before, body(2, 64), None, tags(&["article:b"]));
        assert!(cache.get(b"page b").is_some(), "an answer the change could not touch is cached");
        let after = cache.stamp().expect("generation known");
        cache.put(b"page a".to_vec(), after, body(1, 64), None, tags(&["article:a"]));
        assert!(cache.get(b"page a").is_some(), "an answer begun after the change is cached");
    }
}
