//! Importing files as `backlot import` does (and, with the same code, files sent over HTTP): read each,
//! parse it as a page or a proof record, write pages in batches and then proof records one at a time,
//! reporting each file's result as it lands. What is printed, and how failures become exit codes, is the
//! caller's.

use std::path::{Path, PathBuf};

use sea_orm::DatabaseConnection;

use super::proof::{self, ParsedProofRecord};
use super::writer::IMPORT_AUTHOR;
use super::{Change, ParseError, ParsedPage, import_batch, parse_page};
use crate::service::article::Saved;
use crate::service::{Result, ServiceError, audit, revision};

/// Files per transaction; each file still succeeds or fails on its own (see [`import_batch`]).
pub const IMPORT_BATCH: usize = 200;

/// Why one file was not imported.
#[derive(Debug)]
pub enum FileError {
    /// The file itself: unreadable, not UTF-8, not a page, or refused as it stands (a bad field).
    Input(String),
    /// The file conflicts with the stored content (an editor changed the draft since the last import).
    Conflict(String),
    /// Anything else the write ran into.
    Service(ServiceError),
    /// A server importing it (`--server`) failed for a reason other than the file.
    Remote(String),
}

impl FileError {
    fn from_service(e: ServiceError) -> FileError {
        match e {
            ServiceError::BadInput { field, message } => FileError::Input(format!("{field}: {message}")),
            ServiceError::Conflict(message) => FileError::Conflict(message),
            other => FileError::Service(other),
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Article,
    ProofRecord,
}

/// What one imported file came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub kind: Kind,
    pub document_id: String,
    pub slug: String,
    pub change: Change,
    /// Whether this import published it.
    pub published: bool,
    /// Whether it is public after the import (published now, or before, with this text in its draft).
    pub public: bool,
}

/// A parsed file: a page, or a proof record (whose first line is [`proof::MARKER`]).
#[derive(Debug, Clone)]
pub enum ParsedFile {
    Page(ParsedPage),
    ProofRecord(ParsedProofRecord),
}

pub fn parse_text(text: &str) -> std::result::Result<ParsedFile, ParseError> {
    if proof::is_proof_record(text) {
        proof::parse_proof_record(text).map(ParsedFile::ProofRecord)
    } else {
        parse_page(text).map(ParsedFile::Page)
    }
}

/// Every file named, and every `.txt` file directly inside a named directory, in name order. A path that
/// is neither is an error naming it.
pub fn collect_files(paths: &[PathBuf]) -> std::result::Result<Vec<PathBuf>, (PathBuf, String)> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| (path.clone(), e.to_string()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "txt"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err((path.clone(), "no such file or directory".into()));
        }
    }
    Ok(files)
}

/// The largest page file: a long article is well under 1 MB of text; a larger file is a mistake (or an
/// attack), and every later read of its rows would carry it.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// A file's bytes as UTF-8 text, naming the line of the first invalid byte.
pub fn decode(bytes: Vec<u8>) -> std::result::Result<String, ParseError> {
    if bytes.len() > MAX_PAGE_BYTES {
        let message = format!("the file is {} bytes; a page may be at most {MAX_PAGE_BYTES} bytes", bytes.len());
        return Err(ParseError { line: 1, message });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        ParseError { line, message: "not valid UTF-8 text".into() }
    })
}

/// Reads a file as text; the error is the message to report.
pub fn read_text(path: &Path) -> std::result::Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_PAGE_BYTES as u64 {
        return Err(format!("the file is {size} bytes; a page may be at most {MAX_PAGE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    decode(bytes).map_err(|e| e.to_string())
}

fn parse_file(path: &Path) -> std::result::Result<ParsedFile, String> {
    parse_text(&read_text(path)?).map_err(|e| e.to_string())
}

/// How an import writes.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub publish: bool,
    /// Overwrite drafts an editor changed since their last import.
    pub force: bool,
    /// Who the audit log names: "import" from the CLI, the token's name over HTTP.
    pub actor: &'a str,
}

/// Imports `files` in batches of [`IMPORT_BATCH`], calling `report(index, path, result)` for each file
/// (within a batch, files that do not parse first; proof records after every page, so that a record finds
/// an article imported with it). The error is a batch the database refused whole.
pub async fn import_files(
    db: &DatabaseConnection,
    files: &[PathBuf],
    options: Options<'_>,
    mut report: impl FnMut(usize, &Path, std::result::Result<Imported, FileError>),
) -> Result<()> {
    let mut records = Vec::new();
    let mut on_file =
        |n: usize, result: std::result::Result<Imported, FileError>| report(n, files[n].as_path(), result);
    for (chunk_no, chunk) in files.chunks(IMPORT_BATCH).enumerate() {
        let offset = chunk_no * IMPORT_BATCH;
        let parsed = chunk.iter().enumerate().map(|(i, path)| (offset + i, parse_file(path))).collect();
        import_chunk(db, parsed, options, &mut records, &mut on_file).await?;
    }
    import_records(db, records, options, &mut on_file).await
}

/// [`import_files`] for texts already in memory (sent over HTTP): `report(index, result)` in the same order.
pub async fn import_texts(
    db: &DatabaseConnection,
    texts: Vec<std::result::Result<String, ParseError>>,
    options: Options<'_>,
    mut report: impl FnMut(usize, std::result::Result<Imported, FileError>),
) -> Result<()> {
    let mut records = Vec::new();
    let mut parsed: Vec<(usize, std::result::Result<ParsedFile, String>)> = Vec::new();
    for (n, text) in texts.into_iter().enumerate() {
        parsed.push((n, text.and_then(|t| parse_text(&t)).map_err(|e| e.to_string())));
        if parsed.len() == IMPORT_BATCH {
            import_chunk(db, std::mem::take(&mut parsed), options, &mut records, &mut report).await?;
        }
    }
    import_chunk(db, parsed, options, &mut records, &mut report).await?;
    import_records(db, records, options, &mut report).await
}

/// Writes the pages of one batch; keeps its proof records in `records` for later.
async fn import_chunk(
    db: &DatabaseConnection,
    files: Vec<(usize, std::result::Result<ParsedFile, String>)>,
    options: Options<'_>,
    records: &mut Vec<(usize, ParsedProofRecord)>,
    report: &mut impl FnMut(usize, std::result::Result<Imported, FileError>),
) -> Result<()> {
    let (mut numbers, mut pages) = (Vec::new(), Vec::new());
    for (n, file) in files {
        match file {
            Ok(ParsedFile::Page(page)) => {
                numbers.push(n);
                pages.push(page);
            }
            Ok(ParsedFile::ProofRecord(record)) => records.push((n, record)),
            Err(message) => report(n, Err(FileError::Input(message))),
        }
    }
    if pages.is_empty() {
        return Ok(());
    }
    let outcomes = import_batch(db, pages, options.publish, options.force, options.actor).await?;
    for (n, outcome) in numbers.into_iter().zip(outcomes) {
        let imported = outcome.map_err(FileError::from_service).map(|o| Imported {
            kind: Kind::Article,
            document_id: o.document_id,
            slug: o.slug,
            change: match o.saved {
                Saved::Created => Change::Created,
                Saved::Updated => Change::Updated,
            },
            published: o.published,
            public: o.public,
        });
        report(n, imported);
    }
    Ok(())
}

/// Writes proof records, each in a transaction of its own: all of a file, or none of it.
async fn import_records(
    db: &DatabaseConnection,
    records: Vec<(usize, ParsedProofRecord)>,
    options: Options<'_>,
    report: &mut impl FnMut(usize, std::result::Result<Imported, FileError>),
) -> Result<()> {
    for (n, record) in records {
        let (publish, actor) = (options.publish, options.actor.to_string());
        let written = crate::service::transaction(db, move |txn| {
            Box::pin(async move {
                let outcome = proof::write(txn, record, publish, IMPORT_AUTHOR).await?;
                if outcome.change != Change::Unchanged {
                    let action = outcome.audit_action();
                    audit::record(txn, &actor, action, revision::PROOF_RECORD, &outcome.document_id, None).await?;
                }
                Ok(outcome)
            })
        })
        .await;
        let imported = written.map_err(FileError::from_service).map(|o| Imported {
            kind: Kind::ProofRecord,
            document_id: o.document_id,
            slug: o.slug,
            change: o.change,
            published: o.published,
            public: o.public,
        });
        report(n, imported);
    }
    Ok(())
}
