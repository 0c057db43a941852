//! Full-text search behind one interface: FTS5 (bm25) on SQLite, a weighted tsvector (ts_rank) on PostgreSQL.
//! `search_documents` holds one text per staged row; triggers (SQLite) or a generated column (PostgreSQL) keep the index.

use entity::{article, article_section, observation, proof_record, question, search_document};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Set, Statement};

use super::{Result, ServiceError, Visibility};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Article,
    ProofRecord,
    Question,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::ProofRecord => "proof_record",
            Kind::Question => "question",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Article => "articles",
            Kind::ProofRecord => "proof_records",
            Kind::Question => "questions",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::Article, Kind::ProofRecord, Kind::Question].into_iter().find(|k| k.as_str() == s)
    }
}

pub const MAX_HITS: i32 = 100;

/// Matches a search ranks: the most recently indexed ones of the stage. Ranking every match of a word in
/// most documents reads most of the index (seconds at 100,000 articles), and each candidate costs a few
/// microseconds (its document row and its bm25), so this bounds a search's work whatever its words; a query
/// with fewer matches is ranked over all of them, as before.
pub const RANKED_CANDIDATES: usize = 200;

/// Among equally good matches, the page itself beats its proof record, which beats one of its questions.
const KIND_WEIGHT: &str = "CASE kind WHEN 'article' THEN 2.0 WHEN 'proof_record' THEN 1.5 ELSE 1.0 END";

/// Words of the user's query, stripped of every operator character so no input can break the index's syntax.
fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .take(MAX_TERMS)
        .collect()
}

/// Words a query may use: each more word is one more pass over the index.
const MAX_TERMS: usize = 8;

/// Shorter words match whole words only: a one- or two-letter prefix ("e*") matches nearly every document
/// and costs a pass over most of the index, for a query nobody means.
const MIN_PREFIX_CHARS: usize = 3;

/// Full-text statements running at once in this process. They are the CPU-heaviest reads; past this many,
/// further ones wait their turn (within their request's time budget) so the rest of the site keeps a core.
const FULL_TEXT_AT_ONCE: usize = 2;

/// A turn to run a full-text statement; hold it while the statement runs.
pub async fn full_text_turn() -> Option<tokio::sync::OwnedSemaphorePermit> {
    static SLOTS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(FULL_TEXT_AT_ONCE)));
    SLOTS.clone().acquire_owned().await.ok()
}

/// Checks a list's text filter (see [`check_text_filter`]) and, when there is one, waits for a
/// [`full_text_turn`], to be held while the list's statement runs.
pub async fn text_filter_turn(field: &str, text: Option<&str>) -> Result<Option<tokio::sync::OwnedSemaphorePermit>> {
    check_text_filter(field, text)?;
    Ok(match text {
        Some(t) if !t.trim().is_empty() => full_text_turn().await,
        _ => None,
    })
}

/// A text filter must name at least one word: "*" would otherwise match nothing to filter on and be
/// silently ignored. Blank text means no filter.
pub fn check_text_filter(field: &str, text: Option<&str>) -> Result<()> {
    match text {
        Some(t) if !t.trim().is_empty() && terms(t).is_empty() => Err(ServiceError::bad_input(
            field,
            format!("{t:?} has no words to match; use letters or digits (operators are ignored)"),
        )),
        _ => Ok(()),
    }
}

/// Every word must match; words of [`MIN_PREFIX_CHARS`] or more as a prefix (`proof` finds "proofs").
fn match_expression(backend: DbBackend, terms: &[String]) -> String {
    let prefix = |t: &String| t.chars().count() >= MIN_PREFIX_CHARS;
    match backend {
        DbBackend::Postgres => {
            terms.iter().map(|t| if prefix(t) { format!("{t}:*") } else { t.clone() }).collect::<Vec<_>>().join(" & ")
        }
        _ => terms
            .iter()
            .map(|t| if prefix(t) { format!("\"{t}\"*") } else { format!("\"{t}\"") })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A WHERE condition: the row of `kind`'s table is among the rows whose text matches `text`.
pub fn row_matches(backend: DbBackend, kind: Kind, text: &str) -> SimpleExpr {
    let terms = terms(text);
    if terms.is_empty() {
        return Expr::cust("1 = 1");
    }
    let expr = match_expression(backend, &terms);
    let column = format!("\"{}\".\"id\"", kind.table());
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            format!(
                "{column} IN (SELECT row_id FROM search_documents WHERE kind = '{}' AND tsv @@ to_tsquery('english', $1))",
                kind.as_str()
            ),
            [expr],
        ),
        _ => Expr::cust_with_values(
            format!(
                // CROSS JOIN keeps the index scan outside: SQLite otherwise probes `search_fts` once per document
                // row, re-running the MATCH each time (quadratic in the table; 25 s at 2,000 articles for "e").
                "{column} IN (SELECT d.row_id FROM search_fts CROSS JOIN search_documents d ON d.id = search_fts.rowid \
                 WHERE search_fts MATCH ? AND d.kind = '{}')",
                kind.as_str()
            ),
            [expr],
        ),
    }
}

#[derive(Debug, FromQueryResult)]
struct HitRow {
    kind: String,
    row_id: i32,
}

/// Ranked (kind, row id) pairs visible to `visibility`, best first.
pub async fn hits(
    db: &impl ConnectionTrait,
    visibility: Visibility,
    text: &str,
    first: i32,
) -> Result<Vec<(Kind, i32)>> {
    if !(1..=MAX_HITS).contains(&first) {
        return Err(ServiceError::bad_input("first", format!("must be between 1 and {MAX_HITS} (got {first})")));
    }
    let terms = terms(text);
    if terms.is_empty() {
        return Err(ServiceError::bad_input("query", "must contain at least one word"));
    }
    let _full_text = full_text_turn().await;
    let backend = db.get_database_backend();
    let expr = match_expression(backend, &terms);
    let stage: String = match visibility.stage() {
        entity::Stage::Draft => "draft".into(),
        entity::Stage::Published => "published".into(),
    };
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT kind, row_id FROM (SELECT id, kind, row_id, ts_rank(tsv, q) AS score \
             FROM search_documents, to_tsquery('english', $1) q WHERE tsv @@ q AND stage = $2 \
             ORDER BY id DESC LIMIT {RANKED_CANDIDATES}) c ORDER BY score * {KIND_WEIGHT} DESC, id LIMIT $3"
            ),
            [expr.into(), stage.into(), first.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            format!(
                // The index yields matches newest first, so the LIMIT stops the scan after the candidates
                // (bm25 is computed for those alone); the stage filter comes before it, so drafts never crowd
                // out published matches.
                "SELECT kind, row_id FROM (SELECT d.id AS id, d.kind AS kind, d.row_id AS row_id, \
             bm25(search_fts, 10.0, 1.0) AS score FROM search_fts CROSS JOIN search_documents d ON d.id = search_fts.rowid \
             WHERE search_fts MATCH ? AND d.stage = ? ORDER BY search_fts.rowid DESC LIMIT {RANKED_CANDIDATES}) \
             ORDER BY score * {KIND_WEIGHT}, id LIMIT ?"
            ),
            [expr.into(), stage.into(), first.into()],
        ),
    };
    let rows = HitRow::find_by_statement(stmt).all(db).await?;
    Ok(rows.into_iter().filter_map(|r| Kind::parse(&r.kind).map(|k| (k, r.row_id))).collect())
}

pub async fn remove(db: &impl ConnectionTrait, kind: Kind, row_ids: &[i32]) -> Result<()> {
    if row_ids.is_empty() {
        return Ok(());
    }
    search_document::Entity::delete_many()
        .filter(search_document::Column::Kind.eq(kind.as_str()))
        .filter(search_document::Column::RowId.is_in(row_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

fn doc(kind: Kind, stage: entity::Stage, row_id: i32, title: &str, body: String) -> search_document::ActiveModel {
    search_document::ActiveModel {
        kind: Set(kind.as_str().to_string()),
        stage: Set(stage),
        row_id: Set(row_id),
        title: Set(title.to_string()),
        body: Set(body),
        ..Default::default()
    }
}

fn joined<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

/// The index entries of an article row: one for the page, one per question.
pub fn article_documents(
    row: &article::Model,
    sections: &[article_section::Model],
    questions: &[question::Model],
) -> Vec<search_document::ActiveModel> {
    let mut body_parts = vec![
        row.thesis.as_deref(),
        row.point.as_deref(),
        row.audience_summary.as_deref(),
        row.real_problem.as_deref(),
        row.record_matters.as_deref(),
        row.smarter_question.as_deref(),
        row.proves.as_deref(),
    ];
    for s in sections {
        body_parts.push(Some(&s.heading));
        body_parts.push(Some(&s.body));
    }
    let mut docs = vec![doc(Kind::Article, row.stage, row.id, &row.title, joined(body_parts))];
    docs.extend(questions.iter().map(|q| doc(Kind::Question, row.stage, q.id, &q.question, q.answer.clone())));
    docs
}

pub async fn insert_documents(db: &impl ConnectionTrait, docs: Vec<search_document::ActiveModel>) -> Result<()> {
    super::bulk::insert(db, docs).await
}

/// The index entry of a proof record row.
pub fn proof_record_document(
    row: &proof_record::Model,
    observations: &[observation::Model],
) -> search_document::ActiveModel {
    let mut body_parts = vec![
        row.client.as_deref(),
        row.deliverable.as_deref(),
        row.problem_solved.as_deref(),
        row.summary.as_deref(),
        row.location.as_deref(),
    ];
    for o in observations {
        body_parts.push(Some(&o.title));
        body_parts.push(o.detail.as_deref());
    }
    doc(Kind::ProofRecord, row.stage, row.id, &row.title, joined(body_parts))
}
