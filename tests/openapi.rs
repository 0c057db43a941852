//! `openapi.json` is the JSON API's OpenAPI document; it must equal `backlot openapi` and what the server
//! serves. `UPDATE_OPENAPI=1` rewrites it.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::TestApp;

#[test]
fn openapi_json_matches_the_code() {
    let doc = backlot::http::rest::openapi::json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, doc).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == doc, "openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test openapi`");
}

#[test]
fn the_cli_prints_the_document() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backlot")).arg("openapi").output().expect("run backlot");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), backlot::http::rest::openapi::json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_document_and_it_describes_every_route() {
    let app = TestApp::new().await;
    let response = app.request(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, backlot::http::rest::openapi::json());
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for route in backlot::http::rest::routes::ROUTES {
        let op = &doc["paths"][route.path]["get"];
        assert_eq!(op["operationId"], route.operation_id, "{} is not described", route.path);
        assert!(op["responses"]["200"].is_object());
        assert!(doc["components"]["schemas"][route.schema]["type"].is_string() || route.schema == "Node");
        for param in route.params {
            let described = op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == param.name());
            assert!(described, "{} does not describe {}", route.path, param.name());
        }
    }
    // The article's body schema lists GraphQL's fields with GraphQL's types.
    let article = &doc["components"]["schemas"]["Article"]["properties"];
    assert_eq!(article["thesis"]["type"], serde_json::json!(["string", "null"]));
    assert_eq!(article["questions"]["items"]["properties"]["question"]["type"], "string");
    assert_eq!(
        article["proofRecord"]["oneOf"][0]["properties"]["assets"]["items"]["properties"]["release"]["enum"][0],
        "NOT_REQUIRED"
    );
}
