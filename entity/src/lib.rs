//! sea-orm entities: one module per table.
//!
//! Staged content (articles, proof records, snippets) keeps one row per stage
//! (`draft`, `published`) sharing a `document_id`; children hang off the
//! stage row, so a publish is a copy of the draft rows inside one transaction.

pub mod api_token;
pub mod article;
pub mod article_link;
pub mod article_section;
pub mod asset;
pub mod asset_channel;
pub mod audit_entry;
pub mod collection;
pub mod enums;
pub mod observation;
pub mod proof_record;
pub mod proof_record_channel;
pub mod proof_snippet;
pub mod question;
pub mod reuse_channel;
pub mod revision;
pub mod search_document;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_event;

pub use enums::{AssetKind, ContentStatus, ObservationKind, ReleaseStatus, Stage};
