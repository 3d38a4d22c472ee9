//! Keys from a file, re-read when it changes (feature `reload`).
//!
//! A watcher is a thread of its own that polls the file: it reads the file's bytes every
//! interval and compares their SHA-256 with the last ones it saw. Polling the contents (rather
//! than waiting for file-system notifications) sees every way a file is replaced: a rename over
//! it, a Kubernetes `..data` symlink swap, a Docker or NFS mount; and a thread (rather than an
//! async task) keeps the file's blocking reads, which a hung network mount can stall, and the
//! key derivation of a reload off an async runtime's workers, and needs no runtime at all.

use core::fmt;
use core::time::Duration;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keys::{KeyInfo, KeyList};
use crate::verifier::Verifier;

/// How often a [`KeyFile`] watcher reads the file, unless set with [`KeyFile::interval`]:
/// one second.
pub const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The largest key file read: 64 KiB, room for hundreds of keys. A larger file is refused
/// unread ([`Error::KeyFileUnreadable`]): a path that points at something else (a log, a
/// device) must not be read whole into memory.
pub const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// The longest wait before a changed file is read a second time (see [`KeyFile`]).
const MAX_SETTLE: Duration = Duration::from_millis(100);

/// The shortest interval: a zero interval would spin.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// The keys a verifier trusts, kept in a file that a secrets manager replaces on rotation
/// (a Kubernetes Secret mounted as a volume, a file written by a secrets agent): watched, and
/// applied to a [`Verifier`] whenever it changes, with no restart.
///
/// The file holds a key configuration in the syntax of
/// [`VerifierBuilder::secrets_from_config`](crate::VerifierBuilder::secrets_from_config):
/// entries separated by whitespace, commas or newlines, each a secret (`whsec_…`) or, with the
/// `ed25519` feature, a public key (`whpk_…`), optionally followed by `@` and the RFC 3339 time
/// a retiring key stops being trusted. Files add two things:
///
/// - a line whose first character other than spaces and tabs is `#` is a comment, ignored
///   (a `#` anywhere else is not special: no key contains one, so it is refused as a bad
///   entry rather than cutting a key short);
/// - a UTF-8 byte order mark at the start is ignored, as are surrounding whitespace, a
///   trailing newline and Windows line ends.
///
/// ```text
/// # Dinie, endpoint we_2Kq8. Rotated 2026-11-26 12:00 UTC; the old secret for an hour.
/// whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD
/// whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@2026-11-26T13:00:00Z
/// ```
///
/// [`watch`](Self::watch) applies the file to a verifier, then starts a thread that reads it
/// every [interval](Self::interval) (one second by default) and applies it again with
/// [`Verifier::reload_from_config`] whenever its bytes change, for every clone of the verifier
/// at once:
///
/// - **A change is applied once two reads agree.** When a read finds other bytes than the last
///   one, the file is read again a moment later (the interval, at most 100 ms) and applied only
///   if both reads found the same bytes; otherwise it is read again until two consecutive reads
///   agree. A file caught while it is being rewritten in place is therefore not applied before
///   its writer is done, unless the writer stalls mid-write for longer than that moment. Replace
///   the file atomically all the same (write a temporary file in the same directory, then
///   rename it over the key file; Kubernetes swaps a symlink): a reader then sees the whole
///   old file or the whole new one, never a prefix, which could parse as a shorter list of
///   keys.
/// - **A file that cannot be used changes nothing.** A file that is missing (for a moment,
///   mid-swap), unreadable, not UTF-8, larger than [`MAX_KEY_FILE_LEN`], empty, with an entry
///   that does not parse, a key given twice, or no key in force now, is refused: the keys in
///   force are kept, never replaced by none. The refusal is reported once (not on every
///   read) and reported again only if the problem changes; a refused file is not parsed again
///   until its bytes change.
/// - **An unchanged file is not applied again**: rewriting the same bytes (a new inode, a new
///   modification time) costs one read and one hash, not a reload.
/// - **Nothing of the file's contents is reported**: errors name the file's path and, for a
///   bad entry, its position and what it looks like, never a key. The watcher keeps only the
///   SHA-256 of the bytes it read, and wipes the bytes once used.
///
/// Each load and each refusal is reported to the callback given to
/// [`on_event`](Self::on_event), through the `tracing` feature's log (INFO for a load, with the
/// fingerprints and expiries of the keys now in force; WARN for a file that cannot be read;
/// ERROR for a file whose keys cannot be used), and in
/// [`KeyFileWatcher::status`], for a health check.
///
/// The file is the source of truth: a key installed meanwhile with [`Verifier::rotate`] is
/// replaced at the file's next change.
///
/// ```
/// use std::time::Duration;
/// use standard_webhooks::{KeyFile, Verifier};
///
/// // The file a secrets manager keeps up to date (e.g. a Kubernetes Secret volume's
/// // /var/run/secrets/webhooks/dinie): one key per line, `#` comment lines, KEY@RFC3339 for a
/// // retiring key.
/// let path = std::env::temp_dir().join(format!("dinie-secrets-{}", std::process::id()));
/// std::fs::write(&path, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")?;
///
/// // At start-up, a missing or bad file stops the service with an error that names the path.
/// let verifier = Verifier::builder().secrets_from_file(&path)?.build()?;
/// // Keep the watcher for as long as the service runs: dropping it stops it.
/// let watcher = KeyFile::new(&path)
///     .interval(Duration::from_millis(100)) // default: 1 s
///     .on_event(|event| eprintln!("{event}")) // also logged with the `tracing` feature
///     .watch(&verifier)?;
///
/// // The rotation: the new secret, and the old one for its grace period. Replace the file
/// // atomically: write a temporary file beside it, then rename it over.
/// let tmp = path.with_extension("tmp");
/// std::fs::write(
///     &tmp,
///     "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n\
///      whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@2099-01-01T00:00:00Z\n",
/// )?;
/// std::fs::rename(&tmp, &path)?;
///
/// // Every clone of `verifier` trusts both keys within the interval and a second read.
/// for _ in 0..500 {
///     if verifier.key_count() == 2 {
///         break;
///     }
///     std::thread::sleep(Duration::from_millis(10));
/// }
/// assert_eq!(verifier.key_count(), 2);
/// // For a health check: `None` while the file's keys are in force.
/// assert!(watcher.status().error().is_none());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KeyFile {
    path: PathBuf,
    interval: Duration,
    on_event: Option<Arc<Callback>>,
}

type Callback = dyn Fn(&KeyFileEvent) + Send + Sync;

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .field("interval", &self.interval)
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}

impl KeyFile {
    /// The key file at `path`, read every [`DEFAULT_RELOAD_INTERVAL`] once watched.
    ///
    /// A symlink is followed at each read, so a Kubernetes volume's key file (a symlink through
    /// `..data`, which is swapped on every update) is watched by its usual path.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            interval: DEFAULT_RELOAD_INTERVAL,
            on_event: None,
        }
    }

    /// How often the file is read (default [`DEFAULT_RELOAD_INTERVAL`], one second; at least a
    /// millisecond). A change is applied within this interval plus the second read's delay
    /// (the interval, at most 100 ms) and the reload itself, which derives each key's
    /// [fingerprint](crate::Fingerprint) (a PBKDF2 of 10,000 rounds per key).
    pub fn interval(mut self, every: Duration) -> Self {
        self.interval = every.max(MIN_INTERVAL);
        self
    }

    /// Calls `f` with every [`KeyFileEvent`]: each load, each refusal, and the end of a
    /// problem.
    ///
    /// It runs on the watcher's thread (for the first load, on the thread calling
    /// [`watch`](Self::watch)), and the watcher waits for it: keep it short (log, count, or
    /// send the event down a channel). A panic in it is caught and does not stop the watcher.
    pub fn on_event(mut self, f: impl Fn(&KeyFileEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the file to `verifier` (and so to every clone of it) now, then starts a thread
    /// that applies it again whenever its bytes change, until the returned watcher is dropped
    /// or [stopped](KeyFileWatcher::stop).
    ///
    /// When this returns `Ok`, the verifier holds exactly the file's keys, and the first load
    /// has been reported. The file is read like every later change, until two reads agree, so
    /// this blocks for the second read's delay (the interval, at most 100 ms) and the reload.
    ///
    /// Fails, with nothing started and the verifier's keys unchanged, when the file cannot be
    /// read ([`Error::KeyFileUnreadable`], also when it is still changing after 10 reads) or
    /// its keys cannot be used ([`Error::KeyFileInvalid`]): a service started with a bad file
    /// stops at start-up, with a message naming the path. Fails too, with the file's keys in
    /// force but not watched, if the operating system refuses a new thread
    /// ([`Error::KeyFileUnreadable`]). Needs no async runtime.
    pub fn watch(self, verifier: &Verifier) -> Result<KeyFileWatcher, Error> {
        let (stop_tx, stop_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            stopped: AtomicBool::new(false),
            gate: Mutex::new(()),
            status: Mutex::new(KeyFileStatus::default()),
        });
        let mut watch = Watch {
            path: self.path.clone(),
            interval: self.interval,
            settle: self.interval.min(MAX_SETTLE),
            verifier: verifier.clone(),
            on_event: self.on_event,
            shared: Arc::clone(&shared),
            stop: stop_rx,
            last: None,
            applied: None,
            refused: None,
        };
        watch.first_load()?;
        let thread = std::thread::Builder::new()
            .name("standard-webhooks key file".into())
            .spawn(move || watch.run())
            .map_err(|e| Error::KeyFileUnreadable {
                path: self.path.clone(),
                kind: e.kind(),
                reason: format!("the thread watching it could not be started: {e}"),
            })?;
        Ok(KeyFileWatcher {
            path: self.path,
            shared,
            thread: thread.thread().id(),
            _stop: stop_tx,
        })
    }
}

/// What a [`KeyFile`] watcher reports, to the callback given to [`KeyFile::on_event`].
///
/// `Display` gives a one-line description: the file's path and the fingerprints of the keys
/// loaded, or what is wrong; never any key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileEvent {
    /// The file's keys are in force: it changed, or the watcher has just started.
    Loaded {
        /// The file's path.
        path: PathBuf,
        /// The keys now in force, as [`Verifier::keys`] lists them.
        keys: Vec<KeyInfo>,
    },
    /// The file cannot be read or its keys cannot be used: the keys in force are kept.
    /// Reported when the problem starts or changes, not on every read.
    Refused {
        /// [`Error::KeyFileUnreadable`] or [`Error::KeyFileInvalid`]: the path and what is
        /// wrong, never the file's contents.
        error: Error,
    },
    /// The problem reported last is over: the file can be read again and holds the keys in
    /// force (a file that changed meanwhile is reported as [`Loaded`](Self::Loaded) instead).
    Recovered {
        /// The file's path.
        path: PathBuf,
    },
}

impl fmt::Display for KeyFileEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Loaded { path, keys } => {
                write!(
                    f,
                    "webhook keys loaded from `{}`: {}",
                    path.display(),
                    KeyList(keys, OffsetDateTime::now_utc())
                )
            }
            Self::Refused { error } => {
                write!(f, "webhook key file refused, keys in force kept: {error}")
            }
            Self::Recovered { path } => write!(
                f,
                "webhook key file `{}` usable again, keys unchanged",
                path.display()
            ),
        }
    }
}

/// What a [`KeyFileWatcher`] has done, for a health check: when it last loaded the file, when
/// it last read it, and what is wrong now, if anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFileStatus {
    loaded_at: Option<OffsetDateTime>,
    loads: u64,
    checked_at: Option<OffsetDateTime>,
    error: Option<Error>,
    error_since: Option<OffsetDateTime>,
}

impl KeyFileStatus {
    /// When the watcher last applied the file's keys ([`KeyFile::watch`] applies them before
    /// it returns).
    pub fn loaded_at(&self) -> Option<OffsetDateTime> {
        self.loaded_at
    }

    /// How many times the watcher applied the file's keys (its first load included).
    pub fn loads(&self) -> u64 {
        self.loads
    }

    /// When the watcher last read the file (with two reads agreeing), whatever it found: an
    /// old time means the watcher is stuck (a hung network mount) or stopped.
    pub fn checked_at(&self) -> Option<OffsetDateTime> {
        self.checked_at
    }

    /// What is wrong with the file now: `None` when the file, as it was last read, is the one
    /// in force. While it is `Some`, the keys loaded last are kept.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Since when [`error`](Self::error) has been reported.
    pub fn error_since(&self) -> Option<OffsetDateTime> {
        self.error_since
    }
}

/// A running [`KeyFile`] watcher: stops when dropped or [stopped](Self::stop).
#[must_use = "the watcher stops when dropped: keep it for as long as the keys should follow the file"]
pub struct KeyFileWatcher {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: std::thread::ThreadId,
    /// Dropped with the watcher, which wakes the thread up to end.
    _stop: mpsc::Sender<()>,
}

impl fmt::Debug for KeyFileWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFileWatcher")
            .field("path", &self.path)
            .field("status", &self.status())
            .finish()
    }
}

impl KeyFileWatcher {
    /// The watched file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the watcher has done so far: for a health check.
    pub fn status(&self) -> KeyFileStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the watcher, as dropping it does: once this returns, the file is never applied
    /// again and the callback is not called again. It waits for a reload or a callback in
    /// progress to finish, but not for a read in progress (a read stalled on a hung mount ends
    /// the thread when it returns).
    pub fn stop(self) {
        drop(self);
    }

    fn halt(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // From the callback itself (on the watcher's thread), the gate is held already.
        if std::thread::current().id() != self.thread {
            drop(
                self.shared
                    .gate
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }
}

impl Drop for KeyFileWatcher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What the watcher's thread and its handle share.
struct Shared {
    /// Set by the handle when stopping; read by the thread under `gate`.
    stopped: AtomicBool,
    /// Held by the thread while it applies the file, updates the status and calls the callback,
    /// and taken by the handle after setting `stopped`: so nothing happens after `stop`.
    gate: Mutex<()>,
    status: Mutex<KeyFileStatus>,
}

impl Shared {
    /// The gate, if the watcher has not been stopped.
    fn enter(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        (!self.stopped.load(Ordering::SeqCst)).then_some(gate)
    }
}

/// A read of the file, as compared with the one before: the SHA-256 of its bytes, or the error.
#[derive(Clone, PartialEq, Eq)]
enum Seen {
    Bytes([u8; 32]),
    Failed(Error),
}

/// How many reads [`KeyFile::watch`] makes, at most, for two in a row to agree.
const FIRST_LOAD_READS: u32 = 10;

/// A read of the file: the SHA-256 of its bytes and the bytes, or why it cannot be read.
type Read = Result<([u8; 32], Zeroizing<Vec<u8>>), Error>;

/// The watcher: what its thread reads, applies and reports.
struct Watch {
    path: PathBuf,
    interval: Duration,
    settle: Duration,
    verifier: Verifier,
    on_event: Option<Arc<Callback>>,
    shared: Arc<Shared>,
    stop: mpsc::Receiver<()>,
    /// The last read.
    last: Option<Seen>,
    /// The SHA-256 of the bytes in force.
    applied: Option<[u8; 32]>,
    /// The SHA-256 of the bytes refused last, and why.
    refused: Option<([u8; 32], Error)>,
}

impl Watch {
    /// Reads the file until two reads in a row agree, and applies it: the caller's start-up,
    /// whose failure it returns.
    fn first_load(&mut self) -> Result<(), Error> {
        let mut reads = 1;
        let read = loop {
            if let Some(read) = self.read() {
                break read;
            }
            if reads == FIRST_LOAD_READS {
                return Err(Error::KeyFileUnreadable {
                    path: self.path.clone(),
                    kind: std::io::ErrorKind::ResourceBusy,
                    reason: format!(
                        "kept changing while it was read ({reads} reads, {:?} apart): is it \
                         being written?",
                        self.settle
                    ),
                });
            }
            reads += 1;
            std::thread::sleep(self.settle);
        };
        let (hash, bytes) = read?;
        self.update(|s| s.checked_at = Some(OffsetDateTime::now_utc()));
        self.apply(&bytes)?;
        self.applied = Some(hash);
        Ok(())
    }

    /// The thread: reads the file every interval, and acts on what two reads in a row agree on.
    fn run(mut self) {
        let mut wait = self.interval;
        loop {
            match self.stop.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            let Some(read) = self.read() else {
                // Something else than the read before: read again shortly, and act only when
                // two reads agree (a file being written in place is not applied half-written).
                wait = self.settle;
                continue;
            };
            wait = self.interval;
            let shared = Arc::clone(&self.shared);
            let Some(_gate) = shared.enter() else { return };
            self.update(|s| s.checked_at = Some(OffsetDateTime::now_utc()));
            let (hash, bytes) = match read {
                Ok(read) => read,
                Err(error) => {
                    self.problem(error);
                    continue;
                }
            };
            let refused = self.refused.as_ref().filter(|(h, _)| *h == hash);
            if self.applied == Some(hash) {
                self.fine();
            } else if let Some((_, error)) = refused {
                // Refused already: not parsed again, but still the problem.
                self.problem(error.clone());
            } else {
                match self.apply(&bytes) {
                    Ok(()) => {
                        self.applied = Some(hash);
                        self.refused = None;
                    }
                    Err(error) => {
                        self.problem(error.clone());
                        self.refused = Some((hash, error));
                    }
                }
            }
        }
    }

    /// Reads the file: its bytes with their SHA-256, or why it cannot be read, when that is
    /// what the read before found too; `None` when the two differ.
    fn read(&mut self) -> Option<Read> {
        let read = read_key_file(&self.path).map(|bytes| {
            let hash: [u8; 32] = Sha256::digest(bytes.as_slice()).into();
            (hash, bytes)
        });
        let seen = match &read {
            Ok((hash, _)) => Seen::Bytes(*hash),
            Err(error) => Seen::Failed(error.clone()),
        };
        if self.last.as_ref() == Some(&seen) {
            Some(read)
        } else {
            self.last = Some(seen);
            None
        }
    }

    /// Applies the file's bytes to the verifier; reports the load.
    fn apply(&self, bytes: &[u8]) -> Result<(), Error> {
        let config = config_text(&self.path, bytes)?;
        let (keys, changed) = self
            .verifier
            .replace_from_config(&config)
            .map_err(|error| Error::KeyFileInvalid {
                path: self.path.clone(),
                error: Box::new(error),
            })?;
        let now = OffsetDateTime::now_utc();
        self.update(|s| {
            s.loaded_at = Some(now);
            s.loads = s.loads.saturating_add(1);
            s.error = None;
            s.error_since = None;
        });
        let keys = keys.infos();
        // The keys the verifier was built with, from this file: nothing to log.
        if changed {
            log_loaded(&self.path, &keys);
        }
        self.report(&KeyFileEvent::Loaded {
            path: self.path.clone(),
            keys,
        });
        Ok(())
    }

    /// The file is in force as it is: ends a problem reported before.
    fn fine(&self) {
        let mut was = false;
        self.update(|s| {
            was = s.error.take().is_some();
            s.error_since = None;
        });
        if was {
            log_recovered(&self.path);
            self.report(&KeyFileEvent::Recovered {
                path: self.path.clone(),
            });
        }
    }

    /// Reports `error`, unless it is the problem reported already.
    fn problem(&self, error: Error) {
        let mut new = false;
        self.update(|s| {
            if s.error.as_ref() != Some(&error) {
                new = true;
                s.error = Some(error.clone());
                s.error_since = Some(OffsetDateTime::now_utc());
            }
        });
        if new {
            log_refused(&self.path, &error);
            self.report(&KeyFileEvent::Refused { error });
        }
    }

    fn update(&self, f: impl FnOnce(&mut KeyFileStatus)) {
        f(&mut self
            .shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }

    fn report(&self, event: &KeyFileEvent) {
        if let Some(on_event) = &self.on_event {
            // A panicking callback must not end the watcher (the panic hook has reported it).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_event(event)));
        }
    }
}

/// Reads a key file's bytes: a regular file (symlinks followed) of at most
/// [`MAX_KEY_FILE_LEN`] bytes. The bytes are wiped when dropped.
fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    let unreadable = |kind: std::io::ErrorKind, reason: String| Error::KeyFileUnreadable {
        path: path.to_owned(),
        kind,
        reason,
    };
    let io = |e: std::io::Error| unreadable(e.kind(), format!("cannot be read: {e}"));
    // Checked before opening: opening a FIFO would block until a writer comes.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(unreadable(
            std::io::ErrorKind::InvalidInput,
            "is not a regular file".into(),
        ));
    }
    let too_large = || {
        unreadable(
            std::io::ErrorKind::InvalidData,
            format!("is larger than {MAX_KEY_FILE_LEN} bytes: not a key file"),
        )
    };
    if meta.len() > MAX_KEY_FILE_LEN {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // One byte more than the file's length, so that reading it whole does not reallocate
    // (which would leave a copy of the keys behind).
    let capacity = usize::try_from(meta.len().saturating_add(1)).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(MAX_KEY_FILE_LEN.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_KEY_FILE_LEN) {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A key file's bytes as a key configuration: UTF-8, without a byte order mark, comment lines
/// blanked. Wiped when dropped.
fn config_text(path: &Path, bytes: &[u8]) -> Result<Zeroizing<String>, Error> {
    let text = core::str::from_utf8(bytes).map_err(|e| Error::KeyFileUnreadable {
        path: path.to_owned(),
        kind: std::io::ErrorKind::InvalidData,
        reason: format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut config = Zeroizing::new(String::with_capacity(text.len()));
    for line in text.lines() {
        if !line.trim_start_matches([' ', '\t']).starts_with('#') {
            config.push_str(line);
        }
        config.push('\n');
    }
    Ok(config)
}

/// Reads the key file at `path` as a key configuration, for
/// [`VerifierBuilder::secrets_from_file`](crate::VerifierBuilder::secrets_from_file).
pub(crate) fn read_config(path: &Path) -> Result<Zeroizing<String>, Error> {
    config_text(path, &read_key_file(path)?)
}

#[cfg(feature = "tracing")]
fn log_loaded(path: &Path, keys: &[KeyInfo]) {
    tracing::info!(
        target: "standard_webhooks",
        path = %path.display(),
        keys = %KeyList(keys, OffsetDateTime::now_utc()),
        "webhook keys loaded from key file"
    );
}

#[cfg(feature = "tracing")]
fn log_refused(path: &Path, error: &Error) {
    let path = path.display();
    match error {
        Error::KeyFileUnreadable { .. } => tracing::warn!(
            target: "standard_webhooks",
            %path,
            "webhook key file cannot be read, keys in force kept: {error}"
        ),
        _ => tracing::error!(
            target: "standard_webhooks",
            %path,
            "webhook key file refused, keys in force kept: {error}"
        ),
    }
}

#[cfg(feature = "tracing")]
fn log_recovered(path: &Path) {
    tracing::info!(
        target: "standard_webhooks",
        path = %path.display(),
        "webhook key file usable again, keys unchanged"
    );
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
fn log_loaded(_: &Path, _: &[KeyInfo]) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
fn log_refused(_: &Path, _: &Error) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
fn log_recovered(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &str) -> String {
        config_text(Path::new("k"), bytes.as_bytes())
            .unwrap()
            .to_string()
    }

    #[test]
    fn comment_lines_and_a_byte_order_mark_are_ignored() {
        assert_eq!(
            text("# a\nwhsec_x\n  # b\n\twhsec_y # c\r\n"),
            "\nwhsec_x\n\n\twhsec_y # c\n"
        );
        assert_eq!(text("\u{feff}whsec_x"), "whsec_x\n");
        assert_eq!(text(""), "");
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_by_offset() {
        let err = config_text(Path::new("k"), b"whsec_\xff").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key file `k`: is not UTF-8 text (invalid byte at offset 6)"
        );
    }
}
