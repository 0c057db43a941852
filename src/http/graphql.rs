//! GraphQL over HTTP at `/graphql`, POST and GET, following the GraphQL-over-HTTP spec closely (media
//! types, status codes for request errors), so generic GraphQL clients and the `graphql-http` audit behave
//! as expected. Anonymous answers go through the response cache.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensionValues, ServerError};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::authenticate;
use super::persisted::{PersistedQueries, Refusal};
use super::{AppState, GRAPHQL_RESPONSE, JSON, VARY, coded_error, internal_error, problem, respond};
use crate::cache::{CachedResponse, ResponseCache};
use crate::config::ApiSettings;
use crate::error::code;
use crate::graphql::{ExecutionStarted, RequestScope, new_loader};
use crate::service::token::Principal;

/// The response media type the client accepts, or `None` when it accepts neither JSON type.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(JSON);
    };
    let types: Vec<&str> = accept.split(',').map(|t| t.split(';').next().unwrap_or("").trim()).collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if types.iter().any(|t| *t == JSON || *t == "*/*" || *t == "application/*" || t.is_empty()) {
        Some(JSON)
    } else {
        None
    }
}

fn not_acceptable() -> axum::response::Response {
    problem(StatusCode::NOT_ACCEPTABLE, JSON, "accept application/graphql-response+json or application/json")
}

fn with_code(error: &mut ServerError, value: &str) {
    error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", value);
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|e| e.get("code").is_some())
}

/// Errors are coded where they arise (the service mapping, `request_errors` by stage). What is left
/// without a code: before execution, a request the server cannot run as sent (an unknown operation
/// name, say); after, a failure nobody anticipated, which is masked.
fn finish_errors(response: &mut async_graphql::Response, executed: bool) {
    for error in &mut response.errors {
        if has_code(error) {
            continue;
        }
        if !executed {
            with_code(error, code::BAD_REQUEST);
        } else {
            let masked = crate::error::internal(&error.message);
            error.message = masked.message;
            error.extensions = masked.extensions;
        }
    }
}

/// The answer to one operation: its status, its serialized JSON body, and whether that has `errors`.
pub(super) struct Executed {
    pub(super) status: StatusCode,
    pub(super) body: String,
    pub(super) has_errors: bool,
    pub(super) hints: CacheHints,
}

/// What a cached copy of an answer must know: when it stops being true, and what it read.
#[derive(Default)]
pub(super) struct CacheHints {
    /// The earliest frame expiry in the answer: a cached copy must not outlive it.
    pub(super) expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The tags of what it read (see `graphql::tags`).
    pub(super) tags: crate::cache::Tags,
}

/// Sends an answer's tags as `Surrogate-Key` and `Cache-Tag`, so a CDN in front can purge by them.
pub(super) fn with_surrogate_keys(tags: &crate::cache::Tags, response: &mut Response) {
    if let Some((surrogate, cache_tag)) = crate::graphql::tags::surrogate_headers(tags)
        && let (Ok(surrogate), Ok(cache_tag)) = (HeaderValue::from_str(&surrogate), HeaderValue::from_str(&cache_tag))
    {
        response.headers_mut().insert("surrogate-key", surrogate);
        response.headers_mut().insert("cache-tag", cache_tag);
    }
}

/// Executes one operation for `principal`. The response is serialized straight from async-graphql's
/// value, in the query's field order, without an intermediate `serde_json::Value` tree.
async fn execute_one(
    state: &AppState,
    media: &'static str,
    principal: Option<&Principal>,
    request: async_graphql::Request,
    budget: &mut Budget,
) -> Executed {
    let (response, hints) = match run_one(state, media, principal, request, budget).await {
        Ok(ran) => ran,
        Err(done) => return done,
    };
    let has_errors = !response.errors.is_empty();
    match serialize_within(state, &response, budget) {
        Ok(body) => Executed { status: StatusCode::OK, body, has_errors, hints },
        Err(done) => done,
    }
}

/// Runs one operation for `principal` under the request's limits and budgets: its response with every error
/// coded and `data` in the query's field order, or the finished answer when it could not run or ran out of
/// a budget, with what a cached copy must know (the earliest frame expiry it shows, what it read). The REST routes
/// run their fixed documents through here too, so both share every limit.
pub(super) async fn run_one(
    state: &AppState,
    media: &'static str,
    principal: Option<&Principal>,
    mut request: async_graphql::Request,
    budget: &mut Budget,
) -> Result<(async_graphql::Response, CacheHints), Executed> {
    let refuse = |message: String, code: &str| request_error(media, json!({ "errors": [coded_error(&message, code)] }));
    let parsed = parsed(&request.query);
    let checked = parsed.as_ref().map(|p| p.checked).unwrap_or_default();
    let max = state.settings.max_aliases;
    if checked.aliases > max {
        let message = format!("the query uses {} aliases; at most {max} are allowed", checked.aliases);
        return Err(refuse(message, code::QUERY_TOO_COMPLEX));
    }
    if checked.fields > MAX_EXPANDED_FIELDS {
        let message = format!(
            "the query selects {} fields once its fragments are expanded; at most {MAX_EXPANDED_FIELDS} are allowed",
            checked.fields
        );
        return Err(refuse(message, code::QUERY_TOO_COMPLEX));
    }
    if principal.is_none() && !state.settings.public_introspection {
        if checked.introspection {
            return Err(refuse("introspection needs a token on this server".into(), code::UNAUTHENTICATED));
        }
        request = request.disable_introspection();
    }
    // Anonymous reads may go to the replica (the one place that routes them); the rest use the primary.
    let replica = match &state.replica {
        Some(replica) if principal.is_none() && !checked.mutation => replica.for_public_read(),
        _ => None,
    };
    let db = replica.unwrap_or(&state.db);
    let started = Arc::new(ExecutionStarted::default());
    let scope = RequestScope::for_principal(principal.cloned());
    let bytes = Arc::new(crate::graphql::ResponseBytes::new(budget.response_bytes));
    let deadline = Arc::new(crate::graphql::release::ReleaseDeadline::default());
    let read = Arc::new(crate::graphql::tags::ReadTags::default());
    let operation_name = request.operation_name.clone();
    if let Some(parsed) = &parsed {
        // async-graphql still runs the extensions' parse hook (variable coercion) on a document given to it.
        request.set_parsed_query(parsed.document.clone());
    }
    let mut request = request
        .data(new_loader(db.clone(), scope.visibility, read.clone()))
        .data(read.clone())
        .data(scope)
        .data(started.clone())
        .data(budget.cost.clone())
        .data(Arc::new(crate::graphql::RootFieldGate::default()))
        .data(bytes.clone())
        .data(deadline.clone())
        .data(Arc::new(crate::graphql::release::OfferedChannels::default()));
    if let Some(replica) = replica {
        // Request data comes before the schema's: the resolvers' `db(ctx)` is the replica for this one.
        request = request.data(replica.clone());
    }
    // Dropping the execution at the deadline stops its remaining statements; the one running then is
    // stopped by the database's own statement budget (see `statement_budget`).
    let Ok(mut response) = tokio::time::timeout_at(budget.deadline, state.schema.execute(request)).await else {
        let message = format!(
            "the request ran out of its {} ms time budget; ask for fewer items or a narrower filter",
            state.settings.request_timeout_ms
        );
        let body = json!({ "data": null, "errors": [coded_error(&message, code::TIMEOUT)] });
        return Err(Executed {
            status: StatusCode::OK,
            body: body.to_string(),
            has_errors: true,
            hints: CacheHints::default(),
        });
    };
    let executed = started.0.load(Ordering::Relaxed);
    if bytes.exceeded() {
        return Err(too_large(state));
    }
    finish_errors(&mut response, executed);
    if !executed {
        return Err(request_error(media, json!({ "errors": response.errors })));
    }
    if let Some(parsed) = &parsed {
        crate::graphql::order::in_query_order(&mut response.data, &parsed.document, operation_name.as_deref());
    }
    Ok((response, CacheHints { expires_at: deadline.at(), tags: read.tags() }))
}

/// Serializes `value` within the request's response budget (refused whole past it, never cut).
pub(super) fn serialize_within(
    state: &AppState,
    value: &impl serde::Serialize,
    budget: &mut Budget,
) -> Result<String, Executed> {
    let mut out = BoundedWriter { bytes: Vec::with_capacity(4096), limit: budget.response_bytes };
    let body = match serde_json::to_writer(&mut out, value) {
        Ok(()) => String::from_utf8(out.bytes).unwrap_or_default(),
        Err(_) if out.bytes.len() >= out.limit => return Err(too_large(state)),
        Err(e) => json!({ "errors": [internal_error(&e)] }).to_string(),
    };
    budget.response_bytes = budget.response_bytes.saturating_sub(body.len());
    Ok(body)
}

/// The answer past `--max-response-bytes`: refused whole, never cut.
fn too_large(state: &AppState) -> Executed {
    let message = format!(
        "the response is larger than the {} bytes this server sends per request; ask for fewer items or fields",
        state.settings.max_response_bytes
    );
    let body = json!({ "data": null, "errors": [coded_error(&message, code::RESPONSE_TOO_LARGE)] });
    Executed { status: StatusCode::OK, body: body.to_string(), has_errors: true, hints: CacheHints::default() }
}

/// What one HTTP request may still spend; a batch's operations share it.
pub(super) struct Budget {
    deadline: tokio::time::Instant,
    response_bytes: usize,
    cost: Arc<crate::graphql::BatchCost>,
}

impl Budget {
    pub(super) fn new(settings: &ApiSettings) -> Budget {
        Budget {
            deadline: tokio::time::Instant::now() + std::time::Duration::from_millis(settings.request_timeout_ms),
            response_bytes: settings.max_response_bytes,
            cost: Arc::default(),
        }
    }
}

/// Collects serialized JSON up to `limit` bytes and fails past it, so an oversized answer is never built whole.
struct BoundedWriter {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for BoundedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            self.bytes.extend_from_slice(&buf[..self.limit.saturating_sub(self.bytes.len())]);
            return Err(std::io::Error::other("response budget exceeded"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The cache key of an anonymous request: the negotiated media type and the exact request bytes.
fn cache_key(media: &str, method: &str, request: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(media.len() + method.len() + request.len() + 2);
    key.extend_from_slice(media.as_bytes());
    key.push(b' ');
    key.extend_from_slice(method.as_bytes());
    key.push(b' ');
    key.extend_from_slice(request);
    key
}

/// A cached answer, in the best encoding the client accepts (compressed once per entry, not per hit).
pub(super) fn from_cache(
    cache: &ResponseCache,
    entry: &CachedResponse,
    media: &'static str,
    headers: &HeaderMap,
) -> Response {
    let accept_encoding = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let coding = crate::cache::Coding::negotiate(accept_encoding, entry.body.len());
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| entry.matches(tag.trim())));
    let etag = HeaderValue::from_str(&entry.etag_for(coding)).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let common = [(header::VARY, HeaderValue::from_static(VARY)), (header::ETAG, etag)];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        common,
        cache.body_in(entry, coding),
    )
        .into_response();
    if let Some(coding) = coding {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
    }
    with_surrogate_keys(&entry.tags, &mut response);
    response
}

/// Serves an anonymous request from the cache, or executes it and caches a successful answer.
async fn cached_or_execute(
    state: &AppState,
    media: &'static str,
    headers: &HeaderMap,
    key: Vec<u8>,
    request: impl FnOnce() -> Result<async_graphql::Request, Refusal>,
) -> Response {
    let cache = state.cache.as_ref().filter(|_| !headers.contains_key(header::AUTHORIZATION));
    if let Some(cache) = cache
        && let Some(hit) = cache.get(&key)
    {
        return from_cache(cache, &hit, media, headers);
    }
    let stamp = cache.and_then(|c| c.stamp());
    let request = match request() {
        Ok(r) => r,
        Err(refusal) => return refused(media, refusal),
    };
    let before = state.sql_statements.as_ref().map(|c| c.load(Ordering::Relaxed));
    let executed = execute_one(state, media, None, request, &mut Budget::new(&state.settings)).await;
    let mut response = match (cache, stamp) {
        (Some(cache), Some(stamp)) if executed.status == StatusCode::OK && !executed.has_errors => {
            let entry =
                cache.put(key, stamp, Bytes::from(executed.body), executed.hints.expires_at, executed.hints.tags);
            from_cache(cache, &entry, media, headers)
        }
        _ => {
            let ok = executed.status == StatusCode::OK && !executed.has_errors;
            let mut response = respond(executed.status, media, None, executed.body);
            if ok {
                with_surrogate_keys(&executed.hints.tags, &mut response);
            }
            response
        }
    };
    with_statement_count(state, before, &mut response);
    response
}

/// `serve --bench`: how many SQL statements the request ran (exact only without concurrent requests).
pub(super) fn with_statement_count(state: &AppState, before: Option<u64>, response: &mut Response) {
    if let (Some(counter), Some(before)) = (&state.sql_statements, before) {
        let ran = counter.load(Ordering::Relaxed) - before;
        response.headers_mut().insert("x-backlot-sql-statements", HeaderValue::from(ran));
    }
}

/// A query text parsed once, with what [`preflight`] read from it.
struct Parsed {
    document: async_graphql::parser::types::ExecutableDocument,
    checked: Preflight,
}

/// Bytes of query text whose parsed documents are kept: a frontend sends a few dozen distinct query texts
/// (variables carry what changes), and parsing one took about a third of an uncached article page.
const PARSED_QUERY_BYTES: u64 = 4 << 20;

/// The parsed document of `query` (`None` when it does not parse: the executor reports that), from a
/// process-wide cache keyed by the exact text, so a query is parsed once, not once per request.
fn parsed(query: &str) -> Option<Arc<Parsed>> {
    static DOCUMENTS: std::sync::OnceLock<moka::sync::Cache<String, Arc<Parsed>>> = std::sync::OnceLock::new();
    let documents = DOCUMENTS.get_or_init(|| {
        moka::sync::Cache::builder()
            .weigher(|query: &String, _: &Arc<Parsed>| u32::try_from(query.len()).unwrap_or(u32::MAX))
            .max_capacity(PARSED_QUERY_BYTES)
            .build()
    });
    if let Some(found) = documents.get(query) {
        return Some(found);
    }
    let document = async_graphql::parser::parse_query(query).ok()?;
    let parsed = Arc::new(Parsed { checked: preflight(&document), document });
    documents.insert(query.to_string(), parsed.clone());
    Some(parsed)
}

/// What a query asks for, read before executing it (a query that does not parse is left to the executor).
#[derive(Default, Clone, Copy)]
struct Preflight {
    aliases: usize,
    introspection: bool,
    /// Field selections once every fragment spread is expanded (what the executor will walk).
    fields: usize,
    /// The document has a mutation (or subscription): it must run on the primary.
    mutation: bool,
}

/// Field selections a query may expand to. A few nested fragments each spreading the next twice expand to
/// millions of selections from a 1 KB query, which async-graphql would walk synchronously (no time budget
/// can stop it) while its memory doubles with each level; `__typename` costs nothing in the complexity
/// limit, so only this count catches it. Real pages expand to a few hundred.
const MAX_EXPANDED_FIELDS: usize = 10_000;

fn preflight(doc: &async_graphql::parser::types::ExecutableDocument) -> Preflight {
    use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
    use std::collections::HashMap;

    /// What one selection set asks for, each fragment spread counted as often as it is spread (a fragment's
    /// own total is computed once, so nested spreads cannot make this walk exponential).
    fn walk<'d>(
        set: &'d SelectionSet,
        doc: &'d ExecutableDocument,
        memo: &mut HashMap<&'d str, Option<(usize, bool, usize)>>,
    ) -> (usize, bool, usize) {
        let (mut aliases, mut introspection, mut fields) = (0usize, false, 0usize);
        for item in &set.items {
            let (a, i, n) = match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    let (a, i, n) = walk(&f.node.selection_set.node, doc, memo);
                    (
                        a.saturating_add(usize::from(f.node.alias.is_some())),
                        i || name == "__schema" || name == "__type",
                        n.saturating_add(1),
                    )
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, doc, memo),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match memo.get(name) {
                        Some(Some(known)) => *known,
                        // A cycle: validation rejects it; count nothing more here.
                        Some(None) => (0, false, 0),
                        None => match doc.fragments.get(&spread.node.fragment_name.node) {
                            Some(fragment) => {
                                memo.insert(name, None);
                                let known = walk(&fragment.node.selection_set.node, doc, memo);
                                memo.insert(name, Some(known));
                                known
                            }
                            None => (0, false, 0),
                        },
                    }
                }
            };
            aliases = aliases.saturating_add(a);
            introspection |= i;
            fields = fields.saturating_add(n);
        }
        (aliases, introspection, fields)
    }
    let mut out = Preflight::default();
    let mut memo = HashMap::new();
    for (_, op) in doc.operations.iter() {
        let (aliases, introspection, fields) = walk(&op.node.selection_set.node, doc, &mut memo);
        out.aliases = out.aliases.saturating_add(aliases);
        out.introspection |= introspection;
        out.fields = out.fields.saturating_add(fields);
        out.mutation |= op.node.ty != OperationType::Query;
    }
    // Fragments no operation spreads fail validation, but must not hide introspection from this check.
    for fragment in doc.fragments.values() {
        out.introspection |= walk(&fragment.node.selection_set.node, doc, &mut memo).1;
    }
    out
}

/// Parses a GraphQL-over-HTTP parameter object, naming the parameter that is wrong. The query text may
/// come from a persisted query (`extensions.persistedQuery`); `anonymous` requests are bound by the
/// allow-list when the server has one.
fn request_from_params(
    params: serde_json::Map<String, serde_json::Value>,
    persisted: &PersistedQueries,
    anonymous: bool,
) -> Result<async_graphql::Request, Refusal> {
    let malformed = |m: &str| Refusal::Malformed(m.to_string());
    let query = match params.get("query") {
        Some(serde_json::Value::String(q)) => Some(q.as_str()),
        None | Some(serde_json::Value::Null) => None,
        Some(_) => return Err(malformed("query: must be a string")),
    };
    let extensions = match params.get("extensions") {
        None | Some(serde_json::Value::Null) => None,
        Some(e @ serde_json::Value::Object(_)) => Some(e),
        Some(_) => return Err(malformed("extensions: must be an object")),
    };
    let mut request = async_graphql::Request::new(persisted.resolve(query, extensions, anonymous)?);
    match params.get("operationName") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err(malformed("operationName: must be a string")),
    }
    match params.get("variables") {
        None | Some(serde_json::Value::Null) => {}
        Some(v @ serde_json::Value::Object(_)) => {
            request = request.variables(async_graphql::Variables::from_json(v.clone()));
        }
        Some(_) => return Err(malformed("variables: must be an object")),
    }
    Ok(request)
}

/// The answer to a request whose parameters were refused before it ran.
fn refused(media: &'static str, refusal: Refusal) -> Response {
    let (message, code) = match refusal {
        Refusal::Malformed(message) => return problem(StatusCode::BAD_REQUEST, media, &message),
        // The message is what Apollo clients look for before resending the query text.
        Refusal::NotFound => ("PersistedQueryNotFound", code::PERSISTED_QUERY_NOT_FOUND),
        Refusal::NotInList => (
            "this server runs only the operations of its persisted query list for requests without a token; \
             send one of them by its extensions.persistedQuery.sha256Hash",
            code::PERSISTED_QUERY_NOT_IN_LIST,
        ),
    };
    let executed = request_error(media, json!({ "errors": [coded_error(message, code)] }));
    respond(executed.status, media, None, executed.body)
}

/// A request error: no `data` entry; 400 for graphql-response+json, 200 for legacy application/json.
fn request_error(media: &'static str, body: serde_json::Value) -> Executed {
    let status = if media == GRAPHQL_RESPONSE { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Executed { status, body: body.to_string(), has_errors: true, hints: CacheHints::default() }
}

pub(super) async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != JSON {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, media, "Content-Type must be application/json");
    }
    if body.is_empty() {
        return problem(StatusCode::BAD_REQUEST, media, "the request body is empty; send {\"query\": \"...\"}");
    }
    let anonymous = !headers.contains_key(header::AUTHORIZATION);
    if anonymous && state.cache.is_some() && body.first() == Some(&b'{') {
        let key = cache_key(media, "POST", &body);
        return cached_or_execute(&state, media, &headers, key, || match serde_json::from_slice(&body) {
            Ok(serde_json::Value::Object(params)) => request_from_params(params, &state.persisted, true),
            Ok(_) => Err(Refusal::Malformed("the body must be a JSON object (or an array of them)".into())),
            Err(e) => Err(Refusal::Malformed(format!("the body is not valid JSON: {e}"))),
        })
        .await;
    }
    let principal = match authenticate(&state, &headers, media).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(params)) => {
            match request_from_params(params, &state.persisted, principal.is_none()) {
                Ok(request) => {
                    let before = state.sql_statements.as_ref().map(|c| c.load(Ordering::Relaxed));
                    let mut budget = Budget::new(&state.settings);
                    let executed = execute_one(&state, media, principal.as_ref(), request, &mut budget).await;
                    let mut response = respond(executed.status, media, principal.as_ref(), executed.body);
                    with_statement_count(&state, before, &mut response);
                    response
                }
                Err(refusal) => refused(media, refusal),
            }
        }
        Ok(serde_json::Value::Array(batch)) => {
            let max = state.settings.max_batch;
            if batch.is_empty() || batch.len() > max {
                let message = format!("a batch holds 1 to {max} operations; this one has {}", batch.len());
                return problem(StatusCode::BAD_REQUEST, media, &message);
            }
            let mut requests = Vec::with_capacity(batch.len());
            for (i, item) in batch.into_iter().enumerate() {
                let serde_json::Value::Object(params) = item else {
                    return problem(StatusCode::BAD_REQUEST, media, &format!("batch[{i}]: must be a JSON object"));
                };
                match request_from_params(params, &state.persisted, principal.is_none()) {
                    Ok(r) => requests.push(r),
                    Err(Refusal::Malformed(message)) => {
                        return problem(StatusCode::BAD_REQUEST, media, &format!("batch[{i}].{message}"));
                    }
                    Err(refusal) => return refused(media, refusal),
                }
            }
            // The operations share one budget: time, response size and query cost.
            let mut budget = Budget::new(&state.settings);
            let mut results = Vec::with_capacity(requests.len());
            for request in requests {
                results.push(execute_one(&state, media, principal.as_ref(), request, &mut budget).await.body);
            }
            respond(StatusCode::OK, media, principal.as_ref(), format!("[{}]", results.join(",")))
        }
        Ok(_) => problem(StatusCode::BAD_REQUEST, media, "the body must be a JSON object (or an array of them)"),
        Err(e) => problem(StatusCode::BAD_REQUEST, media, &format!("the body is not valid JSON: {e}")),
    }
}

fn query_params(raw: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let uri: axum::http::Uri = format!("/?{raw}").parse().map_err(|_| "the query string is malformed".to_string())?;
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|_| "the query string is malformed".to_string())?
        .0;
    let mut params = serde_json::Map::new();
    for (key, value) in pairs {
        let value = match key.as_str() {
            "variables" | "extensions" => {
                serde_json::from_str(&value).map_err(|e| format!("{key}: is not valid JSON: {e}"))?
            }
            _ => serde_json::Value::String(value),
        };
        params.insert(key, value);
    }
    Ok(params)
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    doc.operations.iter().any(|(name, op)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        selected && op.node.ty == OperationType::Mutation
    })
}

pub(super) async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> axum::response::Response {
    let raw = raw.unwrap_or_default();
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_html && !raw.split('&').any(|p| p.starts_with("query=")) {
        if !state.settings.public_graphiql {
            return super::router::not_found().await;
        }
        return super::graphiql::page();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let params = match query_params(&raw) {
        Ok(p) => p,
        Err(message) => return problem(StatusCode::BAD_REQUEST, media, &message),
    };
    // Whether a token came is all the allow-list needs here: a bad token is refused below either way.
    let anonymous = !headers.contains_key(header::AUTHORIZATION);
    let request = match request_from_params(params, &state.persisted, anonymous) {
        Ok(r) => r,
        Err(refusal) => return refused(media, refusal),
    };
    if is_mutation(&request) {
        let mut response = problem(StatusCode::METHOD_NOT_ALLOWED, media, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if !headers.contains_key(header::AUTHORIZATION) && state.cache.is_some() {
        let key = cache_key(media, "GET", raw.as_bytes());
        return cached_or_execute(&state, media, &headers, key, || Ok(request)).await;
    }
    let principal = match authenticate(&state, &headers, media).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let executed = execute_one(&state, media, principal.as_ref(), request, &mut Budget::new(&state.settings)).await;
    respond(executed.status, media, principal.as_ref(), executed.body)
}
