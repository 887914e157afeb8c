//! End to end over a real socket: the `tocsin` binary run as an operator runs it (`apply` the
//! example, `user set` an admin, `serve`), driven over HTTP like a browser, then stopped with
//! SIGTERM. Also the harness for that ([`Site`], [`Served`]), which the browser test shares.
//!
//! Everything here is blocking (std processes, reqwest's blocking client): the server lives in
//! another process, so the test has nothing to gain from a runtime of its own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tocsin");
pub const ADMIN_USER: &str = "admin";
/// Has a space and punctuation so the form encoding below is exercised, not just passed through.
pub const ADMIN_PASSWORD: &str = "correct horse & battery+staple";

/// How long a process may take to start or stop: generous, because CI runs this on 2 cores
/// while other tests build and run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// `tocsin ARGS` with no `TOCSIN_*` variables from the caller's environment, so a developer's
/// own settings cannot change what the test sees.
pub fn tocsin_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TOCSIN_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `tocsin ARGS` to completion with `stdin` as its input.
pub fn run_tocsin(args: &[&str], stdin: &str) -> Output {
    let mut child = tocsin_command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tocsin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for tocsin")
}

/// Like [`run_tocsin`], and panics with the output unless the command succeeded.
pub fn run_ok(args: &[&str], stdin: &str) -> String {
    let out = run_tocsin(args, stdin);
    assert!(
        out.status.success(),
        "tocsin {args:?} failed with {}:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A temp dir holding a SQLite database set up through the CLI, as an operator would.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub database_url: String,
}

impl Site {
    /// An empty database (`serve` migrates it on start).
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
        Self { dir, database_url }
    }

    /// The example organisation applied from its YAML files, and an admin account.
    pub fn seeded() -> Self {
        let site = Self::empty();
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ecommerce");
        let mut files: Vec<String> = std::fs::read_dir(examples)
            .expect("examples/ecommerce")
            .map(|e| e.expect("dir entry").path().display().to_string())
            .filter(|p| p.ends_with(".yaml"))
            .collect();
        files.sort();
        let mut args = vec!["apply", "--database-url", &site.database_url];
        args.extend(files.iter().map(String::as_str));
        let plan = run_ok(&args, "");
        assert!(plan.contains("Applied."), "apply printed:\n{plan}");
        // The database flag goes before `set`: it belongs to `user`, not to its subcommand.
        run_ok(
            &[
                "user",
                "--database-url",
                &site.database_url,
                "set",
                ADMIN_USER,
                "--role",
                "admin",
                "--password-stdin",
            ],
            &format!("{ADMIN_PASSWORD}\n"),
        );
        site
    }
}

/// A running `tocsin serve`. Dropping it kills and reaps the process, so a test that fails
/// anywhere (a panic unwinds through the drop) leaves no server behind.
pub struct Served {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub base: String,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Served {
    /// Starts `tocsin serve` on a free port and waits until it prints its address.
    pub fn start(database_url: &str, extra_args: &[&str]) -> Self {
        let mut args = vec![
            "serve",
            "--database-url",
            database_url,
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra_args);
        let mut child = tocsin_command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tocsin serve");
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        // Both pipes are drained on threads for the life of the process: a full pipe would
        // block the server, and stderr is what explains a failure.
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("stderr lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The receiver stops listening once it has the address; keep draining anyway.
                let _ = lines_tx.send(line);
            }
        });
        let mut served = Self {
            child: Some(child),
            base: String::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        };
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        while served.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(base) = line.strip_prefix("Tocsin is listening on ") {
                        served.base = base.trim().to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "tocsin serve printed no address within {PROCESS_TIMEOUT:?}; stderr:\n{}",
                    served.stderr()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = served.child.as_mut().map(Child::wait);
                    panic!(
                        "tocsin serve exited ({status:?}) before printing its address; stderr:\n{}",
                        served.stderr()
                    )
                }
            }
        }
        served
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `host:port` the server is bound to.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// What the server has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Polls `/readyz` until the database answers (bounded by the process timeout).
    pub fn wait_ready(&self, client: &Client) {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            let last = match client.get(self.url("/readyz")).send() {
                Ok(r) if r.status() == StatusCode::OK => return,
                Ok(r) => format!("status {}", r.status()),
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "/readyz not ready within {PROCESS_TIMEOUT:?} ({last}); stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its status. The
    /// whole of stderr is available from [`Served::stderr`] afterwards.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("server still running");
        let signalled = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "kill -TERM failed: {signalled}");
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "tocsin serve still running {within:?} after SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        // The process is gone, so its stderr reaches end of file and the reader finishes.
        if let Some(reader) = self.stderr_reader.take() {
            reader.join().expect("stderr reader");
        }
        status
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A client that behaves like a browser for our purposes: keeps cookies, follows redirects,
/// and gives up on a hung request instead of hanging the test run.
pub fn browser_like_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// The `value` of the `<input name="NAME">` in `html` (our templates write `name` first).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[at..tag_end];
    let start = tag.find("value=\"")? + "value=\"".len();
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_string())
}

/// `application/x-www-form-urlencoded`, written out because reqwest's `form` feature is off.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs in through the login form as a browser would: the form's CSRF cookie and hidden field,
/// then the POST and its redirect. Returns the page the redirect lands on.
pub fn sign_in(client: &Client, server: &Served, user: &str, password: &str) -> String {
    let form = client.get(server.url("/login")).send().expect("GET /login");
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().expect("login page");
    let csrf = input_value(&html, "csrf").expect("the login form has a csrf field");
    let landed = client
        .post(server.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("username", user),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/"),
        ]))
        .send()
        .expect("POST /login");
    assert_eq!(landed.status(), StatusCode::OK, "after signing in");
    assert_eq!(landed.url().path(), "/", "signing in redirects to `next`");
    landed.text().expect("home page")
}

#[test]
fn serve_end_to_end_over_a_real_socket() {
    let site = Site::seeded();
    let mut server = Served::start(&site.database_url, &[]);
    let client = browser_like_client();
    server.wait_ready(&client);

    let health = client.get(server.url("/healthz")).send().expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().expect("body"), "ok");

    // Pages need a session: without one, a page sends the browser to the login form.
    let anonymous = client
        .get(server.url("/services/catalog-api"))
        .send()
        .expect("anonymous page");
    assert_eq!(anonymous.url().path(), "/login");

    // A wrong password lands back on the form, with no session.
    let refused = client
        .get(server.url("/login"))
        .send()
        .and_then(|r| r.text())
        .expect("login form");
    let csrf = input_value(&refused, "csrf").expect("csrf field");
    let refused = client
        .post(server.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("username", ADMIN_USER),
            ("password", "not the password"),
            ("csrf", &csrf),
        ]))
        .send()
        .and_then(|r| r.text())
        .expect("refused login");
    assert!(refused.contains("Wrong username or password."), "{refused}");

    let home = sign_in(&client, &server, ADMIN_USER, ADMIN_PASSWORD);
    assert!(
        !home.contains("name=\"password\""),
        "still the login form:\n{home}"
    );

    let page = client
        .get(server.url("/services/catalog-api"))
        .send()
        .expect("service page");
    assert_eq!(page.status(), StatusCode::OK, "GET /services/catalog-api");
    assert_eq!(
        page.url().path(),
        "/services/catalog-api",
        "signed in: no redirect"
    );
    let html = page.text().expect("service page body");
    assert!(
        html.contains("Catalog Backend Team"),
        "owner team missing:\n{html}"
    );

    let metrics = client.get(server.url("/metrics")).send().expect("metrics");
    assert_eq!(metrics.status(), StatusCode::OK);
    let content_type = metrics.headers()["content-type"].to_str().expect("ascii");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = metrics.text().expect("metrics body");
    assert!(
        text.lines()
            .any(|l| l.starts_with("tocsin_http_requests_total{") && l.contains("/healthz")),
        "no request counter for /healthz:\n{text}"
    );

    let missing = client
        .get(server.url("/api/v1/no-such-thing"))
        .send()
        .expect("unknown API path");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().expect("the 404 is JSON");
    assert_eq!(body["error"], "not found", "{body}");

    let status = server.terminate(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM is a clean stop; stderr:\n{}",
        server.stderr()
    );
}

#[test]
fn serve_logs_json_lines_when_asked() {
    let site = Site::empty();
    let mut server = Served::start(&site.database_url, &["--log-format", "json"]);
    server.wait_ready(&browser_like_client());
    let addr = server.addr().to_string();
    assert_eq!(server.terminate(Duration::from_secs(10)).code(), Some(0));

    let stderr = server.stderr();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "expected start and stop lines:\n{stderr}");
    for line in &lines {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(entry["level"].is_string(), "no level: {line}");
        assert!(entry["timestamp"].is_string(), "no timestamp: {line}");
    }
    assert!(
        lines.iter().any(|l| l.contains(&addr)),
        "no line names the bound address {addr}:\n{stderr}"
    );
}

#[test]
fn validate_names_file_line_and_column_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("teams.yaml");
    // The mistake is the misspelt key on line 4, column 5.
    std::fs::write(
        &path,
        "teams:\n  - id: sre\n    name: SRE\n    colour: red\n",
    )
    .expect("write yaml");
    let path = path.display().to_string();
    let out = run_tocsin(&["validate", &path], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("{path}:4:5:")),
        "no file:line:col in:\n{stderr}"
    );
    assert!(
        stderr.contains("colour"),
        "the error names the key:\n{stderr}"
    );

    // The same file without the mistake passes, so the exit status is about the mistake.
    std::fs::write(&path, "teams:\n  - id: sre\n    name: SRE\n").expect("write yaml");
    let out = run_tocsin(&["validate", &path], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
