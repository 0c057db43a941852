//! Webhooks end to end: a local receiver verifies every delivery with the `standardwebhooks` crate. A
//! publish is delivered once with its purge keys; a failing receiver gets exactly one success after
//! retries; a rolled-back write leaves no event; an event committed while no server runs is delivered by
//! the next `backlot serve`; two serve processes deliver each event once; internal URLs are refused.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use backlot::service::webhook_delivery::{self, DeliverySettings};
use common::{TestApp, error_code};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

// ---- the receiver ---------------------------------------------------------------------------

#[derive(Default)]
struct ReceiverState {
    secret: Option<String>,
    /// Answer 500 to this many requests first.
    fail_first: usize,
    /// Hold this many requests first for 5 s, then answer 500 (a sender killed meanwhile never sees it).
    stall_first: usize,
    requests: usize,
    bad_signatures: usize,
    /// Verified deliveries: (webhook-id, body).
    verified: Vec<(String, Value)>,
}

struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<ReceiverState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let stall = {
        let mut s = state.lock().unwrap();
        s.requests += 1;
        s.requests <= s.stall_first
    };
    if stall {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return (StatusCode::INTERNAL_SERVER_ERROR, "stalled");
    }
    let mut s = state.lock().unwrap();
    if s.requests <= s.fail_first {
        return (StatusCode::INTERNAL_SERVER_ERROR, "not yet");
    }
    let secret = s.secret.clone().expect("the test set the secret");
    let verifier = standardwebhooks::Webhook::new(&secret).expect("a Standard Webhooks secret");
    if verifier.verify(&body, &headers).is_err() {
        s.bad_signatures += 1;
        return (StatusCode::BAD_REQUEST, "bad signature");
    }
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    s.verified.push((id, serde_json::from_slice(&body).expect("JSON body")));
    (StatusCode::OK, "ok")
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let router = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("receiver");
        });
        Receiver { url: format!("http://{addr}/hook"), state, task }
    }

    fn set(&self, f: impl FnOnce(&mut ReceiverState)) {
        f(&mut self.state.lock().unwrap());
    }

    fn verified(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().verified.clone()
    }

    /// Waits until `count` deliveries were verified (panics after 15 s), then a little longer to catch extras.
    async fn wait_for(&self, count: usize) -> Vec<(String, Value)> {
        let started = Instant::now();
        while self.verified().len() < count {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "only {} of {count} deliveries",
                self.verified().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let s = self.state.lock().unwrap();
        assert_eq!(s.bad_signatures, 0, "every delivery verifies");
        s.verified.clone()
    }
}

// ---- the application ------------------------------------------------------------------------

/// A test database with a router that allows internal webhook URLs (the receiver is on 127.0.0.1).
struct Hooks {
    app: TestApp,
    router: axum::Router,
    admin: String,
}

impl Hooks {
    async fn new() -> Hooks {
        let app = TestApp::new().await;
        let config = backlot::app::AppConfig { webhook_allow_private: true, ..Default::default() };
        let router = backlot::app::build(app.db.clone(), &config).router;
        let admin = app.token("hooks-admin", backlot::service::token::Role::Admin).await;
        Hooks { app, router, admin }
    }

    async fn gql(&self, query: &str, variables: Value) -> Value {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.admin))
            .body(Body::from(json!({ "query": query, "variables": variables }).to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("JSON answer")
    }

    async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Subscribes the receiver to `events`; hands it the secret. Returns the webhook's ID.
    async fn subscribe(&self, receiver: &Receiver, events: &[&str]) -> String {
        let data = self
            .data(
                "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id events state } } }",
                json!({ "input": { "url": receiver.url, "events": events, "description": "test receiver" } }),
            )
            .await;
        let secret = data["createWebhook"]["secret"].as_str().expect("secret").to_string();
        assert!(secret.starts_with("whsec_"), "{secret}");
        receiver.set(|s| s.secret = Some(secret));
        assert_eq!(data["createWebhook"]["webhook"]["state"], "ACTIVE");
        data["createWebhook"]["webhook"]["id"].as_str().expect("id").to_string()
    }

    /// Creates an article and publishes it; returns its ID.
    async fn publish_new(&self, title: &str) -> String {
        let created = self
            .data("mutation($t: String!) { createArticle(input: { title: $t }) { id version } }", json!({ "t": title }))
            .await;
        let id = created["createArticle"]["id"].clone();
        self.data(
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": created["createArticle"]["version"] }),
        )
        .await;
        id.as_str().expect("id").to_string()
    }

    async fn deliveries(&self, webhook: &str) -> Vec<Value> {
        let data = self
            .data(
                "query($id: ID!) { webhook(id: $id) { state pausedReason deliveries(first: 100) { id eventId eventType \
                 status attemptCount payload attempts { httpStatus error responseExcerpt durationMs } } } }",
                json!({ "id": webhook }),
            )
            .await;
        data["webhook"]["deliveries"].as_array().cloned().unwrap_or_default()
    }
}

fn fast(allow_private: bool) -> DeliverySettings {
    DeliverySettings {
        allow_private,
        retry_schedule: vec![Duration::from_millis(100), Duration::from_millis(200)],
        poll_interval: Duration::from_millis(20),
        ..Default::default()
    }
}

/// The worker as `serve` runs it, for the life of the returned guard.
struct Worker(tokio::task::JoinHandle<()>);

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn worker(app: &TestApp, settings: DeliverySettings) -> Worker {
    Worker(webhook_delivery::spawn(app.db.clone(), settings))
}

// ---- tests ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_is_delivered_once_signed_with_the_entity_and_its_purge_keys() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published", "article.unpublished"]).await;
    let id = hooks.publish_new("Webhook Page").await;
    let _worker = worker(&hooks.app, fast(true));

    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "exactly one delivery: {got:#?}");
    let (msg_id, payload) = &got[0];
    assert_eq!(payload["id"], *msg_id, "the body's id is the webhook-id header");
    assert_eq!(payload["type"], "article.published");
    assert!(payload["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{payload}");
    let entity = &payload["entity"];
    assert_eq!(entity["id"], id.as_str());
    assert_eq!(entity["type"], "Article");
    assert_eq!(entity["slug"], "webhook-page");
    assert_eq!(entity["version"], 2);
    assert!(entity["documentId"].as_str().is_some_and(|d| !d.is_empty()));
    let purge: Vec<&str> = payload["purge"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for key in ["article:webhook-page", "articles", "search"] {
        assert!(purge.contains(&key), "purge has {key}: {purge:?}");
    }
    // Names and keys only: no content, so no draft text can leave through an event.
    let mut keys: Vec<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["entity", "id", "purge", "timestamp", "type"]);

    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["status"], "SUCCEEDED");
    assert_eq!(deliveries[0]["attemptCount"], 1);
    assert_eq!(deliveries[0]["attempts"][0]["httpStatus"], 200);
    assert_eq!(deliveries[0]["attempts"][0]["responseExcerpt"], "ok");

    // An unpublish is the other subscribed type; nothing else is queued for this webhook.
    let down = hooks
        .data("mutation($id: ID!) { unpublishArticle(id: $id, expectedVersion: 2) { version } }", json!({ "id": id }))
        .await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].1["type"], "article.unpublished");
    assert_eq!(got[1].1["entity"]["slug"], "webhook-page", "the slug the public saw");

    // Renamed and published again: a CDN must drop the old address too, so both slugs are purged.
    let published = hooks
        .data(
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": down["unpublishArticle"]["version"] }),
        )
        .await;
    let renamed = hooks
        .data(
            r#"mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { slug: "webhook-page-renamed" }) { version } }"#,
            json!({ "id": id, "v": published["publishArticle"]["version"] }),
        )
        .await;
    hooks
        .data(
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": id, "v": renamed["updateArticle"]["version"] }),
        )
        .await;
    let got = receiver.wait_for(4).await;
    // Deliveries may arrive in any order: the rename's is the one that names the new slug.
    let rename = got.iter().find(|(_, p)| p["entity"]["slug"] == "webhook-page-renamed").expect("the rename's event");
    let purge = rename.1["purge"].to_string();
    for key in ["\"article:webhook-page\"", "\"article:webhook-page-renamed\""] {
        assert!(purge.contains(key), "the rename's purge names {key}: {purge}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_gets_exactly_one_success_after_the_retries() {
    let receiver = Receiver::start().await;
    receiver.set(|s| s.fail_first = 2);
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published"]).await;
    hooks.publish_new("Retried Page").await;
    let _worker = worker(&hooks.app, fast(true));

    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "one success: {got:#?}");
    assert_eq!(receiver.state.lock().unwrap().requests, 3, "two failures, then the success, then nothing");
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries[0]["status"], "SUCCEEDED");
    assert_eq!(deliveries[0]["attemptCount"], 3);
    let statuses: Vec<&Value> =
        deliveries[0]["attempts"].as_array().unwrap().iter().map(|a| &a["httpStatus"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(deliveries[0]["attempts"][0]["responseExcerpt"], "not yet");
    assert!(deliveries[0]["attempts"][0]["error"].as_str().is_some_and(|e| e.contains("500")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_that_keep_failing_are_marked_failed_then_pause_the_webhook_and_can_be_redelivered() {
    let receiver = Receiver::start().await;
    receiver.set(|s| s.fail_first = usize::MAX);
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published"]).await;
    hooks.publish_new("Failing Page").await;
    // Pause after 200 ms of failures: the first failure starts the clock, the second (after 100 ms and
    // jitter) or third pauses.
    let settings = DeliverySettings { pause_after: Duration::from_millis(250), ..fast(true) };
    let worker_task = worker(&hooks.app, settings);

    let started = Instant::now();
    let delivery = loop {
        let deliveries = hooks.deliveries(&webhook).await;
        if deliveries[0]["status"] == "FAILED" {
            break deliveries[0].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(15), "never failed: {deliveries:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivery["attemptCount"], 3, "the first attempt and the two retries of the schedule");
    let state =
        hooks.data("query($id: ID!) { webhook(id: $id) { state pausedReason } }", json!({ "id": webhook })).await;
    assert_eq!(state["webhook"]["state"], "PAUSED");
    assert!(state["webhook"]["pausedReason"].as_str().is_some_and(|r| r.contains("automatically")), "{state}");

    // Redelivered while paused: it waits. Resumed: it goes, once.
    receiver.set(|s| s.fail_first = 0);
    let again = hooks
        .data(
            "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { status attemptCount } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(again["redeliverWebhookDelivery"]["status"], "PENDING");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.verified().is_empty(), "nothing is sent to a paused webhook");
    hooks.data("mutation($id: ID!) { resumeWebhook(id: $id) { state } }", json!({ "id": webhook })).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, delivery["eventId"].as_str().unwrap(), "the same event id as before");
    drop(worker_task);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_write_leaves_no_event() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published"]).await;
    let created =
        hooks.data("mutation { createArticle(input: { title: \"Lonely Page\" }) { id version } }", json!({})).await;
    let (id, version) = (&created["createArticle"]["id"], &created["createArticle"]["version"]);
    // The article is published, and its event written, before the missing proof record fails the write.
    let failed = hooks
        .gql(
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v, withProofRecord: true) { status } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(error_code(&failed), "BAD_USER_INPUT", "{failed}");
    let stale = hooks
        .gql("mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 99) { status } }", json!({ "id": id }))
        .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    assert!(hooks.deliveries(&webhook).await.is_empty(), "no event from a rolled-back write");

    // The same publish, committed, has its event.
    hooks
        .data(
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { status } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["eventType"], "article.published");
    assert_eq!(deliveries[0]["status"], "PENDING", "no worker runs in this test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_scheduled_publish_archive_and_delete_each_record_their_event() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let all = ["article.scheduled", "article.published", "article.archived", "article.deleted"];
    let webhook = hooks.subscribe(&receiver, &all).await;
    let created =
        hooks.data("mutation { createArticle(input: { title: \"Timed Page\" }) { id version } }", json!({})).await;
    let id = created["createArticle"]["id"].clone();
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339();
    hooks
        .data(
            "mutation($id: ID!, $at: DateTime) { scheduleArticle(id: $id, expectedVersion: 1, publishAt: $at) { version } }",
            json!({ "id": id, "at": at }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(backlot::service::scheduler::run_due(&hooks.app.db).await.expect("scheduler"), 1);
    hooks
        .data("mutation($id: ID!) { archiveArticle(id: $id, expectedVersion: 3) { version } }", json!({ "id": id }))
        .await;
    hooks.data("mutation($id: ID!) { deleteArticle(id: $id, expectedVersion: 4) }", json!({ "id": id })).await;

    let mut deliveries = hooks.deliveries(&webhook).await;
    deliveries.reverse();
    let types: Vec<&str> = deliveries.iter().filter_map(|d| d["eventType"].as_str()).collect();
    assert_eq!(types, all, "in order, one each");
    let scheduled = &deliveries[0]["payload"];
    assert!(scheduled["publishAt"].as_str().is_some(), "{scheduled}");
    let versions: Vec<&Value> = deliveries.iter().map(|d| &d["payload"]["entity"]["version"]).collect();
    assert_eq!(versions, [&json!(2), &json!(3), &json!(4), &json!(5)]);
    assert!(deliveries.iter().all(|d| d["payload"]["entity"]["slug"] == "timed-page"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_records_import_completed_naming_only_public_pages() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["import.completed", "article.published"]).await;
    hooks.app.import("public.txt", &common::page("Public Import", "rights"), true);
    hooks.app.import("draft.txt", &common::page("Draft Import", "secrets"), false);
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 3, "{deliveries:#?}");
    // Newest first: the draft import, then the published one with its publish.
    let draft = &deliveries[0]["payload"];
    assert_eq!(draft["import"]["pages"], 1);
    assert_eq!(draft["import"]["public"], 0);
    assert!(!draft.to_string().contains("draft-import"), "a draft is counted, not named: {draft}");
    let by_type = |t: &str| deliveries.iter().find(|d| d["payload"]["type"] == t).map(|d| d["payload"].clone());
    let public = deliveries
        .iter()
        .map(|d| d["payload"].clone())
        .find(|p| p["type"] == "import.completed" && p["import"]["public"] == 1)
        .expect("the public import");
    assert_eq!(public["import"]["articles"][0]["slug"], "public-import");
    let purge = public["purge"].as_array().unwrap();
    assert!(purge.contains(&json!("article:public-import")) && purge.contains(&json!("collection:proof")), "{purge:?}");
    // A page the import published is announced like a publish by mutation, so a rebuild hook fires.
    let published = by_type("article.published").expect("an import that publishes sends article.published");
    assert_eq!(published["entity"]["slug"], "public-import");
    assert!(published["purge"].as_array().unwrap().contains(&json!("collection:proof")), "{published}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_urls_and_unknown_events_are_refused() {
    let app = TestApp::new().await;
    let admin = app.token("admin", backlot::service::token::Role::Admin).await;
    let create = "mutation($url: String!, $events: [String!]!) { createWebhook(input: { url: $url, events: $events }) { secret } }";
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/",
        "http://10.1.2.3/",
        "http://[::1]/",
    ] {
        let body = app.graphql_as(&admin, create, json!({ "url": url, "events": ["article.published"] })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{url}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("url: ") && message.contains("--webhook-allow-private"), "{message}");
    }
    let body =
        app.graphql_as(&admin, create, json!({ "url": "ftp://example.com/", "events": ["article.published"] })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body =
        app.graphql_as(&admin, create, json!({ "url": "http://127.0.0.1:9/", "events": ["article.exploded"] })).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("events: ") && message.contains("article.published, "), "{message}");
    // Not for editors.
    let editor = app.token("editor", backlot::service::token::Role::Publisher).await;
    let body = app.graphql_as(&editor, "{ webhooks { id } }", json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // The secret is no field of a webhook: it is only in the answers that create it.
    let fields = app.data("{ __type(name: \"Webhook\") { fields { name } } }", json!({})).await;
    assert!(!fields.to_string().contains("secret"), "{fields}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_refuses_to_deliver_to_an_internal_address_without_the_flag() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published"]).await;
    hooks.publish_new("Guarded Page").await;
    let _worker = worker(&hooks.app, fast(false));
    let started = Instant::now();
    let attempt = loop {
        let deliveries = hooks.deliveries(&webhook).await;
        if let Some(attempt) = deliveries[0]["attempts"].as_array().and_then(|a| a.first()) {
            break attempt.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        attempt["error"].as_str().is_some_and(|e| e.starts_with("refused") && e.contains("127.0.0.1")),
        "{attempt}"
    );
    assert_eq!(attempt["httpStatus"], Value::Null);
    assert_eq!(receiver.state.lock().unwrap().requests, 0, "nothing reached the receiver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_lists_and_deletes_webhooks_and_never_lists_the_secret() {
    let app = TestApp::new().await;
    let out = app.cli(&["webhook", "create", "--url", "http://127.0.0.1:9/hook", "--events", "article.published"]);
    assert_eq!(out.status.code(), Some(2), "refused without --allow-private");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--url") && stderr.contains("--webhook-allow-private"), "{stderr}");
    let out =
        app.cli(&["webhook", "create", "--url", "http://example.com/", "--events", "article.nope", "--allow-private"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("import.completed"), "lists the valid types");

    let out = app.cli(&[
        "webhook",
        "create",
        "--url",
        "http://127.0.0.1:9/hook",
        "--events",
        "article.published,import.completed",
        "--description",
        "site rebuild",
        "--allow-private",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let secret = stdout.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{stdout}");
    let listed = String::from_utf8_lossy(&app.cli(&["webhook", "list"]).stdout).into_owned();
    assert!(listed.contains("http://127.0.0.1:9/hook") && listed.contains("site rebuild"), "{listed}");
    assert!(!listed.contains(&secret) && !listed.contains("whsec_"), "{listed}");
    let id = stdout.split_whitespace().nth(2).unwrap().to_string();
    assert!(app.cli(&["webhook", "delete", &id]).status.success());
    assert!(!String::from_utf8_lossy(&app.cli(&["webhook", "list"]).stdout).contains("127.0.0.1"));
    assert_eq!(app.cli(&["webhook", "delete", &id]).status.code(), Some(1), "gone");
}

// ---- serve processes ------------------------------------------------------------------------

/// `backlot serve` on the test's database, delivering webhooks fast.
fn serve_fast(app: &TestApp) -> common::Served {
    common::serve_with(
        &app.url,
        &[
            "--webhook-allow-private",
            "--webhook-poll-ms",
            "20",
            "--webhook-retry-schedule",
            "100ms,200ms",
            "--webhook-lease-seconds",
            "1",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_while_no_server_runs_is_delivered_by_the_next_serve() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    hooks.subscribe(&receiver, &["article.published"]).await;
    hooks.publish_new("Offline Page").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.verified().is_empty(), "no worker ran yet");

    let _serve = serve_fast(&hooks.app);
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["entity"]["slug"], "offline-page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_deliver_each_event_exactly_once() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    hooks.subscribe(&receiver, &["article.published"]).await;
    let first = serve_fast(&hooks.app);
    let second = serve_fast(&hooks.app);
    const EVENTS: usize = 30;
    for n in 0..EVENTS {
        hooks.publish_new(&format!("Shared Page {n}")).await;
    }
    let got = receiver.wait_for(EVENTS).await;
    drop((first, second));
    let mut ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), EVENTS, "each event once");
    assert_eq!(got.len(), EVENTS, "and nothing twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_claimed_by_a_killed_serve_is_sent_by_the_next_once_its_lease_ends() {
    let receiver = Receiver::start().await;
    receiver.set(|s| s.stall_first = 1);
    let hooks = Hooks::new().await;
    hooks.subscribe(&receiver, &["article.published"]).await;
    hooks.publish_new("Interrupted Page").await;

    let mut first = serve_fast(&hooks.app);
    let started = Instant::now();
    while receiver.state.lock().unwrap().requests == 0 {
        assert!(started.elapsed() < Duration::from_secs(15), "the first serve never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // kill -9 while its request is in flight: it records nothing, its claim stays until the lease ends.
    first.0.kill().expect("kill -9");
    first.0.wait().expect("wait");
    let _second = serve_fast(&hooks.app);
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["entity"]["slug"], "interrupted-page");
    assert_eq!(receiver.state.lock().unwrap().requests, 2, "the killed attempt and the one that succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_release_and_a_proof_record_publish_record_their_events() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    backlot::demo::load(&hooks.app.db).await.expect("demo loads").expect("empty database");
    let webhook = hooks.subscribe(&receiver, &["asset.release_changed", "proof_record.published"]).await;
    let draft_query = format!(
        r#"{{ article(slug: "{}") {{ proofRecord {{ id slug version
        assets {{ id url kind alt caption credit width height shows release capturedAt }} }} }} }}"#,
        common::ORIGINAL_SLUG
    );
    let draft = hooks.data(&draft_query, json!({})).await;
    let record = draft["article"]["proofRecord"].clone();
    let frame = record["assets"].as_array().unwrap().iter().find(|a| a["release"] == "CLEARED").unwrap().clone();
    let set_release = |release: &'static str| {
        let (hooks, draft_query, frame) = (&hooks, draft_query.clone(), frame.clone());
        async move {
            let draft = hooks.data(&draft_query, json!({})).await;
            let record = &draft["article"]["proofRecord"];
            let mut assets = record["assets"].as_array().unwrap().clone();
            for asset in &mut assets {
                asset.as_object_mut().unwrap().remove("id");
                if asset["url"] == frame["url"] {
                    asset["release"] = json!(release);
                }
            }
            let mutation = "mutation($id: ID!, $v: Int!, $assets: [AssetInput!]!) {
                updateProofRecord(id: $id, expectedVersion: $v, input: { assets: $assets }) { id version } }";
            let variables = json!({ "id": record["id"], "v": record["version"], "assets": assets });
            hooks.data(mutation, variables).await["updateProofRecord"].clone()
        }
    };
    set_release("DENIED").await;
    // Already withheld from the public: no second event.
    let updated = set_release("DENIED").await;
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    let payload = &deliveries[0]["payload"];
    assert_eq!(payload["type"], "asset.release_changed");
    assert_eq!(payload["entity"]["type"], "Asset");
    assert_eq!(payload["entity"]["id"], frame["id"], "the frame's GraphQL ID");
    assert_eq!(payload["release"], "DENIED");
    let purge = payload["purge"].to_string();
    for key in
        [format!("proof-record:{}", record["slug"].as_str().unwrap()), format!("article:{}", common::ORIGINAL_SLUG)]
    {
        assert!(purge.contains(&key), "purge has {key}: {purge}");
    }

    hooks
        .data(
            "mutation($id: ID!, $v: Int!) { publishProofRecord(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": updated["id"], "v": updated["version"] }),
        )
        .await;
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0]["eventType"], "proof_record.published");
    assert_eq!(deliveries[0]["payload"]["entity"]["type"], "ProofRecord");
    assert!(deliveries[0]["payload"]["purge"].to_string().contains("channel:"), "its reuse channels");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_the_next_deliveries_and_a_deleted_webhook_gets_none() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    let webhook = hooks.subscribe(&receiver, &["article.published"]).await;
    let rotated =
        hooks.data("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", json!({ "id": webhook })).await;
    let secret = rotated["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    let old = receiver.state.lock().unwrap().secret.clone().unwrap();
    assert!(secret.starts_with("whsec_") && secret != old);
    receiver.set(|s| s.secret = Some(secret));
    hooks.publish_new("Rotated Page").await;
    let _worker = worker(&hooks.app, fast(true));
    assert_eq!(receiver.wait_for(1).await.len(), 1, "verified with the new secret");

    let deleted = hooks.data("mutation($id: ID!) { deleteWebhook(id: $id) }", json!({ "id": webhook })).await;
    assert_eq!(deleted["deleteWebhook"], webhook.as_str());
    hooks.publish_new("Unheard Page").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.verified().len(), 1, "nothing for a deleted webhook");
    let gone = hooks.data("query($id: ID!) { webhook(id: $id) { id } }", json!({ "id": webhook })).await;
    assert_eq!(gone["webhook"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_expiry_is_announced_as_a_release_change_and_a_later_one_is_not() {
    let receiver = Receiver::start().await;
    let hooks = Hooks::new().await;
    backlot::demo::load(&hooks.app.db).await.expect("demo loads").expect("empty database");
    let webhook = hooks.subscribe(&receiver, &["asset.release_changed"]).await;
    let query = format!(
        r#"{{ article(slug: "{}") {{ proofRecord {{ id version
        assets {{ url kind alt caption credit width height shows release releaseExpiresAt capturedAt }} }} }} }}"#,
        common::ORIGINAL_SLUG
    );
    // The crew frame (cleared, no expiry) gets one: its rights tighten, at once and announced.
    let crew = "https://demo.backlot.invalid/bts/brand-proof-03.jpg";
    let set_expiry = |at: &'static str| {
        let (hooks, query) = (&hooks, query.clone());
        async move {
            let draft = hooks.data(&query, json!({})).await;
            let record = &draft["article"]["proofRecord"];
            let mut assets = record["assets"].as_array().unwrap().clone();
            for asset in &mut assets {
                if asset["url"] == crew {
                    asset["releaseExpiresAt"] = json!(at);
                }
            }
            let mutation = "mutation($id: ID!, $v: Int!, $assets: [AssetInput!]!) {
                updateProofRecord(id: $id, expectedVersion: $v, input: { assets: $assets }) { version } }";
            hooks.data(mutation, json!({ "id": record["id"], "v": record["version"], "assets": assets })).await
        }
    };
    set_expiry("2029-01-01T00:00:00Z").await;
    let deliveries = hooks.deliveries(&webhook).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    let payload = &deliveries[0]["payload"];
    assert_eq!(payload["release"], "CLEARED", "the status in force is unchanged");
    assert_eq!(payload["releaseExpiresAt"], "2029-01-01T00:00:00Z");
    // Moving it later loosens the release: that waits for a publish, and is not announced as a change.
    set_expiry("2031-01-01T00:00:00Z").await;
    assert_eq!(hooks.deliveries(&webhook).await.len(), 1);
}
