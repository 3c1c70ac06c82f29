//! The PostgreSQL server the tests create their databases on: `SALVE_TEST_POSTGRES_URL`,
//! else the local default; when nothing answers there but PostgreSQL's server binaries
//! are installed, a throwaway cluster of this test process, in a temporary directory,
//! stopped and removed when the process ends. Without either, the run stops at once with
//! one line saying what to install or set.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The admin URL of the server (its `postgres` database).
pub fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("SALVE_TEST_POSTGRES_URL") {
            return url;
        }
        if answers(&"127.0.0.1:5432".parse().expect("address")) {
            return DEFAULT_URL.to_owned();
        }
        match server_binaries() {
            Some(bin) => throwaway_cluster(&bin).unwrap_or_else(|e| stop(&e)),
            None => stop(
                "PostgreSQL does not answer at 127.0.0.1:5432 and its server binaries \
                 (initdb, pg_ctl) are not installed: install PostgreSQL (e.g. apt-get install \
                 postgresql) or set SALVE_TEST_POSTGRES_URL to a server the tests may create \
                 databases on",
            ),
        }
    })
}

/// `host:port` of the server.
pub fn address() -> String {
    let url = admin_url();
    let rest = url.split_once('@').map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Straight to the process's stderr: the test harness captures `eprintln!`, and the
/// process ends before it would show it.
fn say(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "salve tests: {message}");
}

fn stop(message: &str) -> ! {
    say(message);
    std::process::exit(2)
}

fn answers(address: &SocketAddr) -> bool {
    TcpStream::connect_timeout(address, Duration::from_secs(1)).is_ok()
}

/// The folder holding `initdb` and `pg_ctl`: on the PATH, else the newest Debian layout.
fn server_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    debian.sort_by_key(|p| {
        let version = p.parent().and_then(Path::file_name);
        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
    });
    on_path
        .chain(debian.into_iter().rev())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// Starts a cluster on a free port and returns its admin URL. PostgreSQL refuses to run
/// as root, so as root the cluster belongs to the `postgres` user.
fn throwaway_cluster(bin: &Path) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("salve-test-pg-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let program = bin.join(program);
        let mut command = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed: {}",
                program.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    };
    if as_root {
        Command::new("chown")
            .args(["postgres:", &dir.display().to_string()])
            .status()
            .map_err(|e| format!("cannot chown {}: {e}", dir.display()))?;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let data_text = data.display().to_string();
    run(
        "initdb",
        &[
            "-D",
            &data_text,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
    )?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
        dir.display()
    );
    let log = dir.join("server.log").display().to_string();
    run(
        "pg_ctl",
        &["-D", &data_text, "-o", &options, "-l", &log, "-w", "start"],
    )?;
    remove_when_done(bin, &dir, &data, as_root);
    say(&format!(
        "nothing answered at 127.0.0.1:5432; started a throwaway PostgreSQL on port {port} \
         in {}",
        dir.display()
    ));
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// A watcher process stops the cluster and removes its folder once this process is gone
/// (the test harness has no hook that runs after the last test).
fn remove_when_done(bin: &Path, dir: &Path, data: &Path, as_root: bool) {
    let pg_ctl = bin.join("pg_ctl").display().to_string();
    let stop = if as_root {
        format!("runuser -u postgres -- {pg_ctl}")
    } else {
        pg_ctl
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {stop} -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        say(&format!("cannot watch the throwaway PostgreSQL: {e}"));
    }
}
