//! The self-test of the `key_file` example: with `WEBHOOK_EXAMPLE_SELF_TEST=1` it writes a key
//! file in a temporary folder, serves on an ephemeral port with it, and plays Dinie rotating
//! the endpoint's secret: the file is replaced (a temporary file renamed over it) and the
//! server's answers follow. Not part of what a partner's service needs.

use std::path::Path;
use std::time::{Duration, Instant};

use standard_webhooks::{Secret, Signer};

/// The secret before the rotation, and the one after.
const A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const B: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// How often the server reads its key file in the self-test.
const INTERVAL: Duration = Duration::from_millis(100);
/// How long a change may take to be in force before it counts as a failure.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs the self-test; exits the process with status 1 if any answer was unexpected.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!(
        "standard-webhooks-key-file-example-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let failures = rotate_under_the_server(&dir.join("dinie")).await;
    let _ = std::fs::remove_dir_all(&dir);
    let failures = failures?;
    if failures > 0 {
        eprintln!("self-test: {failures} unexpected answers");
        std::process::exit(1);
    }
    println!("self-test: every answer as expected");
    Ok(())
}

/// Replaces the key file atomically: a temporary file in the same folder, renamed over it.
fn replace(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// Counts the unexpected answers.
async fn rotate_under_the_server(path: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    replace(path, &format!("# Dinie, endpoint we_2Kq8\n{A}\n"))?;
    let (addr, server) =
        super::start(super::Keys::File(path.to_owned()), "127.0.0.1:0", INTERVAL).await?;
    tokio::spawn(server);
    let client = Client {
        http: reqwest::Client::new(),
        url: format!("http://{addr}/webhooks/dinie"),
        health: format!("http://{addr}/health/webhook-keys"),
        sent: 0,
    };
    let mut client = client;
    let mut failures = 0;

    failures += check("signed with A", client.send(A).await?, 204);
    failures += check("signed with B, not yet known", client.send(B).await?, 401);

    // The rotation: B, and A for an hour.
    let grace_ends = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let grace_ends = grace_ends.format(&time::format_description::well_known::Rfc3339)?;
    replace(path, &format!("{B}\n{A}@{grace_ends}\n"))?;
    failures += client
        .until("B accepted after the rotation", B, 204)
        .await?;
    failures += check("signed with A, retiring", client.send(A).await?, 204);

    // A file that cannot be used keeps the keys in force, and the health check says why.
    replace(path, "whsec_oops\n")?;
    failures += client.until_unhealthy().await?;
    failures += check("signed with B, bad file", client.send(B).await?, 204);
    failures += check("signed with A, bad file", client.send(A).await?, 204);

    // The grace period over: B only.
    replace(path, &format!("{B}\n"))?;
    failures += client
        .until("A refused after the grace period", A, 401)
        .await?;
    failures += check("signed with B", client.send(B).await?, 204);
    let health = client
        .http
        .get(&client.health)
        .send()
        .await?
        .status()
        .as_u16();
    failures += check("health check", health, 200);
    Ok(failures)
}

struct Client {
    http: reqwest::Client,
    url: String,
    health: String,
    sent: usize,
}

impl Client {
    /// Sends a delivery signed with `key` alone; returns the status.
    async fn send(&mut self, key: &str) -> Result<u16, Box<dyn std::error::Error>> {
        self.sent += 1;
        let secret: Secret = key.parse()?;
        let body = format!(
            r#"{{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{{"loan_id":"ln_{}"}}}}"#,
            self.sent
        );
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let headers =
            Signer::new(secret).headers(&format!("msg_{}", self.sent), now, body.as_bytes());
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers.iter() {
            req = req.header(name, value);
        }
        Ok(req.send().await?.status().as_u16())
    }

    /// Sends deliveries signed with `key` until one is answered `want`, at most [`PATIENCE`].
    async fn until(
        &mut self,
        what: &str,
        key: &str,
        want: u16,
    ) -> Result<usize, Box<dyn std::error::Error>> {
        let start = Instant::now();
        loop {
            let status = self.send(key).await?;
            if status == want || start.elapsed() > PATIENCE {
                println!("{what} after {:?}", start.elapsed());
                return Ok(check(what, status, want));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks the health check until it answers 503, at most [`PATIENCE`].
    async fn until_unhealthy(&mut self) -> Result<usize, Box<dyn std::error::Error>> {
        let start = Instant::now();
        loop {
            let answer = self.http.get(&self.health).send().await?;
            let status = answer.status().as_u16();
            let text = answer.text().await?;
            if status == 503 || start.elapsed() > PATIENCE {
                println!("health check: {}", text.trim_end());
                return Ok(check("health check, bad file", status, 503));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn check(what: &str, status: u16, want: u16) -> usize {
    let ok = status == want;
    println!("{} {what:<36} {status}", if ok { "ok  " } else { "FAIL" });
    usize::from(!ok)
}
