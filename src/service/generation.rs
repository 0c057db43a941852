//! The content generation: a counter in the database bumped by every content write, plus a
//! process-local count of writes, together telling a response cache whether an entry is current.

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use super::Result;

static LOCAL_WRITES: AtomicU64 = AtomicU64::new(0);

/// The poll statement, recognisable so statement counters can leave it out.
pub const POLL_SQL: &str = "SELECT generation FROM content_generation WHERE id = 1";

/// The PostgreSQL notification channel a write announces its new generation on (delivered at commit).
pub const CHANNEL: &str = "backlot_content";

/// Called inside each write transaction. On PostgreSQL the same statement notifies the listening
/// processes, at commit and only then.
pub async fn bump(db: &impl ConnectionTrait) -> Result<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => concat!(
            "WITH bumped AS (UPDATE content_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation) ",
            "SELECT pg_notify('backlot_content', generation::text) FROM bumped"
        ),
        _ => "UPDATE content_generation SET generation = generation + 1 WHERE id = 1",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

/// Called after a write transaction commits: this process's caches go stale at once, without waiting to poll.
pub fn note_local_write() {
    LOCAL_WRITES.fetch_add(1, Ordering::SeqCst);
}

pub fn local_writes() -> u64 {
    LOCAL_WRITES.load(Ordering::SeqCst)
}

#[derive(FromQueryResult)]
struct Row {
    generation: i64,
}

/// The database's generation, which every process's writes advance.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64> {
    let stmt = Statement::from_string(
        match db.get_database_backend() {
            DbBackend::Postgres => DbBackend::Postgres,
            _ => DbBackend::Sqlite,
        },
        POLL_SQL,
    );
    Ok(Row::find_by_statement(stmt).one(db).await?.map_or(0, |r| r.generation))
}
