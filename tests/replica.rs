//! `serve --replica-url`: public reads on a real PostgreSQL streaming replica (a primary and a standby made
//! with `pg_basebackup -R`, started by the test itself), reads that never go back in time, and the flag
//! refused on SQLite.
//!
//! Needs PostgreSQL's server binaries (`$PG_BIN`, `/usr/lib/postgresql/15/bin` or `pg_config --bindir`);
//! without them the replica test says so and passes, unless `REQUIRE_POSTGRES=1` (CI) makes it fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use backlot::service::token::Role;
use common::{Served, post_to, serve_with};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

const THESIS: &str = r#"{"query":"{ article(slug: \"website-direction\") { thesis } }"}"#;

/// PostgreSQL's server binaries, found where `scripts/test` looks for them.
fn pg_bin() -> Option<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    [std::env::var("PG_BIN").ok(), Some("/usr/lib/postgresql/15/bin".to_string()), from_config]
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|dir| ["initdb", "pg_ctl", "pg_basebackup"].iter().all(|b| dir.join(b).is_file()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port()
}

/// A primary and its streaming standby in a temporary directory, stopped when dropped.
struct Clusters {
    bin: PathBuf,
    /// As root the clusters run as this user (initdb refuses root), through `runuser`.
    user: Option<String>,
    dir: tempfile::TempDir,
    primary_port: u16,
    standby_port: u16,
}

impl Clusters {
    fn run(&self, program: &str, args: &[&str]) {
        let binary = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        let out = command.args(args).output().unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn logs(&self) -> String {
        ["primary.log", "standby.log"]
            .iter()
            .map(|log| format!("--- {log}\n{}", std::fs::read_to_string(self.path(log)).unwrap_or_default()))
            .collect()
    }

    fn start(&self, data: &str, port: u16, log: &str) {
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=replica -c max_wal_senders=4 \
             -c hot_standby=on -c max_connections=100",
            self.dir.path().display()
        );
        self.run("pg_ctl", &["-D", &self.path(data), "-l", &self.path(log), "-w", "-t", "60", "start", "-o", &options]);
    }

    /// initdb and start the primary (its default pg_hba.conf lets local replication connections in).
    fn primary(bin: PathBuf) -> Clusters {
        let dir = tempfile::Builder::new().prefix("backlot-replica-").tempdir().expect("temp dir");
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user = root.then(|| {
            let postgres = Command::new("id").args(["-u", "postgres"]).output().is_ok_and(|o| o.status.success());
            if postgres { "postgres" } else { "nobody" }.to_string()
        });
        if let Some(user) = &user {
            let status = Command::new("chown").args([user.as_str(), &dir.path().display().to_string()]).status();
            assert!(status.is_ok_and(|s| s.success()), "chown the cluster directory to {user}");
        }
        let clusters = Clusters { bin, user, dir, primary_port: free_port(), standby_port: free_port() };
        let data = clusters.path("primary");
        clusters.run("initdb", &["-D", &data, "-U", "backlot", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"]);
        clusters.start("primary", clusters.primary_port, "primary.log");
        clusters
    }

    /// Copies the running primary with `pg_basebackup -R` (which writes the standby's connection settings)
    /// and starts the copy as a hot standby, streaming from the primary.
    fn start_standby(&self) {
        let port = self.primary_port.to_string();
        let data = self.path("standby");
        self.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "backlot",
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "--checkpoint=fast",
            ],
        );
        self.start("standby", self.standby_port, "standby.log");
    }

    fn url(port: u16) -> String {
        format!("postgres://backlot@127.0.0.1:{port}/postgres")
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for data in ["standby", "primary"] {
            if Path::new(&self.path(data)).join("postmaster.pid").exists() {
                let binary = self.bin.join("pg_ctl");
                let mut command = match &self.user {
                    Some(user) => {
                        let mut c = Command::new("runuser");
                        c.args(["-u", user, "--"]).arg(&binary);
                        c
                    }
                    None => Command::new(&binary),
                };
                let _ = command.args(["-D", &self.path(data), "-m", "immediate", "stop"]).output();
            }
        }
    }
}

fn thesis(port: u16, token: Option<&str>) -> String {
    let body = post_to(port, token, THESIS);
    body["data"]["article"]["thesis"].as_str().unwrap_or_else(|| panic!("no thesis: {body}")).to_string()
}

/// Edits and publishes a new thesis through `writer` as the token's holder (writes go to the primary).
fn publish(writer: &Served, token: &str, thesis: &str) {
    let draft =
        post_to(writer.1, Some(token), r#"{"query":"{ article(slug: \"website-direction\") { id version } }"}"#);
    let (id, version) = (&draft["data"]["article"]["id"], &draft["data"]["article"]["version"]);
    let update = json!({ "query": "mutation($id: ID!, $v: Int!, $t: String) { updateArticle(id: $id, expectedVersion: $v, input: { thesis: $t }) { version } }", "variables": { "id": id, "v": version, "t": thesis } });
    let updated = post_to(writer.1, Some(token), &update.to_string());
    assert!(updated.get("errors").is_none(), "{updated}");
    let publish = json!({ "query": "mutation($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { version } }", "variables": { "id": id, "v": updated["data"]["updateArticle"]["version"] } });
    let published = post_to(writer.1, Some(token), &publish.to_string());
    assert!(published.get("errors").is_none(), "{published}");
}

/// A plain HTTP/1.1 GET of `path` from a serve process: the whole response, headers and all.
fn get(served: &Served, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", served.1)).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// `backlot_public_reads_total{database="..."}` of a serve process.
fn public_reads(served: &Served, database: &str) -> u64 {
    let response = get(served, "/metrics");
    let series = format!("backlot_public_reads_total{{database=\"{database}\"}} ");
    let line = response.lines().find_map(|l| l.strip_prefix(series.as_str()));
    line.and_then(|n| n.trim().parse().ok()).unwrap_or_else(|| panic!("no {series} in {response}"))
}

async fn replay(standby: &DatabaseConnection, call: &str) {
    standby.execute_unprepared(&format!("SELECT {call}()")).await.unwrap_or_else(|e| panic!("{call}: {e}"));
}

/// Waits until every process shows `expected` to the public, failing past `bound`; how long it took.
fn all_show(processes: &[&Served], expected: &str, bound: Duration) -> Duration {
    let started = Instant::now();
    while processes.iter().any(|p| thesis(p.1, None) != expected) {
        assert!(started.elapsed() < bound, "a process still served old content {bound:?} after replay resumed");
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_use_the_replica_and_never_go_back_in_time() {
    let Some(bin) = pg_bin() else {
        assert!(
            std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "REQUIRE_POSTGRES=1 but initdb, pg_ctl and pg_basebackup were not found (set PG_BIN)"
        );
        // Straight to stderr, past the harness's capture, so the skip shows in a normal `cargo test` run.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"tests/replica.rs SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup; set PG_BIN)\n",
        );
        return;
    };
    let setup = Instant::now();
    let clusters = Clusters::primary(bin);
    let (primary_url, replica_url) = (Clusters::url(clusters.primary_port), Clusters::url(clusters.standby_port));
    let primary = backlot::app::connect_and_migrate(&primary_url).await.expect("migrate the primary");
    backlot::demo::load(&primary).await.expect("demo loads").expect("empty database");
    let (_, token) = backlot::service::token::create(&primary, "pub", Role::Publisher, None).await.expect("token");
    // A URL that is not a standby of this database is refused at start: it would serve other content.
    let out = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &primary_url, "--replica-url", &primary_url])
        .output()
        .expect("run backlot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--replica-url is not a standby"), "{stderr}");
    clusters.start_standby();
    let standby = sea_orm::Database::connect(&replica_url).await.expect("connect to the standby");
    eprintln!("primary and standby ready in {:?}", setup.elapsed());

    // `a` and `c` cache (and so follow the primary's notifications); `b` has no cache, so it learns of new
    // content only from its own writes and from the replica. `c` never writes.
    let replica_flag = ["--replica-url", replica_url.as_str()];
    let a = serve_with(&primary_url, &replica_flag);
    let b = serve_with(&primary_url, &[&replica_flag[..], &["--cache-mb", "0"]].concat());
    let c = serve_with(&primary_url, &replica_flag);
    let original = thesis(a.1, None);
    assert_eq!(thesis(b.1, None), original);
    assert_eq!(thesis(c.1, None), original, "cached by c");
    assert!(public_reads(&b, "replica") > 0, "a current replica serves public reads");

    replay(&standby, "pg_wal_replay_pause").await;
    // (4) Writes work with --replica-url: they go to the primary.
    publish(&a, &token, "Published while replay is paused.");

    // (1) Another process that never saw the write reads the paused replica; its token holder, the primary.
    for _ in 0..3 {
        assert_eq!(thesis(b.1, None), original, "b's public reads come from the paused replica");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(thesis(b.1, Some(&token)), "Published while replay is paused.");
    let rest = get(&b, "/api/v1/articles/website-direction");
    assert!(
        rest.contains(&original) && !rest.contains("Published while"),
        "the JSON API reads the replica too: {rest}"
    );
    // (2) The writing process never shows older content than its write: the primary answers it.
    assert_eq!(thesis(a.1, None), "Published while replay is paused.");
    // A process that heard of the write by notification drops its cached page and does not cache the
    // replica's older answer in its place: the primary answers it too.
    let heard = Instant::now();
    while thesis(c.1, None) != "Published while replay is paused." {
        assert!(heard.elapsed() < Duration::from_secs(1), "c kept serving content older than it was notified of");
        std::thread::sleep(Duration::from_millis(5));
    }

    // (2) The same for a process without a cache (no notifications): its own write is the clock.
    let primary_reads = public_reads(&b, "primary");
    publish(&b, &token, "Published by b while replay is paused.");
    assert_eq!(thesis(b.1, None), "Published by b while replay is paused.");
    assert!(public_reads(&b, "primary") > primary_reads, "b fell back to the primary");

    // (3) Once the replica replays, every process shows the new content within a second, from the replica.
    replay(&standby, "pg_wal_replay_resume").await;
    let took = all_show(&[&a, &b, &c], "Published by b while replay is paused.", Duration::from_secs(1));
    eprintln!("every process showed the new content {took:?} after replay resumed");
    // b's reads right after its own write came from the primary; once its check sees the replica has
    // replayed the write, they go back to the replica.
    let replica_reads = public_reads(&b, "replica");
    let resumed = Instant::now();
    loop {
        assert_eq!(thesis(b.1, None), "Published by b while replay is paused.");
        if public_reads(&b, "replica") > replica_reads {
            break;
        }
        assert!(resumed.elapsed() < Duration::from_secs(1), "public reads did not go back to the replica");
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("replica test done in {:?}", setup.elapsed());
}

#[test]
fn the_flag_is_refused_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &sqlite])
        .args(["--replica-url", "postgres://backlot@127.0.0.1:1/backlot"])
        .output()
        .expect("run backlot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--replica-url needs a PostgreSQL --database-url"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["serve", "--database-url", &sqlite, "--replica-url", &sqlite])
        .output()
        .expect("run backlot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a read replica is a PostgreSQL streaming replica"), "{stderr}");
}
