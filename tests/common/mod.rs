//! TestApp: the production router on a fresh database of its own, on SQLite or PostgreSQL.
//!
//! The backend comes from `BACKLOT_TEST_POSTGRES_URL`: when set (an admin URL such as
//! `postgres://backlot@127.0.0.1:5433/postgres`), every test creates its own database there;
//! otherwise each test gets a SQLite file in a temporary directory.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const SEED: &str = include_str!("../../demo/behind-the-scenes-production-as-brand-proof.txt");
pub const WEBSITE_DIRECTION: &str = include_str!("../../demo/website-direction.txt");
const CACHE_POLL_MS: u64 = 20;

pub const ORIGINAL_SLUG: &str = "behind-the-scenes-production-as-brand-proof";

pub struct TestApp {
    pub db: DatabaseConnection,
    pub url: String,
    pub router: axum::Router,
    pub statements: Arc<AtomicUsize>,
    /// Every statement run through `db` (the router's too), with its values, for plan checks.
    pub recorded: Arc<std::sync::Mutex<Vec<sea_orm::Statement>>>,
    pub dir: tempfile::TempDir,
    pub backend: &'static str,
}

pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

async fn create_postgres_database(admin_url: &str) -> String {
    let name = format!("backlot_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url).await.expect("connect to the PostgreSQL test server");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(admin_url);
    format!("{base}/{name}")
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_settings(backlot::config::ApiSettings::default()).await
    }

    /// A fresh app whose router uses `settings` (the cache poll interval is the tests' own).
    pub async fn with_settings(settings: backlot::config::ApiSettings) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, backend) = match std::env::var("BACKLOT_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => (create_postgres_database(&admin).await, "postgres"),
            _ => (format!("sqlite://{}", dir.path().join("test.db").display()), "sqlite"),
        };
        let mut db = backlot::app::connect_for(&url, settings.workload()).await.expect("connect");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = recorded.clone();
        let print_sql = std::env::var("BACKLOT_TEST_PRINT_SQL").is_ok();
        db.set_metric_callback(move |info| {
            // The cache's generation poll runs on a timer, not on behalf of any request.
            if info.statement.sql.starts_with(backlot::service::generation::POLL_SQL) {
                return;
            }
            counter.fetch_add(1, Ordering::SeqCst);
            backlot::http::observe::count_statement();
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(info.statement.clone());
            if print_sql {
                eprintln!("SQL: {}", info.statement.sql.chars().take(160).collect::<String>());
            }
        });
        backlot::app::migrate_database(&url).await.expect("migrate");
        // Writes by the CLI (another process) reach the cache through polling, as in production.
        let settings = backlot::config::ApiSettings { cache_poll_ms: CACHE_POLL_MS, ..settings };
        let config = backlot::app::AppConfig { api: settings, ..Default::default() };
        let router = backlot::app::build(db.clone(), &config).router;
        TestApp { db, url, router, statements, recorded, dir, backend }
    }

    /// A fresh app with the demo data set loaded.
    pub async fn with_demo() -> TestApp {
        let app = TestApp::new().await;
        backlot::demo::load(&app.db).await.expect("demo loads").expect("database was empty");
        app
    }

    pub async fn request(&self, request: Request<Body>) -> HttpResponse {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        HttpResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn post_json(&self, body: Value) -> HttpResponse {
        self.request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("accept", "application/graphql-response+json, application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Creates a token with `role` directly in the store; returns its secret.
    pub async fn token(&self, name: &str, role: backlot::service::token::Role) -> String {
        backlot::service::token::create(&self.db, name, role, None).await.expect("token").1
    }

    /// POSTs a query with `Authorization: Bearer <token>`.
    pub async fn post_as(&self, token: &str, query: &str, variables: Value) -> HttpResponse {
        self.request(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(json!({ "query": query, "variables": variables }).to_string()))
                .unwrap(),
        )
        .await
    }

    /// Runs a query as `token`; returns the whole response body.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post_as(token, query, variables).await.json()
    }

    /// Runs a query as `token` that must succeed; returns `data`.
    pub async fn data_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Runs a query; returns the whole response body (`data` and `errors`).
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self.post_json(json!({ "query": query, "variables": variables })).await;
        response.json()
    }

    /// Runs a query that must succeed; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// SQL statements run by `f`.
    pub async fn count_statements<F: std::future::Future<Output = T>, T>(&self, f: F) -> (T, usize) {
        let before = self.statements.load(Ordering::SeqCst);
        let out = f.await;
        (out, self.statements.load(Ordering::SeqCst) - before)
    }

    /// Runs the real `backlot` binary against this test's database, then waits out a few cache polls so
    /// the router has seen any write it made (a deployment sees it within the poll interval too). Tests run
    /// on a multi-threaded runtime so the poller keeps running while this blocks.
    pub fn cli(&self, args: &[&str]) -> Output {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backlot"))
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .current_dir(self.dir.path())
            .output()
            .expect("run backlot");
        std::thread::sleep(std::time::Duration::from_millis(10 * CACHE_POLL_MS));
        out
    }

    pub fn write_page(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// Imports `text` as a page through the CLI; panics unless it succeeds.
    pub fn import(&self, name: &str, text: &str, publish: bool) -> String {
        let path = self.write_page(name, text);
        self.import_paths(&[Path::new(&path)], publish)
    }

    /// Imports files and folders in one `backlot import` run; panics unless it succeeds.
    pub fn import_paths(&self, paths: &[&Path], publish: bool) -> String {
        let mut args = vec!["import"];
        args.extend(paths.iter().map(|p| p.to_str().expect("UTF-8 test path")));
        if publish {
            args.push("--publish");
        }
        let out = self.cli(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "import failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>").to_string()
}

/// A page in the import format, for tests that need many distinct pages.
pub fn page(title: &str, extra: &str) -> String {
    format!(
        "{title} is a test page about {extra}. The point is to exercise Backlot.\n\
Who this helps\n\
This article is for testers, editors, and robots who need pages.\n\
The real problem\n\
Pages are needed in bulk about {extra}.\n\
The production record matters because tests need records.\n\
Section one\n\
First body paragraph about {extra}.\n\
Section two\n\
Second body paragraph.\n\
Questions this page should help you ask\n\
Is this a test about {extra}?\n\
Yes, it is a test.\n\
What else?\n\
Nothing else.\n\
Next: review the paired Proof record, browse Proof.\n"
    )
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}

/// A `backlot serve` process, killed when dropped; `.1` is its port, `.2` its base URL (`http://127.0.0.1:PORT`).
pub struct Served(pub std::process::Child, pub u16, pub String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `backlot serve` on the database `url` with `extra` flags, on a port the OS picks, and waits for
/// its start-up line, which names the address.
pub fn serve_with(url: &str, extra: &[&str]) -> Served {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let child = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start backlot serve");
    // Owned from here, so a failed start is still killed and reaped.
    let mut served = Served(child, 0, String::new());
    let mut stdout = std::io::BufReader::new(served.0.stdout.take().expect("stdout"));
    let mut line = String::new();
    while served.2.is_empty() {
        line.clear();
        assert!(stdout.read_line(&mut line).expect("read stdout") > 0, "serve exited before listening");
        if let Some(rest) = line.strip_prefix("Backlot listening on ") {
            served.2 = rest.split("/graphql").next().expect("address").to_string();
        }
    }
    served.1 = served.2.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    served
}

pub fn serve(url: &str) -> Served {
    serve_with(url, &[])
}

/// A plain HTTP/1.1 POST of a GraphQL body to a `backlot serve` process, as a client would send it.
pub fn post_to(port: u16, token: Option<&str>, body: &str) -> Value {
    post_for_headers(port, token, body).1
}

/// [`post_to`], with the response's headers (names in lower case).
pub fn post_for_headers(port: u16, token: Option<&str>, body: &str) -> (HashMap<String, String>, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    (headers, serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {response}")))
}

/// The unpublished content the leak tests look for, created next to the demo set by an admin: a draft, a
/// scheduled and an archived article, each linked both ways with the published original; an unpublished
/// retitle of the original; a draft proof record with a published snippet; and a draft snippet on the
/// published record. Answers the global IDs `[draft, scheduled, archived, record, snippet]`.
pub async fn unpublished_fixtures(app: &TestApp, admin: &str) -> [Value; 5] {
    async fn create_article(app: &TestApp, token: &str, title: &str, secret: &str) -> (Value, i64) {
        let body = app
            .data_as(
                token,
                r#"mutation($t: String!, $s: String!) { createArticle(input: {
                    title: $t, thesis: $s, collection: "proof",
                    questions: [{ question: "Is this secret?", answer: $s }],
                    relatedTitles: ["Behind-the-Scenes Production as Brand Proof"]
                }) { id version } }"#,
                json!({ "t": title, "s": secret }),
            )
            .await;
        (body["createArticle"]["id"].clone(), body["createArticle"]["version"].as_i64().unwrap())
    }
    let (draft_id, _) = create_article(app, admin, "Draft Zebrafish", "zebrafish plans").await;
    let (scheduled_id, v) = create_article(app, admin, "Scheduled Quokka", "quokka launch").await;
    app.data_as(
        admin,
        "mutation($id: ID!, $v: Int!) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: \"2100-01-01T00:00:00Z\") { id } }",
        json!({ "id": scheduled_id, "v": v }),
    )
    .await;
    let (archived_id, v) = create_article(app, admin, "Archived Narwhal", "narwhal history").await;
    let p = app
        .data_as(
            admin,
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }",
            json!({ "id": archived_id, "v": v }),
        )
        .await;
    app.data_as(
        admin,
        "mutation($id: ID!, $v: Int!) { archiveArticle(id: $id, expectedVersion: $v) { status } }",
        json!({ "id": archived_id, "v": p["publishArticle"]["version"] }),
    )
    .await;
    let original =
        app.data_as(admin, &format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ id version }} }}"), json!({})).await;
    app.data_as(
        admin,
        r#"mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: {
            title: "AAA Axolotl Retitle", thesis: "axolotl rewrite",
            relatedTitles: ["Draft Zebrafish", "Scheduled Quokka", "Archived Narwhal", "Website Direction"]
        }) { version } }"#,
        json!({ "id": original["article"]["id"], "v": original["article"]["version"] }),
    )
    .await;
    let record = app
        .data_as(admin, r#"mutation { createProofRecord(input: { title: "Pelican Record", client: "pelican corp",
            channels: ["social-posts"], assets: [{ url: "https://x.invalid/pelican.jpg", release: CLEARED }] }) { id } }"#, json!({}))
        .await;
    let snippet = app
        .data_as(admin, r#"mutation { createSnippet(input: { proofRecord: "pelican-record", channel: "social-posts", body: "pelican claim" }) { id version } }"#, json!({}))
        .await;
    app.data_as(
        admin,
        "mutation($id: ID!, $v: Int!) { publishSnippet(id: $id, expectedVersion: $v) { status } }",
        json!({ "id": snippet["createSnippet"]["id"], "v": snippet["createSnippet"]["version"] }),
    )
    .await;
    app.data_as(admin, &format!(r#"mutation {{ createSnippet(input: {{ proofRecord: "{ORIGINAL_SLUG}", channel: "social-posts", body: "walrus draft claim" }}) {{ id }} }}"#), json!({})).await;
    [
        draft_id,
        scheduled_id,
        archived_id,
        record["createProofRecord"]["id"].clone(),
        snippet["createSnippet"]["id"].clone(),
    ]
}
