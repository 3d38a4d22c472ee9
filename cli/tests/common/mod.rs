//! What the tests of the built binary share: the command, and a secret of its own making.
#![allow(dead_code, clippy::unwrap_used)]

use assert_cmd::Command;

/// The built `standard-webhooks`, without the caller's `WEBHOOK_SECRETS`.
pub fn cli() -> Command {
    let mut cmd = Command::cargo_bin("standard-webhooks").unwrap();
    cmd.env_remove("WEBHOOK_SECRETS");
    cmd
}

/// What a run printed, and its exit status.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A fresh `whsec_` secret from `generate secret`.
pub fn generate_secret() -> String {
    let out = run(cli().args(["generate", "secret"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.trim().to_owned()
}
