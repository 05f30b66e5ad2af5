//! The progress bar through the CLI: drawn on standard error when it is a terminal (a
//! pseudo-terminal made by util-linux `script`) or with `--progress always`, never on a pipe, with
//! `--quiet` or under `CI`; standard output byte for byte the same either way (hunt, blast,
//! investigate). Data: the bundled example case (`examples/reseller-breach/logs`, written by
//! `tenantwatch simulate`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CASE: &str = "examples/reseller-breach/logs";
/// The compromised partner account of the example (its `truth.json`).
const ACTOR: &str = "yrossi@keystonetechnologypartners.nl";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-progress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs the binary with standard output and error captured (pipes), `CI` unset.
fn piped(args: &[&str]) -> (Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .env_remove("CI")
        .env("TERM", "xterm")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tenantwatch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary under a pseudo-terminal: standard error (and the terminal) is what `script`
/// prints, standard output goes to `stdout_file`. `None` when `script` cannot run here.
fn on_terminal(args: &str, stdout_file: &Path, ci: Option<&str>) -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_tenantwatch");
    let cmd = format!("{bin} {args} > {}", stdout_file.display());
    let mut c = Command::new("script");
    c.current_dir(root())
        .env_remove("CI")
        .env("TERM", "xterm")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null());
    if let Some(v) = ci {
        c.env("CI", v);
    }
    let out = c.output().ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The bar as drawn: a line started by a carriage return naming the read and its records, and
/// erased at the end.
fn has_bar(stderr: &str, label: &str) -> bool {
    stderr.contains(&format!("\r{label}")) && stderr.contains(" rec") && stderr.contains("\r\x1b[K")
}

/// Anything drawn over (a terminal turns line ends into `\r\n`: those are no bar).
fn drawn(stderr: &str) -> bool {
    stderr.contains("\x1b[K")
}

#[test]
fn hunt_draws_a_bar_on_a_terminal_only_and_stdout_is_unchanged() {
    let dir = scratch("hunt");
    let (plain, plain_err) = piped(&["hunt", CASE, "--format", "jsonl"]);
    assert!(plain.len() > 1000, "findings expected on stdout");
    assert!(!drawn(&plain_err), "no bar on a pipe: {plain_err:?}");

    let args = format!("hunt {CASE} --format jsonl");
    let Some(term) = on_terminal(&args, &dir.join("out"), None) else {
        eprintln!("util-linux script is not available: the terminal case is not run");
        return;
    };
    assert!(has_bar(&term, "hunt"), "a bar on a terminal: {term:?}");
    assert_eq!(std::fs::read(dir.join("out")).expect("stdout"), plain);

    let quiet = on_terminal(&format!("{args} --quiet"), &dir.join("quiet"), None);
    assert!(quiet.is_some_and(|e| !drawn(&e)), "--quiet: no bar");
    assert_eq!(std::fs::read(dir.join("quiet")).expect("stdout"), plain);
    let ci = on_terminal(&args, &dir.join("ci"), Some("true"));
    assert!(ci.is_some_and(|e| !drawn(&e)), "CI: no bar");
    let never = on_terminal(&format!("{args} --progress never"), &dir.join("n"), None);
    assert!(
        never.is_some_and(|e| !drawn(&e)),
        "--progress never: no bar"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn progress_always_draws_on_a_pipe_and_passes_are_named() {
    let (plain, _) = piped(&["blast", CASE, "--actor", ACTOR, "--format", "json"]);
    let (shown, err) = piped(&[
        "blast",
        CASE,
        "--actor",
        ACTOR,
        "--format",
        "json",
        "--progress",
        "always",
    ]);
    assert_eq!(shown, plain, "stdout is the same with the bar");
    // One read with a bar: the facts (the evidence records are read again without one).
    assert!(has_bar(&err, "blast facts"), "{err:?}");
    assert!(!err.contains("pass "), "{err:?}");
    let (_, err) = piped(&["ingest", CASE, "--progress", "always"]);
    assert!(has_bar(&err, "ingest"), "{err:?}");
}

/// Runs `investigate` on the example into `DIR/case` from inside `DIR`, so that the verdict names
/// the same case folder in every run.
fn investigate(dir: &Path, extra: &[&str]) -> (Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(dir)
        .env_remove("CI")
        .arg("investigate")
        .arg(root().join(CASE))
        .args(["--out", "case"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run tenantwatch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn investigate_names_its_read_and_prints_the_same_verdict() {
    let (a, b) = (scratch("inv-plain"), scratch("inv-bar"));
    let (plain, plain_err) = investigate(&a, &[]);
    let (shown, err) = investigate(&b, &["--progress", "always"]);
    assert!(!drawn(&plain_err));
    assert!(plain.len() > 500, "a verdict on stdout");
    assert_eq!(shown, plain);
    assert!(has_bar(&err, "hunt and blast facts"), "{err:?}");
    assert!(!err.contains("pass "), "{err:?}");
    let _ = (std::fs::remove_dir_all(&a), std::fs::remove_dir_all(&b));
}
