//! `backlot serve` as a real process on a real socket: slow clients are cut off, SIGTERM drains and
//! exits in time, the rate limit, the metrics listener, log output, and an unreachable PostgreSQL.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;

struct Server {
    child: Child,
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    /// Starts `backlot serve --bench` on a free port of 127.0.0.1 with `args`, on the test's database.
    fn start(app: &TestApp, args: &[&str]) -> Server {
        Server::start_with(app, args, Stdio::null())
    }

    fn start_with(app: &TestApp, args: &[&str], stderr: Stdio) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backlot"))
            .args(["serve", "--bench", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("DATABASE_URL", &app.url)
            .env("RUST_LOG", "backlot=info")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start backlot serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut addr = None;
        let mut metrics = None;
        let wants_metrics = args.contains(&"--metrics-listen");
        let mut line = String::new();
        while addr.is_none() || (wants_metrics && metrics.is_none()) {
            line.clear();
            assert!(stdout.read_line(&mut line).expect("read stdout") > 0, "serve exited before listening");
            let found = |prefix: &str| {
                line.split(prefix).nth(1).and_then(|rest| rest.split('/').next()).and_then(|a| a.parse().ok())
            };
            if line.starts_with("metrics on ") {
                metrics = found("http://");
            } else if line.starts_with("Backlot listening on ") {
                addr = found("http://");
            }
        }
        Server { child, addr: addr.expect("address"), metrics, stdout }
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit; panics past `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "serve exited with {status}");
                return started.elapsed();
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("serve still running {limit:?} after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; returns the status and the whole answer.
fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

fn get(addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n"))
}

/// Reads until the peer closes or answers; returns what arrived and how long it took.
fn wait_for_close_or_answer(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    stream.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the slow connection open past {limit:?}: {e}"),
        }
    }
    (String::from_utf8_lossy(&buf).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_by_the_header_and_body_deadlines() {
    let app = TestApp::new().await;
    let server = Server::start(&app, &["--header-read-timeout-seconds", "1", "--body-read-timeout-seconds", "1"]);

    // Part of the headers, then nothing: the connection is closed.
    let mut partial_headers = TcpStream::connect(server.addr).unwrap();
    partial_headers.write_all(b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: appl").unwrap();
    let (_, took) = wait_for_close_or_answer(&mut partial_headers, Duration::from_secs(5));
    assert!(took < Duration::from_secs(3), "closed after {took:?}");

    // Headers and half a body, then nothing: 408.
    let mut partial_body = TcpStream::connect(server.addr).unwrap();
    partial_body
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
        )
        .unwrap();
    let (answer, took) = wait_for_close_or_answer(&mut partial_body, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    // Meanwhile the server answers everyone else.
    let (status, _) = get(server.addr, "/healthz", "");
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_half_open_connection_exits_within_the_grace_period() {
    let app = TestApp::new().await;
    // A long header deadline, so only the shutdown grace can end the stalled connection.
    let mut server = Server::start(&app, &["--shutdown-grace-seconds", "1", "--header-read-timeout-seconds", "60"]);
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled.write_all(b"GET /graphql HTTP/1.1\r\nHost: te").unwrap();
    let _idle = TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.terminate();
    let took = server.wait_exit(Duration::from_secs(5));
    assert!(took < Duration::from_secs(3), "exited after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_request_in_flight_and_refuses_new_ones() {
    let app = TestApp::new().await;
    let mut server = Server::start(&app, &["--shutdown-grace-seconds", "5"]);
    let addr = server.addr;
    let in_flight: Vec<_> = (0..16).map(|_| std::thread::spawn(move || get(addr, "/bench/sleep/1000", ""))).collect();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    // Refused as soon as the signal is handled (polled, so a busy machine does not fail the test).
    let signalled = Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(signalled.elapsed() < Duration::from_secs(2), "new connections still accepted after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    for request in in_flight {
        let (status, answer) = request.join().expect("client thread");
        assert_eq!(status, 200, "an in-flight request was dropped: {answer}");
    }
    let took = server.wait_exit(Duration::from_secs(6));
    assert!(took < Duration::from_secs(5), "exited after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_clients_are_rate_limited_per_ip_when_asked() {
    let app = TestApp::new().await;
    let server = Server::start(&app, &["--rate-limit-per-minute", "3"]);
    let query = "/graphql?query=%7B__typename%7D";
    for _ in 0..3 {
        assert_eq!(get(server.addr, query, "").0, 200);
    }
    let (status, answer) = get(server.addr, query, "");
    assert_eq!(status, 429, "{answer}");
    let retry_after = answer
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("retry-after: ").map(str::to_string))
        .expect("Retry-After header");
    assert!(retry_after.trim().parse::<u64>().expect("seconds") >= 1);
    assert_eq!(get(server.addr, "/healthz", "").0, 200, "health probes are never limited");
    // A token holder is not limited (this token is unknown, so the answer is 401, not 429).
    assert_eq!(get(server.addr, query, "Authorization: Bearer nope\r\n").0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_live_on_their_own_address() {
    let app = TestApp::new().await;
    let server = Server::start(&app, &["--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics.expect("metrics address printed");
    assert_eq!(get(server.addr, "/graphql?query=%7B__typename%7D", "").0, 200);
    let (status, answer) = get(metrics, "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        answer.contains("backlot_http_requests_total{method=\"GET\",route=\"/graphql\",status=\"200\"} 1"),
        "{answer}"
    );
    assert!(answer.contains("backlot_sql_statements_per_request_count"));
    assert_eq!(get(server.addr, "/metrics", "").0, 404, "not on the main address");
}

fn serve_logs(app: &TestApp, args: &[&str]) -> String {
    let mut server = Server::start_with(app, args, Stdio::piped());
    let (status, _) = get(server.addr, "/healthz", "X-Request-Id: log-me-1\r\n");
    assert_eq!(status, 200);
    // After the cache's first generation poll: a miss that runs SQL, then a hit.
    std::thread::sleep(Duration::from_millis(400));
    for _ in 0..2 {
        assert_eq!(get(server.addr, "/graphql?query=%7BreuseChannels%7Bslug%7D%7D", "").0, 200);
    }
    server.terminate();
    server.wait_exit(Duration::from_secs(15));
    let mut stderr = String::new();
    server.child.stderr.take().expect("stderr").read_to_string(&mut stderr).unwrap();
    let mut rest = String::new();
    let _ = server.stdout.read_to_string(&mut rest);
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_no_colour_codes_in_a_pipe_and_can_be_json_with_the_request_id() {
    let app = TestApp::new().await;
    let text = serve_logs(&app, &[]);
    assert!(!text.contains('\u{1b}'), "ANSI codes in a pipe: {text:?}");
    let access = text.lines().find(|l| l.contains("GET /healthz 200")).unwrap_or_else(|| panic!("{text}"));
    assert!(access.contains("log-me-1"), "the access line names the request: {access}");
    assert!(access.contains("latency_ms") && access.contains("statements"), "{access}");
    let graphql: Vec<&str> = text.lines().filter(|l| l.contains("GET /graphql 200")).collect();
    assert_eq!(graphql.len(), 2, "{text}");
    assert!(graphql[0].contains("cache=\"miss\"") && !graphql[0].contains("statements=0"), "{}", graphql[0]);
    assert!(graphql[1].contains("cache=\"hit\"") && graphql[1].contains("statements=0"), "{}", graphql[1]);

    let json = serve_logs(&app, &["--log-format", "json"]);
    let lines: Vec<serde_json::Value> =
        json.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let access = lines
        .iter()
        .find(|l| l["fields"]["message"].as_str().is_some_and(|m| m.contains("GET /healthz")))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(access["span"]["id"], "log-me-1", "{access}");
    assert_eq!(access["fields"]["status"], 200);
}

#[test]
fn an_unreachable_postgres_names_its_address_and_the_reason_at_once() {
    // Port 1 on loopback: nothing listens there.
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_backlot"))
        .args(["migrate", "--database-url", "postgres://backlot@127.0.0.1:1/backlot"])
        .output()
        .expect("run backlot");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// A client that goes away takes its request with it: the handler's future is dropped (so it runs no
/// further statements, and the one running then is stopped by the statement budget) instead of working to
/// the end for nobody. The access line is written when a request completes, so a dropped one has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_stops_when_its_client_disconnects() {
    let app = TestApp::new().await;
    let mut server = Server::start_with(&app, &[], Stdio::piped());
    let mut gone = TcpStream::connect(server.addr).expect("connect");
    gone.write_all(b"GET /bench/sleep/1500 HTTP/1.1\r\nHost: backlot\r\n\r\n").expect("send");
    std::thread::sleep(Duration::from_millis(200));
    drop(gone);
    std::thread::sleep(Duration::from_millis(1_800));
    assert_eq!(get(server.addr, "/bench/sleep/10", "").0, 200);
    server.terminate();
    server.wait_exit(Duration::from_secs(15));
    let mut stderr = String::new();
    server.child.stderr.take().expect("stderr").read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("GET /bench/sleep/10 200"), "{stderr}");
    assert!(!stderr.contains("/bench/sleep/1500"), "the abandoned request ran to the end: {stderr}");
}
