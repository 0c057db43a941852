//! Importing files as `backlot import` does: find them, parse each, and write them in batches, reporting
//! each file's result as its batch lands. What is printed, and how failures become exit codes, is the CLI's.

use std::path::{Path, PathBuf};

use sea_orm::DatabaseConnection;

use super::{ImportOutcome, ParsedPage, import_batch, parse_page};
use crate::service::{Result, ServiceError};

/// Files per transaction; each file still succeeds or fails on its own (see [`import_batch`]).
pub const IMPORT_BATCH: usize = 200;

/// Why one file was not imported.
#[derive(Debug)]
pub enum FileError {
    /// The file itself: unreadable, not UTF-8, not a page, or refused as it stands (bad field, conflict).
    Input(String),
    /// Anything else the write ran into.
    Service(ServiceError),
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

/// Reads a page as UTF-8, naming the line of the first invalid byte.
/// The largest page file: a long article is well under 1 MB of text; a larger file is a mistake (or an
/// attack), and every later read of its rows would carry it.
const MAX_PAGE_BYTES: u64 = 4 * 1024 * 1024;

fn read_page(path: &Path) -> std::result::Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_PAGE_BYTES {
        return Err(format!("the file is {size} bytes; a page may be at most {MAX_PAGE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        format!("line {line}: not valid UTF-8 text")
    })
}

fn parse_file(path: &Path) -> std::result::Result<ParsedPage, String> {
    parse_page(&read_page(path)?).map_err(|e| e.to_string())
}

/// Imports `files` in batches of [`IMPORT_BATCH`], calling `report(index, path, result)` for each file in
/// order within its batch (files that do not parse first). The error is a batch the database refused whole.
pub async fn import_files(
    db: &DatabaseConnection,
    files: &[PathBuf],
    publish: bool,
    force: bool,
    mut report: impl FnMut(usize, &Path, std::result::Result<ImportOutcome, FileError>),
) -> Result<()> {
    for (chunk_no, chunk) in files.chunks(IMPORT_BATCH).enumerate() {
        let offset = chunk_no * IMPORT_BATCH;
        let mut parsed = Vec::new();
        for (i, path) in chunk.iter().enumerate() {
            match parse_file(path) {
                Ok(page) => parsed.push((offset + i, path, page)),
                Err(message) => report(offset + i, path, Err(FileError::Input(message))),
            }
        }
        let (numbers, pages): (Vec<(usize, &PathBuf)>, Vec<ParsedPage>) =
            parsed.into_iter().map(|(n, p, page)| ((n, p), page)).unzip();
        let outcomes = import_batch(db, pages, publish, force).await?;
        for ((n, path), outcome) in numbers.into_iter().zip(outcomes) {
            let outcome = outcome.map_err(|e| match e {
                ServiceError::BadInput { field, message } => FileError::Input(format!("{field}: {message}")),
                ServiceError::Conflict(message) => FileError::Input(message),
                other => FileError::Service(other),
            });
            report(n, path, outcome);
        }
    }
    Ok(())
}
