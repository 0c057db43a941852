//! The plain-text page importer: a pure parser and a writer that stores a batch of pages per transaction,
//! each page all or nothing.

pub mod files;
pub mod parser;
pub mod writer;

pub use files::{FileError, collect_files, import_files};
pub use parser::{ParseError, ParsedPage, parse_page};
pub use writer::{ImportOutcome, import_batch};
