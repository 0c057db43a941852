//! `POST /api/v1/imports`: plain-text pages and proof-record files pushed to the server, imported exactly
//! as `backlot import` does (see `import::upload`). A `text/plain` body is one file, named by `?name=`,
//! `X-Backlot-File-Name` or `Content-Disposition: attachment; filename=...`; a `multipart/form-data` body
//! carries several (each part's filename names it). `?publish=true` needs a publisher token, `?force=true`
//! overwrites drafts an editor changed since their last import.
//!
//! Answers: 200 when every file was imported; 422 when some were refused for their content (the others
//! landed, as with the CLI's exit code 4); 500 when some failed on the server; each with the per-file
//! results. A request refused whole is `application/problem+json` (RFC 9457) with GraphQL's `code`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::{Refusal, principal};
use crate::error::code;
use crate::import::upload::{self, UploadedFile};

/// A misspelt `publish` must not silently import drafts: unknown parameters are refused.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImportParams {
    name: Option<String>,
    publish: Option<bool>,
    force: Option<bool>,
}

/// The API's problem+json answer, with the `WWW-Authenticate` challenge a 401 owes the client.
pub(crate) fn problem_json(status: StatusCode, code: &str, detail: &str) -> Response {
    let mut response = super::rest::problem(status, code, detail);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A coded GraphQL error as a problem, with the status its code means over HTTP.
fn refused(error: async_graphql::Error, status: Option<StatusCode>) -> Response {
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| code::INTERNAL_SERVER_ERROR.to_string());
    let status = status.unwrap_or(match code.as_str() {
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::BAD_USER_INPUT | code::BAD_REQUEST => StatusCode::BAD_REQUEST,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        code::TIMEOUT => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    });
    problem_json(status, &code, &error.message)
}

fn bad_request(detail: &str) -> Response {
    problem_json(StatusCode::BAD_REQUEST, code::BAD_REQUEST, detail)
}

/// `filename="a.txt"` or `filename=a.txt` of a Content-Disposition value.
fn disposition_filename(value: &str) -> Option<String> {
    value.split(';').map(str::trim).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        let name = value.trim().trim_matches('"');
        (key.trim().eq_ignore_ascii_case("filename") && !name.is_empty()).then(|| name.to_string())
    })
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The files of a request, or the problem to answer with.
async fn files_of(state: &AppState, name: Option<String>, request: Request) -> Result<Vec<UploadedFile>, Response> {
    let media = header_text(request.headers(), header::CONTENT_TYPE.as_str()).unwrap_or("").to_ascii_lowercase();
    let essence = media.split(';').next().unwrap_or("").trim().to_string();
    match essence.as_str() {
        "text/plain" => {
            let headers = request.headers();
            let name = name
                .filter(|n| !n.trim().is_empty())
                .or_else(|| header_text(headers, "x-backlot-file-name").map(str::to_string))
                .or_else(|| header_text(headers, header::CONTENT_DISPOSITION.as_str()).and_then(disposition_filename));
            let Some(name) = name else {
                return Err(bad_request(
                    "name the file: ?name=page.txt, an X-Backlot-File-Name header, or Content-Disposition: \
                     attachment; filename=page.txt",
                ));
            };
            let bytes = Bytes::from_request(request, state).await.map_err(|e| e.into_response())?;
            Ok(vec![UploadedFile { name, bytes: bytes.to_vec() }])
        }
        "multipart/form-data" => {
            let mut multipart = axum::extract::Multipart::from_request(request, state)
                .await
                .map_err(|e| bad_request(&format!("the multipart body cannot be read: {}", e.body_text())))?;
            let mut files = Vec::new();
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(field)) => field,
                    Ok(None) => break,
                    Err(e) => {
                        return Err(bad_request(&format!("the multipart body cannot be read: {}", e.body_text())));
                    }
                };
                let name = field.file_name().or(field.name()).unwrap_or("").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad_request(&format!("the part {name:?} cannot be read: {}", e.body_text())))?;
                files.push(UploadedFile { name, bytes: bytes.to_vec() });
            }
            Ok(files)
        }
        _ => Err(problem_json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_REQUEST,
            "send one file as text/plain (named by ?name=) or several as multipart/form-data",
        )),
    }
}

pub(super) async fn post(
    State(state): State<AppState>,
    params: Result<Query<ImportParams>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Response {
    let Ok(Query(params)) = params else {
        return bad_request("the query parameters are name (text), publish (true or false) and force (true or false)");
    };
    let caller = match principal(&state, request.headers()).await {
        Ok(caller) => caller,
        Err(Refusal { status, error }) => return refused(error, Some(status)),
    };
    // Who may import is checked before the body is read, so a refused caller learns why at once.
    if let Err(e) = crate::service::require(caller.as_ref(), crate::service::token::Role::Editor) {
        return refused(crate::error::to_graphql_error(e), None);
    }
    let files = match files_of(&state, params.name, request).await {
        Ok(files) => files,
        Err(response) => return response,
    };
    let publish = params.publish.unwrap_or(false);
    let force = params.force.unwrap_or(false);
    let report = match upload::import_uploaded(&state.db, caller.as_ref(), files, publish, force).await {
        Ok(report) => report,
        Err(e) => return refused(crate::error::to_graphql_error(e), None),
    };
    let imported = &super::metrics::METRICS.imported;
    imported.with_label_values(&["created"]).inc_by(report.created as u64);
    imported.with_label_values(&["updated"]).inc_by(report.updated as u64);
    imported.with_label_values(&["failed"]).inc_by(report.failed as u64);
    let status = if report.failed == 0 {
        StatusCode::OK
    } else if report.files.iter().any(|f| f.failed_on_server()) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = serde_json::to_string(&report).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, super::JSON), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames_come_from_content_disposition() {
        assert_eq!(super::disposition_filename("attachment; filename=\"a b.txt\"").as_deref(), Some("a b.txt"));
        assert_eq!(super::disposition_filename("attachment; FILENAME=a.txt").as_deref(), Some("a.txt"));
        assert_eq!(super::disposition_filename("attachment"), None);
    }
}
