//! What an answer read, as cache tags (the vocabulary is `service::changes`'): the response cache keeps an
//! answer until a write changes one of its tags, and the HTTP layer sends them as `Surrogate-Key`.
//!
//! Tags are noted where rows enter an answer: the DataLoaders (every relation), the root fields' own reads,
//! and the connections (a list is tagged by its kind, since any write of that kind may add, remove or
//! reorder its items). A row's children (an article's sections, a record's frames) are written only with
//! their parent, which tags them. A root field not listed in [`TAGGED_ROOT_FIELDS`] makes the whole answer
//! untagged, to be dropped by any write: a new field is safe before it is tagged.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use async_graphql::extensions::ExtensionContext;

/// The root fields whose resolvers (and everything under them) note what they read.
pub const TAGGED_ROOT_FIELDS: &[&str] = &[
    "__typename",
    "__schema",
    "__type",
    "article",
    "articles",
    "proofRecord",
    "proofRecords",
    "questions",
    "collection",
    "collections",
    "reuseChannel",
    "reuseChannels",
    "proofSnippets",
    "search",
    "node",
];

/// The tags of one request's answer.
#[derive(Debug, Default)]
pub struct ReadTags(Mutex<Noted>);

#[derive(Debug, Default)]
struct Noted {
    tags: BTreeSet<String>,
    unknown: bool,
}

impl ReadTags {
    pub fn note(&self, tag: impl Into<String>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).tags.insert(tag.into());
    }

    pub fn note_all<I: IntoIterator<Item = String>>(&self, tags: I) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).tags.extend(tags);
    }

    /// The answer read something no tag names: it goes stale with any write.
    pub fn note_unknown(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).unknown = true;
    }

    /// The tags, or `None` when the answer could not be tagged.
    pub fn tags(&self) -> crate::cache::Tags {
        let noted = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (!noted.unknown).then(|| noted.tags.iter().cloned().collect())
    }
}

/// Notes `tag` for the request being resolved.
pub(crate) fn note(ctx: &Context<'_>, tag: impl Into<String>) {
    if let Some(tags) = ctx.data_opt::<Arc<ReadTags>>() {
        tags.note(tag);
    }
}

/// Called as each root field starts resolving (by the request-limits extension, which sees every field):
/// one outside [`TAGGED_ROOT_FIELDS`] leaves the answer untagged.
pub(super) fn guard_root_field(ctx: &ExtensionContext<'_>, name: &str) {
    if !TAGGED_ROOT_FIELDS.contains(&name)
        && let Some(tags) = ctx.data_opt::<Arc<ReadTags>>()
    {
        tags.note_unknown();
    }
}

/// Past this many bytes of keys only the list keys are sent (CDNs cap the header at 16 KB; every write of a
/// document also names its kind's list key, so purging by those still reaches the answer).
const MAX_SURROGATE_BYTES: usize = 8 * 1024;

/// The `Surrogate-Key` (space-separated, Fastly and others) and `Cache-Tag` (comma-separated, Cloudflare)
/// header values for an answer's tags; none for an untagged answer or one with no tags.
pub fn surrogate_headers(tags: &crate::cache::Tags) -> Option<(String, String)> {
    let tags = tags.as_ref().filter(|t| !t.is_empty())?;
    let mut keys: Vec<&str> = tags.iter().map(String::as_str).collect();
    if keys.iter().map(|k| k.len() + 1).sum::<usize>() > MAX_SURROGATE_BYTES {
        keys.retain(|k| !k.contains(':'));
    }
    Some((keys.join(" "), keys.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_read_too_many_documents_is_keyed_by_its_lists() {
        let few: crate::cache::Tags = Some(["article:a".to_string(), "articles".to_string()].into_iter().collect());
        assert_eq!(surrogate_headers(&few), Some(("article:a articles".into(), "article:a,articles".into())));
        let many: Vec<String> =
            (0..1000).map(|i| format!("proof-record:record-{i}")).chain(["articles".into()]).collect();
        let (surrogate, cache_tag) = surrogate_headers(&Some(many.into_iter().collect())).expect("keys");
        assert_eq!((surrogate.as_str(), cache_tag.as_str()), ("articles", "articles"));
        assert_eq!(surrogate_headers(&None), None);
    }
}
