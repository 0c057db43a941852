//! A time budget for every SQLite statement of a serving pool.
//!
//! sqlx runs SQLite statements on a worker thread per connection; dropping the request's future (a timeout,
//! a client that went away) does not stop a statement that is already running there. So each connection
//! gets a progress handler (called every few thousand VM instructions) that interrupts the statement once it
//! has run longer than the budget, and a trace hook that marks when each statement starts. PostgreSQL gets
//! the same budget from its own `statement_timeout`.

use std::ffi::{c_int, c_uint, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::SqliteConnection;

/// VM instructions between two looks at the clock: cheap (well under 1 % of a statement's work), and
/// frequent enough that an interrupt lands within a few milliseconds of the budget.
const CHECK_EVERY_OPS: i32 = 20_000;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since the process's epoch, never 0 (0 means "no statement started yet").
fn now_nanos() -> u64 {
    (epoch().elapsed().as_nanos() as u64).max(1)
}

/// SQLITE_TRACE_STMT: a statement (or a trigger program within it) starts running.
unsafe extern "C" fn statement_started(_event: c_uint, context: *mut c_void, _: *mut c_void, _: *mut c_void) -> c_int {
    // SAFETY: `context` is the `&'static AtomicU64` given to `sqlite3_trace_v2` in `install`.
    let started = unsafe { &*(context as *const AtomicU64) };
    started.store(now_nanos(), Ordering::Relaxed);
    0
}

/// Installs the budget on a freshly opened connection (the pool's `after_connect`).
pub async fn install(conn: &mut SqliteConnection, budget: Duration) -> Result<(), sea_orm::sqlx::Error> {
    // One word per connection for the process's lifetime: the trace hook may only point at memory that
    // outlives the connection, and pools open a handful of connections per hour at most.
    let started: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    let budget_nanos = budget.as_nanos() as u64;
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is a valid open connection, locked for the duration of this call; the callback
    // only stores to an atomic that lives for the rest of the process.
    unsafe {
        libsqlite3_sys::sqlite3_trace_v2(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_TRACE_STMT as c_uint,
            Some(statement_started),
            started as *const AtomicU64 as *mut c_void,
        );
    }
    handle.set_progress_handler(CHECK_EVERY_OPS, move || {
        let since = started.load(Ordering::Relaxed);
        // `false` interrupts the statement: it fails with SQLITE_INTERRUPT and its transaction rolls back.
        since == 0 || now_nanos().saturating_sub(since) <= budget_nanos
    });
    Ok(())
}

/// Whether a database error means the request ran out of time: a statement stopped by its budget (SQLite
/// interrupt, code 9, or PostgreSQL's `statement_timeout`, SQLSTATE 57014), a writer that waited out the busy
/// timeout, or no pooled connection free within the acquire timeout.
pub fn is_timeout(err: &sea_orm::DbErr) -> bool {
    matches!(err, sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout))
        || database_code(err).is_some_and(|code| code == "9" || code == "57014")
        || is_busy(err)
}

/// Whether a database error means the database was busy or locked by another writer (SQLite 5/6 and their
/// extended codes such as 517), after the busy timeout ran out.
pub fn is_busy(err: &sea_orm::DbErr) -> bool {
    database_code(err).and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

fn database_code(err: &sea_orm::DbErr) -> Option<String> {
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match err {
        DbErr::Exec(e) | DbErr::Query(e) | DbErr::Conn(e) => e,
        _ => return None,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        },
        _ => None,
    }
}
