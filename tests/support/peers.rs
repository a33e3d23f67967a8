//! Starting the real OAuth peers (oidc-provider, oauth2-mock-server, django-oauth-toolkit)
//! as child processes on free 127.0.0.1 ports, waiting for them by polling, and killing
//! their process group when the test ends. The peers are installed by
//! `tests/peers/setup.sh` into `${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}/peers`;
//! a missing install fails the test loudly.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `tests/peers/setup.sh` installed the peers; panics when it has not run.
pub fn peers_dir() -> PathBuf {
    let cache = std::env::var_os("HTTPLENS_CI_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/httplens-ci")
        });
    let dir = cache.join("peers");
    for need in [
        "npm/node_modules/oidc-provider",
        "venv/bin/python",
        "django.sqlite3",
    ] {
        assert!(
            dir.join(need).exists(),
            "the OAuth peers are not installed ({} missing): run tests/peers/setup.sh (scripts/test-all.sh does)",
            dir.join(need).display()
        );
    }
    dir
}

pub fn repo_peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// A free port on 127.0.0.1 (bound and released; the peer binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running peer; dropping it kills its whole process group.
pub struct Peer {
    child: Child,
    pub base: String,
    pub port: u16,
    log: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Peer {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    mut cmd: Command,
    port: u16,
    base: String,
    ready_path: &str,
    tmp: tempfile::TempDir,
) -> Peer {
    use std::os::unix::process::CommandExt;
    let log = tmp.path().join("peer.log");
    let f = std::fs::File::create(&log).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .process_group(0);
    let child = cmd.spawn().expect("the peer starts");
    let mut peer = Peer {
        child,
        base,
        port,
        log,
        _tmp: tmp,
    };
    let url = format!("http://127.0.0.1:{port}{ready_path}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = peer.child.try_wait() {
            panic!(
                "the peer exited ({status}) before it was ready:\n{}",
                peer.log()
            );
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && ureq_ok(&url) {
            return peer;
        }
        assert!(
            Instant::now() < deadline,
            "the peer did not answer {url} within 60 s:\n{}",
            peer.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A blocking GET that says whether the answer was a success (no HTTP client crate
/// needed: one request over a std socket).
fn ureq_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let u = url::Url::parse(url).unwrap();
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", u.port().unwrap())) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    if write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2")
}

/// oidc-provider with the auto-approving shim; issuer `http://127.0.0.1:PORT`.
pub fn oidc_provider(access_ttl_secs: u64) -> Peer {
    let dir = peers_dir();
    let port = free_port();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("npm/oidc.mjs"))
        .arg(port.to_string())
        .env("ACCESS_TTL", access_ttl_secs.to_string());
    spawn(
        cmd,
        port,
        format!("http://127.0.0.1:{port}"),
        "/.well-known/openid-configuration",
        tempfile::tempdir().unwrap(),
    )
}

/// oauth2-mock-server answering with `fault` (see tests/peers/mock.mjs).
pub fn mock_server(fault: &str) -> Peer {
    let dir = peers_dir();
    let port = free_port();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("npm/mock.mjs"))
        .arg(port.to_string())
        .arg(fault);
    spawn(
        cmd,
        port,
        format!("http://127.0.0.1:{port}"),
        "/.well-known/openid-configuration",
        tempfile::tempdir().unwrap(),
    )
}

/// django-oauth-toolkit on a copy of the migrated database; issuer `.../o`.
pub fn django(access_ttl_secs: u64) -> Peer {
    let dir = peers_dir();
    let port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite3");
    std::fs::copy(dir.join("django.sqlite3"), &db).unwrap();
    let base = format!("http://127.0.0.1:{port}/o");
    let mut cmd = Command::new(dir.join("venv/bin/python"));
    cmd.current_dir(repo_peers().join("django"))
        .args([
            "manage.py",
            "runserver",
            &format!("127.0.0.1:{port}"),
            "--noreload",
        ])
        .env("DJANGO_DB", &db)
        .env("PEER_ISSUER", &base)
        .env("ACCESS_TTL", access_ttl_secs.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    spawn(cmd, port, base, "/o/.well-known/openid-configuration", tmp)
}
