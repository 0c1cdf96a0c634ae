//! Real `callplane serve` processes for crash and replica tests: started from the built
//! binary with a configuration file, talked to over HTTP, killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

/// The databases and settings of a test installation, written as a TOML file.
pub struct Installation {
    pub dir: PathBuf,
    /// The directory and databases, removed when the installation is dropped.
    _scratch: crate::Scratch,
    pub control_url: String,
    /// `(region id, database URL)` for regions with a database of their own.
    pub region_urls: Vec<(String, String)>,
    pub config_file: PathBuf,
}

impl Installation {
    /// A fresh installation: a control database and, in the split layout, one database
    /// per region, on the suite's backend.
    pub async fn new(extra_toml: &str) -> Self {
        let mut scratch = crate::Scratch::new("callplane-proc");
        let control_url = scratch.database("control").await;
        let mut region_urls = Vec::new();
        if crate::layout_is_split() {
            for id in ["in", "us", "eu"] {
                region_urls.push((id.to_owned(), scratch.database(&format!("region-{id}")).await));
            }
        }
        Self::with_urls(scratch, control_url, region_urls, extra_toml)
    }

    /// An installation on given databases (e.g. two replicas on one PostgreSQL), made
    /// in `scratch`.
    pub fn with_urls(
        scratch: crate::Scratch,
        control_url: String,
        region_urls: Vec<(String, String)>,
        extra_toml: &str,
    ) -> Self {
        let dir = scratch.dir.clone();
        let mut toml = format!(
            "default_region = \"in\"\n{extra_toml}\n[server]\ndata_dir = \"{}\"\n[database]\nurl = \"{control_url}\"\nmax_connections = 4\n[log]\nfilter = \"info\"\n",
            dir.display()
        );
        for (id, label) in [("in", "India"), ("us", "United States"), ("eu", "Europe")] {
            toml.push_str(&format!("[regions.{id}]\nlabel = \"{label}\"\n"));
            if let Some((_, url)) = region_urls.iter().find(|(r, _)| r == id) {
                toml.push_str(&format!("database_url = \"{url}\"\n"));
            }
        }
        let config_file = dir.join("callplane.toml");
        std::fs::write(&config_file, toml).unwrap();
        Self { dir, _scratch: scratch, control_url, region_urls, config_file }
    }

    /// The database URL of a region.
    pub fn region_url(&self, region: &str) -> &str {
        self.region_urls.iter().find(|(r, _)| r == region).map_or(&self.control_url, |(_, u)| u)
    }
}

/// A running `callplane serve` process.
pub struct Server {
    child: Child,
    pub base: String,
    output: Arc<Mutex<String>>,
    pub http: reqwest::Client,
}

/// The response of a request: status and JSON body (or the text as a JSON string).
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self.body
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Server {
    /// Starts `bin serve` on a free loopback port and waits until it serves.
    pub fn start(bin: &Path, install: &Installation, env: &[(&str, &str)]) -> Server {
        match Self::try_start(bin, install, env) {
            Ok(s) => s,
            Err(output) => panic!("the server did not start:\n{output}"),
        }
    }

    /// Like [`Server::start`], but returns what the process printed when it exits
    /// before serving.
    pub fn try_start(bin: &Path, install: &Installation, env: &[(&str, &str)]) -> Result<Server, String> {
        Self::try_start_with(bin, install, env, &[])
    }

    /// Starts `bin serve` with extra arguments (`--demo`).
    pub fn start_with(bin: &Path, install: &Installation, env: &[(&str, &str)], args: &[&str]) -> Server {
        match Self::try_start_with(bin, install, env, args) {
            Ok(s) => s,
            Err(output) => panic!("the server did not start:\n{output}"),
        }
    }

    fn try_start_with(
        bin: &Path,
        install: &Installation,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Result<Server, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--config"])
            .arg(&install.config_file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the callplane binary runs");
        let output = Arc::new(Mutex::new(String::new()));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            let url_tx = url_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(url) = line.split("running at ").nth(1) {
                        let _ = url_tx.send(url.trim().to_owned());
                    }
                    let mut out = output.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        drop(url_tx);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match url_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(base) => {
                    let http = reqwest::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .timeout(Duration::from_secs(30))
                        .build()
                        .unwrap();
                    return Ok(Server { child, base, output, http });
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(_)) = child.try_wait() {
                        std::thread::sleep(Duration::from_millis(200));
                        return Err(output.lock().unwrap().clone());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    return Err(output.lock().unwrap().clone());
                }
            }
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the process prints `needle`.
    pub async fn wait_for_output(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.output().contains(needle) {
            assert!(Instant::now() < deadline, "no `{needle}` within {timeout:?}; output:\n{}", self.output());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no cleanup, like a crash.
    /// The process id (for reading its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let res = crate::send(&self.http, &self.base, method, path, token, body).await;
        let status = res.status().as_u16();
        Reply { status, body: crate::body_json(res).await }
    }

    /// Sends a request without waiting for its answer (it may never come: a failpoint).
    pub fn send_detached(&self, method: Method, path: &str, token: &str, body: Value) {
        let req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token).json(&body);
        tokio::spawn(async move {
            let _ = req.send().await;
        });
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Imports `csv` into workspace `ws` through the API and waits (up to a minute) until
    /// the import job has completed; returns its final status document.
    pub async fn import_contacts(&self, ws: &str, token: &str, csv: String) -> Value {
        let res = self
            .http
            .post(format!("{}/api/v1/workspaces/{ws}/contacts/imports", self.base))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("the import request is sent");
        assert_eq!(res.status().as_u16(), 202, "the import is accepted");
        let id = crate::body_json(res).await["id"].as_str().expect("an import id").to_owned();
        let path = format!("/api/v1/workspaces/{ws}/contacts/imports/{id}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.get(&path, token).await.expect(200);
            if status["status"] == "completed" {
                return status;
            }
            assert!(Instant::now() < deadline, "the import did not finish: {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An active agent named `agent` and a bought number in workspace `ws`: (agent id,
    /// number id).
    pub async fn agent_and_number(&self, ws: &str, token: &str, agent: &str) -> (String, String) {
        let base = format!("/api/v1/workspaces/{ws}");
        let body = serde_json::json!({ "name": agent, "status": "active" });
        let agent = self.post(&format!("{base}/agents"), token, body).await.expect(201);
        let offer = self.get(&format!("{base}/phone-numbers/available?country=IN&limit=1"), token).await.expect(200);
        let body = serde_json::json!({ "e164": offer["data"][0]["e164"] });
        let number = self.post(&format!("{base}/phone-numbers"), token, body).await.expect(201);
        let id = |v: &Value| v["id"].as_str().expect("an id").to_owned();
        (id(&agent), id(&number))
    }

    /// Signs up; returns (session token, user id, account id, first workspace id).
    pub async fn signup(&self, email: &str, account: &str) -> (String, String, String, String) {
        let body = self
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                None,
                Some(serde_json::json!({ "email": email, "password": "correct horse battery", "name": "Test",
                                         "account_name": account })),
            )
            .await
            .expect(201);
        let s = |v: &Value| v.as_str().unwrap().to_owned();
        (s(&body["token"]), s(&body["user"]["id"]), s(&body["account"]["id"]), s(&body["workspace"]["id"]))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
