//! Tokens and roles: every mutation against every role and no token; token lifecycle from the CLI.

mod common;

use backlot::service::token::Role;
use common::{TestApp, error_code};
use serde_json::{Value, json};

/// (mutation, the least role allowed to run it). Arguments point at real demo content, so an allowed
/// call gets past authorisation (it may still fail later, for example on a version check).
fn operations(article: &str, record: &str, snippet: &str) -> Vec<(String, Role)> {
    let a = format!("id: \"{article}\", expectedVersion: 999");
    let r = format!("id: \"{record}\", expectedVersion: 999");
    let s = format!("id: \"{snippet}\", expectedVersion: 999");
    vec![
        ("createArticle(input: { title: \"Matrix Page\" }) { id }".into(), Role::Editor),
        (format!("updateArticle({a}, input: {{ thesis: \"x\" }}) {{ id }}"), Role::Editor),
        (format!("deleteArticle({a})"), Role::Editor),
        (format!("restoreArticleRevision({a}, revision: 1) {{ id }}"), Role::Editor),
        (format!("publishArticle({a}) {{ id }}"), Role::Publisher),
        (format!("unpublishArticle({a}) {{ id }}"), Role::Publisher),
        (format!("archiveArticle({a}) {{ id }}"), Role::Publisher),
        (format!("scheduleArticle({a}, publishAt: null) {{ id }}"), Role::Publisher),
        ("createProofRecord(input: { title: \"Matrix Record\" }) { id }".into(), Role::Editor),
        (format!("updateProofRecord({r}, input: {{ client: \"x\" }}) {{ id }}"), Role::Editor),
        (format!("deleteProofRecord({r})"), Role::Editor),
        (format!("restoreProofRecordRevision({r}, revision: 1) {{ id }}"), Role::Editor),
        (format!("publishProofRecord({r}) {{ id }}"), Role::Publisher),
        (format!("unpublishProofRecord({r}) {{ id }}"), Role::Publisher),
        (format!("archiveProofRecord({r}) {{ id }}"), Role::Publisher),
        (format!("scheduleProofRecord({r}, publishAt: null) {{ id }}"), Role::Publisher),
        (
            "createSnippet(input: { proofRecord: \"website-direction\", channel: \"case-studies\", body: \"Matrix.\" }) { id }"
                .into(),
            Role::Editor,
        ),
        (format!("updateSnippet({s}, input: {{ body: \"x\" }}) {{ id }}"), Role::Editor),
        (format!("deleteSnippet({s})"), Role::Editor),
        (format!("publishSnippet({s}) {{ id }}"), Role::Publisher),
        (format!("unpublishSnippet({s}) {{ id }}"), Role::Publisher),
        (format!("archiveSnippet({s}) {{ id }}"), Role::Publisher),
        (format!("scheduleSnippet({s}, publishAt: null) {{ id }}"), Role::Publisher),
        (format!("restoreSnippetRevision({s}, revision: 1) {{ id }}"), Role::Editor),
        ("createCollection(input: { name: \"Matrix Shelf\" }) { slug }".into(), Role::Admin),
        ("updateCollection(slug: \"proof\", expectedVersion: 999, input: { name: \"x\" }) { slug }".into(), Role::Admin),
        ("deleteCollection(slug: \"proof\", expectedVersion: 999)".into(), Role::Admin),
        ("createReuseChannel(input: { name: \"Matrix Channel\" }) { slug }".into(), Role::Admin),
        ("updateReuseChannel(slug: \"proof-pages\", expectedVersion: 999, input: { name: \"x\" }) { slug }".into(), Role::Admin),
        ("deleteReuseChannel(slug: \"proof-pages\", expectedVersion: 999)".into(), Role::Admin),
        ("createApiToken(name: \"matrix\", role: PREVIEW) { secret }".into(), Role::Admin),
        ("revokeApiToken(name: \"nobody\") { name }".into(), Role::Admin),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_against_every_role_and_no_token() {
    let app = TestApp::with_demo().await;
    let ids = app
        .data(
            r#"{ article(slug: "website-direction") { id proofRecord { id } }
                 proofSnippets(channel: "social-posts", first: 1) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    let article = ids["article"]["id"].as_str().unwrap().to_string();
    let record = ids["article"]["proofRecord"]["id"].as_str().unwrap().to_string();
    let snippet = ids["proofSnippets"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let mut tokens = vec![(None, "anonymous".to_string())];
    for role in [Role::Preview, Role::Editor, Role::Publisher, Role::Admin] {
        tokens.push((Some(role), app.token(role.as_str(), role).await));
    }
    let mut checked = 0;
    for (operation, least) in operations(&article, &record, &snippet) {
        let query = format!("mutation {{ {operation} }}");
        for (role, token) in &tokens {
            let body: Value = match role {
                None => app.graphql(&query, json!({})).await,
                Some(_) => app.graphql_as(token, &query, json!({})).await,
            };
            let code = error_code(&body);
            match role {
                None => assert_eq!(code, "UNAUTHENTICATED", "anonymous {operation}: {body}"),
                Some(r) if *r < least => assert_eq!(code, "FORBIDDEN", "{} {operation}: {body}", r.as_str()),
                Some(r) => assert!(
                    !["UNAUTHENTICATED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"].contains(&code.as_str()),
                    "{} {operation}: {body}",
                    r.as_str()
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 32 * 5);
    // Nothing an unauthorised caller tried was written.
    let log = app.data_as(&tokens[4].1, "{ auditLog(first: 100) { edges { node { tokenName } } } }", json!({})).await;
    for edge in log["auditLog"]["edges"].as_array().unwrap() {
        let name = edge["node"]["tokenName"].as_str().unwrap();
        assert!(["editor", "publisher", "admin"].contains(&name), "{name} wrote something");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_may_not_set_a_field_it_does_not_own() {
    let app = TestApp::with_demo().await;
    let editor = app.token("editor", Role::Editor).await;
    let body = app
        .graphql_as(
            &editor,
            "mutation { createArticle(input: { title: \"Sneaky\", publishAt: \"2100-01-01T00:00:00Z\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(body["errors"][0]["extensions"]["field"], "publishAt");
    let preview = app.token("preview", Role::Preview).await;
    assert_eq!(app.data_as(&preview, "{ article(slug: \"sneaky\") { id } }", json!({})).await["article"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_cli_are_hashed_revocable_and_expire() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::with_demo().await;
    let out = app.cli(&["token", "create", "--name", "site-preview", "--role", "preview", "--expires", "30d"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let secret = stdout.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("blt_") && secret.len() > 60, "{secret}");

    // Only a hash is stored.
    let stored = entity::api_token::Entity::find()
        .filter(entity::api_token::Column::Name.eq("site-preview"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_hash, secret);
    assert!(!stored.secret_hash.contains(&secret[20..]));
    assert_eq!(stored.secret_hash.len(), 64);

    let viewer = app.data_as(&secret, "{ viewer { tokenName role } }", json!({})).await;
    assert_eq!(viewer["viewer"], json!({ "tokenName": "site-preview", "role": "PREVIEW" }));

    let list = app.cli(&["token", "list"]);
    let listing = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listing.contains("site-preview") && listing.contains("preview") && listing.contains("active"), "{listing}");
    assert!(!listing.contains(&secret), "the secret must never be listed");
    assert!(listing.contains(&stored.prefix));

    // A wrong secret with the right prefix is refused.
    let forged = format!("{}_{}", stored.prefix, "0".repeat(64));
    let res = app.post_as(&forged, "{ viewer { tokenName } }", json!({})).await;
    assert_eq!(res.status, axum::http::StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res.json()), "UNAUTHENTICATED");

    let out = app.cli(&["token", "revoke", "site-preview"]);
    assert!(out.status.success());
    let res = app.post_as(&secret, "{ viewer { tokenName } }", json!({})).await;
    assert_eq!(res.status, axum::http::StatusCode::UNAUTHORIZED);
    assert!(res.body.contains("revoked"), "{}", res.body);

    // Expiry.
    let (_, short) =
        backlot::service::token::create(&app.db, "short-lived", Role::Editor, Some(chrono::Duration::seconds(1)))
            .await
            .unwrap();
    assert!(app.graphql_as(&short, "{ viewer { tokenName } }", json!({})).await.get("errors").is_none());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app.post_as(&short, "{ viewer { tokenName } }", json!({})).await;
    assert_eq!(res.status, axum::http::StatusCode::UNAUTHORIZED);
    assert!(res.body.contains("expired"), "{}", res.body);

    let out = app.cli(&["token", "create", "--name", "x", "--role", "wizard"]);
    assert_eq!(out.status.code(), Some(2));
    let out = app.cli(&["token", "create", "--name", "site-preview", "--role", "preview"]);
    assert_ne!(out.status.code(), Some(0), "names are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_tokens_over_the_api() {
    let app = TestApp::new().await;
    let admin = app.token("root", Role::Admin).await;
    let created = app
        .data_as(&admin, "mutation { createApiToken(name: \"ci-import\", role: EDITOR, expiresIn: \"12h\") { secret token { name role prefix expiresAt } } }", json!({}))
        .await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap();
    assert_eq!(created["createApiToken"]["token"]["role"], "EDITOR");
    assert!(created["createApiToken"]["token"]["expiresAt"].is_string());
    let viewer = app.data_as(secret, "{ viewer { role } }", json!({})).await;
    assert_eq!(viewer["viewer"]["role"], "EDITOR");
    let listed = app.data_as(&admin, "{ apiTokens { name } }", json!({})).await;
    assert_eq!(listed["apiTokens"], json!([{ "name": "ci-import" }, { "name": "root" }]));
    app.data_as(&admin, "mutation { revokeApiToken(name: \"ci-import\") { revokedAt } }", json!({})).await;
    assert_eq!(
        app.post_as(secret, "{ viewer { role } }", json!({})).await.status,
        axum::http::StatusCode::UNAUTHORIZED
    );
}
