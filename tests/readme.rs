//! The README's examples, run as a user pastes them, so they cannot rot.
//!
//! Every fenced block of README.md is classified by its language: `graphql` blocks go to the demo data set over
//! HTTP and must answer without errors; `sh` blocks run with bash against a real `backlot serve --demo` process
//! and must exit 0 with no GraphQL errors in their output; `text` blocks (synopses, layouts) are not code. A
//! block that cannot run here carries `<!-- not run by tests/readme.rs: REASON -->` on the line before it; any
//! other block fails `every_readme_block_is_classified`, so a new example is never silently left out.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backlot::service::token::Role;
use common::{ORIGINAL_SLUG, TestApp};
use serde_json::{Map, Value, json};

const README: &str = include_str!("../README.md");
const IMPORT_FORMAT: &str = include_str!("../docs/import-format.md");
const MARKER: &str = "<!-- not run by tests/readme.rs:";
/// The address the README's examples assume the demo server listens on.
const DEMO_PORT: u16 = 8080;
const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    code: String,
    /// The reason given by a marker right before the block.
    skip: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shell,
    GraphQl,
    Text,
    Skipped,
    Unclassified,
}

impl Block {
    fn kind(&self) -> Kind {
        if self.skip.is_some() {
            return Kind::Skipped;
        }
        match self.lang.as_str() {
            "sh" | "bash" | "shell" => Kind::Shell,
            "graphql" => Kind::GraphQl,
            "text" => Kind::Text,
            _ => Kind::Unclassified,
        }
    }
}

/// The fenced code blocks of `markdown`; a skip marker must be the last non-blank line before its block.
fn code_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    let mut marker: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let no = i + 1;
        let trimmed = line.trim();
        if let Some(block) = open.as_mut() {
            if trimmed == "```" {
                blocks.push(open.take().expect("open block"));
            } else {
                block.code.push_str(line);
                block.code.push('\n');
            }
        } else if let Some(info) = trimmed.strip_prefix("```") {
            let lang = info.split_whitespace().next().unwrap_or("").to_string();
            let skip = marker.take().map(|(_, reason)| reason);
            open = Some(Block { line: no, lang, code: String::new(), skip });
        } else if let Some(rest) = trimmed.strip_prefix(MARKER) {
            if let Some((at, _)) = marker {
                return Err(format!("line {no}: a second marker; the one on line {at} has no block after it"));
            }
            let reason = rest.strip_suffix("-->").map(str::trim).unwrap_or("");
            if reason.is_empty() {
                return Err(format!("line {no}: a marker must say why: `{MARKER} REASON -->`"));
            }
            marker = Some((no, reason.to_string()));
        } else if !trimmed.is_empty()
            && let Some((at, _)) = marker
        {
            return Err(format!("line {at}: a marker must be right before the code block it is about"));
        }
    }
    if let Some(block) = open {
        return Err(format!("line {}: a code block is never closed", block.line));
    }
    if let Some((at, _)) = marker {
        return Err(format!("line {at}: a marker with no code block after it"));
    }
    Ok(blocks)
}

fn readme_blocks() -> Vec<Block> {
    code_blocks(README).unwrap_or_else(|e| panic!("README.md {e}"))
}

#[test]
fn every_readme_block_is_classified() {
    let blocks = readme_blocks();
    let unclassified: Vec<String> = blocks
        .iter()
        .filter(|b| b.kind() == Kind::Unclassified)
        .map(|b| {
            format!(
                "README.md line {}: a ```{} block tests/readme.rs cannot run: tag it sh, graphql or text, or put \
                 `{MARKER} REASON -->` on the line before it",
                b.line, b.lang
            )
        })
        .collect();
    assert!(unclassified.is_empty(), "{}", unclassified.join("\n"));
    let count = |kind| blocks.iter().filter(|b| b.kind() == kind).count();
    let skipped: Vec<String> =
        blocks.iter().filter_map(|b| b.skip.as_ref().map(|why| format!("line {}: {why}", b.line))).collect();
    eprintln!(
        "README.md: {} sh and {} graphql blocks run, {} text blocks, {} skipped by marker ({})",
        count(Kind::Shell),
        count(Kind::GraphQl),
        count(Kind::Text),
        skipped.len(),
        skipped.join("; ")
    );
    // The extraction itself must keep finding the examples it exists for.
    assert!(count(Kind::Shell) >= 5 && count(Kind::GraphQl) >= 3, "{blocks:#?}");
}

#[test]
fn the_block_parser_rejects_stray_markers_and_flags_unknown_languages() {
    let text = format!("{MARKER} no server -->\n```sh\nx\n```\n```js\ny\n```\n```\nz\n```\n");
    let kinds: Vec<Kind> = code_blocks(&text).unwrap().iter().map(Block::kind).collect();
    assert_eq!(kinds, [Kind::Skipped, Kind::Unclassified, Kind::Unclassified]);
    assert!(code_blocks(&format!("{MARKER} why -->\nprose\n```sh\nx\n```\n")).is_err());
    assert!(code_blocks(&format!("{MARKER} -->\n```sh\nx\n```\n")).is_err());
    assert!(code_blocks(&format!("```sh\nx\n```\n{MARKER} why -->\n")).is_err());
    assert!(code_blocks("```sh\nnever closed\n").is_err());
}

/// `($slug: String!, $after: String)` of the operation → (name, required).
fn variable_definitions(query: &str) -> Vec<(String, bool)> {
    let header = &query[..query.find('{').unwrap_or(query.len())];
    let Some(open) = header.find('(') else {
        return Vec::new();
    };
    header[open + 1..]
        .split('$')
        .skip(1)
        .filter_map(|definition| {
            let (name, rest) = definition.split_once(':')?;
            let has_default = rest.contains('=');
            let ty = rest.split(['=', ',', ')']).next().unwrap_or("").trim();
            Some((name.trim().to_string(), ty.ends_with('!') && !has_default))
        })
        .collect()
}

/// What a reader would type for a README variable, on the demo data set.
fn example_value(name: &str) -> Option<Value> {
    Some(match name {
        "slug" => json!(ORIGINAL_SLUG),
        "channel" => json!("social-posts"),
        "collection" => json!("proof"),
        "query" | "text" => json!("production"),
        "first" => json!(10),
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn readme_graphql_examples_answer_on_the_demo_data() {
    let app = TestApp::with_demo().await;
    let admin = app.token("readme-admin", Role::Admin).await;
    let mut ran = 0;
    for block in readme_blocks().iter().filter(|b| b.kind() == Kind::GraphQl) {
        let mut variables = Map::new();
        for (name, required) in variable_definitions(&block.code) {
            match example_value(&name) {
                Some(value) => {
                    variables.insert(name, value);
                }
                None if required => panic!(
                    "README.md line {}: no example value for ${name}; add one to example_value in tests/readme.rs",
                    block.line
                ),
                None => {}
            }
        }
        // A mutation needs a token; reads run anonymously, as a site frontend sends them.
        let body = if block.code.trim_start().starts_with("mutation") {
            app.graphql_as(&admin, &block.code, Value::Object(variables)).await
        } else {
            app.graphql(&block.code, Value::Object(variables)).await
        };
        assert!(body.get("errors").is_none(), "README.md line {}: {body:#}", block.line);
        let data = body["data"].as_object().unwrap_or_else(|| panic!("README.md line {}: {body:#}", block.line));
        for (field, value) in data {
            assert!(!value.is_null(), "README.md line {}: `{field}` is null on the demo data", block.line);
        }
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} graphql blocks found");
}

/// Kills the whole process group on drop, so a failing test leaves no server behind.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.0.id());
        let _ = self.0.wait();
    }
}

fn kill_group(pgid: u32) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// A fresh copy of what the examples use from the repository's root.
fn working_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    std::fs::create_dir(dir.path().join("demo")).unwrap();
    for entry in std::fs::read_dir(&demo).expect("demo/") {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join("demo").join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// A directory holding a `backlot` that is the binary under test, to put first on the PATH.
fn bin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_backlot"), dir.path().join("backlot")).expect("symlink");
    dir
}

/// A command with `backlot` on the PATH and none of the caller's Backlot settings.
fn user_command(program: &str, bin: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    command.env("PATH", std::env::join_paths(paths).unwrap()).env("RUST_LOG", "warn").current_dir(cwd);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("BACKLOT_") || key == "DATABASE_URL" {
            command.env_remove(key.as_ref());
        }
    }
    command
}

/// Starts `backlot serve --demo` on a free port; returns it with the port.
fn demo_server(bin: &Path, dir: &Path) -> (Group, u16) {
    let mut child = user_command("backlot", bin, dir)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", "sqlite://demo.db"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start backlot serve --demo");
    let stdout = child.stdout.take().expect("stdout");
    let group = Group(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the ready line");
    // "Backlot listening on http://127.0.0.1:PORT/graphql ..."
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no address in the server's ready line: {line:?}"));
    (group, port)
}

/// Points `127.0.0.1:PORT` and `localhost:PORT` at free ports: 8080 at the demo server, any other at a port of
/// its own (a block that starts its own server). Returns the new text and the ports the block owns.
fn rewrite_ports(code: &str, demo_port: u16) -> (String, Vec<u16>) {
    let mut owned: HashMap<u16, u16> = HashMap::new();
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    loop {
        let next = ["127.0.0.1:", "localhost:"].iter().filter_map(|host| rest.find(host).map(|at| (at, host))).min();
        let Some((at, host)) = next else { break };
        let after = at + host.len();
        let digits = rest[after..].chars().take_while(char::is_ascii_digit).count();
        out.push_str(&rest[..after]);
        match rest[after..after + digits].parse::<u16>() {
            Ok(DEMO_PORT) => out.push_str(&demo_port.to_string()),
            Ok(port) => out.push_str(&owned.entry(port).or_insert_with(free_port).to_string()),
            Err(_) => out.push_str(&rest[after..after + digits]),
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    (out, owned.into_values().collect())
}

/// Why a block's run is not what a user pasting it should see, if it is not.
fn check_output(stdout: &str) -> Option<String> {
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        match serde_json::from_str::<Value>(line) {
            Ok(body) if body.get("errors").is_some() => return Some(format!("an answer with errors: {line}")),
            Ok(_) => {}
            Err(e) => return Some(format!("a line that looks like JSON but is not ({e}): {line}")),
        }
    }
    stdout.contains("\"errors\"").then(|| "\"errors\" in the output".to_string())
}

/// Runs one block with bash as a user's shell would (stopping at the first failing command) in `cwd`.
fn run_shell_block(block: &Block, bin: &Path, cwd: &Path, demo_port: u16) -> Result<String, String> {
    let (code, owned_ports) = rewrite_ports(&block.code, demo_port);
    let scratch = tempfile::tempdir().expect("temp dir");
    let script = scratch.path().join("example.sh");
    std::fs::write(&script, &code).unwrap();
    let (out_path, err_path) = (scratch.path().join("stdout"), scratch.path().join("stderr"));
    // Files, not pipes: a server the block leaves running would hold a pipe open forever.
    let mut child = user_command("bash", bin, cwd)
        // A `backlot serve` with no --listen must not take the machine's real 8080.
        .env("BACKLOT_LISTEN", format!("127.0.0.1:{}", free_port()))
        .args(["-e", "-o", "pipefail"])
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("run bash");
    let pgid = child.id();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if started.elapsed() > BLOCK_TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let left_running: Vec<u16> = owned_ports.iter().copied().filter(|port| listening(*port)).collect();
    kill_group(pgid);
    let _ = child.wait();
    let read = |path: &PathBuf| {
        let mut text = String::new();
        let _ = std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text));
        text
    };
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    let problem = match status {
        None => Some(format!("still running after {BLOCK_TIMEOUT:?}")),
        Some(status) if !status.success() => Some(format!("exited with {status}")),
        Some(_) if !left_running.is_empty() => Some(format!("left a server running on {left_running:?}")),
        Some(_) => check_output(&stdout),
    };
    match problem {
        None => Ok(stdout),
        Some(problem) => Err(format!(
            "README.md line {}: {problem}\n--- script ---\n{code}--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
            block.line
        )),
    }
}

#[test]
fn readme_shell_examples_run_as_pasted() {
    let curl = Command::new("curl").arg("--version").stdout(Stdio::null()).status();
    assert!(curl.is_ok_and(|s| s.success()), "the README's examples need curl on the PATH");
    let bin = bin_dir();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let (_server, demo_port) = demo_server(bin.path(), server_dir.path());
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in readme_blocks().iter().filter(|b| b.kind() == Kind::Shell) {
        let cwd = working_directory();
        let started = Instant::now();
        match run_shell_block(block, bin.path(), cwd.path(), demo_port) {
            Ok(_) => eprintln!("README.md line {}: ok in {} ms", block.line, started.elapsed().as_millis()),
            Err(failure) => failures.push(failure),
        }
        ran += 1;
    }
    assert!(failures.is_empty(), "{} of {ran} sh blocks failed:\n\n{}", failures.len(), failures.join("\n\n"));
    assert!(ran >= 5, "only {ran} sh blocks found");
}

#[test]
fn the_port_rewrite_covers_every_address_form() {
    let (code, owned) =
        rewrite_ports("curl localhost:8080/x; serve --listen 127.0.0.1:8081; curl 127.0.0.1:8081/y", 1234);
    assert_eq!(owned.len(), 1);
    let own = owned[0];
    assert_eq!(code, format!("curl localhost:1234/x; serve --listen 127.0.0.1:{own}; curl 127.0.0.1:{own}/y"));
}

#[test]
fn the_output_check_catches_graphql_errors() {
    assert!(check_output("{\"data\":{\"a\":1}}\n[1/2] created x (draft)\n").is_none());
    assert!(check_output("{\"errors\":[{\"message\":\"x\"}]}\n").is_some());
    assert!(check_output("{\"query\":\"{\n").is_some());
    assert!(check_output("[{\"errors\":[]}]\n").is_some());
}

/// docs/import-format.md's example pages import, and read back as the document says they do.
#[tokio::test(flavor = "multi_thread")]
async fn the_import_format_document_pages_import_as_described() {
    let pages = code_blocks(IMPORT_FORMAT).expect("docs/import-format.md");
    let pages: Vec<&Block> = pages.iter().filter(|b| b.lang == "text").collect();
    assert_eq!(pages.len(), 2, "the minimal and the complete page");
    let app = TestApp::new().await;
    for (i, page) in pages.iter().enumerate() {
        app.import(&format!("page-{i}.txt"), &page.code, true);
    }
    let query = "query($slug: String!) { article(slug: $slug) { title thesis point audience { roles readerNeed }
        realProblem recordMatters smarterQuestion proves sections { heading paragraphs } questions { question answer }
        collection { name } } }";
    let minimal = app.data(query, json!({ "slug": "studio-lighting-notes" })).await;
    let minimal = &minimal["article"];
    assert_eq!(minimal["title"], "Studio Lighting Notes");
    assert_eq!(minimal["point"], "The point is to show the choices, not the gear list.");
    assert_eq!(minimal["audience"]["roles"], json!(["photographers", "brand leads"]));
    assert_eq!(minimal["sections"].as_array().map(Vec::len), Some(1));
    assert_eq!(minimal["collection"]["name"], "Proof");

    let complete = app.data(query, json!({ "slug": "cafe-creme" })).await;
    let complete = &complete["article"];
    assert_eq!(complete["title"], "Café Crème");
    assert_eq!(complete["audience"]["roles"], json!(["founders", "producers", "photographers"]));
    assert!(complete["recordMatters"].as_str().is_some_and(|t| t.starts_with("The production record matters")));
    for field in ["realProblem", "smarterQuestion", "proves"] {
        assert!(complete[field].is_string(), "{field}: {complete:#}");
    }
    assert_eq!(complete["sections"][0]["paragraphs"].as_array().map(Vec::len), Some(2));
    assert_eq!(complete["questions"].as_array().map(Vec::len), Some(2));
}

#[test]
fn backlot_help_import_describes_the_format() {
    let out = Command::new(env!("CARGO_BIN_EXE_backlot")).args(["help", "import"]).output().expect("run backlot");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "docs/import-format.md",
        "TITLE is DEFINITION",
        "Title:",
        "Who this helps",
        "The real problem",
        "The production record",
        "The smarter question",
        "What this proves",
        "Questions this page",
        "Next:",
    ] {
        assert!(help.contains(needle), "`backlot help import` does not mention {needle:?}:\n{help}");
    }
}
