//! Public reads on a PostgreSQL streaming replica (`serve --replica-url`), never going back in time.
//!
//! The content generation is the clock. This process tracks the highest generation it has seen: the
//! primary's after its own writes commit, the primary's as the response cache follows it (poll and
//! NOTIFY, through [`observe`]), and what the replica itself reported. An anonymous read goes to the replica
//! only when the replica is known to have replayed at least that; otherwise the primary answers it, and a
//! background check (at most one per [`CHECK_INTERVAL`], never awaited by a request) asks the replica how
//! far it has replayed. Writes, token holders, the scheduler, the webhook worker and imports never come
//! here: they hold the primary's pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use super::generation;

/// How often a replica that is behind (or unknown) is asked how far it has replayed.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(5);

/// How often a replica that is current is asked anyway, so that one that stopped answering is noticed and
/// public reads move to the primary.
pub const REVALIDATE_INTERVAL: Duration = Duration::from_secs(1);

/// A check that takes longer counts as a replica that cannot be read.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// The highest content generation this process has seen. Process-wide, like the local write count in
/// [`generation`]: a `serve` process serves one database.
static SEEN: AtomicI64 = AtomicI64::new(-1);

/// Notes a generation this process has seen from the primary. The response cache must call this with
/// every generation it learns (poll or notification) *before* it stamps entries with it: then a read made
/// for an entry of that stamp goes to the replica only if the replica has replayed at least as far, so no
/// replica answer is ever cached under a newer stamp than the replica had. Cheap (one atomic), and a
/// no-op without a replica.
pub fn observe(generation: i64) {
    SEEN.fetch_max(generation, Ordering::SeqCst);
}

/// The highest content generation this process has seen (-1 before any).
pub fn seen() -> i64 {
    SEEN.load(Ordering::SeqCst)
}

/// A replica as `serve` opened it: its pool and the generation it had replayed then (-1 if unknown).
#[derive(Debug, Clone)]
pub struct ReplicaConnection {
    pub db: DatabaseConnection,
    pub replayed: i64,
}

impl ReplicaConnection {
    /// Reads how far the freshly connected replica has replayed. A replica that cannot say yet (it has
    /// not replayed the first migration) is not an error: public reads go to the primary until it can.
    pub async fn open(db: DatabaseConnection) -> ReplicaConnection {
        let replayed = match generation::current(&db).await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!("cannot read the replica's content generation yet ({e}); public reads use the primary");
                -1
            }
        };
        observe(replayed);
        ReplicaConnection { db, replayed }
    }
}

#[derive(sea_orm::FromQueryResult)]
struct Identity {
    recovering: bool,
    system: String,
    database: String,
}

async fn identity(db: &DatabaseConnection) -> Result<Identity, sea_orm::DbErr> {
    use sea_orm::FromQueryResult;
    let sql = "SELECT pg_is_in_recovery() AS recovering, (SELECT system_identifier::text FROM pg_control_system())                AS system, current_database()::text AS database";
    let found =
        Identity::find_by_statement(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).one(db).await?;
    found.ok_or_else(|| sea_orm::DbErr::RecordNotFound("the server's identity".into()))
}

/// Refuses a replica URL that is not a streaming replica of the primary's database: a server that is not
/// in recovery (the primary itself, another server), a standby of another cluster (a different system
/// identifier), or another database on the right standby. Each would serve the wrong content to the public.
pub async fn verify(primary: &DatabaseConnection, replica: &DatabaseConnection) -> Result<(), String> {
    let (p, r) = match (identity(primary).await, identity(replica).await) {
        (Ok(p), Ok(r)) => (p, r),
        (Err(e), _) | (_, Err(e)) => return Err(format!("cannot check that --replica-url is a replica: {e}")),
    };
    if !r.recovering {
        return Err("--replica-url is not a standby (pg_is_in_recovery() is false): point it at a streaming                     replica of --database-url"
            .into());
    }
    if r.system != p.system {
        return Err(format!(
            "--replica-url is a standby of another cluster (system identifier {}, the primary's is {}): point              it at a streaming replica of --database-url",
            r.system, p.system
        ));
    }
    if r.database != p.database {
        return Err(format!(
            "--replica-url names database {:?} but --database-url names {:?}: use the same database name",
            r.database, p.database
        ));
    }
    Ok(())
}

/// The read replica and what this process knows of its replay.
pub struct Replica {
    db: DatabaseConnection,
    primary: DatabaseConnection,
    /// The highest generation the replica reported; -1 while unknown or unreachable.
    replayed: AtomicI64,
    /// The local write count whose commits [`SEEN`] includes.
    synced_writes: AtomicU64,
    started: Instant,
    /// When the last check started, in microseconds since `started`.
    last_check_us: AtomicU64,
    checking: AtomicBool,
    reachable: AtomicBool,
    /// `public_reads_total{database}`, looked up once: counting a read is one atomic add.
    counted: [prometheus::IntCounter; 2],
}

impl Replica {
    pub fn new(primary: DatabaseConnection, replica: ReplicaConnection) -> Arc<Replica> {
        let replica = Arc::new(Replica {
            db: replica.db,
            primary,
            replayed: AtomicI64::new(replica.replayed),
            // Writes made before (`--demo`) are synced on the first check.
            synced_writes: AtomicU64::new(0),
            started: Instant::now(),
            last_check_us: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            reachable: AtomicBool::new(replica.replayed >= 0),
            counted: ["primary", "replica"]
                .map(|db| crate::http::metrics::METRICS.public_reads.with_label_values(&[db])),
        });
        // Checked without traffic too, so a replica that died while the process was idle is known to be
        // gone before the next public read is routed.
        let weak = Arc::downgrade(&replica);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REVALIDATE_INTERVAL).await;
                let Some(replica) = weak.upgrade() else { return };
                if replica.since_last_check() >= REVALIDATE_INTERVAL {
                    replica.spawn_check();
                }
            }
        });
        replica
    }

    /// The replica's pool for one anonymous read, or `None` when the primary must answer it (the replica
    /// may not have replayed something this process has seen). Never waits: a check it needs runs in the
    /// background and serves the reads after it.
    pub fn for_public_read(self: &Arc<Self>) -> Option<&DatabaseConnection> {
        // Read the write count first: a write acknowledged before this read is then either synced or not.
        let writes = generation::local_writes();
        let replayed = self.replayed.load(Ordering::SeqCst);
        let current = writes == self.synced_writes.load(Ordering::SeqCst) && replayed >= 0 && replayed >= seen();
        let due = if current { REVALIDATE_INTERVAL } else { CHECK_INTERVAL };
        if self.since_last_check() >= due {
            self.spawn_check();
        }
        self.counted[usize::from(current)].inc();
        current.then_some(&self.db)
    }

    fn since_last_check(&self) -> Duration {
        let now = self.started.elapsed();
        now.saturating_sub(Duration::from_micros(self.last_check_us.load(Ordering::SeqCst)))
    }

    fn spawn_check(self: &Arc<Self>) {
        if self.checking.swap(true, Ordering::SeqCst) {
            return;
        }
        let started = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_check_us.store(started, Ordering::SeqCst);
        let replica = self.clone();
        tokio::spawn(async move {
            replica.check().await;
            replica.checking.store(false, Ordering::SeqCst);
        });
    }

    /// Syncs [`SEEN`] with this process's own writes (their generation, read from the primary), then asks
    /// the replica how far it has replayed.
    async fn check(&self) {
        let writes = generation::local_writes();
        if writes != self.synced_writes.load(Ordering::SeqCst) {
            match generation::current(&self.primary).await {
                Ok(g) => {
                    // Seen before the count is marked synced, so no read sees the count without the generation.
                    observe(g);
                    self.synced_writes.store(writes, Ordering::SeqCst);
                }
                Err(e) => tracing::warn!("cannot read the content generation: {e}"),
            }
        }
        crate::http::metrics::METRICS.replica_checks.inc();
        match tokio::time::timeout(CHECK_TIMEOUT, generation::current(&self.db)).await {
            Ok(Ok(g)) => {
                self.replayed.fetch_max(g, Ordering::SeqCst);
                observe(g);
                if !self.reachable.swap(true, Ordering::SeqCst) {
                    tracing::info!("the read replica answers (generation {g}); public reads use it again");
                }
            }
            Ok(Err(e)) => self.unreachable(&e.to_string()),
            Err(_) => self.unreachable(&format!("no answer within {} ms", CHECK_TIMEOUT.as_millis())),
        }
    }

    fn unreachable(&self, reason: &str) {
        self.replayed.store(-1, Ordering::SeqCst);
        if self.reachable.swap(false, Ordering::SeqCst) {
            tracing::warn!("cannot read the replica's content generation ({reason}); public reads use the primary");
        }
    }

    /// The generation the replica is known to have replayed (-1 while unknown): what public reads served by
    /// it show at least.
    pub fn replayed(&self) -> i64 {
        self.replayed.load(Ordering::SeqCst)
    }
}
