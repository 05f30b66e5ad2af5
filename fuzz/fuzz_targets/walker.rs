#![no_main]
//! A folder tree built from the input in a fresh temporary folder — folders, log files, links to
//! folders (loops to the root and to ancestors included), links to files, dangling links and
//! sockets (special files) — listed and read by the ingest walker. It must end (each real folder
//! once), list every regular file exactly once, never open a special file, and keep the record
//! accounting.

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;
use tw_ingest::{IngestOptions, ingest_inputs, source::list_inputs};

const UAL: &str = r#"{"CreationTime":"2021-04-28T15:05:26","Operation":"MailItemsAccessed","OrganizationId":"11111111-2222-3333-4444-555555555555","RecordType":50,"UserId":"adele@contoso.com"}"#;

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = std::env::temp_dir().join(format!(
        "tw-fuzz-walker-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).ok();
    p
}

/// Builds the tree; returns the regular files made (each counts once however it is linked).
fn build(root: &PathBuf, data: &[u8]) -> usize {
    let mut dirs = vec![root.clone()];
    let mut files: Vec<PathBuf> = Vec::new();
    let mut sockets = Vec::new();
    for (i, op) in data.chunks(2).take(40).enumerate() {
        let (kind, arg) = (op[0] % 6, *op.get(1).unwrap_or(&0) as usize);
        let parent = dirs[arg % dirs.len()].clone();
        let name = parent.join(format!("e{i}"));
        match kind {
            0 => {
                if std::fs::create_dir(&name).is_ok() {
                    dirs.push(name);
                }
            }
            1 => {
                let text = format!("{}\n", UAL).repeat(arg % 3 + 1);
                if std::fs::write(&name, text).is_ok() {
                    files.push(name);
                }
            }
            2 => {
                let _ = symlink(&dirs[(arg / 7) % dirs.len()], &name);
            }
            3 => {
                if let Some(f) = files.get(arg % files.len().max(1)) {
                    let _ = symlink(f, &name);
                }
            }
            4 => {
                let _ = symlink(parent.join("missing"), &name);
            }
            _ => {
                // Keep the listener: the socket file stays a socket for the whole read.
                if let Ok(s) = std::os::unix::net::UnixListener::bind(&name) {
                    sockets.push(s);
                }
            }
        }
    }
    std::mem::forget(sockets);
    files.len()
}

fuzz_target!(|data: &[u8]| {
    let root = scratch();
    let made = build(&root, data);
    let (inputs, errors) = list_inputs(&[root.clone()], &Default::default());
    // Every regular file once, and nothing else.
    assert_eq!(inputs.len(), made, "{inputs:#?}");
    let mut names: Vec<&str> = inputs.iter().map(|i| i.display.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), made);
    assert!(errors.iter().all(|e| e.skipped || e.reason.contains("cannot read")));
    let opts = IngestOptions { threads: 1, ..IngestOptions::default() };
    let report = ingest_inputs(inputs, errors, &opts, |_, _: &mut Vec<()>| {}, |_| {});
    let t = &report.totals;
    assert_eq!(t.records, t.read + t.rejected);
    assert_eq!(t.rejected, 0);
    let _ = std::fs::remove_dir_all(&root);
});
