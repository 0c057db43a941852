//! GraphiQL, served from the binary so the explorer works with no internet access.

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Backlot GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
    const defaultQuery = `# Backlot: try an article page
{
  article(slug: "behind-the-scenes-production-as-brand-proof") {
    title
    thesis
    audience { roles }
    sections { heading body }
    questions { question answer }
    proofRecord { client deliverable assets { url release } }
  }
}
`;
    ReactDOM.createRoot(document.getElementById('graphiql'))
      .render(React.createElement(GraphiQL, { fetcher, defaultQuery }));
  </script>
</body>
</html>
"#;

/// Vendored GraphiQL files, so the explorer works with no internet access.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.css" => (include_bytes!("../../assets/graphiql/graphiql.min.css"), "text/css; charset=utf-8"),
        "graphiql.min.js" => {
            (include_bytes!("../../assets/graphiql/graphiql.min.js"), "text/javascript; charset=utf-8")
        }
        "react.production.min.js" => {
            (include_bytes!("../../assets/graphiql/react.production.min.js"), "text/javascript; charset=utf-8")
        }
        "react-dom.production.min.js" => {
            (include_bytes!("../../assets/graphiql/react-dom.production.min.js"), "text/javascript; charset=utf-8")
        }
        _ => return super::router::not_found().await,
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}

/// The explorer's page.
pub(super) fn page() -> Response {
    Html(PAGE).into_response()
}
