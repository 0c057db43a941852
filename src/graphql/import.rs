//! `importPages`: the plain-text import for GraphQL-only clients, the same service call (and per-file
//! results) as `POST /api/v1/imports`.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};

use super::RequestScope;
use crate::error::GqlResult;
use crate::import::upload::{self, FileResult, ImportReport, UploadedFile};

/// One file to import: a plain-text page or a proof-record file (docs/import-format.md,
/// docs/proof-record-format.md).
#[derive(InputObject)]
pub struct PageFileInput {
    /// Names the file in the results.
    pub name: String,
    pub text: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportedKind {
    Article,
    ProofRecord,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportChange {
    Created,
    Updated,
    /// The file matched the stored draft; nothing was written.
    Unchanged,
}

/// Why a file was not imported; nothing of it was written.
#[derive(SimpleObject)]
pub struct ImportFileError {
    /// As `extensions.code`: BAD_USER_INPUT (the file's content), CONFLICT (an editor changed the draft since
    /// the last import), INTERNAL_SERVER_ERROR or TIMEOUT.
    pub code: String,
    pub message: String,
    /// The 1-based line the error is about, when there is one.
    pub line: Option<i32>,
}

/// The result for one file: what it became, or `error`.
#[derive(SimpleObject)]
pub struct ImportFileResult {
    pub name: String,
    pub kind: Option<ImportedKind>,
    pub result: Option<ImportChange>,
    pub slug: Option<String>,
    /// PUBLISHED when this import published it, else DRAFT.
    pub status: Option<super::enums::ContentStatus>,
    /// Whether it is public after the import.
    pub public: Option<bool>,
    pub error: Option<ImportFileError>,
}

#[derive(SimpleObject)]
pub struct ImportPagesPayload {
    /// One result per file, in the order sent.
    pub files: Vec<ImportFileResult>,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
}

fn result_of(file: FileResult) -> ImportFileResult {
    use crate::import::{Change, Kind};
    ImportFileResult {
        name: file.name,
        kind: file.kind.map(|k| match k {
            Kind::Article => ImportedKind::Article,
            Kind::ProofRecord => ImportedKind::ProofRecord,
        }),
        result: file.result.map(|c| match c {
            Change::Created => ImportChange::Created,
            Change::Updated => ImportChange::Updated,
            Change::Unchanged => ImportChange::Unchanged,
        }),
        slug: file.slug,
        status: file.status.map(|s| {
            if s == "PUBLISHED" { super::enums::ContentStatus::Published } else { super::enums::ContentStatus::Draft }
        }),
        public: file.public,
        error: file.error.map(|e| ImportFileError {
            code: e.code,
            message: e.message,
            line: e.line.and_then(|l| i32::try_from(l).ok()),
        }),
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<ImportReport> for ImportPagesPayload {
    fn from(report: ImportReport) -> Self {
        ImportPagesPayload {
            created: count(report.created),
            updated: count(report.updated),
            unchanged: count(report.unchanged),
            failed: count(report.failed),
            files: report.files.into_iter().map(result_of).collect(),
        }
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports plain-text pages and proof-record files (editor; `publish: true` needs a publisher), exactly as
    /// `backlot import`: each file all or nothing, the others land when one fails; `force: true` overwrites
    /// drafts an editor changed since their last import. The audit log names the token.
    async fn import_pages(
        &self,
        ctx: &Context<'_>,
        files: Vec<PageFileInput>,
        publish: Option<bool>,
        force: Option<bool>,
    ) -> Result<ImportPagesPayload> {
        let principal = ctx.data_opt::<RequestScope>().and_then(|s| s.principal.as_ref());
        let files = files.into_iter().map(|f| UploadedFile { name: f.name, bytes: f.text.into_bytes() }).collect();
        let publish = publish.unwrap_or(false);
        let force = force.unwrap_or(false);
        let report = upload::import_uploaded(super::db(ctx), principal, files, publish, force).await.gql()?;
        Ok(report.into())
    }
}
