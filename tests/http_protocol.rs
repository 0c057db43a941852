//! GraphQL over HTTP behaviour of the real router: media types, status codes, GET, GraphiQL, health.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ORIGINAL_SLUG, TestApp};

fn post(body: &str, accept: Option<&str>, content_type: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/graphql");
    if let Some(accept) = accept {
        builder = builder.header("accept", accept);
    }
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_get_answer_in_the_negotiated_media_type() {
    let app = TestApp::new().await;
    let ok = app.request(post(r#"{"query":"{ __typename }"}"#, None, Some("application/json"))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.content_type(), "application/json");
    assert_eq!(ok.json()["data"]["__typename"], "Query");

    let ok = app
        .request(post(
            r#"{"query":"{ __typename }"}"#,
            Some("application/graphql-response+json"),
            Some("application/json; charset=utf-8"),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.content_type(), "application/graphql-response+json");

    let get = app
        .request(
            Request::get("/graphql?query=%7B%20reuseChannels%20%7B%20slug%20%7D%20%7D")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.json()["data"]["reuseChannels"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_use_400_without_data_for_graphql_response_json() {
    let app = TestApp::new().await;
    let gr = Some("application/graphql-response+json");
    let parse = app.request(post(r#"{"query":"{"}"#, gr, Some("application/json"))).await;
    assert_eq!(parse.status, StatusCode::BAD_REQUEST);
    assert!(parse.json().get("data").is_none());
    assert_eq!(parse.json()["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");

    let invalid = app.request(post(r#"{"query":"{ nope }"}"#, gr, Some("application/json"))).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let legacy = app.request(post(r#"{"query":"{ nope }"}"#, Some("application/json"), Some("application/json"))).await;
    assert_eq!(legacy.status, StatusCode::OK, "application/json keeps 200 for GraphQL errors");

    let no_type = app.request(post(r#"{"query":"{ __typename }"}"#, None, None)).await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_json = app.request(post("{not json", None, Some("application/json"))).await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    let missing_query = app.request(post(r#"{"qeury":"{ __typename }"}"#, None, Some("application/json"))).await;
    assert_eq!(missing_query.status, StatusCode::BAD_REQUEST);
    assert!(missing_query.body.contains("query"));
    let batch = app
        .request(post(
            r#"[{"query":"{ __typename }"},{"query":"{ reuseChannels { slug } }"}]"#,
            None,
            Some("application/json"),
        ))
        .await;
    assert_eq!(batch.status, StatusCode::OK);
    assert_eq!(batch.json()[0]["data"]["__typename"], "Query");
    assert_eq!(batch.json()[1]["data"]["reuseChannels"].as_array().unwrap().len(), 6);
    let too_big = format!("[{}]", [r#"{"query":"{ __typename }"}"#; 11].join(","));
    let batch = app.request(post(&too_big, None, Some("application/json"))).await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert!(batch.body.contains("1 to 10 operations"), "{}", batch.body);
    let unacceptable =
        app.request(post(r#"{"query":"{ __typename }"}"#, Some("text/csv"), Some("application/json"))).await;
    assert_eq!(unacceptable.status, StatusCode::NOT_ACCEPTABLE);

    let too_deep = format!(
        "{{ {}__typename{} }}",
        "article(slug: \"x\") { proofRecord { articles { ".repeat(6),
        " } } }".repeat(6)
    );
    let deep =
        app.request(post(&serde_json::json!({ "query": too_deep }).to_string(), gr, Some("application/json"))).await;
    assert_eq!(deep.status, StatusCode::BAD_REQUEST);
    assert_eq!(deep.json()["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{}", deep.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_over_get_are_refused() {
    let app = TestApp::new().await;
    let res = app
        .request(
            Request::get("/graphql?query=mutation%20%7B%20__typename%20%7D")
                .header("accept", "application/graphql-response+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers.get("allow").unwrap(), "POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_locally_and_health_answers() {
    let app = TestApp::new().await;
    let page = app
        .request(
            Request::get("/graphql").header("accept", "text/html,application/xhtml+xml").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/graphiql/graphiql.min.js"));
    assert!(!page.body.contains("https://"), "GraphiQL must not need the internet");
    for file in ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"] {
        let res = app.request(Request::get(format!("/graphiql/{file}")).body(Body::empty()).unwrap()).await;
        assert_eq!(res.status, StatusCode::OK, "{file}");
        assert!(res.body.len() > 1000);
    }
    let health = app.request(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let missing = app.request(Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_on_the_backend_it_was_asked_for() {
    let app = TestApp::new().await;
    let expected = if std::env::var("BACKLOT_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        sea_orm::DbBackend::Postgres
    } else {
        sea_orm::DbBackend::Sqlite
    };
    assert_eq!(app.db.get_database_backend(), expected, "backend {}", app.backend);
}

/// Fields come back in the order the query asked for them (the spec's "should"), cached or not, and
/// batched answers keep theirs too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_fields_keep_the_query_order() {
    let app = TestApp::with_demo().await;
    let query = format!("{{ article(slug: \"{ORIGINAL_SLUG}\") {{ title slug audience {{ summary roles }} }} }}");
    let in_order = |body: &str| {
        let at = |key: &str| body.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("{key} missing: {body}"));
        at("title") < at("slug") && at("summary") < at("roles")
    };
    for _ in 0..2 {
        // The second answer comes from the response cache.
        let response = app.post_json(serde_json::json!({ "query": query })).await;
        assert!(in_order(&response.body), "{}", response.body);
    }
    let batch = app.post_json(serde_json::json!([{ "query": query }, { "query": "{ reuseChannels { slug } }" }])).await;
    assert!(in_order(&batch.body), "{}", batch.body);
    assert_eq!(batch.json().as_array().map(Vec::len), Some(2));
}

/// Fields resolve concurrently and finish in any order; the answer still lists them as asked, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_come_back_in_the_order_asked_whatever_finishes_first() {
    let app = TestApp::with_demo().await;
    for n in 0..20 {
        // A different comment each time, so every request is a cache miss that really resolves.
        let query = format!(
            "# {n}\n{{ z: reuseChannel(slug: \"social-posts\") {{ snippets(first: 5) {{ totalCount }} assets(first: 5) {{ totalCount }} slug }} a: articles(first: 2) {{ pageInfo {{ hasNextPage }} nodes {{ slug }} totalCount }} m: proofRecords(first: 1) {{ totalCount }} }}"
        );
        let body = app.post_json(serde_json::json!({ "query": query })).await.body;
        let at = |needle: &str| body.find(needle).unwrap_or_else(|| panic!("{needle} missing: {body}"));
        assert!(at("\"z\"") < at("\"a\"") && at("\"a\"") < at("\"m\""), "{body}");
        assert!(at("\"snippets\"") < at("\"assets\"") && at("\"assets\"") < at("\"slug\":\"social-posts\""), "{body}");
        assert!(at("\"pageInfo\"") < at("\"nodes\"") && at("\"nodes\"") < at("\"totalCount\":1"), "{body}");
    }
}
