//! The inputs of `verify` and `explain`: headers (`-H`, `--request`), the body (`--body`), read
//! from files or standard input, with errors that name the input at fault.

use std::io::Read as _;

use crate::Failure;

/// Headers as received: names as written, values as bytes (a raw capture need not be UTF-8).
pub type Headers = Vec<(String, Vec<u8>)>;

/// Reads the file `path` (`-`: standard input) given to `flag`. Standard input can be read by
/// one input only; `stdin_taken` records which one took it.
pub fn read(flag: &str, path: &str, stdin_taken: &mut Option<String>) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    if path == "-" {
        if let Some(other) = stdin_taken {
            return Err(Failure::new(format!(
                "{flag} -: standard input is already read by {other}; give one of them as a file"
            )));
        }
        *stdin_taken = Some(format!("{flag} -"));
        std::io::stdin().lock().read_to_end(&mut out).map_err(|e| {
            Failure::new(format!(
                "{flag} -: cannot read standard input: {}",
                io_text(&e)
            ))
        })?;
    } else {
        out = std::fs::read(path)
            .map_err(|e| Failure::new(format!("{flag} {path}: {}", io_text(&e))))?;
    }
    Ok(out)
}

/// An I/O error as a sentence, without the `(os error N)` suffix.
pub fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// `text` as shown in an error: at most 60 characters, and a key (anything from `whsec_` or
/// `whsk_` on) replaced by `[key]`, so that a secret pasted in the wrong place is not echoed.
pub fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    for prefix in ["whsec_", "whsk_"] {
        if let Some(at) = out.find(prefix) {
            out.truncate(at);
            out.push_str("[key]");
        }
    }
    out
}

/// One `name: value` header line; `None` when it is not one.
pub fn header_line(line: &[u8]) -> Option<(String, Vec<u8>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at(colon);
    let name = std::str::from_utf8(name).ok()?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return None;
    }
    let value = value.get(1..).unwrap_or_default().trim_ascii();
    Some((name.to_owned(), value.to_vec()))
}

/// The headers of the `-H` arguments, in order: `name: value`, or `@FILE` (`@-`: standard
/// input) for a file of such lines (blank lines and lines starting with `#` are skipped).
pub fn header_args(args: &[String], stdin_taken: &mut Option<String>) -> Result<Headers, Failure> {
    let mut out = Headers::new();
    for arg in args {
        if let Some(path) = arg.strip_prefix('@') {
            let text = read("-H", path, stdin_taken)
                .map_err(|Failure(m)| Failure::new(m.replacen("-H ", "-H @", 1)))?;
            for (n, line) in text.split(|&b| b == b'\n').enumerate() {
                let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii();
                if line.is_empty() || line.starts_with(b"#") {
                    continue;
                }
                out.push(header_line(line).ok_or_else(|| {
                    Failure::new(format!(
                        "-H @{path}, line {}: expected 'name: value', found '{}'",
                        n + 1,
                        shown(&String::from_utf8_lossy(line))
                    ))
                })?);
            }
        } else {
            out.push(header_line(arg.as_bytes()).ok_or_else(|| {
                Failure::new(format!("-H '{}': expected 'name: value'", shown(arg)))
            })?);
        }
    }
    Ok(out)
}

/// A raw HTTP/1.1 request as captured (`nc -l`, a proxy's dump): its headers, its body, and
/// what a reader should know about the capture.
#[derive(Debug, Default)]
pub struct Request {
    pub headers: Headers,
    pub body: Vec<u8>,
    /// Remarks on the capture (a method other than POST, a length that does not add up).
    pub notes: Vec<String>,
}

/// Parses a captured request: an optional request line, header lines, a blank line, the body.
/// Lines may end in CRLF or LF; a chunked body is decoded; the body is cut at `Content-Length`.
pub fn parse_request(raw: &[u8], label: &str) -> Result<Request, Failure> {
    let mut req = Request::default();
    let mut rest = raw;
    let mut first = true;
    let mut line_no = 0;
    let mut ended = false;
    while !rest.is_empty() {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i + 1..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        rest = after;
        line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if first {
                // Blank lines before the request line are tolerated (RFC 9112, 2.2).
                continue;
            }
            ended = true;
            break;
        }
        if first {
            first = false;
            let text = String::from_utf8_lossy(line);
            if text.starts_with("HTTP/") {
                return Err(Failure::new(format!(
                    "{label}: this is an HTTP response ('{}'), not a request",
                    shown(&text)
                )));
            }
            let mut words = text.split(' ');
            if let (Some(method), Some(_target), Some(version)) =
                (words.next(), words.next(), words.next())
                && version.starts_with("HTTP/")
            {
                if method != "POST" {
                    req.notes.push(format!(
                        "the request's method is {method}; webhooks are delivered with POST"
                    ));
                }
                continue;
            }
        }
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // An obsolete folded continuation of the previous header's value.
            if let Some((_, value)) = req.headers.last_mut() {
                value.push(b' ');
                value.extend_from_slice(line.trim_ascii());
                continue;
            }
        }
        req.headers.push(header_line(line).ok_or_else(|| {
            Failure::new(format!(
                "{label}, line {line_no}: expected a header 'name: value' (or the blank line \
                 before the body), found '{}'",
                shown(&String::from_utf8_lossy(line))
            ))
        })?);
    }
    if !ended && !req.headers.is_empty() {
        req.notes
            .push("the capture ends without the blank line after the headers: no body".into());
    }
    let value = |name: &str| {
        req.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
    };
    let chunked = value("transfer-encoding").is_some_and(|te| te.ends_with("chunked"));
    if chunked {
        req.body = dechunk(rest).map_err(|why| {
            Failure::new(format!(
                "{label}: the body is sent chunked (Transfer-Encoding), but {why}"
            ))
        })?;
        req.notes.push(format!(
            "the body was sent chunked; verified as its {} bytes once decoded",
            req.body.len()
        ));
    } else {
        req.body = rest.to_vec();
        if let Some(length) = value("content-length") {
            match length.parse::<usize>() {
                Ok(length) if length < req.body.len() => {
                    req.notes.push(format!(
                        "{} bytes after the body's Content-Length ({length}) are ignored",
                        req.body.len() - length
                    ));
                    req.body.truncate(length);
                }
                Ok(length) if length > req.body.len() => req.notes.push(format!(
                    "the capture holds {} body bytes but Content-Length says {length}: it may be \
                     cut short, or its line endings changed",
                    req.body.len()
                )),
                Ok(_) => {}
                Err(_) => req.notes.push(format!(
                    "Content-Length '{}' is not a number; the body is everything after the headers",
                    shown(&length)
                )),
            }
        }
    }
    Ok(req)
}

/// Decodes a chunked body (trailers are ignored).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("a chunk size line is cut short")?;
        let line = rest.get(..eol).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let size = std::str::from_utf8(line)
            .ok()
            .map(|l| l.split(';').next().unwrap_or_default().trim())
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .ok_or_else(|| {
                format!(
                    "'{}' is not a chunk size",
                    shown(&String::from_utf8_lossy(line))
                )
            })?;
        rest = rest.get(eol + 1..).unwrap_or_default();
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or("the capture ends inside a chunk")?;
        out.extend_from_slice(chunk);
        rest = rest.get(size..).unwrap_or_default();
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .ok_or("a chunk is not followed by a line end")?;
    }
}

/// `extra` added to `base`: a header of `extra` replaces every header of the same name in
/// `base` (as curl's `-H` does), so `-H` can correct a capture.
pub fn merge(mut base: Headers, extra: Headers) -> Headers {
    base.retain(|(n, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(n)));
    base.extend(extra);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_with_crlf_and_lf() {
        for eol in ["\r\n", "\n"] {
            let raw = format!(
                "POST /hook HTTP/1.1{eol}Host: x{eol}Webhook-Id: msg_1{eol}Content-Length: 2{eol}{eol}{{}}"
            );
            let req = parse_request(raw.as_bytes(), "--request r").unwrap();
            assert_eq!(req.body, b"{}");
            assert_eq!(req.headers.len(), 3);
            assert_eq!(req.headers[1], ("Webhook-Id".into(), b"msg_1".to_vec()));
            assert!(req.notes.is_empty(), "{:?}", req.notes);
        }
    }

    #[test]
    fn chunked_and_lengths() {
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1;x=y\r\n \r\n0\r\n\r\n";
        assert_eq!(parse_request(raw, "r").unwrap().body, b"{} ");
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\r\n";
        let req = parse_request(raw, "r").unwrap();
        assert_eq!(req.body, b"{}");
        assert_eq!(req.notes.len(), 1);
        let raw = b"GET / HTTP/1.1\r\nContent-Length: 9\r\n\r\n{}";
        assert_eq!(parse_request(raw, "r").unwrap().notes.len(), 2);
    }

    #[test]
    fn bad_lines_are_named() {
        let err =
            parse_request(b"POST / HTTP/1.1\nno colon here\n\n", "--request r.http").unwrap_err();
        assert!(err.0.starts_with("--request r.http, line 2:"), "{}", err.0);
        let err = parse_request(b"HTTP/1.1 200 OK\n\n", "--request r").unwrap_err();
        assert!(err.0.contains("response"), "{}", err.0);
    }

    #[test]
    fn keys_are_not_shown() {
        assert_eq!(shown("x whsec_abcdef"), "x [key]");
        assert!(!shown(&"a".repeat(100)).contains(&"a".repeat(61)));
    }

    #[test]
    fn merge_replaces_by_name() {
        let base = vec![
            ("Webhook-Id".into(), b"a".to_vec()),
            ("x".into(), b"1".to_vec()),
        ];
        let merged = merge(base, vec![("webhook-id".into(), b"b".to_vec())]);
        assert_eq!(
            merged,
            vec![
                ("x".into(), b"1".to_vec()),
                ("webhook-id".into(), b"b".to_vec())
            ]
        );
    }
}
