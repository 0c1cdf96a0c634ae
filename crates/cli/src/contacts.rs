//! `callplane contacts import|export`: the API over HTTP, with progress on the terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::AsyncReadExt;

/// Where and as whom to talk to the service.
pub struct Remote {
    pub server: String,
    pub token: String,
    pub workspace: String,
}

impl Remote {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/workspaces/{}/contacts{path}", self.server.trim_end_matches('/'), self.workspace)
    }
}

/// A one-line progress bar on stderr (redrawn in place on a terminal, a line every few
/// seconds otherwise).
struct Progress {
    tty: bool,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        Self { tty: std::io::stderr().is_terminal(), last: Instant::now() - Duration::from_secs(60) }
    }

    fn show(&mut self, done: u64, total: u64, what: &str, force: bool) {
        let every = if self.tty { Duration::from_millis(100) } else { Duration::from_secs(5) };
        if !force && self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let ratio = if total == 0 { 1.0 } else { (done as f64 / total as f64).min(1.0) };
        let filled = (ratio * 30.0) as usize;
        let bar = format!("[{}{}] {:>3.0}% {what}", "#".repeat(filled), ".".repeat(30 - filled), ratio * 100.0);
        let mut err = std::io::stderr();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{bar}");
        } else {
            let _ = writeln!(err, "{bar}");
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

async fn problem(res: reqwest::Response) -> anyhow::Error {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let detail = body["detail"].as_str().unwrap_or("no details");
    let code = body["code"].as_str().unwrap_or("");
    anyhow!("{status} {code}: {detail}")
}

/// Uploads `file` as an import (streamed, with a bar of bytes sent), then follows the
/// job to its end (a bar of rows), and prints the outcome; returns the final status.
pub async fn import(remote: &Remote, file: &Path, on_duplicate: &str, mapping: Option<&str>) -> anyhow::Result<Value> {
    let size = tokio::fs::metadata(file).await.with_context(|| format!("reading {}", file.display()))?.len();
    // Rows, for the second bar: the file's lines, less the header (an estimate when
    // quoted fields hold line breaks).
    let mut lines = 0u64;
    let mut f = tokio::fs::File::open(file).await?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let rows = lines.saturating_sub(1).max(1);

    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("contacts.csv").to_owned();
    let mut query = vec![("on_duplicate", on_duplicate.to_owned()), ("file_name", name)];
    if let Some(m) = mapping {
        query.push(("mapping", m.to_owned()));
    }
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let file_stream = tokio_file_chunks(tokio::fs::File::open(file).await?).map(move |chunk| {
        if let Ok(c) = &chunk {
            counter.fetch_add(c.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        chunk
    });
    let http = reqwest::Client::new();
    let upload = http
        .post(remote.url("/imports"))
        .query(&query)
        .bearer_auth(&remote.token)
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(file_stream))
        .send();
    tokio::pin!(upload);
    let mut bar = Progress::new();
    let res = loop {
        tokio::select! {
            res = &mut upload => break res?,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                let n = sent.load(std::sync::atomic::Ordering::Relaxed);
                bar.show(n, size, &format!("uploading {} of {} KB", n / 1024, size / 1024), false);
            }
        }
    };
    bar.show(size, size, &format!("uploaded {} KB", size / 1024), true);
    bar.finish();
    if !res.status().is_success() {
        return Err(problem(res).await);
    }
    let job: Value = res.json().await?;
    let id = job["id"].as_str().ok_or_else(|| anyhow!("the service answered without an import id"))?.to_owned();

    let mut bar = Progress::new();
    loop {
        let res = http.get(remote.url(&format!("/imports/{id}"))).bearer_auth(&remote.token).send().await?;
        if !res.status().is_success() {
            return Err(problem(res).await);
        }
        let s: Value = res.json().await?;
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        let status = s["status"].as_str().unwrap_or("");
        let line = format!(
            "{} rows · {} imported · {} updated · {} skipped · {} failed",
            n("rows_read"),
            n("imported"),
            n("updated"),
            n("skipped"),
            n("failed")
        );
        let over = matches!(status, "completed" | "failed");
        bar.show(if over { rows } else { n("rows_read") }, rows, &line, over);
        if over {
            bar.finish();
            if status == "failed" {
                bail!("the import failed: {}", s["error"].as_str().unwrap_or("no reason given"));
            }
            if n("failed") > 0 {
                eprintln!(
                    "{} rows were refused; the report: {}",
                    n("failed"),
                    remote.url(&format!("/imports/{id}/errors"))
                );
            }
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A file as a stream of 64 KB chunks.
fn tokio_file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 1 << 16];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}

/// Writes the workspace's contacts (filters apply) as CSV to `out`.
pub async fn export(remote: &Remote, filters: &[(&str, String)], out: &mut (dyn Write + Send)) -> anyhow::Result<u64> {
    let res =
        reqwest::Client::new().get(remote.url("/export")).query(filters).bearer_auth(&remote.token).send().await?;
    if !res.status().is_success() {
        return Err(problem(res).await);
    }
    let mut stream = res.bytes_stream();
    let mut lines = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        out.write_all(&chunk)?;
    }
    Ok(lines.saturating_sub(1))
}
