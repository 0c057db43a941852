//! The proof-record file format (docs/proof-record-format.md): a front-matter block of scalar fields, then
//! one line per observation, frame and snippet. The parser is pure, and every error carries its 1-based
//! line; the writer stores a parsed record through the proof record and snippet services.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{AssetKind, ObservationKind, ReleaseStatus};
use sea_orm::ConnectionTrait;

use super::ParseError;
use crate::service::proof_record::{self, AssetInput, ObservationInput, ProofRecordDraft};
use crate::service::snippet::{self, SnippetDraft};
use crate::service::staged::{self, Articles, ProofRecords, Snippets};
use crate::service::{Result, ServiceError, Visibility, catalog};

/// The first non-empty line of every proof-record file (compared ignoring case).
pub const MARKER: &str = "--- proof record";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedProofRecord {
    /// The slug of the article it pairs with; the record shares it.
    pub article: String,
    pub article_line: usize,
    /// `None`: the article's title.
    pub title: Option<String>,
    pub client: Option<String>,
    pub deliverable: Option<String>,
    pub problem_solved: Option<String>,
    pub summary: Option<String>,
    pub captured_on: Option<NaiveDate>,
    pub location: Option<String>,
    /// Reuse channel slugs, with the line that names them.
    pub channels: Vec<String>,
    pub channels_line: usize,
    pub observations: Vec<ObservationInput>,
    pub frames: Vec<ParsedFrame>,
    pub snippets: Vec<ParsedSnippet>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFrame {
    pub asset: AssetInput,
    /// `channels:`: the reuse channels this frame is cleared for (empty: every channel of the record).
    pub channels: Vec<String>,
    /// `expires:`: when the frame's release runs out.
    pub expires: Option<DateTime<Utc>>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSnippet {
    pub channel: String,
    pub body: String,
    /// `| credit: NAME` at the end of the line: the credit line printed with it.
    pub credit: Option<String>,
    /// `draft snippet:`: stays a draft even when the file is imported with publish.
    pub draft: bool,
    pub line: usize,
}

fn err<T>(line: usize, message: impl Into<String>) -> std::result::Result<T, ParseError> {
    Err(ParseError { line, message: message.into() })
}

/// Whether `text` is a proof-record file: its first non-empty line is the marker.
pub fn is_proof_record(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().map(str::trim).find(|l| !l.is_empty()).is_some_and(|l| l.eq_ignore_ascii_case(MARKER))
}

/// "not required", "not-required" and "NOT_REQUIRED" are the same value.
fn enum_word(value: &str) -> String {
    value.trim().to_ascii_uppercase().replace([' ', '-'], "_")
}

fn observation_kind(word: &str) -> Option<ObservationKind> {
    use sea_orm::ActiveEnum;
    ObservationKind::try_from_value(&enum_word(word)).ok()
}

const KINDS: &str = "people, equipment, constraint, decision, environment, rhythm, collaboration, atmosphere";

fn non_empty(line: usize, what: &str, value: &str) -> std::result::Result<String, ParseError> {
    let value = value.trim();
    if value.is_empty() {
        return err(line, format!("{what} must not be empty"));
    }
    Ok(value.to_string())
}

/// "a, b, a" → `["a", "b"]`: a channel named twice is linked once.
fn slug_list(value: &str) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::new();
    for slug in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !slugs.iter().any(|s| s == slug) {
            slugs.push(slug.to_string());
        }
    }
    slugs
}

fn timestamp(line: usize, key: &str, value: &str) -> std::result::Result<DateTime<Utc>, ParseError> {
    let value = value.trim();
    let parsed = DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&Utc)).or_else(|_| {
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    });
    match parsed {
        Ok(t) if crate::service::check_time(key, Some(t)).is_ok() => Ok(t),
        Ok(_) => err(line, format!("{key}: {value:?} must be between the years 1 and 9999")),
        Err(_) => err(line, format!("{key}: {value:?} is not a date (2026-03-14) or a time (2026-03-14T10:00:00Z)")),
    }
}

fn dimension(line: usize, key: &str, value: &str) -> std::result::Result<i32, ParseError> {
    match value.trim().parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => err(line, format!("{key}: {:?} must be a whole number of pixels above 0", value.trim())),
    }
}

/// `frame: URL | key: value | ...`.
fn parse_frame(line: usize, rest: &str) -> std::result::Result<ParsedFrame, ParseError> {
    let mut parts = rest.split(" | ");
    let url = non_empty(line, "a frame's URL", parts.next().unwrap_or(""))?;
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
        return err(line, format!("the frame URL {url:?} must be an http:// or https:// address without spaces"));
    }
    let mut asset = AssetInput {
        url,
        kind: AssetKind::Image,
        alt: None,
        caption: None,
        credit: None,
        width: None,
        height: None,
        shows: Vec::new(),
        // A frame whose release the file does not state is never public until an editor clears it.
        release: ReleaseStatus::Pending,
        captured_at: None,
        release_expires_at: None,
        release_channels: Vec::new(),
        release_reason: None,
    };
    let (mut channels, mut expires) = (Vec::new(), None);
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        let Some((key, value)) = part.split_once(':') else {
            return err(line, format!("{:?} in a frame line must read \"key: value\"", part.trim()));
        };
        let key = key.trim().to_ascii_lowercase();
        if seen.contains(&key) {
            return err(line, format!("the frame names {key:?} twice"));
        }
        seen.push(key.clone());
        let text = || non_empty(line, &format!("the frame's {key}"), value);
        match key.as_str() {
            "kind" => {
                asset.kind = match enum_word(value).as_str() {
                    "IMAGE" => AssetKind::Image,
                    "VIDEO" => AssetKind::Video,
                    _ => return err(line, format!("kind: {:?} must be image or video", value.trim())),
                }
            }
            "alt" => asset.alt = Some(text()?),
            "caption" => asset.caption = Some(text()?),
            "credit" => asset.credit = Some(text()?),
            "width" => asset.width = Some(dimension(line, "width", value)?),
            "height" => asset.height = Some(dimension(line, "height", value)?),
            "release" => {
                use sea_orm::ActiveEnum;
                asset.release = ReleaseStatus::try_from_value(&enum_word(value)).map_err(|_| ParseError {
                    line,
                    message: format!("release: {:?} must be cleared, not required, pending or denied", value.trim()),
                })?;
            }
            "shows" => {
                for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                    let kind = observation_kind(word).ok_or_else(|| ParseError {
                        line,
                        message: format!("shows: {word:?} is not one of {KINDS}"),
                    })?;
                    asset.shows.push(kind);
                }
            }
            "captured" => asset.captured_at = Some(timestamp(line, "captured", value)?),
            "channels" => channels = slug_list(value),
            "expires" => expires = Some(timestamp(line, "expires", value)?),
            other => {
                return err(
                    line,
                    format!(
                        "unknown frame field {other:?}; a frame takes kind, alt, caption, credit, width, height, \
                         release, shows, captured, channels and expires"
                    ),
                );
            }
        }
    }
    // Alt text defaults to the caption, so every frame with a caption has a text alternative.
    if asset.alt.is_none() {
        asset.alt = asset.caption.clone();
    }
    Ok(ParsedFrame { asset, channels, expires, line })
}

/// `CHANNEL | body`, optionally followed by `| credit: NAME`.
fn parse_snippet(line: usize, rest: &str, draft: bool) -> std::result::Result<ParsedSnippet, ParseError> {
    let Some((channel, body)) = rest.split_once(" | ") else {
        return err(line, "a snippet line must read \"snippet: CHANNEL | text\" (optionally \"| credit: NAME\")");
    };
    let (body, credit) = match body.rsplit_once(" | credit:") {
        Some((body, credit)) => (body, Some(non_empty(line, "a snippet's credit", credit)?)),
        None => (body, None),
    };
    let channel = non_empty(line, "a snippet's channel", channel)?;
    let body = non_empty(line, "a snippet's text", body)?;
    Ok(ParsedSnippet { channel, body, credit, draft, line })
}

/// Parses one proof-record file. See docs/proof-record-format.md.
pub fn parse_proof_record(text: &str) -> std::result::Result<ParsedProofRecord, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines =
        text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, first)) if first.eq_ignore_ascii_case(MARKER) => {}
        Some((no, _)) => return err(no, format!("a proof-record file must start with the line {MARKER:?}")),
        None => return err(1, format!("the file is empty; a proof-record file starts with the line {MARKER:?}")),
    }
    let mut record = ParsedProofRecord::default();
    let mut seen: Vec<String> = Vec::new();
    let mut closed = false;
    for (no, line) in lines.by_ref() {
        if line == "---" {
            closed = true;
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            return err(no, format!("{line:?} must read \"field: value\" (or \"---\" to end the front matter)"));
        };
        let key = key.trim().to_ascii_lowercase();
        if seen.contains(&key) {
            return err(no, format!("the field {key:?} appears twice"));
        }
        seen.push(key.clone());
        let value = value.trim();
        let text = || non_empty(no, &key, value).map(Some);
        match key.as_str() {
            "article" => {
                if !record.article.is_empty() && value != record.article {
                    return err(
                        no,
                        format!("article: a proof record shares its article's slug ({:?})", record.article),
                    );
                }
                if crate::service::article::validate_slug("article", value).is_err() {
                    return err(no, format!("article: {value:?} must be an article's slug (a-z, 0-9 and hyphens)"));
                }
                record.article = value.to_string();
                record.article_line = no;
            }
            "slug" => {
                if !record.article.is_empty() && value != record.article {
                    return err(no, format!("slug: a proof record shares its article's slug ({:?})", record.article));
                }
                if record.article.is_empty() {
                    record.article = value.to_string();
                    record.article_line = no;
                }
            }
            "title" => record.title = text()?,
            "client" => record.client = text()?,
            "deliverable" => record.deliverable = text()?,
            "solved" => record.problem_solved = text()?,
            "summary" => record.summary = text()?,
            "location" => record.location = text()?,
            "captured" => {
                record.captured_on = Some(NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| ParseError {
                    line: no,
                    message: format!("captured: {value:?} is not a date such as 2026-03-14"),
                })?);
            }
            "channels" => {
                record.channels = slug_list(value);
                record.channels_line = no;
            }
            other => {
                return err(
                    no,
                    format!(
                        "unknown field {other:?}; the front matter takes article, title, client, deliverable, \
                         solved, summary, captured, location and channels"
                    ),
                );
            }
        }
    }
    if !closed {
        return err(text.lines().count().max(1), "the front matter must end with a \"---\" line");
    }
    if record.article.is_empty() {
        return err(1, "the front matter must name the article this record pairs with (\"article: SLUG\")");
    }
    for (no, line) in lines {
        let Some((key, rest)) = line.split_once(':') else {
            return err(
                no,
                format!("{line:?} is not an observation, frame or snippet line (\"KIND: title | detail\")"),
            );
        };
        let key = key.trim().to_ascii_lowercase();
        let rest = rest.trim();
        match key.as_str() {
            "frame" => record.frames.push(parse_frame(no, rest)?),
            "snippet" => record.snippets.push(parse_snippet(no, rest, false)?),
            "draft snippet" => record.snippets.push(parse_snippet(no, rest, true)?),
            word => {
                let Some(kind) = observation_kind(word) else {
                    return err(
                        no,
                        format!("{word:?} is not a line kind: use frame, snippet, draft snippet or one of {KINDS}"),
                    );
                };
                let (title, detail) = match rest.split_once(" | ") {
                    Some((title, detail)) => (title, Some(non_empty(no, "an observation's detail", detail)?)),
                    None => (rest, None),
                };
                let title = non_empty(no, "an observation's title", title)?;
                record.observations.push(ObservationInput { kind, title, detail });
            }
        }
    }
    Ok(record)
}

/// What a written proof record came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOutcome {
    pub document_id: String,
    pub slug: String,
    pub change: super::Change,
    pub published: bool,
    pub public: bool,
}

impl ProofOutcome {
    pub(crate) fn audit_action(&self) -> &'static str {
        match (self.change, self.published) {
            (super::Change::Created, false) => "importProofRecord",
            (super::Change::Created, true) => "importAndPublishProofRecord",
            (_, false) => "reimportProofRecord",
            (_, true) => "reimportAndPublishProofRecord",
        }
    }
}

fn at_line(line: usize, message: impl Into<String>) -> ServiceError {
    ServiceError::bad_input(format!("line {line}"), message)
}

/// Stores `record` as the draft of the proof record paired with its article (and publishes it and its
/// snippets with `publish`); `author` names the writer in revisions. Call inside a transaction: an error
/// leaves the caller to roll the file back whole. Snippets already on the record with the same channel and
/// text are kept, not duplicated.
pub(crate) async fn write(
    db: &impl ConnectionTrait,
    record: ParsedProofRecord,
    publish: bool,
    author: &str,
) -> Result<ProofOutcome> {
    let article = staged::by_slug::<Articles>(db, Visibility::Preview, &record.article).await?.ok_or_else(|| {
        at_line(record.article_line, format!("no article has the slug {:?}; import its page first", record.article))
    })?;
    let existing = staged::by_slug::<ProofRecords>(db, Visibility::Preview, &record.article).await?;
    let paired = match (&article.proof_record_document_id, &existing) {
        (Some(id), Some(row)) => *id == row.document_id,
        _ => false,
    };
    if !paired {
        return Err(at_line(
            record.article_line,
            format!(
                "the article {:?} is not paired with a proof record of its slug; end its page with \"Next: review \
                 the paired Proof record\" and import the page first",
                record.article
            ),
        ));
    }
    for frame in &record.frames {
        for slug in &frame.channels {
            if catalog::channel_by_slug(db, slug).await?.is_none() {
                return Err(at_line(frame.line, format!("unknown reuse channel {slug:?} in the frame's channels:")));
            }
        }
    }
    for slug in &record.channels {
        if catalog::channel_by_slug(db, slug).await?.is_none() {
            return Err(at_line(record.channels_line, format!("unknown reuse channel {slug:?}")));
        }
    }
    let mut channels = Vec::new();
    for s in &record.snippets {
        let channel = catalog::channel_by_slug(db, &s.channel)
            .await?
            .ok_or_else(|| at_line(s.line, format!("unknown reuse channel {:?}", s.channel)))?;
        snippet::check_fits(&channel, &s.body, s.credit.as_deref()).map_err(|e| at_line(s.line, e.to_string()))?;
        channels.push(channel);
    }
    let draft = ProofRecordDraft {
        slug: record.article.clone(),
        title: record.title.unwrap_or_else(|| article.title.clone()),
        client: record.client,
        deliverable: record.deliverable,
        problem_solved: record.problem_solved,
        summary: record.summary,
        captured_on: record.captured_on,
        location: record.location,
        observations: record.observations,
        assets: record
            .frames
            .into_iter()
            .map(|f| AssetInput { release_channels: f.channels, release_expires_at: f.expires, ..f.asset })
            .collect(),
        channels: record.channels,
    };
    proof_record::validate(&draft)?;
    let current = match &existing {
        Some(row) => proof_record::load_draft(db, &row.document_id).await?.map(|(_, d)| d),
        None => None,
    };
    // Channels are read back in the channels' own order: which ones, not their order, is the content.
    let sorted = |d: &ProofRecordDraft| {
        let mut d = d.clone();
        d.channels.sort();
        d
    };
    let mut changed = current.as_ref().map(sorted) != Some(sorted(&draft));
    let existed = existing.is_some();
    let row = if changed {
        proof_record::save_draft(db, draft, author).await?
    } else {
        existing.ok_or_else(|| ServiceError::Database(sea_orm::DbErr::RecordNotFound("proof record".into())))?
    };
    if publish {
        staged::copy_to_published::<ProofRecords>(db, &row.document_id).await?;
        crate::service::events::published_by_import::<ProofRecords>(db, std::slice::from_ref(&row.document_id)).await?;
    }
    let document_id = row.document_id.clone();
    let old = snippet::of_proof_records(db, Visibility::Preview, std::slice::from_ref(&document_id))
        .await?
        .remove(&document_id)
        .unwrap_or_default();
    for (s, channel) in record.snippets.into_iter().zip(channels) {
        let kept = old.iter().find(|o| o.channel_id == channel.id && o.body == s.body);
        let snippet_id = match kept {
            Some(o) => o.document_id.clone(),
            None => {
                changed = true;
                let draft = SnippetDraft {
                    proof_record_document_id: document_id.clone(),
                    article_document_id: Some(article.document_id.clone()),
                    channel: s.channel,
                    body: s.body,
                    credit: s.credit,
                    ..Default::default()
                };
                snippet::create_draft(db, draft).await?.document_id
            }
        };
        if publish && !s.draft {
            staged::copy_to_published::<Snippets>(db, &snippet_id).await?;
            crate::service::events::published_by_import::<Snippets>(db, std::slice::from_ref(&snippet_id)).await?;
        }
    }
    let change = match (existed, changed || publish) {
        (false, _) => super::Change::Created,
        (true, true) => super::Change::Updated,
        (true, false) => super::Change::Unchanged,
    };
    let public =
        publish || staged::by_document_id::<ProofRecords>(db, Visibility::Public, &document_id).await?.is_some();
    Ok(ProofOutcome { document_id, slug: row.slug, change, published: publish, public })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../demo/behind-the-scenes-production-as-brand-proof.proof.txt");

    #[test]
    fn parses_the_demo_record() {
        assert!(is_proof_record(DEMO));
        let record = parse_proof_record(DEMO).expect("the demo record parses");
        assert_eq!(record.article, "behind-the-scenes-production-as-brand-proof");
        assert_eq!(record.client.as_deref(), Some("Northwind Coffee Roasters (demo)"));
        assert_eq!(record.captured_on, NaiveDate::from_ymd_opt(2026, 3, 14));
        assert_eq!(record.channels.len(), 6);
        assert_eq!(record.observations.len(), 8);
        assert_eq!(record.observations[2].kind, ObservationKind::Constraint);
        assert_eq!(record.frames.len(), 7);
        assert!(record.frames[0].expires.is_some(), "the roaster's release expires");
        assert_eq!(record.frames[6].channels, ["case-studies"]);
        let hiring = record.snippets.iter().find(|s| s.channel == "hiring-materials").expect("a hiring snippet");
        assert!(hiring.credit.is_some(), "hiring materials need a credit line");
        let sixth = &record.frames[5].asset;
        assert_eq!(sixth.kind, AssetKind::Video);
        assert_eq!(sixth.release, ReleaseStatus::Cleared);
        assert_eq!(sixth.shows, [ObservationKind::Rhythm, ObservationKind::Equipment]);
        assert_eq!(sixth.alt, sixth.caption);
        assert_eq!(record.frames[1].asset.release, ReleaseStatus::NotRequired);
        assert_eq!(record.snippets.len(), 7);
        assert!(record.snippets[6].draft && !record.snippets[0].draft);
    }

    #[test]
    fn the_documented_records_parse() {
        let doc = include_str!("../../docs/proof-record-format.md");
        let records: Vec<&str> = doc.split("```text\n").skip(1).filter_map(|b| b.split("```").next()).collect();
        let full: Vec<&&str> = records.iter().filter(|b| is_proof_record(b)).collect();
        assert!(!full.is_empty());
        for text in full {
            let record = parse_proof_record(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(record.frames[0].asset.release, ReleaseStatus::Cleared);
        }
    }

    #[test]
    fn pages_are_not_proof_records() {
        assert!(!is_proof_record(include_str!("../../demo/behind-the-scenes-production-as-brand-proof.txt")));
        assert!(is_proof_record("\u{feff}\n  --- Proof Record  \n"));
    }

    #[test]
    fn frames_read_channels_and_expiry() {
        let text = "--- proof record\narticle: a\n---\nframe: https://x.test/1.jpg | channels: social-posts, \
                    case-studies | expires: 2027-01-31 | release: cleared\n";
        let frame = &parse_proof_record(text).unwrap().frames[0];
        assert_eq!(frame.channels, ["social-posts", "case-studies"]);
        assert_eq!(frame.expires.map(|t| t.to_rfc3339()).as_deref(), Some("2027-01-31T00:00:00+00:00"));
        assert_eq!(frame.asset.release, ReleaseStatus::Cleared);
        let defaults = &parse_proof_record("--- proof record\narticle: a\n---\nframe: https://x.test/2.jpg\n").unwrap();
        assert_eq!(defaults.frames[0].asset.release, ReleaseStatus::Pending);
    }

    #[test]
    fn errors_name_the_line() {
        let head = "--- proof record\narticle: a\n---\n";
        let cases = [
            (String::new(), 1, "empty"),
            ("Title is a page.\n".to_string(), 1, "must start with"),
            ("--- proof record\narticle: a\n".to_string(), 2, "must end with"),
            ("--- proof record\nclient: x\n---\n".to_string(), 1, "must name the article"),
            ("--- proof record\narticle: Not A Slug\n---\n".to_string(), 2, "slug"),
            ("--- proof record\narticle: a\nclient: x\nclient: y\n---\n".to_string(), 4, "twice"),
            ("--- proof record\narticle: a\nbudget: 3\n---\n".to_string(), 3, "unknown field"),
            ("--- proof record\narticle: a\ncaptured: March\n---\n".to_string(), 3, "not a date"),
            ("--- proof record\narticle: a\nslug: b\n---\n".to_string(), 3, "shares its article's slug"),
            (format!("{head}\n# a comment\nweather: rain\n"), 6, "not a line kind"),
            (format!("{head}constraint: \n"), 4, "title must not be empty"),
            (format!("{head}people: A | B\nframe: ftp://x\n"), 5, "http"),
            (format!("{head}frame: https://x.test/a.jpg | width: -3\n"), 4, "above 0"),
            (format!("{head}frame: https://x.test/a.jpg | release: maybe\n"), 4, "release"),
            (format!("{head}frame: https://x.test/a.jpg | shows: weather\n"), 4, "shows"),
            (format!("{head}frame: https://x.test/a.jpg | colour: red\n"), 4, "unknown frame field"),
            (format!("{head}frame: https://x.test/a.jpg | expires: soon\n"), 4, "expires"),
            (format!("{head}snippet: social-posts\n"), 4, "CHANNEL | text"),
            (format!("{head}just words\n"), 4, "not an observation"),
        ];
        for (text, line, needle) in cases {
            let e = parse_proof_record(&text).expect_err(&text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }
}
