//! The hardened public endpoint: limits with clear errors, masked internals, configurable exposure.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use backlot::config::ApiSettings;
use common::{TestApp, error_code};
use serde_json::json;

const ARTICLE_PAGE: &str = r#"{ article(slug: "behind-the-scenes-production-as-brand-proof") {
  title thesis point audience { summary roles readerNeed } realProblem recordMatters smarterQuestion
  sections { heading paragraphs } proves questions { question answer } collection { name }
  relatedArticles { slug title }
  proofRecord { client deliverable problemSolved observations { kind title detail } assets { url alt caption release }
    snippets { body channel { slug } } channels { slug } }
} }"#;

const INDEX: &str = r#"{ articles(first: 100) { totalCount edges { node { title slug thesis
  sections { heading body } questions { question answer } proofRecord { client assets { url } } } } } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_defaults_fit_the_article_page_and_the_index() {
    let app = TestApp::with_demo().await;
    app.data(ARTICLE_PAGE, json!({})).await;
    app.data(INDEX, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_complexity_aliases_body_and_batch_are_limited() {
    let app = TestApp::with_demo().await;
    let deep =
        format!("{{ {}title{} }}", "article(slug: \"x\") { proofRecord { articles { ".repeat(6), " } } }".repeat(6));
    assert_eq!(error_code(&app.graphql(&deep, json!({})).await), "QUERY_TOO_COMPLEX");

    let heavy = r#"{ articles(first: 100) { edges { node { questions { article { questions { article { questions {
        article { title thesis point proves realProblem recordMatters smarterQuestion } } } } } } } } } }"#;
    let body = app.graphql(heavy, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "nested lists must count towards complexity");

    let aliases: String = (0..31).map(|i| format!("a{i}: reuseChannels {{ slug }} ")).collect();
    let body = app.graphql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("31 aliases"));

    let huge = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(300 * 1024)) }).to_string();
    let res = app
        .request(Request::post("/graphql").header("content-type", "application/json").body(Body::from(huge)).unwrap())
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_exposure_are_configurable() {
    let app = TestApp::new().await;
    let settings = ApiSettings {
        max_depth: 3,
        max_aliases: 1,
        max_batch: 2,
        public_introspection: false,
        public_graphiql: false,
        ..ApiSettings::default()
    };
    let router =
        backlot::app::build(app.db.clone(), &backlot::app::AppConfig { api: settings, ..Default::default() }).router;
    let send = |body: String, accept: &'static str| {
        let router = router.clone();
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let req = Request::post("/graphql")
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(Body::from(body))
                .unwrap();
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default())
        }
    };
    let (_, body) = send(json!({ "query": "{ __schema { types { name } } }" }).to_string(), "application/json").await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "introspection must be off for anonymous callers: {body}");
    let (_, body) = send(
        json!({ "query": "{ collections { articles { edges { node { title } } } } }" }).to_string(),
        "application/json",
    )
    .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    let (_, body) =
        send(json!({ "query": "{ a: collections { slug } b: collections { slug } }" }).to_string(), "application/json")
            .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    let batch = format!("[{}]", vec![json!({ "query": "{ __typename }" }).to_string(); 3].join(","));
    let (status, _) = send(batch, "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    use tower::ServiceExt;
    let page = router
        .clone()
        .oneshot(Request::get("/graphql").header("accept", "text/html").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "GraphiQL is off for anonymous callers");

    // A token holder still gets introspection.
    let token = app.token("preview", backlot::service::token::Role::Preview).await;
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(json!({ "query": "{ __schema { queryType { name } } }" }).to_string()))
        .unwrap();
    let res = router.oneshot(req).await.unwrap();
    use http_body_util::BodyExt;
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_publishes_happen_exactly_once_across_processes() {
    let app = TestApp::with_demo().await;
    let publisher = app.token("publisher", backlot::service::token::Role::Publisher).await;
    let mut scheduled = Vec::new();
    for i in 0..5 {
        let created = app
            .data_as(
                &publisher,
                &format!("mutation {{ createArticle(input: {{ title: \"Timed {i}\" }}) {{ id version }} }}"),
                json!({}),
            )
            .await;
        let at = (chrono::Utc::now() + chrono::Duration::milliseconds(700)).to_rfc3339();
        app.data_as(
            &publisher,
            "mutation($id: ID!, $v: Int!, $at: DateTime) { scheduleArticle(id: $id, expectedVersion: $v, publishAt: $at) { id } }",
            json!({ "id": created["createArticle"]["id"], "v": created["createArticle"]["version"], "at": at }),
        )
        .await;
        scheduled.push(format!("timed-{i}"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    // Two "processes": separate connection pools racing over the same due documents.
    let other = backlot::app::connect(&app.url).await.unwrap();
    let (a, b) =
        tokio::join!(backlot::service::scheduler::run_due(&app.db), backlot::service::scheduler::run_due(&other));
    assert_eq!(a.unwrap() + b.unwrap(), 5, "each due article is published exactly once");
    let admin = app.token("admin", backlot::service::token::Role::Admin).await;
    let log = app.data_as(&admin, "{ auditLog(first: 100) { edges { node { action } } } }", json!({})).await;
    let publishes = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "scheduledPublish")
        .count();
    assert_eq!(publishes, 5);
    for slug in scheduled {
        let data = app.data("query($s: String!) { article(slug: $s) { status } }", json!({ "s": slug })).await;
        assert_eq!(data["article"]["status"], "PUBLISHED");
    }
}

/// The scheduler polls every second in every serving process; on a large site a scan of all drafts
/// each time stalls the core that serves reads. SQLite's planner must answer it from the schedule index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_finds_due_drafts_through_the_schedule_index() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = TestApp::new().await;
    if app.db.get_database_backend() != DbBackend::Sqlite {
        return; // PostgreSQL's planner picks by table statistics; a test table is too small to tell.
    }
    for table in ["articles", "proof_records", "proof_snippets"] {
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT * FROM \"{table}\" WHERE \"stage\" = 'draft' AND \"publish_at\" <= '2026-01-01'"
        );
        let rows = app.db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect();
        let expected = format!("USING INDEX ix_{table}_stage_publish_at (stage=? AND publish_at<?)");
        assert!(plan.iter().any(|p| p.contains(&expected)), "{table}: {plan:?}");
    }
}

/// A 1 KB query whose fragments each spread the next twice expands to millions of selections; it is
/// refused before anything walks it (async-graphql's walk is synchronous: no time budget could stop it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_bomb_is_refused_before_it_runs() {
    let app = TestApp::new().await;
    let depth = 24;
    let mut query = String::from("query { ...F0 }");
    for level in 0..depth {
        query.push_str(&format!(" fragment F{level} on Query {{ ...F{} ...F{} }}", level + 1, level + 1));
    }
    query.push_str(&format!(" fragment F{depth} on Query {{ __typename }}"));
    assert!(query.len() < 2_000);
    let started = std::time::Instant::now();
    let response = app.post_json(serde_json::json!({ "query": query })).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(response.status.as_u16(), 400, "{}", response.body);
    let body = response.json();
    assert_eq!(common::error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("fragments are expanded"), "{body}");

    // The same shape a few levels deep is an ordinary query.
    let small = "query { ...F0 } fragment F0 on Query { ...F1 ...F1 } fragment F1 on Query { __typename }";
    let body = app.post_json(serde_json::json!({ "query": small })).await.json();
    assert!(body.get("errors").is_none(), "{body}");
}
