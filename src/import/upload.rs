//! Imports of files sent to the server (`POST /api/v1/imports` and the `importPages` mutation): one
//! function for both, running the CLI's import ([`super::import_texts`]) for the caller's token.

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use super::{Change, FileError, Imported, Kind, Options, ParseError};
use crate::error::code;
use crate::service::token::{Principal, Role};
use crate::service::{Result, ServiceError, require};

/// One file as sent: its name (for the results) and its bytes.
pub struct UploadedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why a file was not imported: a stable code (as GraphQL's `extensions.code`), the message, and the line
/// it is about when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The result for one file, in the order sent: what was imported, or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileResult {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// created, updated or unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Change>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// PUBLISHED when this import published it, else DRAFT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Whether it is public after the import (a draft re-imported over a published document stays public
    /// with its published text until the next publish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FileProblem>,
}

impl FileResult {
    pub fn imported(name: String, imported: Imported) -> FileResult {
        FileResult {
            name,
            kind: Some(imported.kind),
            result: Some(imported.change),
            slug: Some(imported.slug),
            status: Some(if imported.published { "PUBLISHED" } else { "DRAFT" }.to_string()),
            public: Some(imported.public),
            error: None,
        }
    }

    pub fn failed(name: String, error: FileError) -> FileResult {
        let (code, message) = match error {
            FileError::Input(message) => (code::BAD_USER_INPUT.to_string(), message),
            FileError::Conflict(message) => (code::CONFLICT.to_string(), message),
            FileError::Remote(message) => (code::INTERNAL_SERVER_ERROR.to_string(), message),
            FileError::Service(e) => {
                // The one mapping to client codes; internal detail is logged there, not returned.
                let e = crate::error::to_graphql_error(e);
                let code = match e.extensions.as_ref().and_then(|x| x.get("code")) {
                    Some(async_graphql::Value::String(code)) => code.clone(),
                    _ => code::INTERNAL_SERVER_ERROR.to_string(),
                };
                (code, e.message)
            }
        };
        let line = line_of(&message);
        FileResult {
            name,
            kind: None,
            result: None,
            slug: None,
            status: None,
            public: None,
            error: Some(FileProblem { code, message, line }),
        }
    }

    /// Whether this file failed for a reason other than its content (the client may retry it).
    pub fn failed_on_server(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.code != code::BAD_USER_INPUT && e.code != code::CONFLICT)
    }
}

/// The line an error message names ("line 4: ..."), as every parse error and line-bound refusal does.
fn line_of(message: &str) -> Option<usize> {
    message.strip_prefix("line ")?.split(':').next()?.parse().ok()
}

/// The answer to one import request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub files: Vec<FileResult>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

impl ImportReport {
    fn new(files: Vec<FileResult>) -> ImportReport {
        let count = |change: Change| files.iter().filter(|f| f.result == Some(change)).count();
        let (created, updated, unchanged) = (count(Change::Created), count(Change::Updated), count(Change::Unchanged));
        let failed = files.iter().filter(|f| f.error.is_some()).count();
        ImportReport { files, created, updated, unchanged, failed }
    }
}

/// Imports `files` for `principal` (an editor or higher; a publisher to `publish`), each file all or nothing
/// exactly as `backlot import` does, the audit log naming the token. Results come back in the order sent.
pub async fn import_uploaded(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    files: Vec<UploadedFile>,
    publish: bool,
    force: bool,
) -> Result<ImportReport> {
    let principal = require(principal, Role::Editor)?;
    if publish && principal.role < Role::Publisher {
        return Err(ServiceError::RoleTooLow { field: Some("publish"), needed: Role::Publisher, has: principal.role });
    }
    if files.is_empty() {
        return Err(ServiceError::bad_input("files", "no files were sent"));
    }
    for (i, file) in files.iter().enumerate() {
        if file.name.trim().is_empty() {
            return Err(ServiceError::bad_input(format!("files[{i}].name"), "must not be empty"));
        }
    }
    let (names, texts): (Vec<String>, Vec<std::result::Result<String, ParseError>>) =
        files.into_iter().map(|f| (f.name, super::files::decode(f.bytes))).unzip();
    let mut results: Vec<Option<FileResult>> = names.iter().map(|_| None).collect();
    let options = Options { publish, force, actor: &principal.token_name };
    super::import_texts(db, texts, options, |n, outcome| {
        let name = names[n].clone();
        results[n] = Some(match outcome {
            Ok(imported) => FileResult::imported(name, imported),
            Err(e) => FileResult::failed(name, e),
        });
    })
    .await?;
    let files = results
        .into_iter()
        .zip(&names)
        .map(|(r, name)| r.unwrap_or_else(|| FileResult::failed(name.clone(), FileError::Service(not_written()))))
        .collect();
    Ok(ImportReport::new(files))
}

fn not_written() -> ServiceError {
    ServiceError::Database(sea_orm::DbErr::RecordNotInserted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_come_from_messages() {
        assert_eq!(super::line_of("line 12: the heading has no text"), Some(12));
        assert_eq!(super::line_of("slug: taken"), None);
    }
}
