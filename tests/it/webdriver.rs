//! A small W3C WebDriver client over reqwest, enough to drive headless Chromium through
//! chromedriver: start it, open a session, find elements, type, click, read the page, take a
//! screenshot. No browser-automation crate: the protocol is a handful of JSON calls.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference (fixed by the W3C spec).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where a program is on `PATH`, if it is.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A running chromedriver on a port of its own; killed and reaped on drop.
pub struct Driver {
    child: Child,
    pub base: String,
    http: Client,
    /// chromedriver's own output, quoted in failures: it says why Chromium would not start.
    log: PathBuf,
}

impl Driver {
    /// Starts `chromedriver` on a free port, logging to `log`, and waits until it says ready.
    pub fn start(chromedriver: &Path, log: &Path) -> Self {
        // Ask the kernel for a free port, then hand it to chromedriver. Another process could
        // take it in between, but nothing else on a test machine races for loopback ports.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log_file = std::fs::File::create(log).expect("chromedriver log");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("spawn chromedriver");
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            // Starting Chromium on a busy 2-core machine can take a while; nothing takes a minute.
            http: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .and_then(|r| r.json::<Value>())
                .is_ok_and(|v| v["value"]["ready"] == true);
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within 30s; its log:\n{}",
                driver.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens a browser session: headless Chromium with its own empty profile in `profile`.
    pub fn session(&self, chromium: &Path, profile: &Path) -> Session<'_> {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // This machine's network is closed: without these Chromium keeps trying to reach
            // Google's services, slowly and noisily.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args},
        }}});
        let value = call(
            &self.http,
            Method::POST,
            &format!("{}/session", self.base),
            Some(capabilities),
        )
        .unwrap_or_else(|e| {
            panic!(
                "cannot start a Chromium session: {e}; chromedriver's log:\n{}",
                self.log_tail()
            )
        });
        let id = value["sessionId"].as_str().expect("sessionId").to_string();
        Session {
            driver: self,
            url: format!("{}/session/{id}", self.base),
        }
    }

    /// The end of chromedriver's log (the log file goes away with the test's temp dir).
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session; deleted (the browser closed) on drop.
pub struct Session<'d> {
    driver: &'d Driver,
    url: String,
}

impl Session<'_> {
    /// A WebDriver command on this session: `Ok(value)` or the driver's error as text.
    pub fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        call(
            &self.driver.http,
            method,
            &format!("{}{path}", self.url),
            body,
        )
    }

    fn must(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.cmd(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    /// Navigates and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.must(Method::POST, "/url", Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.must(Method::GET, "/url", None)
            .as_str()
            .expect("url")
            .to_string()
    }

    pub fn title(&self) -> String {
        self.must(Method::GET, "/title", None)
            .as_str()
            .expect("title")
            .to_string()
    }

    pub fn source(&self) -> String {
        self.must(Method::GET, "/source", None)
            .as_str()
            .expect("source")
            .to_string()
    }

    /// The first element matching a CSS selector, waiting up to `within` for it to appear
    /// (a page that is still loading after a form post has no such element yet).
    /// The text of the first element matching `css`, found again if the page replaced it
    /// between finding and reading (a redirect or a live update landing at that moment).
    pub fn text_of(&self, css: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let el = self.find(css, within);
            match self.cmd(Method::GET, &format!("/element/{}/text", el.id), None) {
                Ok(v) => return v.as_str().expect("text").to_string(),
                Err(e) if e.contains("stale element") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("WebDriver text of {css:?}: {e}"),
            }
        }
    }

    pub fn find(&self, css: &str, within: Duration) -> Element<'_> {
        let deadline = Instant::now() + within;
        loop {
            let query = json!({"using": "css selector", "value": css});
            match self.cmd(Method::POST, "/element", Some(query)) {
                Ok(v) => {
                    let id = v[ELEMENT_KEY].as_str().expect("element id").to_string();
                    return Element { session: self, id };
                }
                Err(e) if Instant::now() >= deadline => panic!(
                    "no element {css:?} within {within:?} ({e}) on {}:\n{}",
                    self.current_url(),
                    self.source()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Waits up to `within` for the current URL to satisfy `ok`; returns it.
    pub fn wait_for_url(&self, within: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let url = self.current_url();
            if ok(&url) || Instant::now() >= deadline {
                return url;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A cookie of the current page by name, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<Value> {
        self.cmd(Method::GET, &format!("/cookie/{name}"), None).ok()
    }

    /// The visible page as PNG bytes.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.must(Method::GET, "/screenshot", None);
        decode_base64(encoded.as_str().expect("base64 string")).expect("valid base64")
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // Closes the browser; chromedriver would leave it running until the driver stops.
        let _ = call(&self.driver.http, Method::DELETE, &self.url, None);
    }
}

/// An element on the page.
pub struct Element<'s> {
    session: &'s Session<'s>,
    id: String,
}

impl Element<'_> {
    /// Types `text` into the element.
    pub fn send_keys(&self, text: &str) {
        let path = format!("/element/{}/value", self.id);
        self.session
            .must(Method::POST, &path, Some(json!({ "text": text })));
    }

    pub fn click(&self) {
        let path = format!("/element/{}/click", self.id);
        self.session.must(Method::POST, &path, Some(json!({})));
    }

    /// The element's rendered text.
    pub fn text(&self) -> String {
        let path = format!("/element/{}/text", self.id);
        self.session
            .must(Method::GET, &path, None)
            .as_str()
            .expect("text")
            .to_string()
    }
}

/// One WebDriver call. Every response is `{"value": …}`; on failure the value holds
/// `error` and `message`.
fn call(http: &Client, method: Method, url: &str, body: Option<Value>) -> Result<Value, String> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().map_err(|e| e.to_string())?;
    let status = response.status();
    let mut body: Value = response.json().map_err(|e| e.to_string())?;
    let value = body["value"].take();
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!(
            "{status}: {} ({})",
            value["error"], value["message"]
        ))
    }
}

/// Standard base64 (screenshots come as base64 text); written out to need no extra crate.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", char::from(c))),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).expect("masked to a byte"));
        }
    }
    Ok(out)
}

#[test]
fn base64_decodes_padded_and_unpadded_text() {
    assert_eq!(decode_base64("").unwrap(), b"");
    assert_eq!(decode_base64("TQ==").unwrap(), b"M");
    assert_eq!(decode_base64("TWE=").unwrap(), b"Ma");
    assert_eq!(decode_base64("TWFu").unwrap(), b"Man");
    assert_eq!(
        decode_base64("iVBORw0K\nGgo=").unwrap(),
        b"\x89PNG\r\n\x1a\n"
    );
    assert!(decode_base64("TW!u").is_err());
}
