//! `backlot export` and `backlot import --bundle`: files, progress and summaries around `service::bundle`.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::CliError;
use crate::service::bundle::{self, BundleError};

/// Progress lines are redrawn at most this often (and only on a terminal).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

fn input_error(path: &Path, message: impl Into<String>) -> CliError {
    CliError::Input { path: path.display().to_string(), message: message.into() }
}

/// Maps the bundle layer's errors once: a bad or refused bundle is a bad input file (exit 4).
fn cli_error(path: &Path, e: BundleError) -> CliError {
    match e {
        BundleError::Invalid { .. } => {
            input_error(path, format!("{e}; nothing was written (the bundle is checked whole before writing)"))
        }
        BundleError::NotEmpty(why) => input_error(
            path,
            format!(
                "the database is not empty ({why}); a bundle is restored only into an empty database \
                 (run `backlot migrate` on a new one, import, then create tokens)"
            ),
        ),
        BundleError::Io(message) => input_error(path, message),
        BundleError::Service(e) => CliError::Service(e),
    }
}

/// A progress line on stderr, redrawn in place, only when stderr is a terminal.
struct Progress {
    on: bool,
    last: Instant,
    drawn: bool,
}

impl Progress {
    fn new() -> Self {
        Progress { on: std::io::stderr().is_terminal(), last: Instant::now(), drawn: false }
    }

    fn show(&mut self, line: impl FnOnce() -> String) {
        if self.on && self.last.elapsed() >= PROGRESS_EVERY {
            eprint!("\r\x1b[2K{}", line());
            self.last = Instant::now();
            self.drawn = true;
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

pub async fn export(db: &sea_orm::DatabaseConnection, out: Option<&Path>) -> Result<(), CliError> {
    let started = Instant::now();
    let mut progress = Progress::new();
    let mut report = |table: &'static str, rows: u64, bytes: u64| {
        progress.show(|| format!("exporting {table}: {rows} rows, {:.1} MB", bytes as f64 / 1e6));
    };
    let (summary, target) = match out {
        Some(path) => {
            // Written beside the target and renamed when complete, so FILE is never a half-written bundle.
            let mut partial = path.as_os_str().to_owned();
            partial.push(".partial");
            let partial = std::path::PathBuf::from(partial);
            let file = File::create(&partial).map_err(|e| input_error(&partial, e.to_string()))?;
            let mut writer = BufWriter::new(file);
            let summary = match bundle::export(db, &mut writer, &mut report).await {
                Ok(summary) => summary,
                Err(e) => {
                    drop(writer);
                    std::fs::remove_file(&partial).ok();
                    return Err(cli_error(path, e));
                }
            };
            let file = writer.into_inner().map_err(|e| input_error(&partial, e.error().to_string()))?;
            file.sync_all().map_err(|e| input_error(&partial, e.to_string()))?;
            std::fs::rename(&partial, path).map_err(|e| input_error(path, e.to_string()))?;
            (summary, path.display().to_string())
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = BufWriter::new(stdout.lock());
            let summary =
                bundle::export(db, &mut writer, &mut report).await.map_err(|e| cli_error(Path::new("<stdout>"), e))?;
            writer.flush().map_err(|e| input_error(Path::new("<stdout>"), e.to_string()))?;
            (summary, "stdout".to_string())
        }
    };
    progress.clear();
    let line = format!(
        "exported {} rows ({}) to {target}: {} bytes in {:.2} s",
        summary.counts.total(),
        summary.counts,
        summary.bytes,
        started.elapsed().as_secs_f64()
    );
    // With the bundle on stdout the summary must not end up inside it.
    if out.is_some() {
        println!("{line}");
    } else {
        eprintln!("{line}");
    }
    Ok(())
}

pub async fn import(db: &sea_orm::DatabaseConnection, path: &Path) -> Result<(), CliError> {
    let started = Instant::now();
    // The file is read twice (validated whole, then restored), so it must be a regular file, not a pipe.
    let metadata = std::fs::metadata(path).map_err(|e| input_error(path, e.to_string()))?;
    if !metadata.is_file() {
        let message = "must be a regular file (it is read twice: checked whole, then restored); save a piped \
                       bundle to a file first";
        return Err(input_error(path, message.to_string()));
    }
    let open = || File::open(path).map(BufReader::new).map_err(|e| input_error(path, e.to_string()));
    // Refuse a non-empty database before reading a possibly large file; `restore` checks again inside its
    // transaction.
    if let Some(why) = bundle::non_empty(db).await.map_err(|e| cli_error(path, e))? {
        return Err(cli_error(path, BundleError::NotEmpty(why)));
    }
    let validated = bundle::validate(&mut open()?).map_err(|e| cli_error(path, e))?;
    let mut progress = Progress::new();
    let total = validated.counts.total();
    let mut written = 0u64;
    let mut last_table = "";
    let mut last_rows = 0u64;
    let mut report = |table: &'static str, rows: u64| {
        if table != last_table {
            last_table = table;
            last_rows = 0;
        }
        written += rows - last_rows;
        last_rows = rows;
        progress.show(|| format!("importing {table}: {written}/{total} rows"));
    };
    let counts = bundle::restore(db, &mut open()?, &mut report).await.map_err(|e| cli_error(path, e))?;
    progress.clear();
    println!(
        "imported {} rows ({}) from {} in {:.2} s; search index rebuilt",
        counts.total(),
        counts,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
