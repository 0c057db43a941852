//! The export/import bundle (docs/bundle-format.md): every content row as NDJSON, one line per row.
//!
//! Rows are read through the sea-orm entity models and written from their typed values, so a SQLite and a
//! PostgreSQL database with the same content give byte-identical bundles. Export reads in keyset pages;
//! import validates the whole bundle in one pass before a second pass writes it in one transaction.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use entity::{
    article, article_link, article_section, asset, asset_channel, audit_entry, collection, observation, proof_record,
    proof_record_channel, proof_snippet, question, reuse_channel, revision, search_document,
};
use migration::MigratorTrait;
use sea_orm::sea_query::{ColumnType, ExprTrait, Value};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PaginatorTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde_json::{Map, Value as Json};

use super::{ServiceError, bulk, generation, search};

/// The `format` every bundle's header names.
pub const FORMAT: &str = "backlot-bundle";
/// The bundle format version this build writes and the newest it reads.
pub const VERSION: u64 = 1;
/// Rows read per query on export and inserted per batch on import.
const PAGE: u64 = 1000;

/// Calls `$each!` with every table the bundle carries, in bundle order, each with its entity: the one list
/// the validation, export and restore passes share.
macro_rules! for_each_table {
    ($each:ident) => {
        $each!(
            "collections" => collection::Entity,
            "reuse_channels" => reuse_channel::Entity,
            "articles" => article::Entity,
            "article_sections" => article_section::Entity,
            "questions" => question::Entity,
            "article_links" => article_link::Entity,
            "proof_records" => proof_record::Entity,
            "observations" => observation::Entity,
            "assets" => asset::Entity,
            "asset_channels" => asset_channel::Entity,
            "proof_record_channels" => proof_record_channel::Entity,
            "proof_snippets" => proof_snippet::Entity,
            "revisions" => revision::Entity,
            "audit_log" => audit_entry::Entity,
        )
    };
}

macro_rules! table_names {
    ($($name:literal => $entity:ty),* $(,)?) => {
        [$($name),*]
    };
}

/// The tables a bundle carries, in the order they are written and restored: parents before children.
pub const TABLES: [&str; 14] = for_each_table!(table_names);

/// Tables deliberately left out of a bundle, and why. A table in neither list fails `tests/bundle.rs`.
pub const EXCLUDED: [(&str, &str); 9] = [
    ("api_tokens", "credentials: create new tokens on the target"),
    ("webhooks", "credentials (signing secrets): create new webhooks on the target"),
    ("webhook_events", "delivery state of this installation's webhooks"),
    ("webhook_deliveries", "delivery state of this installation's webhooks"),
    ("webhook_attempts", "delivery state of this installation's webhooks"),
    ("search_documents", "derived: rebuilt from the content on import"),
    ("content_generation", "a cache counter: bumped on import"),
    ("content_changes", "what recent writes changed, for caches: an import changes everything"),
    ("seaql_migrations", "the schema: the header names the last migration"),
];

/// Foreign keys a bundle must resolve within itself: (table, column, parent table).
const FOREIGN_KEYS: [(&str, &str, &str); 11] = [
    ("articles", "collection_id", "collections"),
    ("article_sections", "article_id", "articles"),
    ("questions", "article_id", "articles"),
    ("article_links", "article_id", "articles"),
    ("observations", "proof_record_id", "proof_records"),
    ("assets", "proof_record_id", "proof_records"),
    ("asset_channels", "asset_id", "assets"),
    ("asset_channels", "channel_id", "reuse_channels"),
    ("proof_record_channels", "proof_record_id", "proof_records"),
    ("proof_record_channels", "channel_id", "reuse_channels"),
    ("proof_snippets", "channel_id", "reuse_channels"),
];

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle is malformed; `line` is 1-based.
    #[error("line {line}: {message}")]
    Invalid { line: usize, message: String },
    #[error("{0}")]
    NotEmpty(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for BundleError {
    fn from(e: sea_orm::DbErr) -> Self {
        BundleError::Service(ServiceError::Database(e))
    }
}

pub type Result<T, E = BundleError> = std::result::Result<T, E>;

fn invalid(line: usize, message: impl Into<String>) -> BundleError {
    BundleError::Invalid { line, message: message.into() }
}

fn io(e: std::io::Error) -> BundleError {
    BundleError::Io(e.to_string())
}

/// The name of the newest migration this build knows: the schema its bundles describe.
pub fn schema_name() -> String {
    migration::Migrator::migrations().last().map(|m| m.name().to_string()).unwrap_or_default()
}

/// Rows per table, in [`TABLES`] order.
#[derive(Debug, Default, Clone)]
pub struct Counts(pub Vec<(&'static str, u64)>);

impl Counts {
    fn add(&mut self, table: &'static str, n: u64) {
        match self.0.iter_mut().find(|(t, _)| *t == table) {
            Some((_, c)) => *c += n,
            None => self.0.push((table, n)),
        }
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(t, n)| format!("{t} {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Values: one JSON form per column type, whatever the backend.

fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn value_to_json(value: Value) -> std::result::Result<Json, String> {
    Ok(match value {
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::TinyInt(v) => v.map_or(Json::Null, Json::from),
        Value::SmallInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::Json(v) => v.map_or(Json::Null, |j| *j),
        Value::ChronoDate(v) => v.map_or(Json::Null, |d| Json::from(d.format("%Y-%m-%d").to_string())),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |t| Json::from(timestamp(&t))),
        other => return Err(format!("unsupported column value {other:?}")),
    })
}

/// The typed value of `json` for a column of `column_type`; `Err` names what was expected.
fn json_to_value(column_type: &ColumnType, json: &Json) -> std::result::Result<Value, String> {
    let null = json.is_null();
    Ok(match column_type {
        ColumnType::Integer => Value::Int(if null {
            None
        } else {
            Some(json.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or("expected a 32-bit integer")?)
        }),
        ColumnType::BigInteger => {
            Value::BigInt(if null { None } else { Some(json.as_i64().ok_or("expected an integer")?) })
        }
        ColumnType::Boolean => Value::Bool(if null { None } else { Some(json.as_bool().ok_or("expected a boolean")?) }),
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) | ColumnType::Enum { .. } => {
            Value::String(if null {
                None
            } else {
                let text = json.as_str().ok_or("expected a string")?;
                // What one backend would store and the other refuse: the bundle must restore on both.
                if text.contains('\0') {
                    return Err("contains a NUL character, which PostgreSQL cannot store".into());
                }
                if let ColumnType::String(sea_orm::sea_query::StringLen::N(max)) = column_type
                    && text.chars().count() > *max as usize
                {
                    return Err(format!("is longer than the column's {max} characters"));
                }
                Some(text.to_string())
            })
        }
        ColumnType::Json | ColumnType::JsonBinary => {
            Value::Json(if null { None } else { Some(Box::new(json.clone())) })
        }
        ColumnType::Date => Value::ChronoDate(if null {
            None
        } else {
            let text = json.as_str().ok_or("expected a date (YYYY-MM-DD)")?;
            Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "expected a date (YYYY-MM-DD)")?)
        }),
        ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
            Value::ChronoDateTimeUtc(if null {
                None
            } else {
                let text = json.as_str().ok_or("expected an RFC 3339 timestamp")?;
                let at = DateTime::parse_from_rfc3339(text)
                    .map_err(|_| "expected an RFC 3339 timestamp")?
                    .with_timezone(&Utc);
                super::check_time("timestamp", Some(at)).map_err(|_| "must lie in the years 1 to 9999")?;
                Some(at)
            })
        }
        other => return Err(format!("unsupported column type {other:?}")),
    })
}

// ---------------------------------------------------------------------------------------------------------
// Per-table operations, generic over the entity.

fn id_column<E: EntityTrait>() -> Result<E::Column> {
    E::PrimaryKey::iter()
        .next()
        .map(|k| k.into_column())
        .ok_or_else(|| BundleError::Io("table without a primary key".into()))
}

/// `{"table":"...","row":{...}}` with the row's columns in the entity's (schema) order.
fn row_line<E: EntityTrait>(table: &str, model: &E::Model) -> std::result::Result<String, String>
where
    E::Model: ModelTrait<Entity = E>,
{
    let mut line = format!("{{\"table\":{},\"row\":{{", Json::from(table));
    for (i, column) in E::Column::iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&Json::from(column.as_str()).to_string());
        line.push(':');
        line.push_str(&value_to_json(model.get(column))?.to_string());
    }
    line.push_str("}}");
    Ok(line)
}

/// Writes every row of `E` in id order, a page per query; returns the rows written.
async fn export_table<E, W>(
    db: &impl ConnectionTrait,
    table: &'static str,
    out: &mut W,
    progress: &mut dyn FnMut(&'static str, u64, u64),
    bytes: &mut u64,
) -> Result<u64>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    W: Write,
{
    let id = id_column::<E>()?;
    let mut last: Option<i32> = None;
    let mut rows = 0u64;
    loop {
        let mut query = E::find().order_by_asc(id).limit(PAGE);
        if let Some(last) = last {
            query = query.filter(id.gt(last));
        }
        let page = query.all(db).await?;
        let Some(tail) = page.last() else { break };
        last = match tail.get(id) {
            Value::Int(Some(n)) => Some(n),
            other => return Err(BundleError::Io(format!("{table}: unexpected id {other:?}"))),
        };
        for model in &page {
            let line = row_line::<E>(table, model).map_err(|m| BundleError::Io(format!("{table}: {m}")))?;
            out.write_all(line.as_bytes()).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
            *bytes += line.len() as u64 + 1;
        }
        rows += page.len() as u64;
        progress(table, rows, *bytes);
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    Ok(rows)
}

/// The row decoded into `E`'s active model, every column set; `Err` says which column is wrong.
fn decode<E: EntityTrait>(row: &Map<String, Json>) -> std::result::Result<E::ActiveModel, String>
where
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    let mut active = <E::ActiveModel as ActiveModelTrait>::default();
    let mut known = 0;
    for column in E::Column::iter() {
        let name = column.as_str();
        let json = row.get(name).ok_or_else(|| format!("missing column {name:?}"))?;
        known += 1;
        let value = json_to_value(column.def().get_column_type(), json).map_err(|m| format!("{name}: {m}"))?;
        active.try_set(column, value).map_err(|_| {
            if json.is_null() { format!("{name}: must not be null") } else { format!("{name}: invalid value {json}") }
        })?;
    }
    if known != row.len() {
        let unknown = row.keys().find(|k| !E::Column::iter().any(|c| c.as_str() == k.as_str()));
        return Err(format!("unknown column {:?}", unknown.map_or("", |k| k.as_str())));
    }
    Ok(active)
}

/// Rules the application keeps that the column types alone do not: a bundle must not restore content the
/// API could never have written.
fn check_rules(table: &str, row: &Map<String, Json>) -> std::result::Result<(), String> {
    for column in ["slug", "target_slug"] {
        if let Some(slug) = row.get(column).and_then(Json::as_str) {
            super::article::validate_slug(column, slug).map_err(|e| e.to_string())?;
        }
    }
    if row.get("version").and_then(Json::as_i64).is_some_and(|v| v < 1) {
        return Err("version: must be 1 or more".into());
    }
    if row.get("stage").and_then(Json::as_str) == Some("published")
        && row.get("status").and_then(Json::as_str).is_some_and(|s| s != "PUBLISHED")
    {
        return Err("status: a row of the published stage must be PUBLISHED".into());
    }
    if table == "revisions"
        && let Some(content) = row.get("content").and_then(Json::as_str)
        && serde_json::from_str::<Json>(content).is_err()
    {
        return Err("content: is not JSON (a revision's content is the document as JSON)".into());
    }
    Ok(())
}

/// Decodes a row of `table` without keeping it: the validation pass.
fn check_row(table: &str, row: &Map<String, Json>) -> std::result::Result<(), String> {
    check_rules(table, row)?;
    macro_rules! check {
        ($($name:literal => $entity:ty),* $(,)?) => {
            match table {
                $($name => decode::<$entity>(row).map(|_| ()),)*
                other => Err(format!("unknown table {other:?}")),
            }
        };
    }
    for_each_table!(check)
}

/// Rows of one table waiting to be inserted together.
struct Pending {
    table: &'static str,
    rows: Vec<Map<String, Json>>,
}

async fn insert_rows<E>(db: &impl ConnectionTrait, rows: &[Map<String, Json>]) -> Result<()>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut active = Vec::with_capacity(rows.len());
    for row in rows {
        // Validated in the first pass; a failure here means the file changed in between.
        active.push(decode::<E>(row).map_err(|m| BundleError::Io(format!("bundle changed while importing: {m}")))?);
    }
    bulk::insert(db, active).await?;
    Ok(())
}

async fn flush(db: &impl ConnectionTrait, pending: &mut Pending) -> Result<()> {
    if pending.rows.is_empty() {
        return Ok(());
    }
    let rows = std::mem::take(&mut pending.rows);
    macro_rules! insert {
        ($($name:literal => $entity:ty),* $(,)?) => {
            match pending.table {
                $($name => insert_rows::<$entity>(db, &rows).await,)*
                other => Err(BundleError::Io(format!("unknown table {other:?}"))),
            }
        };
    }
    for_each_table!(insert)
}

// ---------------------------------------------------------------------------------------------------------
// Export.

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub counts: Counts,
    pub bytes: u64,
}

/// Writes the bundle of the whole database to `out`: the header, then every row of [`TABLES`] in order.
/// `progress(table, rows of that table so far, bytes so far)` is called after each page.
pub async fn export<W: Write>(
    db: &sea_orm::DatabaseConnection,
    out: &mut W,
    progress: &mut dyn FnMut(&'static str, u64, u64),
) -> Result<ExportSummary> {
    // One snapshot for the whole export, so a write during it cannot leave a child without its parent.
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly))
                .await?
        }
        _ => db.begin().await?,
    };
    let header = format!(
        "{{\"format\":{},\"version\":{VERSION},\"schema\":{},\"exportedAt\":{}}}",
        Json::from(FORMAT),
        Json::from(schema_name()),
        Json::from(timestamp(&super::now()))
    );
    out.write_all(header.as_bytes()).map_err(io)?;
    out.write_all(b"\n").map_err(io)?;
    let mut summary = ExportSummary { bytes: header.len() as u64 + 1, ..Default::default() };
    for table in TABLES {
        let bytes = &mut summary.bytes;
        macro_rules! export {
            ($($name:literal => $entity:ty),* $(,)?) => {
                match table {
                    $($name => export_table::<$entity, W>(&txn, $name, out, progress, bytes).await?,)*
                    other => return Err(BundleError::Io(format!("unknown table {other:?}"))),
                }
            };
        }
        let rows = for_each_table!(export);
        summary.counts.add(table, rows);
    }
    // The end line lets an import tell a complete bundle from one cut short (a full disk, a killed export).
    let end = format!("{{\"end\":true,\"rows\":{}}}", summary.counts.total());
    out.write_all(end.as_bytes()).map_err(io)?;
    out.write_all(b"\n").map_err(io)?;
    summary.bytes += end.len() as u64 + 1;
    out.flush().map_err(io)?;
    txn.commit().await?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------------------
// Import.

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u64,
    schema: String,
    #[serde(rename = "exportedAt")]
    #[allow(dead_code)]
    exported_at: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    table: String,
    row: Map<String, Json>,
}

/// The longest line (one row) a bundle may hold. A real row is at most a page of text (a few hundred KB);
/// an unbounded line would be read whole into memory, and a huge value makes every read of its row huge.
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, line: usize) -> Result<Option<String>> {
    use std::io::Read;
    buf.clear();
    if reader.by_ref().take(MAX_LINE_BYTES + 1).read_until(b'\n', buf).map_err(io)? == 0 {
        return Ok(None);
    }
    if buf.len() as u64 > MAX_LINE_BYTES {
        return Err(invalid(line, format!("longer than {MAX_LINE_BYTES} bytes; no row of a bundle is that large")));
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    String::from_utf8(std::mem::take(buf)).map(Some).map_err(|_| invalid(line, "not valid UTF-8 text"))
}

fn parse_header(text: &str) -> Result<Header> {
    let header: Header = serde_json::from_str(text).map_err(|e| {
        invalid(1, format!("not a bundle header ({e}); expected {{\"format\":\"{FORMAT}\",\"version\":{VERSION},...}}"))
    })?;
    if header.format != FORMAT {
        return Err(invalid(1, format!("format is {:?}, not {FORMAT:?}", header.format)));
    }
    if header.version > VERSION {
        return Err(invalid(
            1,
            format!(
                "bundle format version {} is newer than this backlot reads (version {VERSION}); upgrade backlot",
                header.version
            ),
        ));
    }
    if header.version == 0 {
        return Err(invalid(1, "bundle format version 0 does not exist"));
    }
    let known: Vec<String> = migration::Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
    if !known.contains(&header.schema) {
        return Err(invalid(
            1,
            format!(
                "the bundle's schema {:?} is not one this backlot knows (its newest is {:?}); upgrade backlot",
                header.schema,
                schema_name()
            ),
        ));
    }
    Ok(header)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    end: bool,
    rows: u64,
}

/// A bundle line after the header: a row, or the end line with the number of rows before it.
enum Entry {
    Row(&'static str, Map<String, Json>),
    End(u64),
}

fn parse_line(text: &str, line: usize) -> Result<Entry> {
    if text.starts_with("{\"end\"") {
        let end: End = serde_json::from_str(text)
            .map_err(|e| invalid(line, format!("not an end line ({e}); expected {{\"end\":true,\"rows\":N}}")))?;
        if !end.end {
            return Err(invalid(line, "\"end\" must be true"));
        }
        return Ok(Entry::End(end.rows));
    }
    let parsed: Line = serde_json::from_str(text)
        .map_err(|e| invalid(line, format!("not a bundle row ({e}); expected {{\"table\":...,\"row\":{{...}}}}")))?;
    let table = TABLES
        .iter()
        .find(|t| **t == parsed.table)
        .ok_or_else(|| invalid(line, format!("unknown table {:?}", parsed.table)))?;
    Ok(Entry::Row(table, parsed.row))
}

/// What a valid bundle holds.
#[derive(Debug, Default)]
pub struct Validated {
    pub counts: Counts,
    pub lines: usize,
}

/// Checks the whole bundle without writing anything: the header, table order, every row decodes into its
/// table's model, ids increase within a table, and every foreign key names a row earlier in the bundle.
pub fn validate(reader: &mut impl BufRead) -> Result<Validated> {
    let mut buf = Vec::new();
    let header = read_line(reader, &mut buf, 1)?.ok_or_else(|| invalid(1, "the file is empty"))?;
    parse_header(&header)?;
    let mut ids: HashMap<&'static str, HashSet<i32>> = HashMap::new();
    let mut position = 0usize;
    let mut last_id: Option<i32> = None;
    let mut out = Validated { lines: 1, ..Default::default() };
    let mut line = 1;
    let mut ended = false;
    while let Some(text) = read_line(reader, &mut buf, line + 1)? {
        line += 1;
        if ended {
            return Err(invalid(line, "nothing may follow the end line"));
        }
        let (table, row) = match parse_line(&text, line)? {
            Entry::Row(table, row) => (table, row),
            Entry::End(rows) => {
                if rows != out.counts.total() {
                    return Err(invalid(
                        line,
                        format!("the end line counts {rows} rows but the bundle has {}", out.counts.total()),
                    ));
                }
                ended = true;
                out.lines = line;
                continue;
            }
        };
        let index = TABLES.iter().position(|t| *t == table).unwrap_or(0);
        if index < position {
            return Err(invalid(
                line,
                format!(
                    "{table} rows must come before {} rows (tables in the order {})",
                    TABLES[position],
                    TABLES.join(", ")
                ),
            ));
        }
        if index > position {
            position = index;
            last_id = None;
        }
        check_row(table, &row).map_err(|m| invalid(line, format!("{table}: {m}")))?;
        let id = row.get("id").and_then(Json::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
        if last_id.is_some_and(|last| id <= last) {
            return Err(invalid(line, format!("{table}: id {id} is not greater than the row before it")));
        }
        last_id = Some(id);
        for (child, column, parent) in FOREIGN_KEYS.iter() {
            if *child != table {
                continue;
            }
            if let Some(target) = row.get(*column).and_then(Json::as_i64) {
                let found = i32::try_from(target).ok().is_some_and(|t| ids.get(parent).is_some_and(|s| s.contains(&t)));
                if !found {
                    return Err(invalid(
                        line,
                        format!("{table}.{column} = {target}: no {parent} row with that id in the bundle"),
                    ));
                }
            }
        }
        // Only parents' ids are needed for the checks; children's would only cost memory.
        if FOREIGN_KEYS.iter().any(|(_, _, parent)| *parent == table) {
            ids.entry(table).or_default().insert(id);
        }
        out.counts.add(table, 1);
        out.lines = line;
    }
    if !ended {
        return Err(invalid(line + 1, "the bundle ends without its end line: it was cut short (export it again)"));
    }
    Ok(out)
}

/// Why the database is not empty, or `None` when a bundle may be restored into it. The six reuse channels
/// every migration creates do not count (the bundle's replace them) unless one was edited or added.
pub async fn non_empty(db: &impl ConnectionTrait) -> Result<Option<String>> {
    let mut found = Vec::new();
    for table in TABLES {
        let count = match table {
            "reuse_channels" => {
                reuse_channel::Entity::find()
                    .filter(reuse_channel::Column::Version.ne(1).or(reuse_channel::Column::Id.gt(6)))
                    .count(db)
                    .await?
            }
            _ => count_rows(db, table).await?,
        };
        if count > 0 {
            found.push(format!("{table} has {count} row(s)"));
        }
    }
    Ok((!found.is_empty()).then(|| found.join(", ")))
}

async fn count_rows(db: &impl ConnectionTrait, table: &str) -> Result<u64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM \"{table}\"")))
        .await?
        .ok_or_else(|| BundleError::Io(format!("no count for {table}")))?;
    let n: i64 = row.try_get("", "n")?;
    Ok(n as u64)
}

/// Restores a bundle [`validate`] accepted into an empty database, in one transaction: every row with its id,
/// then the id sequences (PostgreSQL), the search index, and the content generation.
/// `progress(table, rows of that table so far)` is called after each batch.
pub async fn restore(
    db: &sea_orm::DatabaseConnection,
    reader: &mut impl BufRead,
    progress: &mut dyn FnMut(&'static str, u64),
) -> Result<Counts> {
    let write = super::begin_write(db).await?;
    let txn: &sea_orm::DatabaseTransaction = &write;
    if let Some(why) = non_empty(txn).await? {
        return Err(BundleError::NotEmpty(why));
    }
    // The migration's default channels make way for the bundle's, which keep their own ids.
    reuse_channel::Entity::delete_many().exec(txn).await?;

    let mut buf = Vec::new();
    let header = read_line(reader, &mut buf, 1)?.ok_or_else(|| invalid(1, "the file is empty"))?;
    parse_header(&header)?;
    let mut counts = Counts::default();
    let mut pending = Pending { table: TABLES[0], rows: Vec::new() };
    let mut line = 1;
    while let Some(text) = read_line(reader, &mut buf, line + 1)? {
        line += 1;
        let (table, row) = match parse_line(&text, line)? {
            Entry::Row(table, row) => (table, row),
            Entry::End(_) => break,
        };
        if table != pending.table || pending.rows.len() as u64 >= PAGE {
            let done = pending.rows.len() as u64;
            let previous = pending.table;
            flush(txn, &mut pending).await?;
            if done > 0 {
                counts.add(previous, done);
                progress(previous, counts.0.iter().find(|(t, _)| *t == previous).map_or(0, |(_, n)| *n));
            }
            pending.table = table;
        }
        pending.rows.push(row);
    }
    let done = pending.rows.len() as u64;
    let previous = pending.table;
    flush(txn, &mut pending).await?;
    if done > 0 {
        counts.add(previous, done);
        progress(previous, counts.0.iter().find(|(t, _)| *t == previous).map_or(0, |(_, n)| *n));
    }

    if txn.get_database_backend() == DbBackend::Postgres {
        reset_sequences(txn).await?;
    }
    rebuild_search(txn).await?;
    generation::bump(txn, &super::changes::Changed::Everything).await?;
    write.commit().await?;
    generation::note_local_write(&super::changes::Changed::Everything);
    Ok(counts)
}

/// Rows were inserted with their ids, which leaves PostgreSQL's sequences behind; the next insert must not
/// collide with a restored row.
async fn reset_sequences(db: &impl ConnectionTrait) -> Result<()> {
    for table in TABLES {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \"{table}\""
        ))
        .await?;
    }
    Ok(())
}

/// Indexes every article (with its sections and questions) and proof record (with its observations) of
/// both stages, a page at a time, as the editing paths index them.
pub async fn rebuild_search(db: &impl ConnectionTrait) -> Result<()> {
    search_document::Entity::delete_many().exec(db).await?;
    let mut last = 0;
    loop {
        let rows = article::Entity::find()
            .filter(article::Column::Id.gt(last))
            .order_by_asc(article::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(tail) = rows.last() else { break };
        last = tail.id;
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let sections = super::article::sections_of(db, &ids).await?;
        let questions = super::article::questions_of(db, &ids).await?;
        let mut docs = Vec::new();
        for row in &rows {
            let sections = sections.get(&row.id).map_or(&[][..], Vec::as_slice);
            let questions = questions.get(&row.id).map_or(&[][..], Vec::as_slice);
            docs.extend(search::article_documents(row, sections, questions));
        }
        search::insert_documents(db, docs).await?;
    }
    let mut last = 0;
    loop {
        let rows = proof_record::Entity::find()
            .filter(proof_record::Column::Id.gt(last))
            .order_by_asc(proof_record::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(tail) = rows.last() else { break };
        last = tail.id;
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let observations = super::proof_record::observations_of(db, &ids).await?;
        let docs = rows
            .iter()
            .map(|row| search::proof_record_document(row, observations.get(&row.id).map_or(&[][..], Vec::as_slice)))
            .collect();
        search::insert_documents(db, docs).await?;
    }
    Ok(())
}

/// Every table the database has (the full-text index's own tables excepted), to hold against
/// [`TABLES`] and [`EXCLUDED`].
pub async fn database_tables(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'search_fts%' ORDER BY 1"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    let mut names = Vec::new();
    for row in rows {
        names.push(row.try_get::<String>("", "name")?);
    }
    Ok(names)
}
