//! Imports over HTTP: `POST /api/v1/imports` (text/plain and multipart), the `importPages` mutation, and
//! `backlot import --server` against a real `backlot serve`, with pages and proof-record files.

mod common;

use std::path::Path;
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::service::token::Role;
use common::{HttpResponse, TestApp, page};
use serde_json::{Value, json};

const BOUNDARY: &str = "backlot-test-boundary";

/// A multipart/form-data body with one `file` part per (filename, text).
fn multipart(files: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, text) in files {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: \
             text/plain\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> HttpResponse {
    let mut request = Request::post(format!("/api/v1/imports{query}")).header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.request(request.body(Body::from(body)).unwrap()).await
}

async fn post_files(app: &TestApp, token: &str, query: &str, files: &[(&str, &str)]) -> HttpResponse {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    post(app, Some(token), query, &content_type, &[], multipart(files)).await
}

fn assert_problem(response: &HttpResponse, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.content_type(), "application/problem+json", "{}", response.body);
    let body = response.json();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

const BAD_PAGE: &str = "Broken Page is a page. The point is breaking.\nThe smarter question\n";

/// A proof-record file for the article `slug`: two frames (one cleared, one pending), two snippets (one
/// kept a draft).
fn record(slug: &str) -> String {
    format!(
        "--- proof record\narticle: {slug}\nclient: Test Client\ndeliverable: A short film\nchannels: social-posts, \
         case-studies\n---\nconstraint: One day only | The light left at four.\npeople: A crew of three\nframe: \
         https://x.test/1.jpg | caption: Cleared frame | credit: Test Studio | width: 1200 | height: 800 | release: \
         cleared | shows: people\nframe: https://x.test/2.jpg | caption: Pending frame\nsnippet: social-posts | One \
         day, three people, one window of light.\ndraft snippet: social-posts | Not cleared to say yet.\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_pages_lands_file_by_file_and_a_bad_file_fails_alone_with_its_line() {
    let app = TestApp::new().await;
    let editor = app.token("site-sync", Role::Editor).await;
    let one = page("First Upload", "alpha");
    let two = page("Second Upload", "beta");
    let response =
        post_files(&app, &editor, "", &[("first.txt", &one), ("broken.txt", BAD_PAGE), ("second.txt", &two)]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    assert_eq!(response.content_type(), "application/json");
    let body = response.json();
    assert_eq!((body["created"].as_u64(), body["failed"].as_u64()), (Some(2), Some(1)), "{body}");
    let files = body["files"].as_array().expect("files");
    assert_eq!(files.len(), 3);
    assert_eq!(
        files[0],
        json!({ "name": "first.txt", "kind": "article", "result": "created", "slug": "first-upload",
                "status": "DRAFT", "public": false })
    );
    assert_eq!(files[1]["name"], "broken.txt");
    assert_eq!(files[1]["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(files[1]["error"]["line"], 2, "{body}");
    assert!(files[1]["error"]["message"].as_str().unwrap().contains("no text under it"), "{body}");
    assert_eq!(files[2]["slug"], "second-upload");

    // The good files landed (as drafts), the bad one left nothing behind.
    let q = "query($s: String!) { article(slug: $s) { slug status } }";
    let found = app.data_as(&editor, q, json!({ "s": "second-upload" })).await;
    assert_eq!(found["article"]["status"], "DRAFT");
    assert!(app.data_as(&editor, q, json!({ "s": "broken-page" })).await["article"].is_null());
    assert!(app.data(q, json!({ "s": "first-upload" })).await["article"].is_null(), "drafts stay private");

    // All good: 200, and a re-import updates.
    let response = post_files(&app, &editor, "", &[("first.txt", &one)]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.json()["files"][0]["result"], "updated");
    assert_eq!(response.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_plain_body_is_one_page_named_by_query_header_or_disposition() {
    let app = TestApp::new().await;
    let editor = app.token("editor", Role::Editor).await;
    let text = page("Plain Upload", "gamma");
    let by_query = post(&app, Some(&editor), "?name=plain.txt", "text/plain", &[], text.clone().into()).await;
    assert_eq!(by_query.status, StatusCode::OK, "{}", by_query.body);
    assert_eq!(by_query.json()["files"][0]["name"], "plain.txt");
    assert_eq!(by_query.json()["files"][0]["result"], "created");

    let header = [("x-backlot-file-name", "header.txt")];
    let by_header = post(&app, Some(&editor), "", "text/plain; charset=utf-8", &header, text.clone().into()).await;
    assert_eq!(by_header.json()["files"][0]["name"], "header.txt", "{}", by_header.body);

    let disposition = [("content-disposition", "attachment; filename=\"disposition.txt\"")];
    let by_disposition = post(&app, Some(&editor), "", "text/plain", &disposition, text.clone().into()).await;
    assert_eq!(by_disposition.json()["files"][0]["name"], "disposition.txt", "{}", by_disposition.body);

    let unnamed = post(&app, Some(&editor), "", "text/plain", &[], text.clone().into()).await;
    assert_problem(&unnamed, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    let json_body = post(&app, Some(&editor), "?name=a.txt", "application/json", &[], b"{}".to_vec()).await;
    assert_problem(&json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST");

    // Invalid UTF-8 is refused by line, like a local file.
    let mut bytes = b"Bad Bytes is a page.\nWho this helps\n".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let response = post(&app, Some(&editor), "?name=bytes.txt", "text/plain", &[], bytes).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    assert_eq!(response.json()["files"][0]["error"]["line"], 3, "{}", response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_is_401_preview_403_and_publish_needs_a_publisher() {
    let app = TestApp::new().await;
    let text = page("Guarded Upload", "delta");
    let anonymous = post(&app, None, "?name=a.txt", "text/plain", &[], text.clone().into()).await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    assert_eq!(anonymous.headers.get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    let bad_token = post(&app, Some("blt_not-a-token"), "?name=a.txt", "text/plain", &[], text.clone().into()).await;
    assert_problem(&bad_token, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    let preview = app.token("preview", Role::Preview).await;
    let response = post(&app, Some(&preview), "?name=a.txt", "text/plain", &[], text.clone().into()).await;
    assert_problem(&response, StatusCode::FORBIDDEN, "FORBIDDEN");

    let editor = app.token("editor", Role::Editor).await;
    let response = post(&app, Some(&editor), "?name=a.txt&publish=true", "text/plain", &[], text.clone().into()).await;
    let body = assert_problem(&response, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(body["detail"].as_str().unwrap().starts_with("publish:"), "{body}");
    let q = "query($s: String!) { article(slug: $s) { slug } }";
    assert!(app.data_as(&editor, q, json!({ "s": "guarded-upload" })).await["article"].is_null(), "nothing written");

    let publisher = app.token("publisher", Role::Publisher).await;
    let response = post(&app, Some(&publisher), "?name=a.txt&publish=true", "text/plain", &[], text.into()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.json()["files"][0]["status"], "PUBLISHED");
    assert_eq!(app.data(q, json!({ "s": "guarded-upload" })).await["article"]["slug"], "guarded-upload");

    let bad_query = post(&app, Some(&publisher), "?publish=maybe", "text/plain", &[], b"x".to_vec()).await;
    assert_problem(&bad_query, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_a_413_problem() {
    let settings = backlot::config::ApiSettings { max_body_bytes: 4096, ..Default::default() };
    let app = TestApp::with_settings(settings).await;
    let editor = app.token("editor", Role::Editor).await;
    let big = page("Big Upload", &"word ".repeat(2000));
    let response = post_files(&app, &editor, "", &[("big.txt", &big)]).await;
    let body = assert_problem(&response, StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST");
    assert!(body["detail"].as_str().unwrap().contains("4096 bytes"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_names_the_token() {
    let app = TestApp::new().await;
    let publisher = app.token("nightly-sync", Role::Publisher).await;
    let text = page("Audited Upload", "epsilon");
    let files = [("audited.txt", text.as_str()), ("record.txt", &record("audited-upload"))];
    let response = post_files(&app, &publisher, "?publish=true", &files).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let admin = app.token("admin", Role::Admin).await;
    let log = app.data_as(&admin, "{ auditLog(first: 10) { nodes { tokenName action entityType } } }", json!({})).await;
    let entries: Vec<(String, String)> = log["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["tokenName"].as_str().unwrap().to_string(), e["action"].as_str().unwrap().to_string()))
        .collect();
    assert!(entries.contains(&("nightly-sync".into(), "importAndPublishArticle".into())), "{entries:?}");
    // The page's import made the paired record as an empty draft; the record file fills it in.
    assert!(entries.contains(&("nightly-sync".into(), "reimportAndPublishProofRecord".into())), "{entries:?}");
}

const IMPORT_PAGES: &str = "mutation($files: [PageFileInput!]!, $publish: Boolean) {
  importPages(files: $files, publish: $publish) {
    created updated unchanged failed
    files { name kind result slug status public error { code message line } }
  }
}";

/// A REST file result in the mutation's shape (upper-case enums, every field present).
fn as_graphql(file: &Value) -> Value {
    let upper = |v: &Value| v.as_str().map(|s| json!(s.replace("proofRecord", "PROOF_RECORD").to_uppercase()));
    json!({
        "name": file["name"],
        "kind": upper(&file["kind"]).unwrap_or(Value::Null),
        "result": upper(&file["result"]).unwrap_or(Value::Null),
        "slug": file["slug"],
        "status": file["status"],
        "public": file["public"],
        "error": if file["error"].is_null() { Value::Null } else {
            json!({ "code": file["error"]["code"], "message": file["error"]["message"], "line": file["error"]["line"] })
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_pages_answers_as_the_rest_route_does() {
    let rest = TestApp::new().await;
    let graphql = TestApp::new().await;
    let text = page("Parity Upload", "zeta");
    let files = [
        ("parity.txt", text.as_str()),
        ("broken.txt", BAD_PAGE),
        ("parity.proof.txt", &record("parity-upload")),
        ("orphan.proof.txt", &record("no-such-article")),
    ];
    let token = rest.token("sync", Role::Publisher).await;
    let response = post_files(&rest, &token, "?publish=true", &files).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    let by_rest = response.json();

    let token = graphql.token("sync", Role::Publisher).await;
    let inputs: Vec<Value> = files.iter().map(|(name, text)| json!({ "name": name, "text": text })).collect();
    let data = graphql.data_as(&token, IMPORT_PAGES, json!({ "files": inputs, "publish": true })).await;
    let by_graphql = &data["importPages"];
    for key in ["created", "updated", "unchanged", "failed"] {
        assert_eq!(by_graphql[key], by_rest[key], "{key}");
    }
    let expected: Vec<Value> = by_rest["files"].as_array().unwrap().iter().map(as_graphql).collect();
    assert_eq!(by_graphql["files"], json!(expected));
    assert_eq!(by_graphql["files"][2]["kind"], "PROOF_RECORD");
    assert_eq!(by_graphql["files"][3]["error"]["line"], 2, "the article: line");

    // Anonymous and preview callers are refused with the same codes as every mutation.
    let anonymous = graphql.graphql(IMPORT_PAGES, json!({ "files": inputs })).await;
    assert_eq!(common::error_code(&anonymous), "UNAUTHENTICATED");
    let preview = graphql.token("preview", Role::Preview).await;
    let refused = graphql.graphql_as(&preview, IMPORT_PAGES, json!({ "files": inputs })).await;
    assert_eq!(common::error_code(&refused), "FORBIDDEN");
    let editor = graphql.token("editor", Role::Editor).await;
    let refused = graphql.graphql_as(&editor, IMPORT_PAGES, json!({ "files": inputs, "publish": true })).await;
    assert_eq!(common::error_code(&refused), "FORBIDDEN");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "publish");
}

const RECORD_QUERY: &str = "query($s: String!) { proofRecord(slug: $s) {
  slug client status observations { kind title detail }
  assets { url release caption alt credit width height shows }
  snippets { body status }
  articles { slug }
} }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_record_file_imports_over_rest_graphql_and_the_cli() {
    let app = TestApp::new().await;
    let publisher = app.token("publisher", Role::Publisher).await;
    let text = page("Field Notes", "eta");

    // REST: the page and its record in one request, published.
    let files = [("field-notes.proof.txt", record("field-notes")), ("field-notes.txt", text.clone())];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let response = post_files(&app, &publisher, "?publish=true", &files).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let body = response.json();
    assert_eq!(body["files"][0]["kind"], "proofRecord", "{body}");
    assert_eq!(body["files"][0]["slug"], "field-notes");
    assert_eq!(body["files"][0]["status"], "PUBLISHED");

    // The public sees the record, only its cleared frame, only its published snippet.
    let public = app.data(RECORD_QUERY, json!({ "s": "field-notes" })).await["proofRecord"].clone();
    assert_eq!(public["client"], "Test Client");
    assert_eq!(
        public["observations"][0],
        json!({ "kind": "CONSTRAINT", "title": "One day only", "detail": "The light left at four." })
    );
    assert_eq!(public["observations"][1]["detail"], Value::Null);
    assert_eq!(public["assets"].as_array().unwrap().len(), 1, "{public}");
    assert_eq!(
        public["assets"][0],
        json!({ "url": "https://x.test/1.jpg", "release": "CLEARED", "caption": "Cleared frame",
                "alt": "Cleared frame", "credit": "Test Studio", "width": 1200, "height": 800, "shows": ["PEOPLE"] })
    );
    assert_eq!(
        public["snippets"],
        json!([{ "body": "One day, three people, one window of light.", "status": "PUBLISHED" }])
    );
    assert_eq!(public["articles"], json!([{ "slug": "field-notes" }]));
    let preview = app.data_as(&publisher, RECORD_QUERY, json!({ "s": "field-notes" })).await["proofRecord"].clone();
    assert_eq!(preview["assets"][1]["release"], "PENDING", "a frame without a release stays pending");
    assert_eq!(preview["snippets"].as_array().unwrap().len(), 2);

    // The same file again changes nothing and duplicates no snippet.
    let again = [("field-notes.proof.txt", record("field-notes"))];
    let again: Vec<(&str, &str)> = again.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let response = post_files(&app, &publisher, "", &again).await;
    assert_eq!(response.json()["files"][0]["result"], "unchanged", "{}", response.body);
    assert_eq!(response.json()["unchanged"], 1);

    // GraphQL: an edited record updates it.
    let edited = record("field-notes").replace("Test Client", "Renamed Client");
    let inputs = json!([{ "name": "edit.proof.txt", "text": edited }]);
    let data = app.data_as(&publisher, IMPORT_PAGES, json!({ "files": inputs, "publish": true })).await;
    assert_eq!(data["importPages"]["files"][0]["result"], "UPDATED", "{data}");
    let public = app.data(RECORD_QUERY, json!({ "s": "field-notes" })).await["proofRecord"].clone();
    assert_eq!(public["client"], "Renamed Client");
    assert_eq!(public["snippets"].as_array().unwrap().len(), 1);

    // The CLI: a folder with a page and its record, pages first whatever their names.
    let dir = app.path("folder");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), record("cli-notes")).unwrap();
    std::fs::write(dir.join("b.txt"), page("CLI Notes", "theta")).unwrap();
    let out = app.cli(&["import", dir.to_str().unwrap(), "--publish"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("updated proof record cli-notes (published) from"), "{stdout}");
    let public = app.data(RECORD_QUERY, json!({ "s": "cli-notes" })).await["proofRecord"].clone();
    assert_eq!(public["status"], "PUBLISHED", "{public}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_record_errors_name_their_line_and_write_nothing() {
    let app = TestApp::new().await;
    let editor = app.token("editor", Role::Editor).await;
    app.import("unpaired.txt", &page("Unpaired Page", "iota").replace("review the paired Proof record, ", ""), false);
    app.import("paired.txt", &page("Paired Page", "kappa"), false);
    let bad_line = record("paired-page").replace("people: A crew of three", "weather: Rain");
    let long = "x".repeat(400);
    let too_long =
        record("paired-page").replace("snippet: social-posts | One", &format!("snippet: social-posts | {long}"));
    let files = [
        ("unknown.txt", record("no-such-article")),
        ("unpaired.txt", record("unpaired-page")),
        ("bad-line.txt", bad_line),
        ("channel.txt", record("paired-page").replace("snippet: social-posts", "snippet: billboards")),
        ("too-long.txt", too_long),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let response = post_files(&app, &editor, "", &files).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    let body = response.json();
    let error = |i: usize| body["files"][i]["error"].clone();
    assert_eq!(error(0)["line"], 2, "{body}");
    assert!(error(0)["message"].as_str().unwrap().contains("no article has the slug \"no-such-article\""), "{body}");
    assert!(error(1)["message"].as_str().unwrap().contains("not paired"), "{body}");
    assert_eq!(error(2)["line"], 8, "{body}");
    assert_eq!(error(3)["line"], 11, "{body}");
    assert!(error(3)["message"].as_str().unwrap().contains("billboards"), "{body}");
    assert_eq!(error(4)["line"], 11, "{body}");
    assert_eq!(body["failed"], 5);
    // Nothing of a refused file was written: the paired record is still the empty draft the page made.
    let record = app.data_as(&editor, RECORD_QUERY, json!({ "s": "paired-page" })).await["proofRecord"].clone();
    assert_eq!(record["client"], Value::Null, "{record}");
    assert_eq!(record["snippets"], json!([]));
}

/// The per-file lines of an import's stdout (without the summary, which names the target and the time).
fn file_lines(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout).lines().filter(|l| l.starts_with('[')).map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_server_sends_pages_to_a_running_server_with_the_local_output_and_exit_codes() {
    let remote = TestApp::new().await;
    let local = TestApp::new().await;
    let folder = remote.path("pages");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("1-first.txt"), page("Remote One", "lambda")).unwrap();
    std::fs::write(folder.join("2-record.txt"), record("remote-one")).unwrap();
    std::fs::write(folder.join("3-broken.txt"), BAD_PAGE).unwrap();
    std::fs::write(folder.join("4-second.txt"), page("Remote Two", "mu")).unwrap();
    let folder = folder.to_str().unwrap();
    let server = common::serve(&remote.url);
    let token = remote.token("ci-push", Role::Publisher).await;

    let pushed = remote.cli(&["import", "--server", &server.2, "--token", &token, "--publish", folder]);
    let imported = local.cli(&["import", "--publish", folder]);
    assert_eq!(pushed.status.code(), Some(4), "{}", String::from_utf8_lossy(&pushed.stderr));
    assert_eq!(imported.status.code(), Some(4));
    let lines = file_lines(&pushed.stdout);
    assert_eq!(lines, file_lines(&imported.stdout));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2].starts_with("[2/4] updated proof record remote-one (published) from"), "{lines:?}");
    let stderr = String::from_utf8_lossy(&pushed.stderr);
    assert!(stderr.contains("[3/4] error:") && stderr.contains("line 2:"), "{stderr}");
    let summary = String::from_utf8_lossy(&pushed.stdout);
    assert!(summary.contains(&format!("into {}: 2 created, 1 updated, 1 failed", server.2)), "{summary}");
    let q = "query($s: String!) { article(slug: $s) { status } }";
    assert_eq!(remote.data(q, json!({ "s": "remote-two" })).await["article"]["status"], "PUBLISHED");

    // The environment variables work as the flags do; all good is exit 0.
    let file = Path::new(folder).join("4-second.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["import", file.to_str().unwrap()])
        .env("BACKLOT_SERVER", &server.2)
        .env("BACKLOT_TOKEN", &token)
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/unused")
        .output()
        .expect("run backlot");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[1/1] updated remote-two (published; the new text waits"));

    // A preview token is refused (exit 1), a server that is not there is exit 3.
    let preview = remote.token("preview", Role::Preview).await;
    let out = remote.cli(&["import", "--server", &server.2, "--token", &preview, file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("403"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = remote.cli(&["import", "--server", "http://127.0.0.1:1", "--token", &token, file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_server_reports_files_the_server_refuses_as_too_large_by_name() {
    let app = TestApp::new().await;
    let server = common::serve_with(&app.url, &["--max-body-bytes", "4096"]);
    let token = app.token("ci-push", Role::Editor).await;
    let big = app.write_page("big.txt", &page("Big Push", &"word ".repeat(2000)));
    let out = app.cli(&["import", "--server", &server.2, "--token", &token, &big]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("big.txt: the server refused the request as too large (HTTP 413)"), "{stderr}");
    assert!(stderr.contains("4096 bytes"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_partial_failure_answers_every_file_and_a_misspelt_parameter_is_refused() {
    let app = TestApp::new().await;
    let editor = app.token("editor", Role::Editor).await;
    // Hundreds of refused files make a 422 far larger than any refusal the API rewrites to problem+json.
    let names: Vec<String> = (0..500).map(|i| format!("empty-{i:03}-{}.txt", "x".repeat(100))).collect();
    let page = common::page("Lands Anyway", "rights");
    let mut files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    files.push(("good.txt", page.as_str()));
    let response = post_files(&app, &editor, "", &files).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.len() > 64 * 1024, "the whole answer arrives ({} bytes)", response.body.len());
    let body = response.json();
    assert_eq!(body["files"].as_array().map(Vec::len), Some(501));
    assert_eq!(body["failed"], 500);
    assert_eq!(body["files"][500]["slug"], "lands-anyway");

    // A typo must not turn a publish into a silent draft import.
    let text = common::page("Typo Page", "rights");
    let typo = post(&app, Some(&editor), "?name=t.txt&publsh=true", "text/plain", &[], text.into()).await;
    let problem = assert_problem(&typo, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(problem["detail"].as_str().unwrap().contains("publish"), "{problem}");
    let q = "query($s: String!) { article(slug: $s) { slug } }";
    assert!(app.data_as(&editor, q, json!({ "s": "typo-page" })).await["article"].is_null(), "nothing written");
}
