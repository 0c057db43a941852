//! The editorial API: tokens and roles, drafts and preview, publishing, scheduling, revisions and conflicts.

mod common;

use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, SEED, TestApp, error_code};
use serde_json::{Value, json};

const DRAFT: &str = r#"query($slug: String!) { article(slug: $slug) {
    id version status title thesis publishAt
    sections { heading }
    proofRecord { id version status }
} }"#;

async fn draft_of(app: &TestApp, token: &str, slug: &str) -> Value {
    app.data_as(token, DRAFT, json!({ "slug": slug })).await["article"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_takes_the_original_page_from_import_to_a_restored_revision() {
    let app = TestApp::new().await;
    app.import("original.txt", SEED, false);
    let editor = app.token("editor", Role::Editor).await;
    let publisher = app.token("publisher", Role::Publisher).await;
    let preview = app.token("site-preview", Role::Preview).await;

    // The import is a draft: preview sees it, the public does not.
    let a = draft_of(&app, &preview, ORIGINAL_SLUG).await;
    assert_eq!(a["status"], "DRAFT");
    assert_eq!(a["version"], 1);
    let id = a["id"].clone();
    assert_eq!(app.data(DRAFT, json!({ "slug": ORIGINAL_SLUG })).await["article"], Value::Null);

    // An editor changes the thesis and adds a section.
    let edited = app
        .data_as(
            &editor,
            r#"mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: {
                thesis: "Edited thesis.",
                sections: [{ heading: "Only section", body: "One.\n\nTwo." }]
            }) { version thesis sections { heading paragraphs } } }"#,
            json!({ "id": id, "v": 1 }),
        )
        .await;
    assert_eq!(edited["updateArticle"]["version"], 2);
    assert_eq!(edited["updateArticle"]["sections"][0]["paragraphs"], json!(["One.", "Two."]));
    assert_eq!(draft_of(&app, &preview, ORIGINAL_SLUG).await["thesis"], "Edited thesis.");

    // The publisher schedules it; before the time comes, the public still sees nothing.
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let scheduled = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $at: DateTime) { scheduleArticle(id: $id, expectedVersion: 2, publishAt: $at) { version publishAt } }",
            json!({ "id": id, "at": at }),
        )
        .await;
    assert_eq!(scheduled["scheduleArticle"]["version"], 3);
    assert_eq!(backlot::service::scheduler::run_due(&app.db).await.unwrap(), 0, "not due yet");
    assert_eq!(app.data(DRAFT, json!({ "slug": ORIGINAL_SLUG })).await["article"], Value::Null);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(backlot::service::scheduler::run_due(&app.db).await.unwrap(), 1);
    let public = app.data(DRAFT, json!({ "slug": ORIGINAL_SLUG })).await;
    assert_eq!(public["article"]["thesis"], "Edited thesis.");
    assert_eq!(public["article"]["status"], "PUBLISHED");

    // Editing a published article leaves the public copy alone until the next publish.
    let current = draft_of(&app, &preview, ORIGINAL_SLUG).await["version"].as_i64().unwrap();
    app.data_as(
        &editor,
        "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"Work in progress.\" }) { version } }",
        json!({ "id": id, "v": current }),
    )
    .await;
    assert_eq!(app.data(DRAFT, json!({ "slug": ORIGINAL_SLUG })).await["article"]["thesis"], "Edited thesis.");
    assert_eq!(draft_of(&app, &preview, ORIGINAL_SLUG).await["thesis"], "Work in progress.");

    // Revisions list every version; restoring version 1 brings back the imported text as a new revision.
    let revisions = app
        .data_as(
            &preview,
            "query($s: String!) { article(slug: $s) { revisions { version author content } } }",
            json!({ "s": ORIGINAL_SLUG }),
        )
        .await;
    let revisions = revisions["article"]["revisions"].as_array().unwrap().clone();
    assert_eq!(revisions.last().unwrap()["version"], 1);
    assert_eq!(revisions.last().unwrap()["author"], "import");
    assert!(revisions.iter().any(|r| r["author"] == "editor"));
    let latest = draft_of(&app, &preview, ORIGINAL_SLUG).await["version"].as_i64().unwrap();
    let restored = app
        .data_as(
            &editor,
            "mutation($id: ID!, $v: Int!) { restoreArticleRevision(id: $id, expectedVersion: $v, revision: 1) { version thesis sections { heading } } }",
            json!({ "id": id, "v": latest }),
        )
        .await;
    assert_eq!(restored["restoreArticleRevision"]["version"], latest + 1);
    assert!(restored["restoreArticleRevision"]["thesis"].as_str().unwrap().starts_with("Behind-the-Scenes Production"));
    assert_eq!(restored["restoreArticleRevision"]["sections"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_versions_conflict_and_fifty_concurrent_updates_give_one_success() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let a = draft_of(&app, &editor, "website-direction").await;
    let (id, version) = (a["id"].clone(), a["version"].as_i64().unwrap());

    let mut handles = Vec::new();
    for i in 0..50 {
        let router = app.router.clone();
        let body = json!({
            "query": "mutation($id: ID!, $v: Int!, $t: String!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: $t }) { version } }",
            "variables": { "id": id, "v": version, "t": format!("Writer {i}") },
        });
        let auth = format!("Bearer {editor}");
        handles.push(tokio::spawn(async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let request = axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", auth)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }));
    }
    let mut successes = 0;
    for handle in handles {
        let body = handle.await.unwrap();
        if body.get("errors").is_none() {
            successes += 1;
            assert_eq!(body["data"]["updateArticle"]["version"], version + 1);
        } else {
            assert_eq!(error_code(&body), "CONFLICT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["currentVersion"], version + 1);
        }
    }
    assert_eq!(successes, 1);
    let after = draft_of(&app, &editor, "website-direction").await;
    assert_eq!(after["version"], version + 1);
    assert!(after["thesis"].as_str().unwrap().starts_with("Writer "));

    // A stale publish writes nothing either.
    let publisher = app.token("publisher", Role::Publisher).await;
    let body = app
        .graphql_as(
            &publisher,
            "mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 1) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    let public = app.data("{ article(slug: \"website-direction\") { thesis } }", json!({})).await;
    assert!(!public["article"]["thesis"].as_str().unwrap().starts_with("Writer "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_and_its_proof_record_publish_together() {
    let app = TestApp::new().await;
    app.import("original.txt", SEED, false);
    let publisher = app.token("publisher", Role::Publisher).await;
    let a = draft_of(&app, &publisher, ORIGINAL_SLUG).await;
    assert_eq!(a["proofRecord"]["status"], "DRAFT");
    let published = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v, withProofRecord: true) { status proofRecord { status } } }",
            json!({ "id": a["id"], "v": a["version"] }),
        )
        .await;
    assert_eq!(published["publishArticle"]["status"], "PUBLISHED");
    assert_eq!(published["publishArticle"]["proofRecord"]["status"], "PUBLISHED");
    let public = app.data(DRAFT, json!({ "slug": ORIGINAL_SLUG })).await;
    assert_eq!(public["article"]["proofRecord"]["status"], "PUBLISHED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_joint_publish_publishes_nothing() {
    let app = TestApp::new().await;
    let publisher = app.token("publisher", Role::Publisher).await;
    let created = app
        .data_as(&publisher, "mutation { createArticle(input: { title: \"Lonely Page\" }) { id version } }", json!({}))
        .await;
    let body = app
        .graphql_as(
            &publisher,
            "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v, withProofRecord: true) { status } }",
            json!({ "id": created["createArticle"]["id"], "v": created["createArticle"]["version"] }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(app.data("{ article(slug: \"lonely-page\") { id } }", json!({})).await["article"], Value::Null);
    let again = draft_of(&app, &publisher, "lonely-page").await;
    assert_eq!(again["status"], "DRAFT");
    assert_eq!(again["version"], created["createArticle"]["version"], "the version claim was rolled back too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_validated_with_the_field_named() {
    let app = TestApp::with_demo().await;
    let admin = app.token("admin", Role::Admin).await;
    let cases = [
        ("mutation { createArticle(input: { title: \"\" }) { id } }", "BAD_USER_INPUT", "title"),
        (
            "mutation { createArticle(input: { title: \"Fine\", slug: \"Not A Slug\" }) { id } }",
            "BAD_USER_INPUT",
            "slug",
        ),
        ("mutation { createArticle(input: { title: \"Website Direction\" }) { id } }", "CONFLICT", "slug"),
        (
            "mutation { createArticle(input: { title: \"X\", collection: \"nope\" }) { id } }",
            "BAD_USER_INPUT",
            "collection",
        ),
        (
            "mutation { createSnippet(input: { proofRecord: \"website-direction\", channel: \"social-posts\", body: \"@@@\" }) { id } }",
            "",
            "",
        ),
        (
            "mutation { createProofRecord(input: { title: \"R\", assets: [{ url: \"u\", release: MAYBE }] }) { id } }",
            "GRAPHQL_VALIDATION_FAILED",
            "",
        ),
        (
            "mutation { createProofRecord(input: { title: \"R\", channels: [\"fax\"] }) { id } }",
            "BAD_USER_INPUT",
            "channels",
        ),
        (
            "mutation { updateReuseChannel(slug: \"social-posts\", expectedVersion: 1, input: { maxChars: 10 }) { slug } }",
            "CONFLICT",
            "maxChars",
        ),
        (
            "mutation { createApiToken(name: \"x\", role: EDITOR, expiresIn: \"soon\") { secret } }",
            "BAD_USER_INPUT",
            "expiresIn",
        ),
    ];
    for (query, code, field) in cases {
        let body = app.graphql_as(&admin, query, json!({})).await;
        if code.is_empty() {
            assert!(body.get("errors").is_none(), "{query}: {body}");
            continue;
        }
        assert_eq!(error_code(&body), code, "{query}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(field), "{query}: {body}");
    }
    let long = "x".repeat(281);
    let body = app
        .graphql_as(
            &admin,
            "mutation($b: String!) { createSnippet(input: { proofRecord: \"website-direction\", channel: \"social-posts\", body: $b }) { id } }",
            json!({ "b": long }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_responses_are_never_cacheable_and_every_write_is_audited() {
    let app = TestApp::with_demo().await;
    let preview = app.token("preview", Role::Preview).await;
    let response = app.post_as(&preview, "{ articles { totalCount } }", json!({})).await;
    assert_eq!(response.headers.get("cache-control").unwrap(), "private, no-store");
    assert_eq!(response.json()["data"]["articles"]["totalCount"], 14);
    let public = app.post_json(json!({ "query": "{ articles { totalCount } }" })).await;
    assert!(public.headers.get("cache-control").is_none());

    let admin = app.token("boss", Role::Admin).await;
    app.data_as(&admin, "mutation { createCollection(input: { name: \"Case Files\" }) { slug version } }", json!({}))
        .await;
    let log = app
        .data_as(
            &admin,
            "{ auditLog(first: 5) { edges { node { tokenName action entityType entityId createdAt } } } }",
            json!({}),
        )
        .await;
    let entry = &log["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["tokenName"], "boss");
    assert_eq!(entry["action"], "createCollection");
    assert_eq!(entry["entityId"], "Case Files");
    let body = app.graphql_as(&preview, "{ auditLog { edges { node { action } } } }", json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_and_questions_keep_their_ids_across_edits() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let q = r#"{ proofRecord(slug: "behind-the-scenes-production-as-brand-proof") { id version assets { id } } article(slug: "behind-the-scenes-production-as-brand-proof") { id version questions { id } } }"#;
    let before = app.data_as(&editor, q, json!({})).await;
    app.data_as(
        &editor,
        "mutation($id: ID!, $v: Int!) { updateProofRecord(id: $id, expectedVersion: $v, input: { client: \"Renamed\" }) { version } }",
        json!({ "id": before["proofRecord"]["id"], "v": before["proofRecord"]["version"] }),
    )
    .await;
    app.data_as(
        &editor,
        "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: \"Renamed.\" }) { version } }",
        json!({ "id": before["article"]["id"], "v": before["article"]["version"] }),
    )
    .await;
    let after = app.data_as(&editor, q, json!({})).await;
    assert_eq!(after["proofRecord"]["assets"], before["proofRecord"]["assets"]);
    assert_eq!(after["article"]["questions"], before["article"]["questions"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snippet_lists_its_revisions_and_restores_one() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let created = app
        .data_as(
            &editor,
            "mutation { createSnippet(input: { proofRecord: \"website-direction\", channel: \"social-posts\", body: \"First take.\" }) { id version } }",
            json!({}),
        )
        .await;
    let id = created["createSnippet"]["id"].as_str().unwrap().to_string();
    let updated = app
        .data_as(
            &editor,
            "mutation($id: ID!) { updateSnippet(id: $id, expectedVersion: 1, input: { body: \"Second take.\" }) { version body revisions { version } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(updated["updateSnippet"]["body"], "Second take.");
    let versions: Vec<i64> = updated["updateSnippet"]["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1], "newest first");

    let restored = app
        .data_as(
            &editor,
            "mutation($id: ID!) { restoreSnippetRevision(id: $id, expectedVersion: 2, revision: 1) { version body revisions { version } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(restored["restoreSnippetRevision"]["version"], 3);
    assert_eq!(restored["restoreSnippetRevision"]["body"], "First take.");
    assert_eq!(restored["restoreSnippetRevision"]["revisions"].as_array().unwrap().len(), 3);

    let stale = app
        .graphql_as(
            &editor,
            "mutation($id: ID!) { restoreSnippetRevision(id: $id, expectedVersion: 2, revision: 1) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    let log = app.token("admin", Role::Admin).await;
    let entries = app.data_as(&log, "{ auditLog(first: 1) { edges { node { action } } } }", json!({})).await;
    assert_eq!(entries["auditLog"]["edges"][0]["node"]["action"], "restoreSnippetRevision");
    let anonymous = app.graphql(
        "query($id: ID!) { node(id: $id) { ... on ProofSnippet { revisions { version } } } }",
        json!({ "id": id }),
    );
    let anonymous = anonymous.await;
    assert!(anonymous["data"]["node"].is_null() || anonymous.get("errors").is_some(), "{anonymous}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_snippet_is_published_when_due_and_not_before() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let publisher = app.token("publisher", Role::Publisher).await;
    let created = app
        .data_as(
            &editor,
            "mutation { createSnippet(input: { proofRecord: \"website-direction\", channel: \"social-posts\", body: \"Scheduled claim.\" }) { id version createdAt } }",
            json!({}),
        )
        .await;
    let id = created["createSnippet"]["id"].as_str().unwrap().to_string();
    assert!(created["createSnippet"]["createdAt"].is_string());
    let public = "{ proofSnippets(channel: \"social-posts\", first: 100) { edges { node { body } } } }";
    let offered = |page: &Value| page.to_string().contains("Scheduled claim.");

    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1200)).to_rfc3339();
    let scheduled = app
        .data_as(
            &publisher,
            "mutation($id: ID!, $at: DateTime) { scheduleSnippet(id: $id, expectedVersion: 1, publishAt: $at) { version publishAt status } }",
            json!({ "id": id, "at": at }),
        )
        .await;
    assert_eq!(scheduled["scheduleSnippet"]["version"], 2);
    assert_eq!(scheduled["scheduleSnippet"]["status"], "DRAFT");
    assert_eq!(backlot::service::scheduler::run_due(&app.db).await.unwrap(), 0, "not due yet");
    assert!(!offered(&app.data(public, json!({})).await));

    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(backlot::service::scheduler::run_due(&app.db).await.unwrap(), 1);
    assert!(offered(&app.data(public, json!({})).await), "published when due");
}
