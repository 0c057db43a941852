//! Persisted queries. Automatic persisted queries (Apollo's `persistedQuery` extension): a client sends
//! the SHA-256 of a query instead of its text, so a GET URL stays short and the same for every client,
//! and a CDN can cache it. An unknown hash answers `PERSISTED_QUERY_NOT_FOUND`; the client then sends the
//! text with the hash once, and this process remembers it. With a manifest (`--persisted-queries FILE`,
//! Apollo's persisted query manifest) and `--persisted-queries-only`, anonymous clients may run only the
//! operations the manifest lists: the public endpoint becomes an allow-list. Token holders (editors and
//! their tools) may still send any query.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Learned queries are kept up to this many bytes of query text; past it, moka's admission policy
/// (TinyLFU) keeps the frequently used ones, so a flood of one-off hashes cannot push out the hot set.
const LEARNED_BYTES: u64 = 16 * 1024 * 1024;

/// What a request's `query` and `extensions.persistedQuery` come to.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The parameters are malformed: answered 400 with this message (it names the parameter).
    Malformed(String),
    /// The hash is not known here: the client should send the query text with it.
    NotFound,
    /// Allow-list mode, and this operation is not on the list.
    NotInList,
}

/// The persisted queries of one process: the manifest's (fixed) and those learned from clients.
pub struct PersistedQueries {
    manifest: HashMap<String, Arc<str>>,
    learned: moka::sync::Cache<String, Arc<str>>,
    only: bool,
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries").field("listed", &self.manifest.len()).field("only", &self.only).finish()
    }
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries::new(HashMap::new(), false)
    }
}

/// Apollo's persisted query manifest: `{"format": "apollo-persisted-query-manifest", "version": 1,
/// "operations": [{"id": "<sha256 hex of body>", "body": "query ...", "name": "...", "type": "query"}]}`.
#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

/// The lower-case hex SHA-256 of a query's text, as clients compute it.
pub fn sha256_hex(query: &str) -> String {
    Sha256::digest(query.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl PersistedQueries {
    pub fn new(manifest: HashMap<String, Arc<str>>, only: bool) -> Self {
        let learned = moka::sync::Cache::builder()
            .weigher(|hash: &String, query: &Arc<str>| u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX))
            .max_capacity(LEARNED_BYTES)
            .build();
        PersistedQueries { manifest, learned, only }
    }

    /// Reads a manifest file; every operation's `id` must be the SHA-256 of its `body`.
    pub fn load_manifest(path: &Path) -> Result<HashMap<String, Arc<str>>, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read it: {e}"))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| format!("{shown}: not a persisted query manifest: {e}"))?;
        if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
            return Err(format!(
                "{shown}: format must be \"apollo-persisted-query-manifest\" version 1 (found {:?} version {})",
                manifest.format, manifest.version
            ));
        }
        let mut operations = HashMap::new();
        for (i, op) in manifest.operations.into_iter().enumerate() {
            let actual = sha256_hex(&op.body);
            if !op.id.eq_ignore_ascii_case(&actual) {
                return Err(format!("{shown}: operations[{i}].id is not the SHA-256 of its body (that is {actual})"));
            }
            operations.insert(actual, Arc::from(op.body));
        }
        Ok(operations)
    }

    /// The query text to run for a request's `query` parameter and `extensions`, learning a new
    /// hash -> text pair when the client sends both. `anonymous` requests are the ones the allow-list binds.
    pub fn resolve(&self, query: Option<&str>, extensions: Option<&Value>, anonymous: bool) -> Result<String, Refusal> {
        let restricted = self.only && anonymous;
        let hash = match extensions.and_then(|e| e.get("persistedQuery")) {
            None | Some(Value::Null) => None,
            Some(persisted) => Some(persisted_hash(persisted)?),
        };
        match (query, hash) {
            (None, None) => Err(Refusal::Malformed("query: is required".into())),
            (Some(query), None) => {
                if restricted && !self.manifest.contains_key(&sha256_hex(query)) {
                    return Err(Refusal::NotInList);
                }
                Ok(query.to_string())
            }
            (Some(query), Some(hash)) => {
                if sha256_hex(query) != hash {
                    return Err(Refusal::Malformed(
                        "extensions.persistedQuery.sha256Hash: is not the SHA-256 of `query`".into(),
                    ));
                }
                if self.manifest.contains_key(&hash) {
                    return Ok(query.to_string());
                }
                if restricted {
                    return Err(Refusal::NotInList);
                }
                self.learned.insert(hash, Arc::from(query));
                Ok(query.to_string())
            }
            (None, Some(hash)) => {
                if let Some(known) = self.manifest.get(&hash) {
                    return Ok(known.to_string());
                }
                if restricted {
                    // Sending the text would not help: only the list's operations run without a token.
                    return Err(Refusal::NotInList);
                }
                self.learned.get(&hash).map(|known| known.to_string()).ok_or(Refusal::NotFound)
            }
        }
    }
}

/// The hash of a `persistedQuery` extension, lower-cased; only version 1 exists.
fn persisted_hash(persisted: &Value) -> Result<String, Refusal> {
    let malformed = |m: &str| Refusal::Malformed(format!("extensions.persistedQuery.{m}"));
    let Value::Object(fields) = persisted else {
        return Err(Refusal::Malformed("extensions.persistedQuery: must be an object".into()));
    };
    if fields.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(malformed("version: must be 1"));
    }
    match fields.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(hash.to_ascii_lowercase()),
        _ => Err(malformed("sha256Hash: must be 64 hexadecimal digits")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const Q: &str = "{ articles(first: 1) { nodes { slug } } }";

    fn ext(hash: &str) -> Value {
        json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
    }

    #[test]
    fn a_hash_is_learned_from_its_text_and_then_runs_alone() {
        let pq = PersistedQueries::default();
        let hash = sha256_hex(Q);
        assert_eq!(pq.resolve(None, Some(&ext(&hash)), true), Err(Refusal::NotFound));
        assert_eq!(pq.resolve(Some(Q), Some(&ext(&hash)), true).as_deref(), Ok(Q));
        assert_eq!(pq.resolve(None, Some(&ext(&hash.to_uppercase())), true).as_deref(), Ok(Q));
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused_naming_the_parameter() {
        let pq = PersistedQueries::default();
        let wrong = sha256_hex("{ other }");
        let Err(Refusal::Malformed(m)) = pq.resolve(Some(Q), Some(&ext(&wrong)), true) else { panic!() };
        assert!(m.starts_with("extensions.persistedQuery.sha256Hash"), "{m}");
        let v2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(Q) } });
        let Err(Refusal::Malformed(m)) = pq.resolve(Some(Q), Some(&v2), true) else { panic!() };
        assert!(m.contains("version"), "{m}");
        assert_eq!(pq.resolve(None, Some(&ext(&wrong)), true), Err(Refusal::NotFound), "nothing was learned");
    }

    #[test]
    fn the_allow_list_binds_anonymous_requests_only() {
        let listed = "{ collections { slug } }";
        let manifest = HashMap::from([(sha256_hex(listed), Arc::from(listed))]);
        let pq = PersistedQueries::new(manifest, true);
        assert_eq!(pq.resolve(None, Some(&ext(&sha256_hex(listed))), true).as_deref(), Ok(listed));
        assert_eq!(pq.resolve(Some(listed), None, true).as_deref(), Ok(listed));
        assert_eq!(pq.resolve(Some(Q), None, true), Err(Refusal::NotInList));
        assert_eq!(pq.resolve(Some(Q), Some(&ext(&sha256_hex(Q))), true), Err(Refusal::NotInList));
        assert_eq!(pq.resolve(Some(Q), None, false).as_deref(), Ok(Q), "a token holder may query freely");
        assert_eq!(pq.resolve(Some(Q), Some(&ext(&sha256_hex(Q))), false).as_deref(), Ok(Q), "and register a hash");
        assert_eq!(pq.resolve(None, Some(&ext(&sha256_hex(Q))), true), Err(Refusal::NotInList), "not for the public");
    }
}
