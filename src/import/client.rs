//! `backlot import --server URL`: sends the files to a running server's `POST /api/v1/imports` instead of
//! opening the database, and reports each file's result as a local import does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::{IMPORT_BATCH, read_text};
use super::upload::{FileResult, ImportReport};
use super::{FileError, Imported};
use crate::error::{CliError, code};

/// Bytes of file text per request: under the server's default body limit (256 KiB) with room for the
/// multipart framing, so a default server takes every request.
const REQUEST_BYTES: usize = 192 * 1024;

/// The import endpoint of `server` (`http://host:port`, with or without a trailing slash).
fn endpoint(server: &str) -> Result<String, CliError> {
    let server = server.trim().trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(CliError::Usage {
            message: format!("--server must be an http:// or https:// URL (got {server:?})"),
        });
    }
    Ok(format!("{server}/api/v1/imports"))
}

fn result_of(file: FileResult) -> Result<Imported, FileError> {
    if let Some(problem) = file.error {
        return Err(match problem.code.as_str() {
            code::BAD_USER_INPUT => FileError::Input(problem.message),
            code::CONFLICT => FileError::Conflict(problem.message),
            other => FileError::Remote(format!("the server could not import it ({other}): {}", problem.message)),
        });
    }
    match (file.kind, file.result, file.slug) {
        (Some(kind), Some(change), Some(slug)) => Ok(Imported {
            kind,
            document_id: String::new(),
            slug,
            change,
            published: file.status.as_deref() == Some("PUBLISHED"),
            public: file.public.unwrap_or(false),
        }),
        _ => Err(FileError::Remote("the server's answer for this file is incomplete".into())),
    }
}

/// Sends `files` (pages first, then proof records, so each record finds its article) in requests of at
/// most [`REQUEST_BYTES`], calling `report(index, path, result)` for each file as its request is answered.
pub async fn push(
    server: &str,
    token: &str,
    files: &[PathBuf],
    publish: bool,
    force: bool,
    mut report: impl FnMut(usize, &Path, Result<Imported, FileError>),
) -> Result<(), CliError> {
    let url = endpoint(server)?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| CliError::Server(format!("cannot start an HTTP client: {e}")))?;
    let (mut pages, mut records) = (Vec::new(), Vec::new());
    for (n, path) in files.iter().enumerate() {
        match read_text(path) {
            Ok(text) if super::proof::is_proof_record(&text) => records.push((n, text)),
            Ok(text) => pages.push((n, text)),
            Err(message) => report(n, path, Err(FileError::Input(message))),
        }
    }
    let mut batch: Vec<(usize, String)> = Vec::new();
    let mut bytes = 0;
    for (n, text) in pages.into_iter().chain(records) {
        if !batch.is_empty() && (bytes + text.len() > REQUEST_BYTES || batch.len() == IMPORT_BATCH) {
            send(&client, &url, token, files, std::mem::take(&mut batch), publish, force, &mut report).await?;
            bytes = 0;
        }
        bytes += text.len();
        batch.push((n, text));
    }
    if !batch.is_empty() {
        send(&client, &url, token, files, batch, publish, force, &mut report).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn send(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    files: &[PathBuf],
    batch: Vec<(usize, String)>,
    publish: bool,
    force: bool,
    report: &mut impl FnMut(usize, &Path, Result<Imported, FileError>),
) -> Result<(), CliError> {
    let numbers: Vec<usize> = batch.iter().map(|(n, _)| *n).collect();
    let mut form = reqwest::multipart::Form::new();
    for (n, text) in batch {
        let name = files[n].file_name().map_or_else(|| files[n].display().to_string(), |f| f.to_string_lossy().into());
        let part = reqwest::multipart::Part::text(text)
            .file_name(name)
            .mime_str("text/plain; charset=utf-8")
            .map_err(|e| CliError::Server(e.to_string()))?;
        form = form.part("file", part);
    }
    let response = client
        .post(url)
        .query(&[("publish", publish), ("force", force)])
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .map_err(|e| CliError::ServerUnreachable(format!("{url}: {}", crate::service::error_chain(&e))))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| CliError::ServerUnreachable(format!("{url}: {e}")))?;
    if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
        let message = format!("the server refused the request as too large (HTTP 413): {}", detail(&body));
        for n in numbers {
            report(n, &files[n], Err(FileError::Input(message.clone())));
        }
        return Ok(());
    }
    // 200: every file imported; 422: some were refused; 500: some failed on the server. Each lists every file.
    let answered = matches!(status.as_u16(), 200 | 422 | 500);
    let parsed = answered.then(|| serde_json::from_str::<ImportReport>(&body).ok()).flatten();
    let Some(answer) = parsed.filter(|a| a.files.len() == numbers.len()) else {
        let hint = match status.as_u16() {
            401 => {
                "; create an editor token with `backlot token create --name NAME --role editor` against the \
                    server's database (or createApiToken as an admin) and pass it with --token"
            }
            403 => "; importing needs an editor token, and --publish a publisher token",
            _ => "",
        };
        return Err(CliError::Server(format!(
            "the server refused the import (HTTP {status}): {}{hint}",
            detail(&body)
        )));
    };
    for (n, file) in numbers.into_iter().zip(answer.files) {
        report(n, &files[n], result_of(file));
    }
    Ok(())
}

/// The `detail` of a problem+json body, else the body itself.
fn detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect())
}
