//! Posting deliveries to a receiver (`send`, `check`): plain HTTP or HTTPS, no redirects
//! followed, any status returned as an answer.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream, ToSocketAddrs as _};
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::http::Uri;

use crate::Failure;

/// A receiver's URL and the client that posts to it.
pub struct Receiver {
    agent: Agent,
    pub url: String,
    uri: Uri,
    timeout: Duration,
}

/// The receiver's answer to one delivery.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The start of the response body, for a reader (at most 300 characters, one line).
    pub text: String,
    pub elapsed: Duration,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// What a 404 or 405 says: the URL, not the delivery, is at fault.
    pub fn wrong_url(&self) -> Option<String> {
        matches!(self.status, 404 | 405).then(|| {
            format!(
                "answered {}: no webhook route at this URL? (check its path and method)",
                self.status
            )
        })
    }
}

/// Why a delivery got no answer.
#[derive(Debug, Clone)]
pub enum NoAnswer {
    /// No connection could be made: the receiver is down, or the URL is wrong.
    Unreachable(String),
    /// The connection was made but no answer came (reset, timeout, not HTTP).
    Broken(String),
}

impl Receiver {
    /// A client for `url` (`http://` or `https://`), waiting at most `timeout` for an answer.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, Failure> {
        let uri: Uri = url.parse().map_err(|e| {
            Failure::new(format!(
                "URL '{url}': {e}: expected http://HOST[:PORT]/PATH or https://…"
            ))
        })?;
        match uri.scheme_str() {
            Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => {}
            _ => {
                return Err(Failure::new(format!(
                    "URL '{url}': expected http://HOST[:PORT]/PATH or https://…"
                )));
            }
        }
        let agent: Agent = Agent::config_builder()
            // A receiver's 4xx and 5xx are answers to report, not errors.
            .http_status_as_error(false)
            // A redirect is reported as it is: following it would turn the POST into a GET.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("standard-webhooks-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self {
            agent,
            url: url.to_owned(),
            uri,
            timeout,
        })
    }

    /// Posts `body` with `headers` (and `content-type: application/json`).
    pub fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> Result<Answer, NoAnswer> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let start = Instant::now();
        let mut response = request.send(body).map_err(|e| self.no_answer(e))?;
        let status = response.status().as_u16();
        let mut start_of_body = Vec::new();
        // What the receiver says is only shown; a body that cannot be read does not matter.
        let _ = response
            .body_mut()
            .as_reader()
            .take(2048)
            .read_to_end(&mut start_of_body);
        let elapsed = start.elapsed();
        let text = one_line(&String::from_utf8_lossy(&start_of_body));
        Ok(Answer {
            status,
            text,
            elapsed,
        })
    }

    /// Posts `body` over plain HTTP/1.1 while reading the answer at the same time, so that
    /// the answer of a receiver that refuses a large body before reading it all (413) and
    /// closes the connection is read, not lost in the reset of a write that had to finish
    /// first. Over HTTPS, [`post`](Self::post).
    pub fn post_reading_early(
        &self,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, NoAnswer> {
        if self.uri.scheme_str() != Some("http") {
            return self.post(headers, body);
        }
        let host = self.uri.host().unwrap_or_default();
        let port = self.uri.port_u16().unwrap_or(80);
        let unreachable =
            |why: String| NoAnswer::Unreachable(format!("cannot connect to {}: {why}", self.url));
        let addrs = (host.trim_start_matches('[').trim_end_matches(']'), port)
            .to_socket_addrs()
            .map_err(|e| unreachable(crate::input::io_text(&e)))?;
        let mut last = String::from("no address");
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = crate::input::io_text(&e).to_lowercase(),
            }
        }
        let stream = stream.ok_or_else(|| unreachable(last))?;
        let broken = |e: std::io::Error| NoAnswer::Broken(crate::input::io_text(&e));
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(broken)?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(broken)?;
        let mut writer = stream.try_clone().map_err(broken)?;
        let mut head = format!(
            "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n",
            self.uri.path_and_query().map_or("/", |p| p.as_str()),
            self.uri.authority().map_or(host, |a| a.as_str()),
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let start = Instant::now();
        let mut reader = &stream;
        let raw = std::thread::scope(|scope| {
            scope.spawn(move || {
                // Fails once the receiver has answered and the reader shut the socket down.
                let _ = writer
                    .write_all(head.as_bytes())
                    .and_then(|()| writer.write_all(body));
            });
            let mut raw = Vec::new();
            let mut chunk = [0u8; 4096];
            let result = loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        raw.extend_from_slice(chunk.get(..n).unwrap_or_default());
                        if raw.len() > 16 * 1024 {
                            break Ok(());
                        }
                    }
                    Err(e) => break Err(e),
                }
            };
            let _ = stream.shutdown(Shutdown::Both);
            match result {
                Err(e) if raw.is_empty() => Err(broken(e)),
                _ => Ok(raw),
            }
        })?;
        let elapsed = start.elapsed();
        let text = String::from_utf8_lossy(&raw);
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .strip_prefix("HTTP/1.")
            .and_then(|s| s.get(2..5))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| {
                NoAnswer::Broken(if raw.is_empty() {
                    "the connection was closed without an answer".to_owned()
                } else {
                    "the answer is not HTTP/1.1".to_owned()
                })
            })?;
        Ok(Answer {
            status,
            text: one_line(rest),
            elapsed,
        })
    }

    fn no_answer(&self, e: ureq::Error) -> NoAnswer {
        use std::io::ErrorKind;
        match e {
            ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
                NoAnswer::Unreachable(format!(
                    "cannot connect to {}: connection refused",
                    self.url
                ))
            }
            ureq::Error::HostNotFound => {
                NoAnswer::Unreachable(format!("cannot connect to {}: host not found", self.url))
            }
            ureq::Error::ConnectionFailed => {
                NoAnswer::Unreachable(format!("cannot connect to {}", self.url))
            }
            ureq::Error::Timeout(what) => {
                NoAnswer::Broken(format!("no answer in time (timeout: {what})"))
            }
            ureq::Error::Io(io) => NoAnswer::Broken(crate::input::io_text(&io)),
            other => NoAnswer::Broken(other.to_string()),
        }
    }
}

/// The start of a response body on one line, at most 300 characters.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect()
}

/// The reason phrase of common statuses, for tables.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
