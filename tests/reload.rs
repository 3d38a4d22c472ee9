//! Keys from a file, watched (feature `reload`): real files in a temporary folder, replaced by a
//! rename, by a Kubernetes-style symlink swap, rewritten in place, broken, deleted; the keys a
//! verifier trusts follow the file, a bad file changes nothing and is reported without its
//! contents, and a stopped watcher does nothing more.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use standard_webhooks::{
    Error, KeyFile, KeyFileEvent, KeyFileWatcher, MAX_KEY_FILE_LEN, Secret, Signer, Verifier,
};

const A: &str = "whsec_JL5flIRqiZecBjXU9nCatsEmmBNeyHINe4gNiOXdU+c=";
const B: &str = "whsec_V11xwm9AB7gUhicrZgxs4qGj6pBtOo8zVHZ+xA4vndQ=";
const C: &str = "whsec_VB62vGJBsGnaOzyvsuSoAWEQMpL6+FYPTpAuF3nSqmc=";
const D: &str = "whsec_hya0t47xlldJJJoZYWUVnMHS2pnPpaN2h6EQgJFuyUE=";
const BODY: &[u8] = br#"{"type":"loan.signed","timestamp":"2026-11-30T12:00:00Z","data":{}}"#;

/// How long a test waits for something that should happen within an interval or two: long,
/// so that a loaded machine does not fail a test, since only the wait is cut short.
const PATIENCE: Duration = Duration::from_secs(10);

fn secret(s: &str) -> Secret {
    s.parse().unwrap()
}

/// Whether a delivery signed now by `by` alone verifies.
fn accepts(v: &Verifier, by: &str) -> bool {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let h = Signer::new(secret(by)).headers("msg_1", now, BODY);
    v.verify(&h, BODY).is_ok()
}

/// `key` retiring in an hour.
fn retiring(key: &str) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    format!("{key}@{at}")
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "standard-webhooks-reload-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replaces `path` atomically: a temporary file in the same folder, renamed over it.
fn replace(path: &Path, contents: impl AsRef<[u8]>) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Waits until `done` holds, at most [`PATIENCE`]; returns how long it took.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

/// The events a watcher reported.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<KeyFileEvent>>>);

impl Events {
    fn on(&self, file: KeyFile) -> KeyFile {
        let events = self.clone();
        file.on_event(move |e| events.0.lock().unwrap().push(e.clone()))
    }

    fn all(&self) -> Vec<KeyFileEvent> {
        self.0.lock().unwrap().clone()
    }

    fn loads(&self) -> usize {
        self.all()
            .iter()
            .filter(|e| matches!(e, KeyFileEvent::Loaded { .. }))
            .count()
    }

    fn refusals(&self) -> Vec<Error> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                KeyFileEvent::Refused { error } => Some(error),
                _ => None,
            })
            .collect()
    }
}

/// Starts watching `path` every `interval` for `verifier`, and waits for the first load.
fn watch(path: &Path, verifier: &Verifier, interval: Duration) -> (KeyFileWatcher, Events) {
    let events = Events::default();
    let watcher = events
        .on(KeyFile::new(path).interval(interval))
        .watch(verifier)
        .unwrap();
    wait_for("the first load", || watcher.status().loads() == 1);
    (watcher, events)
}

/// Asserts that `text` shows no 8 characters in a row of any of `secrets` (past `whsec_`).
fn assert_shows_none_of(text: &str, secrets: &[&str]) {
    for secret in secrets {
        let body = secret.trim_start_matches("whsec_");
        for window in body.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!text.contains(window), "{text:?} shows {window:?}");
        }
    }
}

/// The log, captured by a global subscriber (the watcher logs from its own thread): the lines
/// that mention `path`.
#[cfg(feature = "tracing")]
mod logs {
    use std::io::Write;
    use std::path::Path;
    use std::sync::{Mutex, OnceLock};

    static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    struct Capture;

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            LOG.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn capture() {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| Capture)
                .with_max_level(tracing::Level::TRACE)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
        });
    }

    pub fn about(path: &Path) -> Vec<String> {
        let path = path.display().to_string();
        String::from_utf8_lossy(&LOG.lock().unwrap())
            .lines()
            .filter(|l| l.contains(&path))
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(feature = "tracing")]
use logs::{about as logged_about, capture as capture_logs};

#[cfg(not(feature = "tracing"))]
fn capture_logs() {}

#[cfg(not(feature = "tracing"))]
fn logged_about(_: &Path) -> Vec<String> {
    Vec::new()
}

#[test]
fn handles_are_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<KeyFile>();
    is::<KeyFileWatcher>();
    is::<KeyFileEvent>();
}

/// A rotation written as a temporary file renamed over the key file is in force within the
/// interval (and the second read): the new key verifies, then the old one stops.
#[test]
fn a_file_replaced_by_a_rename_switches_the_keys() {
    capture_logs();
    let dir = Dir::new("rename");
    let path = dir.join("dinie");
    replace(&path, format!("{A}\n"));
    let verifier = Verifier::builder()
        .secrets_from_file(&path)
        .unwrap()
        .build()
        .unwrap();
    let in_the_app = verifier.clone();
    let interval = Duration::from_millis(50);
    let (watcher, events) = watch(&path, &verifier, interval);
    assert!(accepts(&in_the_app, A) && !accepts(&in_the_app, B));

    // The rotation: B, and A for an hour.
    replace(&path, format!("{B}\n{}\n", retiring(A)));
    let took = wait_for("B to verify", || accepts(&in_the_app, B));
    eprintln!("a rename was in force after {took:?} (interval {interval:?})");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(accepts(&in_the_app, A));

    // The grace period over: B only.
    replace(&path, format!("{B}\n"));
    wait_for("A to be refused", || !accepts(&in_the_app, A));
    assert!(accepts(&in_the_app, B));

    let status = watcher.status();
    assert_eq!(status.loads(), 3);
    assert_eq!(status.error(), None);
    assert!(status.loaded_at().is_some() && status.checked_at().is_some());
    assert_eq!(events.loads(), 3);
    assert!(events.refusals().is_empty());
    // The last load lists B's fingerprint, current.
    match events.all().last() {
        Some(KeyFileEvent::Loaded { path: p, keys }) => {
            assert_eq!(p, &path);
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].fingerprint(), secret(B).fingerprint());
            assert_eq!(keys[0].expires_at(), None);
        }
        other => panic!("{other:?}"),
    }

    if cfg!(feature = "tracing") {
        let logged = logged_about(&path);
        let loads: Vec<&String> = logged
            .iter()
            .filter(|l| l.contains("INFO") && l.contains("webhook keys loaded from key file"))
            .collect();
        // The first load found the keys the verifier was built with: not logged again.
        assert_eq!(loads.len(), 2, "{logged:#?}");
        let fingerprint = secret(B).fingerprint().to_string();
        assert!(
            loads[1].contains(&format!("secret {fingerprint} (current)")),
            "{}",
            loads[1]
        );
        assert!(loads[0].contains("(retiring, until "), "{}", loads[0]);
        assert_shows_none_of(&logged.join("\n"), &[A, B]);
    }
}

/// Kubernetes updates a Secret volume by writing a new timestamped folder, pointing a
/// `..data_tmp` symlink at it and renaming that over `..data`; the key file is a symlink
/// through `..data`. The watcher follows it.
#[cfg(unix)]
#[test]
fn a_kubernetes_symlink_swap_switches_the_keys() {
    use std::os::unix::fs::symlink;

    let dir = Dir::new("k8s");
    let publish = |stamp: &str, contents: &str| {
        let folder = dir.join(stamp);
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("dinie"), contents).unwrap();
        symlink(stamp, dir.join("..data_tmp")).unwrap();
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    };
    publish("..2026_11_26_12_00_00.1", A);
    symlink("..data/dinie", dir.join("dinie")).unwrap();
    let path = dir.join("dinie");

    let verifier = Verifier::builder()
        .secrets_from_file(&path)
        .unwrap()
        .build()
        .unwrap();
    let (watcher, events) = watch(&path, &verifier, Duration::from_millis(20));
    assert!(accepts(&verifier, A));

    publish("..2026_11_26_13_00_00.2", B);
    std::fs::remove_dir_all(dir.join("..2026_11_26_12_00_00.1")).unwrap();
    wait_for("B to verify", || accepts(&verifier, B));
    assert!(!accepts(&verifier, A));
    assert_eq!(watcher.status().loads(), 2);
    assert!(events.refusals().is_empty(), "{:?}", events.refusals());
}

/// Every kind of bad file keeps the keys in force, is reported once with the path and what is
/// wrong, and shows nothing of the file's keys: not in the error, not in the event, not in the
/// log. Putting the good file back ends the problem.
#[test]
fn a_bad_file_keeps_the_keys_and_is_reported_without_its_contents() {
    capture_logs();
    let dir = Dir::new("bad");
    let path = dir.join("dinie");
    replace(&path, A);
    let verifier = Verifier::builder()
        .secrets_from_file(&path)
        .unwrap()
        .build()
        .unwrap();
    let (watcher, events) = watch(&path, &verifier, Duration::from_millis(20));

    let cut = &B[..B.len() - 20];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "an entry that is not base64",
            format!("{B}\n{}*\n", &C[..30]).into_bytes(),
            "entry 2 of 2",
        ),
        (
            "a key cut short",
            format!("{C} {cut}").into_bytes(),
            "entry 2 of 2",
        ),
        (
            "quotes",
            format!("\"{B}\"").into_bytes(),
            "remove the quotes",
        ),
        (
            "every key expired",
            format!("{B}@2020-01-01T00:00:00Z {C}@2021-01-01T00:00:00Z").into_bytes(),
            "have expired",
        ),
        (
            "a key twice",
            format!("{B} {C} {B}").into_bytes(),
            "same key",
        ),
        ("empty", Vec::new(), "no key configured"),
        (
            "only comments",
            format!("# {B}\n  # {C}\n").into_bytes(),
            "no key configured",
        ),
        (
            "not UTF-8",
            [B.as_bytes(), b" \xff ", C.as_bytes()].concat(),
            "not UTF-8",
        ),
        (
            "too large",
            format!("{B} {}", " ".repeat(MAX_KEY_FILE_LEN as usize)).into_bytes(),
            "larger than",
        ),
    ];
    let mut refused = 0;
    let mut check = |what: &str, wants: &str| {
        refused += 1;
        wait_for(what, || events.refusals().len() == refused);
        let error = watcher.status().error().cloned().unwrap();
        let text = error.to_string();
        assert!(text.contains(&path.display().to_string()), "{what}: {text}");
        assert!(text.contains(wants), "{what}: {text}");
        assert_shows_none_of(&text, &[A, B, C]);
        assert_shows_none_of(&format!("{error:?}"), &[A, B, C]);
        // Reported once, as the problem it is.
        assert_eq!(events.refusals().len(), refused, "{what}");
        assert_eq!(events.refusals().last(), Some(&error), "{what}");
        let event = events.all().last().cloned().unwrap();
        assert_shows_none_of(&event.to_string(), &[A, B, C]);
        // The keys in force are kept.
        assert!(accepts(&verifier, A), "{what}");
        assert!(!accepts(&verifier, B) && !accepts(&verifier, C), "{what}");
        assert_eq!(verifier.key_count(), 1, "{what}");
        // The same bad file, read again, is not reported again.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(events.refusals().len(), refused, "{what}");
    };
    for (what, contents, wants) in cases {
        replace(&path, contents);
        check(what, wants);
        // Back to the good file: the problem is over, the keys were never replaced.
        replace(&path, A);
        wait_for("the problem to end", || watcher.status().error().is_none());
        assert!(matches!(
            events.all().last(),
            Some(KeyFileEvent::Recovered { .. })
        ));
    }

    // A file that disappears, and a folder in its place.
    std::fs::remove_file(&path).unwrap();
    check("a deleted file", "No such file");
    let error = watcher.status().error().cloned().unwrap();
    assert!(
        matches!(error, Error::KeyFileUnreadable { kind, .. } if kind == std::io::ErrorKind::NotFound),
        "{error:?}"
    );
    std::fs::create_dir(&path).unwrap();
    check("a folder", "not a regular file");
    std::fs::remove_dir(&path).unwrap();
    replace(&path, A);
    wait_for("the problem to end", || watcher.status().error().is_none());

    // Through all that, the file was loaded once: every return to it changed nothing.
    assert_eq!(watcher.status().loads(), 1);
    assert_eq!(events.loads(), 1);

    if cfg!(feature = "tracing") {
        let logged = logged_about(&path);
        let refusals = logged
            .iter()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .count();
        assert_eq!(refusals, refused, "{logged:#?}");
        assert!(
            logged
                .iter()
                .any(|l| l.contains("WARN") && l.contains("No such file")),
            "{logged:#?}"
        );
        assert!(
            logged
                .iter()
                .any(|l| l.contains("ERROR") && l.contains("entry 2 of 2")),
            "{logged:#?}"
        );
        assert_shows_none_of(&logged.join("\n"), &[A, B, C]);
    }
}

/// A file rewritten with the same bytes (a new inode, a new modification time) is not applied
/// again: the reload, which derives every key's fingerprint, runs only for new bytes.
#[test]
fn an_unchanged_file_is_not_applied_again() {
    let dir = Dir::new("unchanged");
    let path = dir.join("dinie");
    let contents = format!("{A} {}", retiring(B));
    replace(&path, &contents);
    let verifier = Verifier::builder().secret(secret(C)).build().unwrap();
    let (watcher, events) = watch(&path, &verifier, Duration::from_millis(5));
    // The file replaced the keys the verifier was built with.
    assert!(accepts(&verifier, A) && accepts(&verifier, B) && !accepts(&verifier, C));
    let checked = watcher.status().checked_at().unwrap();

    std::thread::sleep(Duration::from_millis(200));
    replace(&path, &contents);
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&path, &contents).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let status = watcher.status();
    assert!(
        status.checked_at().unwrap() > checked,
        "the watcher stopped reading"
    );
    assert_eq!(status.loads(), 1);
    assert_eq!(events.all().len(), 1, "{:?}", events.all());
}

/// Once stopped (or dropped), a watcher applies nothing and reports nothing.
#[test]
fn a_stopped_watcher_stops_reloading() {
    for drop_it in [false, true] {
        let dir = Dir::new("stop");
        let path = dir.join("dinie");
        replace(&path, A);
        let verifier = Verifier::builder()
            .secrets_from_file(&path)
            .unwrap()
            .build()
            .unwrap();
        let (watcher, events) = watch(&path, &verifier, Duration::from_millis(5));
        if drop_it {
            drop(watcher);
        } else {
            watcher.stop();
        }
        replace(&path, B);
        std::thread::sleep(Duration::from_millis(300));
        assert!(accepts(&verifier, A) && !accepts(&verifier, B));
        assert_eq!(events.all().len(), 1, "{:?}", events.all());
    }
}

/// A file rewritten in place, with a pause mid-write shorter than the watcher's second read,
/// is never applied half-written. The prefix the watcher can catch is a valid, shorter list
/// (the new key without the retiring one): exactly the wrong key set that must not be
/// installed.
#[test]
fn a_file_caught_mid_write_is_not_applied() {
    use std::io::Write as _;

    let dir = Dir::new("midwrite");
    let path = dir.join("dinie");
    let full = |new: &str, old: &str| (format!("{new}\n"), format!("{}\n", retiring(old)));
    replace(&path, format!("{A}\n{}\n", retiring(B)));
    let verifier = Verifier::builder()
        .secrets_from_file(&path)
        .unwrap()
        .build()
        .unwrap();
    // The second read comes 100 ms after the first; the writer pauses 4 ms mid-write (a margin
    // of 25 times, for a loaded machine that wakes the writer late).
    let (watcher, events) = watch(&path, &verifier, Duration::from_millis(100));
    let rewrites = 16;
    for i in 0..rewrites {
        let (new, old) = if i % 2 == 0 { full(C, D) } else { full(A, B) };
        let mut file = std::fs::File::create(&path).unwrap(); // truncates: in place
        file.write_all(new.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(4));
        file.write_all(old.as_bytes()).unwrap();
        drop(file);
        std::thread::sleep(Duration::from_millis(250));
    }
    wait_for("the last rewrite", || accepts(&verifier, B));
    let loads: Vec<usize> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            KeyFileEvent::Loaded { keys, .. } => Some(keys.len()),
            _ => None,
        })
        .collect();
    assert!(loads.len() > rewrites / 2, "{loads:?}");
    assert!(
        loads.iter().all(|&n| n == 2),
        "a half-written file was applied: {loads:?}"
    );
    assert!(watcher.status().error().is_none());
}

/// A file that cannot be used when watching starts is an error, and nothing is started.
#[test]
fn watching_a_bad_file_fails_at_start_and_changes_nothing() {
    let dir = Dir::new("start");
    let path = dir.join("dinie");
    let verifier = Verifier::builder().secret(secret(A)).build().unwrap();
    let events = Events::default();

    replace(&path, format!("{B} whsec_oops"));
    let error = events.on(KeyFile::new(&path)).watch(&verifier).unwrap_err();
    assert!(
        matches!(&error, Error::KeyFileInvalid { path: p, .. } if p == &path),
        "{error:?}"
    );
    assert_shows_none_of(&error.to_string(), &[B]);

    std::fs::remove_file(&path).unwrap();
    let error = events.on(KeyFile::new(&path)).watch(&verifier).unwrap_err();
    assert!(
        matches!(error, Error::KeyFileUnreadable { kind, .. } if kind == std::io::ErrorKind::NotFound),
        "{error:?}"
    );

    assert!(accepts(&verifier, A) && !accepts(&verifier, B));
    assert!(events.all().is_empty(), "{:?}", events.all());
}

/// A file that never reads the same twice in a row when watching starts is an error (it is
/// being written): it is not applied, whatever it holds at the time. A file of Linux's that
/// reads differently every time stands for a writer that never pauses, so that no timing of
/// the machine decides the outcome (a writer thread can be held off the processor long enough
/// for two reads to agree, and then the watcher is right to apply what they agree on).
#[cfg(target_os = "linux")]
#[test]
fn a_file_that_keeps_changing_at_start_is_not_applied() {
    let path = Path::new("/proc/sys/kernel/random/uuid");
    let first = std::fs::read(path).unwrap();
    assert_ne!(first, std::fs::read(path).unwrap(), "reads the same twice");
    let verifier = Verifier::builder().secret(secret(A)).build().unwrap();
    let events = Events::default();
    let error = events
        .on(KeyFile::new(path).interval(Duration::from_millis(5)))
        .watch(&verifier)
        .unwrap_err();
    assert!(
        matches!(&error, Error::KeyFileUnreadable { kind, .. } if *kind == std::io::ErrorKind::ResourceBusy),
        "{error:?}"
    );
    assert!(error.to_string().contains("kept changing"), "{error}");
    assert!(accepts(&verifier, A) && !accepts(&verifier, B));
    assert!(events.all().is_empty(), "{:?}", events.all());
}

/// A callback that panics does not end the watcher.
#[test]
fn a_panicking_callback_does_not_stop_the_watcher() {
    let dir = Dir::new("panic");
    let path = dir.join("dinie");
    replace(&path, A);
    let verifier = Verifier::builder().secret(secret(A)).build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let watcher = KeyFile::new(&path)
        .interval(Duration::from_millis(5))
        .on_event(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            panic!("a callback that panics");
        })
        .watch(&verifier)
        .unwrap();
    wait_for("the first load", || watcher.status().loads() == 1);
    replace(&path, B);
    wait_for("the second load", || watcher.status().loads() == 2);
    assert!(accepts(&verifier, B));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The start-up read names the path and what is wrong, never the file's contents; comments, a
/// byte order mark and Windows line ends are fine.
#[test]
fn secrets_from_file_names_the_path_not_the_contents() {
    let dir = Dir::new("startup");
    let path = dir.join("dinie");
    let load = |contents: &[u8]| {
        replace(&path, contents);
        Verifier::builder().secrets_from_file(&path)
    };

    let ok = load(
        format!(
            "\u{feff}# Dinie, endpoint we_2Kq8: rotated at noon\r\n{B}\r\n\t# the old one, for an hour\r\n{}\r\n",
            retiring(A)
        )
        .as_bytes(),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(ok.key_count(), 2);
    assert!(accepts(&ok, A) && accepts(&ok, B));

    let shown = |e: Error| {
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert_shows_none_of(&text, &[A, B, C]);
        assert_shows_none_of(&format!("{e:?}"), &[A, B, C]);
        (e, text)
    };
    let (e, text) = shown(load(format!("{B} {}#x", &C[..40]).as_bytes()).unwrap_err());
    assert!(matches!(e, Error::KeyFileInvalid { .. }), "{e:?}");
    assert!(text.contains("entry 2 of 2"), "{text}");

    let (e, text) = shown(load(format!("# {B}\n").as_bytes()).unwrap_err());
    assert!(
        matches!(&e, Error::KeyFileInvalid { error, .. } if **error == Error::NoKeys),
        "{e:?}"
    );
    assert!(text.contains("no key configured"), "{text}");

    let (_, text) = shown(load(&[b'x'; MAX_KEY_FILE_LEN as usize + 1]).unwrap_err());
    assert!(text.contains("larger than 65536 bytes"), "{text}");

    let (_, text) = shown(load(b"whsec_\xc3").unwrap_err());
    assert!(text.contains("not UTF-8"), "{text}");

    std::fs::remove_file(&path).unwrap();
    let (e, _) = shown(Verifier::builder().secrets_from_file(&path).unwrap_err());
    assert!(
        matches!(e, Error::KeyFileUnreadable { kind, .. } if kind == std::io::ErrorKind::NotFound),
        "{e:?}"
    );
    let text = Verifier::builder()
        .secrets_from_file(&dir.0)
        .unwrap_err()
        .to_string();
    assert!(text.contains("not a regular file"), "{text}");
    assert!(text.contains(&dir.0.display().to_string()), "{text}");
}
