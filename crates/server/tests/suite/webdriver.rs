//! A minimal W3C WebDriver client over HTTP, enough to drive headless Chromium through
//! chromedriver: navigate, find, click, type, read text.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    session_url: String,
    driver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Fails (never skips) when
    /// either is missing: `scripts/test` installs them.
    pub async fn start() -> Browser {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chrome_bin = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin} (install chromium-driver): {e}"));
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("callplane-chrome-{}", uuid::Uuid::now_v7().simple()));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                         "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let res: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.expect("new session").json().await.unwrap();
        let id =
            res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("chromium did not start: {res}")).to_owned();
        Browser { http, session_url: format!("{base}/session/{id}"), driver, profile }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session_url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or("").to_owned()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or("").to_owned()
    }

    /// Waits up to fifteen seconds for `css` to match (CI machines are busy); returns the element id.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self
                .cmd(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css })))
                .await;
            if let Some(id) = v[ELEMENT].as_str() {
                return id.to_owned();
            }
            if Instant::now() > deadline {
                panic!("no element matches {css} on {}:\n{}", self.url().await, self.source().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        let v =
            self.cmd(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css }))).await;
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    /// Clicks the element; when the page changed under it (a stale element), finds it
    /// again on the new page, a few times.
    pub async fn click(&self, css: &str) {
        for attempt in 0..5 {
            let id = self.find(css).await;
            let v = self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
            if v.is_null() || v.get("error").is_none() {
                return;
            }
            // Chromium reports an element of a page that was just replaced either way.
            let stale = v["error"].as_str() == Some("stale element reference")
                || v["message"].as_str().is_some_and(|m| m.contains("does not belong to the document"));
            assert!(stale && attempt < 4, "click {css}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        let v = self.cmd(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
        assert!(v.is_null() || v.get("error").is_none(), "type into {css}: {v}");
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None).await.as_str().unwrap_or("").to_owned()
    }

    /// Waits until the element's text is `expected` (pages load after a click; the old
    /// page's element may still be there for a moment), then asserts it.
    #[track_caller]
    pub fn expect_text<'a>(&'a self, css: &'a str, expected: &'a str) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let found = self.text_now(css).await;
                if found.as_deref() == Some(expected) {
                    return;
                }
                if std::time::Instant::now() > deadline {
                    panic!("{caller}: `{css}` reads {found:?}, expected {expected:?}");
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }

    /// Waits until nothing matches `css` (the page a click leads to has replaced the one
    /// that had it), then asserts it.
    pub async fn expect_gone(&self, css: &str, why: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.exists(css).await {
            assert!(std::time::Instant::now() < deadline, "{why}: `{css}` is still there");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is on a page whose URL ends with `suffix` (a form's
    /// redirect has landed), then asserts it.
    pub async fn expect_url(&self, suffix: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let url = self.url().await;
            if url.ends_with(suffix) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "still on {url}, expected …{suffix}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is on a page whose URL contains `part`.
    pub async fn expect_url_containing(&self, part: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let url = self.url().await;
            if url.contains(part) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "still on {url}, expected …{part}…");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The element's text now, if it exists and is not stale.
    async fn text_now(&self, css: &str) -> Option<String> {
        let found =
            self.cmd(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        let id = found.as_object()?.values().next()?.as_str()?.to_owned();
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None).await.as_str().map(str::to_owned)
    }

    /// Sets a form field's value directly (date and time inputs type differently per locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        let script = "document.querySelector(arguments[0]).value = arguments[1];";
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [css, value] }))).await;
    }

    /// Runs an asynchronous script (it calls its last argument with the result).
    pub async fn run_async(&self, script: &str) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": [] }))).await
    }

    pub async fn set_window(&self, width: u32, height: u32) {
        self.cmd(reqwest::Method::POST, "/window/rect", Some(json!({ "width": width, "height": height }))).await;
    }

    /// Saves a PNG screenshot (for people looking at what the test saw).
    pub async fn screenshot(&self, path: &std::path::Path) {
        use std::io::Write;
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(data) = b64.as_str() {
            let bytes = decode_base64(data);
            if let Ok(mut f) = std::fs::File::create(path) {
                let _ = f.write_all(&bytes);
            }
        }
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.session_url).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for v in s.bytes().filter_map(val) {
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}
