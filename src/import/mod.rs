//! The plain-text importer: pure parsers (pages, proof records) and writers that store a batch of pages
//! per transaction and each proof record in one, each file all or nothing; `upload` is the same import for
//! files sent over HTTP or GraphQL, `client` sends files to a server that runs it.

pub mod client;
pub mod files;
pub mod parser;
pub mod proof;
pub mod upload;
pub mod writer;

pub use files::{
    FileError, Imported, Kind, Options, ParsedFile, collect_files, import_files, import_texts, parse_text,
};
pub use parser::{ParseError, ParsedPage, parse_page};
pub use writer::{ImportOutcome, import_batch};

/// What an import did to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Created,
    Updated,
    /// The file matched the stored draft; nothing was written.
    Unchanged,
}
