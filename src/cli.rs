//! The `backlot` command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use crate::config::{DatabaseConfig, LogConfig, ServeConfig};
use crate::error::CliError;
use crate::http::persisted::PersistedQueries;
use crate::import;
use crate::service::Visibility;
use crate::service::token;
use crate::{app, demo, graphql};

#[derive(Parser, Debug)]
#[command(
    name = "backlot",
    version,
    about = "Backlot: a headless GraphQL + JSON content API for pages that use real production records as brand proof.",
    long_about = "Backlot stores articles, their paired proof records (what was made, the constraints, people and \
decisions on set, the behind-the-scenes frames), the questions each page helps you ask, and the reuse channels \
the material can go to, and serves them over GraphQL and a JSON (REST) API.\n\n\
The database is --database-url, else $DATABASE_URL, else sqlite://backlot.db in the working directory \
(created if missing). A postgres:// URL uses PostgreSQL. Every command applies pending migrations first.\n\n\
Exit codes: 0 success, 1 failure, 2 bad usage, 3 the database (unreachable, a migration or a statement failed), \
4 bad input file.",
    after_help = "Examples:\n  backlot serve --demo\n  backlot import pages/ --publish\n  backlot export --out backup.ndjson\n  backlot import --bundle backup.ndjson --database-url postgres://localhost/backlot\n  backlot token create --name site-preview --role preview --expires 30d\n  DATABASE_URL=postgres://localhost/backlot backlot migrate\n  backlot schema > schema.graphql\n  backlot openapi > openapi.json"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub log: LogConfig,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve GraphQL at /graphql (GraphiQL in a browser), the JSON API at /api/v1 (OpenAPI at
    /// /api/v1/openapi.json), /healthz, /readyz and /metrics; and deliver webhooks.
    Serve(Box<ServeConfig>),
    /// Import plain-text pages and proof-record files: files, or every .txt file in a directory. DRAFT unless --publish.
    ///
    /// With --bundle FILE instead, restore a bundle written by `backlot export` into an empty database (either
    /// backend): the whole file is checked first (a bad line is reported with its number, exit 4), then written
    /// in one transaction; the search index is rebuilt. A database with content is refused (exit 4).
    #[command(after_long_help = IMPORT_FORMAT_HELP)]
    Import {
        /// Files or directories to import.
        #[arg(required_unless_present = "bundle", value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Publish what imports: each page (a page's paired proof record stays a draft for editors to fill in,
        /// unless a proof-record file for it is imported too, which is then published with its snippets).
        #[arg(long, conflicts_with = "bundle")]
        publish: bool,
        /// Overwrite drafts an editor changed since their last import (without it, such a file fails
        /// with a conflict and is left as the editor made it).
        #[arg(long, conflicts_with = "bundle")]
        force: bool,
        /// Restore this bundle (from `backlot export`) into an empty database, keeping ids, versions,
        /// timestamps and publish states; checked whole first, written in one transaction or not at all.
        #[arg(long, value_name = "FILE", conflicts_with = "paths")]
        bundle: Option<PathBuf>,
        /// Send the files to this running server (POST /api/v1/imports) instead of opening the database;
        /// same output and exit codes (3 when the server cannot be reached).
        #[arg(long, env = "BACKLOT_SERVER", value_name = "URL", conflicts_with = "bundle", requires = "token")]
        server: Option<String>,
        /// The API token to send with --server (editor or higher; publisher for --publish).
        #[arg(long, env = "BACKLOT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Write all the content as a bundle that `backlot import --bundle` restores on either backend.
    ///
    /// Every row of every content table in both stages (articles, proof records, snippets, collections, reuse
    /// channels, links, revisions, scheduled publishes, the audit log), not API tokens, as versioned NDJSON
    /// (docs/bundle-format.md). Streams a page of rows at a time; the summary goes to stderr when the bundle
    /// goes to stdout.
    Export {
        /// Write the bundle to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print the OpenAPI 3.1 document of the JSON API under /api/v1.
    Openapi,
    /// Add a deterministic synthetic data set (for benchmarks and load tests), or write it as import files.
    Generate {
        /// How many articles (each with a proof record, 8 observations, 6 frames and 6 snippets).
        #[arg(long)]
        articles: usize,
        /// Seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Percentage of articles left as drafts.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
        draft_percent: u64,
        /// Write plain-text pages into this directory instead of the database.
        #[arg(long, value_name = "DIR")]
        pages: Option<PathBuf>,
        /// Also write the slugs of the published articles to this file, one per line.
        #[arg(long, value_name = "FILE")]
        slugs_out: Option<PathBuf>,
        /// Also write the text's vocabulary to this file, one word per line, most common first.
        #[arg(long, value_name = "FILE")]
        vocabulary_out: Option<PathBuf>,
    },
    /// Manage API tokens (the secret is printed once, on the last line of `token create`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage webhooks (the signing secret is printed once, on the last line of `webhook create`).
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// `backlot help import`: the page format in brief; docs/import-format.md is the full description.
const IMPORT_FORMAT_HELP: &str = "\
The page format (docs/import-format.md has it in full; demo/*.txt are examples):
  - UTF-8 text; every non-empty line is one paragraph (do not wrap lines); blank lines are ignored.
  - The first line is \"TITLE is DEFINITION. The point is ...\": the title is the text before the first
    \" is \", the thesis the first sentence, the point the rest. A leading \"Title: ...\" line wins.
    The slug is the title in ASCII, lower-case, hyphenated: \"Café Crème\" -> cafe-creme.
  - A heading is a line of at most 80 characters not ending in . ? ! : ; , or a quote. Every paragraph
    after the opening line belongs under one, and every heading needs one.
  - Typed headings (each at most once): \"Who this helps\" (audience: its first sentence, roles from
    \"... for A, B and C who ...\"), \"The real problem\" (a paragraph starting \"The production record
    matters\" begins recordMatters), \"The smarter question\", \"What this proves\", and \"Questions this page
    should help you ask\" (a line ending in ? is a question, the lines after it its answer).
    Any other heading starts a free section.
  - An optional last line \"Next: review the paired Proof record, browse Proof, or read Website Direction.\"
    pairs the proof record of the same slug (created as a DRAFT if missing), puts the article in the
    collection \"Proof\" and links related articles by title (pending until they are imported).
  - Each file is all or nothing; a file that does not parse is reported with its line number and the
    command exits 4. Importing a slug again updates that article as a new version.
  - A file whose first line is \"--- proof record\" is a proof record for the article it names
    (docs/proof-record-format.md; demo/*.proof.txt). Pages are imported before proof records.
  - With --server URL --token TOKEN (or BACKLOT_SERVER, BACKLOT_TOKEN) the files go to a running server's
    POST /api/v1/imports instead of the database: same output and exit codes (3: server unreachable).

Examples:
  backlot import demo/
  backlot import demo/website-direction.txt --publish
  backlot import pages/ --server https://cms.example.com --token \"$BACKLOT_TOKEN\"";

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print its secret once.
    Create {
        /// A unique name, shown in the audit log.
        #[arg(long)]
        name: String,
        /// preview (read drafts), editor (edit drafts), publisher (+ publish and schedule), admin (+ collections, channels, tokens).
        #[arg(long, value_parser = ["preview", "editor", "publisher", "admin"])]
        role: String,
        /// Lifetime such as 30d, 12h, 2w; no expiry when omitted.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Subscribe a URL to event types and print its signing secret (whsec_...) once.
    #[command(after_help = "Event types: article.published, article.unpublished, article.archived, article.deleted, \
article.scheduled, the same for proof_record.* and snippet.*, asset.release_changed, import.completed.\n\n\
Example:\n  backlot webhook create --url https://example.com/hooks/backlot --events article.published,article.unpublished")]
    Create {
        /// Where to POST events (http or https).
        #[arg(long)]
        url: String,
        /// Event types, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// A note for whoever reads `webhook list`.
        #[arg(long)]
        description: Option<String>,
        /// Accept a URL of a loopback, private or link-local address (local development).
        #[arg(long, env = "BACKLOT_WEBHOOK_ALLOW_PRIVATE")]
        allow_private: bool,
    },
    /// List webhooks (never their secrets).
    List,
    /// Delete a webhook and its deliveries.
    Delete {
        /// The webhook's ID, as `webhook list` shows it.
        id: i32,
    },
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let url = cli.database.database_url;
    if let Command::Import { paths, publish, force, server: Some(server), token, .. } = &cli.command {
        return import_remote(server, token.as_deref().unwrap_or(""), paths, *publish, *force).await;
    }
    if !matches!(cli.command, Command::Schema | Command::Openapi) {
        probe_postgres(&url).await?;
    }
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::http::rest::openapi::json());
            Ok(())
        }
        Command::Migrate => {
            app::connect_and_migrate(&url).await.map_err(CliError::Database)?;
            println!("migrations applied to {}", redact(&url));
            Ok(())
        }
        Command::Import { paths, publish, force, bundle, .. } => {
            let db = app::connect_and_migrate_for(&url, app::Workload::Bulk).await.map_err(CliError::Database)?;
            match bundle {
                Some(bundle) => crate::bundle::import(&db, &bundle).await,
                None => import_paths(&db, &redact(&url), &paths, publish, force).await,
            }
        }
        Command::Export { out } => {
            let db = app::connect_and_migrate_for(&url, app::Workload::Bulk).await.map_err(CliError::Database)?;
            crate::bundle::export(&db, out.as_deref()).await
        }
        Command::Serve(config) => serve(&url, *config).await,
        Command::Generate { articles, seed, draft_percent, pages, slugs_out, vocabulary_out } => {
            if let Some(path) = vocabulary_out {
                let words = crate::synthetic::vocabulary_words().join("\n");
                std::fs::write(&path, words + "\n").map_err(|e| input_error(&path, &e.to_string()))?;
            }
            generate(&url, articles, seed, draft_percent.min(100), pages, slugs_out).await
        }
        Command::Token(command) => {
            let db = app::connect_and_migrate(&url).await.map_err(CliError::Database)?;
            token_command(&db, command).await
        }
        Command::Webhook(command) => {
            let db = app::connect_and_migrate(&url).await.map_err(CliError::Database)?;
            webhook_command(&db, command).await
        }
    }
}

async fn webhook_command(db: &sea_orm::DatabaseConnection, command: WebhookCommand) -> Result<(), CliError> {
    use crate::service::webhook;
    match command {
        WebhookCommand::Create { url, events, description, allow_private } => {
            let created = webhook::create(db, "cli", &url, &events, description, allow_private).await;
            let (model, secret) = created.map_err(|e| match e {
                crate::service::ServiceError::BadInput { field, message } => {
                    CliError::Usage { message: format!("--{field} {message}") }
                }
                other => other.into(),
            })?;
            println!(
                "created webhook {} for {} ({}); keep the secret below, it is not shown again:",
                model.id, model.url, model.events
            );
            println!("{secret}");
            Ok(())
        }
        WebhookCommand::List => {
            println!("{:<6} {:<8} {:<40} {:<50} DESCRIPTION", "ID", "STATE", "URL", "EVENTS");
            for w in webhook::list(db).await? {
                println!(
                    "{:<6} {:<8} {:<40} {:<50} {}",
                    w.id,
                    w.state,
                    w.url,
                    w.events,
                    w.paused_reason.as_deref().or(w.description.as_deref()).unwrap_or("-")
                );
            }
            Ok(())
        }
        WebhookCommand::Delete { id } => {
            webhook::delete(db, "cli", id).await?;
            println!("deleted webhook {id}");
            Ok(())
        }
    }
}

async fn generate(
    url: &str,
    articles: usize,
    seed: u64,
    draft_percent: u64,
    pages: Option<PathBuf>,
    slugs_out: Option<PathBuf>,
) -> Result<(), CliError> {
    let started = Instant::now();
    if let Some(dir) = pages {
        std::fs::create_dir_all(&dir).map_err(|e| input_error(&dir, &e.to_string()))?;
        for n in 0..articles {
            let path = dir.join(format!("page-{n:06}.txt"));
            std::fs::write(&path, crate::synthetic::page_text(seed, n))
                .map_err(|e| input_error(&path, &e.to_string()))?;
        }
        println!("wrote {articles} pages to {} in {:.2} s", dir.display(), started.elapsed().as_secs_f64());
        return Ok(());
    }
    let db = app::connect_and_migrate_for(url, app::Workload::Bulk).await.map_err(CliError::Database)?;
    let start = crate::service::article::count_all(&db, Visibility::Preview).await? as usize;
    let mut last = Instant::now();
    crate::synthetic::generate(&db, start, articles, seed, draft_percent, |done| {
        if last.elapsed().as_secs() >= 2 || done == articles {
            println!("  {done}/{articles} articles");
            last = Instant::now();
        }
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!("generated {articles} articles in {seconds:.1} s ({:.0} articles/s)", articles as f64 / seconds);
    if let Some(path) = slugs_out {
        let slugs = crate::service::article::slugs(&db, Visibility::Public).await?;
        std::fs::write(&path, slugs.join("\n")).map_err(|e| input_error(&path, &e.to_string()))?;
    }
    app::checkpoint(&db).await;
    Ok(())
}

async fn token_command(db: &sea_orm::DatabaseConnection, command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Create { name, role, expires } => {
            let role = token::Role::parse(&role).ok_or_else(|| CliError::Usage {
                message: format!("--role must be preview, editor, publisher or admin (got {role:?})"),
            })?;
            let expires_in = match expires.as_deref() {
                None => None,
                Some(text) => Some(
                    token::parse_duration(text)
                        .map_err(|why| CliError::Usage { message: format!("--expires {why} (got {text:?})") })?,
                ),
            };
            let (model, secret) = token::create(db, &name, role, expires_in).await?;
            crate::service::audit::record(db, "cli", "createApiToken", "api_token", &name, None).await?;
            let expiry = model.expires_at.map_or("never".to_string(), |t| t.to_rfc3339());
            println!(
                "created token {} (role {}, expires {expiry}); keep the secret below, it is not shown again:",
                model.name, model.role
            );
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List => {
            let tokens = token::list(db).await?;
            println!(
                "{:<24} {:<10} {:<18} {:<25} {:<25} {:<25} STATE",
                "NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "EXPIRES"
            );
            let now = crate::service::now();
            for t in tokens {
                let show = |v: Option<chrono::DateTime<chrono::Utc>>| {
                    v.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                };
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{:<24} {:<10} {:<18} {:<25} {:<25} {:<25} {state}",
                    t.name,
                    t.role,
                    t.prefix,
                    show(Some(t.created_at)),
                    show(t.last_used_at),
                    show(t.expires_at)
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            token::revoke(db, &name).await?;
            crate::service::audit::record(db, "cli", "revokeApiToken", "api_token", &name, None).await?;
            println!("revoked token {name}");
            Ok(())
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme && url[scheme + 3..at].contains(':') => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Host and port of a `postgres://` URL (`None` for other URLs, or a Unix socket given as `?host=`).
fn postgres_address(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))?;
    if rest.contains("host=") {
        return None;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 5432,
    };
    let host = if host.is_empty() { "localhost" } else { host };
    Some((host.to_string(), port))
}

/// Before the pool's long connect timeout: a PostgreSQL server that cannot be reached at all is
/// reported at once, with its address and the reason.
async fn probe_postgres(url: &str) -> Result<(), CliError> {
    let Some((host, port)) = postgres_address(url) else {
        return Ok(());
    };
    let unreachable = |reason: String| CliError::Unreachable(format!("PostgreSQL at {host}:{port}: {reason}"));
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(unreachable("connection refused (is the server running, and on this port?)".into()))
        }
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer within 3 s".into())),
    }
}

async fn serve(url: &str, config: ServeConfig) -> Result<(), CliError> {
    let started = Instant::now();
    crate::http::guard::cors(&config.http.cors_origins).map_err(|message| CliError::Usage { message })?;
    let persisted = match &config.persisted_queries {
        Some(path) => PersistedQueries::load_manifest(path).map_err(|message| CliError::Usage { message })?,
        None => Default::default(),
    };
    if config.replica_url.is_some() && !url.starts_with("postgres") {
        let message = "--replica-url needs a PostgreSQL --database-url: SQLite has no streaming replicas \
                       (serve several processes on one SQLite file instead)";
        return Err(CliError::Usage { message: message.into() });
    }
    let db = app::connect_and_migrate_for(url, config.api.workload()).await.map_err(CliError::Database)?;
    let replica = match &config.replica_url {
        Some(replica_url) => {
            probe_postgres(replica_url).await?;
            let replica = app::connect_for(replica_url, config.api.workload()).await.map_err(CliError::Database)?;
            crate::service::replica::verify(&db, &replica).await.map_err(|message| CliError::Usage { message })?;
            Some(crate::service::replica::ReplicaConnection::open(replica).await)
        }
        None => None,
    };
    if config.demo {
        match demo::load(&db).await? {
            Some(count) => {
                crate::http::metrics::METRICS.imported.with_label_values(&["created"]).inc_by(count as u64);
                tracing::info!("loaded {count} demo pages")
            }
            None => tracing::info!("database has content; demo set not loaded"),
        }
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CliError::Server(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr().map_err(|e| CliError::Server(e.to_string()))?;
    let metrics_listener = match config.http.metrics_listen {
        Some(metrics_addr) => Some(
            tokio::net::TcpListener::bind(metrics_addr)
                .await
                .map_err(|e| CliError::Server(format!("cannot listen on {metrics_addr}: {e}")))?,
        ),
        None => None,
    };
    println!(
        "Backlot listening on http://{addr}/graphql ({}database {}{}; ready in {} ms)",
        if config.api.public_graphiql { "GraphiQL in a browser; " } else { "" },
        redact(url),
        config.replica_url.as_deref().map(|r| format!(", public reads on {}", redact(r))).unwrap_or_default(),
        started.elapsed().as_millis()
    );
    let http = &config.http;
    let header_timeout = Duration::from_secs(http.header_read_timeout_seconds.max(1));
    let grace = Duration::from_secs(http.shutdown_grace_seconds);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let metrics_addr = listener.local_addr().map_err(|e| CliError::Server(e.to_string()))?;
            println!("metrics on http://{metrics_addr}/metrics");
            let router = crate::http::metrics::metrics_router(db.clone());
            Some(tokio::spawn(crate::http::server::serve(listener, router, header_timeout, stopped.clone(), grace)))
        }
        None => None,
    };
    let app_config = app::AppConfig {
        persisted: Arc::new(PersistedQueries::new(persisted, config.persisted_queries_only)),
        replica,
        ..app::AppConfig::from(&config)
    };
    let application = app::build(db, &app_config);
    let server = crate::http::server::serve(listener, application.router.clone(), header_timeout, stopped, grace);
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => {}
        () = shutdown_signal() => {
            let _ = stop.send(true);
            server.await;
        }
    }
    if let Some(metrics) = metrics_server {
        let _ = metrics.await;
    }
    application.stop_tasks();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: no new connections; requests in flight may finish");
}

fn input_error(path: &Path, message: &str) -> CliError {
    CliError::Input { path: path.display().to_string(), message: message.to_string() }
}

/// "1 file", "3 files".
fn count_of(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Counts and prints each file's result as `backlot import` does, local or `--server` alike.
struct ImportProgress {
    total: usize,
    started: Instant,
    created: usize,
    updated: usize,
    unchanged: usize,
    failed: usize,
    last_error: Option<CliError>,
}

impl ImportProgress {
    fn new(total: usize) -> Self {
        ImportProgress {
            total,
            started: Instant::now(),
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            last_error: None,
        }
    }

    fn file(&mut self, n: usize, path: &Path, outcome: Result<import::Imported, import::FileError>) {
        let total = self.total;
        match outcome {
            Ok(outcome) => {
                let verb = match outcome.change {
                    import::Change::Created => {
                        self.created += 1;
                        "created"
                    }
                    import::Change::Updated => {
                        self.updated += 1;
                        "updated"
                    }
                    import::Change::Unchanged => {
                        self.unchanged += 1;
                        "unchanged"
                    }
                };
                let state = match (outcome.published, outcome.public) {
                    (true, _) => "published",
                    // Re-imported without --publish: the public keeps the published text until the next publish.
                    (false, true) => "published; the new text waits in its draft",
                    (false, false) => "draft",
                };
                let what = match outcome.kind {
                    import::Kind::Article => "",
                    import::Kind::ProofRecord => "proof record ",
                };
                println!("[{}/{total}] {verb} {what}{} ({state}) from {}", n + 1, outcome.slug, path.display());
            }
            Err(e) => {
                self.failed += 1;
                let e = match e {
                    import::FileError::Input(message) | import::FileError::Conflict(message) => {
                        input_error(path, &message)
                    }
                    import::FileError::Service(other) => CliError::Service(other),
                    import::FileError::Remote(message) => CliError::Server(format!("{}: {message}", path.display())),
                };
                eprintln!("[{}/{total}] error: {e}", n + 1);
                self.last_error = Some(e);
            }
        }
    }

    fn finish(self, into: &str) -> Result<(), CliError> {
        let imported = &crate::http::metrics::METRICS.imported;
        imported.with_label_values(&["created"]).inc_by(self.created as u64);
        imported.with_label_values(&["updated"]).inc_by(self.updated as u64);
        imported.with_label_values(&["failed"]).inc_by(self.failed as u64);
        let seconds = self.started.elapsed().as_secs_f64();
        let (created, updated, failed) = (self.created, self.updated, self.failed);
        let unchanged = if self.unchanged > 0 { format!(", {} unchanged", self.unchanged) } else { String::new() };
        println!(
            "imported {} of {} into {into}: {created} created, {updated} updated{unchanged}, {failed} failed in \
             {seconds:.2} s",
            created + updated + self.unchanged,
            count_of(self.total, "page")
        );
        match self.last_error {
            None => Ok(()),
            Some(CliError::Input { .. }) => Err(CliError::Rejected(format!(
                "{} could not be imported; nothing of {} was written (see above)",
                count_of(failed, "file"),
                if failed == 1 { "it" } else { "them" }
            ))),
            Some(other) => Err(other),
        }
    }
}

async fn import_paths(
    db: &sea_orm::DatabaseConnection,
    database: &str,
    paths: &[PathBuf],
    publish: bool,
    force: bool,
) -> Result<(), CliError> {
    let files = import::collect_files(paths).map_err(|(path, message)| input_error(&path, &message))?;
    let mut progress = ImportProgress::new(files.len());
    let options = import::Options { publish, force, actor: import::writer::IMPORT_AUTHOR };
    import::import_files(db, &files, options, |n, path, outcome| progress.file(n, path, outcome)).await?;
    progress.finish(database)
}

/// `backlot import --server URL`: the same files, output and exit codes, through a running server.
async fn import_remote(
    server: &str,
    token: &str,
    paths: &[PathBuf],
    publish: bool,
    force: bool,
) -> Result<(), CliError> {
    if token.trim().is_empty() {
        return Err(CliError::Usage { message: "--server needs --token (or BACKLOT_TOKEN)".into() });
    }
    let files = import::collect_files(paths).map_err(|(path, message)| input_error(&path, &message))?;
    let mut progress = ImportProgress::new(files.len());
    import::client::push(server, token.trim(), &files, publish, force, |n, path, outcome| {
        progress.file(n, path, outcome)
    })
    .await?;
    progress.finish(server.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(redact("postgres://backlot:s3cret@db:5432/backlot"), "postgres://backlot:***@db:5432/backlot");
        assert_eq!(redact("postgres://backlot@db/backlot"), "postgres://backlot@db/backlot");
        assert_eq!(redact("sqlite://backlot.db"), "sqlite://backlot.db");
    }
}
