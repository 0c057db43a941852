//! Query cost: every connection counts its page size, and aliases count once per fragment spread.

mod common;

use common::{TestApp, error_code};
use serde_json::json;

/// A node selection costing about 250, so a page of 100 is over the default limit (20,000) and a page of 1 is not.
fn heavy() -> String {
    format!("nodes {{ {} }}", "id ".repeat(250))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_counts_its_page_size() {
    let app = TestApp::with_demo().await;
    let heavy = heavy();
    let connections = [
        "articles(first: N) { H }",
        "proofRecords(first: N) { H }",
        "questions(first: N) { H }",
        "proofSnippets(channel: \"social-posts\", first: N) { H }",
        "collection(slug: \"proof\") { articles(first: N) { H } }",
        "reuseChannel(slug: \"social-posts\") { proofRecords(first: N) { H } }",
        "reuseChannel(slug: \"social-posts\") { assets(first: N) { H } }",
        "reuseChannel(slug: \"social-posts\") { snippets(last: N) { H } }",
        "search(query: \"proof\", first: N) { ... on Article { HIT } }",
    ];
    for connection in connections {
        let (small, large) = if connection.starts_with("search") {
            // A search hit selects little; many hits must still count.
            let many = "id ".repeat(250);
            let q = |n: u32| format!("{{ {} }}", connection.replace("N", &n.to_string()).replace("HIT", &many));
            (q(1), q(100))
        } else {
            let q = |n: u32| format!("{{ {} }}", connection.replace("N", &n.to_string()).replace('H', &heavy));
            (q(1), q(100))
        };
        let body = app.graphql(&small, json!({})).await;
        assert!(body.get("errors").is_none(), "a page of 1 fits: {connection}: {body}");
        let body = app.graphql(&large, json!({})).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "a page of 100 counts 100 times: {connection}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_count_once_per_fragment_spread() {
    let app = TestApp::with_demo().await;
    let fragment: String = (0..10).map(|i| format!("a{i}: reuseChannels {{ slug }} ")).collect();
    let fits = format!("{{ ...F ...F ...F }} fragment F on Query {{ {fragment} }}");
    assert!(app.graphql(&fits, json!({})).await.get("errors").is_none(), "30 aliases are allowed");

    let body = app.graphql(&format!("{{ ...F ...F ...F ...F }} fragment F on Query {{ {fragment} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("40 aliases"), "{body}");

    let nested = format!("{{ ...G ...G }} fragment G on Query {{ ...F ...F }} fragment F on Query {{ {fragment} }}");
    let body = app.graphql(&nested, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("40 aliases"), "{body}");

    let inline =
        format!("{{ ... on Query {{ ...F }} x: __typename ... {{ ...F ...F }} }} fragment F on Query {{ {fragment} }}");
    let body = app.graphql(&inline, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("31 aliases"), "{body}");

    // Fragments that double at every level: counted without walking every path, and refused.
    let mut chain = String::from("fragment F0 on Query { a: __typename }");
    for level in 1..=40 {
        chain.push_str(&format!(" fragment F{level} on Query {{ ...F{prev} ...F{prev} }}", prev = level - 1));
    }
    let started = std::time::Instant::now();
    let body = app.graphql(&format!("{{ ...F40 }} {chain}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
}
