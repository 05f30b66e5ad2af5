//! Every command that reads logs tells what it could not read: `hunt` and `blast` list each file
//! not fully read (UTF-16 text without its byte order mark, a zip inside a gzip, a Graph page whose
//! `value` is not an array, a gzip stream broken midway, a broken record) with its status and
//! reason, count them in their summaries (and `blast` in its JSON output, manifest and letters),
//! exit 2 with `--strict`; a path that does not exist is an error; control characters from the data
//! (file names, user agents) reach neither the terminal nor the reports raw.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

/// A file name holding ESC and BEL, as an attacker-named export could be.
const EVIL_NAME: &str = "\u{1b}[31mevil\u{7}.jsonl";
/// The same name as tenantwatch shows it.
const EVIL_SHOWN: &str = "\\x1b[31mevil\\x07.jsonl";

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("tw-unread-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &str, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .arg(cmd)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A Management Activity API record (one line of JSON).
fn ual(time: &str, op: &str) -> String {
    format!(
        r#"{{"CreationTime":"{time}","Id":"0b1f6c8e-7d2a-4e3b-9c4d-5e6f7a8b9c0d","Operation":"{op}","OrganizationId":"{TENANT}","RecordType":50,"ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","UserId":"adele.vance@contoso.com","ClientIPAddress":"203.0.113.45"}}"#
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes into `dir` five files tenantwatch cannot fully read; returns (name, status, words of
/// the reason) for each.
fn bad_inputs(dir: &Path) -> Vec<(&'static str, &'static str, &'static str)> {
    std::fs::create_dir_all(dir).unwrap();
    // UTF-16 without a byte order mark (PowerShell writes one; a tool that strips it leaves text
    // that cannot be told from binary content; with the mark the file is read).
    let mut utf16 = Vec::new();
    let text = format!(
        "CreationDate,UserIds,Operations,AuditData\r\n2021-04-28T15:05:26,adele.vance@contoso.com,Send,\"{}\"\r\n",
        ual("2021-04-28T15:05:26", "Send").replace('"', "\"\"")
    );
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(dir.join("powershell_export.csv"), utf16).unwrap();
    // A zip inside a gzip.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("ual.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(ual("2021-04-28T15:05:26", "Send").as_bytes())
        .unwrap();
    let zipped = zip.finish().unwrap().into_inner();
    std::fs::write(dir.join("nested.json.gz"), gzip(&zipped)).unwrap();
    // A Graph page whose value is an object, not an array.
    std::fs::write(
        dir.join("signIns_page.json"),
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":{"id":"66ea54eb-6301-4ee5-be62-ff5a759b0100","createdDateTime":"2021-04-28T15:05:26Z"}}"#,
    )
    .unwrap();
    // A gzip stream broken midway.
    let lines: String = (0..5000)
        .map(|i| {
            let t = format!(
                "2021-04-28T{:02}:{:02}:{:02}",
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            );
            ual(&t, &format!("Op{i}")) + "\n"
        })
        .collect();
    let gz = gzip(lines.as_bytes());
    std::fs::write(dir.join("cut.jsonl.gz"), &gz[..gz.len() * 6 / 10]).unwrap();
    // A broken record (holding a terminal title sequence) in a file with an attacker's name.
    std::fs::write(
        dir.join(EVIL_NAME),
        format!(
            "{}\n{{\"CreationTime\":\u{1b}]0;owned\u{7}\n",
            ual("2021-04-28T15:05:26", "Send")
        ),
    )
    .unwrap();
    vec![
        ("powershell_export.csv", "unrecognised", "binary"),
        ("nested.json.gz", "unrecognised", "binary"),
        ("signIns_page.json", "unrecognised", "no known log shape"),
        ("cut.jsonl.gz", "partial", "stream broken"),
        (EVIL_NAME, "partial", "1 records rejected"),
    ]
}

#[test]
fn hunt_lists_every_file_it_could_not_read_and_strict_exits_2() {
    let tmp = Tmp::new("hunt");
    let bad = tmp.0.join("bad");
    let expected = bad_inputs(&bad);
    let good = tmp.0.join("good.jsonl");
    std::fs::write(
        &good,
        ual("2021-04-28T15:05:26", "MailItemsAccessed") + "\n",
    )
    .unwrap();
    let (bad, good) = (bad.to_str().unwrap(), good.to_str().unwrap());

    let o = run("hunt", &[good, bad, "--format", "jsonl", "--decode-all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for (name, status, why) in &expected {
        let shown = if *name == EVIL_NAME { EVIL_SHOWN } else { name };
        let line = err
            .lines()
            .find(|l| l.starts_with("tenantwatch: not fully read: ") && l.contains(shown))
            .unwrap_or_else(|| panic!("{shown} not listed: {err}"));
        assert!(line.contains(&format!(": {status}: ")), "{line}");
        assert!(line.contains(why), "{line}");
    }
    assert!(
        err.contains(&format!("rejected {bad}/{EVIL_SHOWN}:2: invalid JSON")),
        "the broken record with its line: {err}"
    );
    assert!(err.contains("from 6 files (5 not fully read)"), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw control characters: {err:?}"
    );

    // The timeline's summary counts them too; --strict makes them exit status 2.
    let o = run("hunt", &[good, bad, "--strict", "--decode-all"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let timeline = String::from_utf8_lossy(&o.stdout);
    assert!(
        timeline.contains("records read (1 rejected) from 6 files (5 not fully read)"),
        "{timeline}"
    );
    for one in ["powershell_export.csv", "nested.json.gz", "cut.jsonl.gz"] {
        let p = format!("{bad}/{one}");
        let o = run("hunt", &[good, &p, "--strict", "--format", "jsonl"]);
        assert_eq!(o.status.code(), Some(2), "{one}: {}", stderr(&o));
    }
    let o = run("hunt", &[good, "--strict", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("from 1 files (0 not fully read)"));
}

#[test]
fn a_path_that_does_not_exist_is_an_error_for_every_command() {
    let tmp = Tmp::new("missing");
    let good = tmp.0.join("good.jsonl");
    std::fs::write(&good, ual("2021-04-28T15:05:26", "Send") + "\n").unwrap();
    let good = good.to_str().unwrap();
    let missing = tmp.0.join("no-such-export.json");
    let missing = missing.to_str().unwrap();
    for (cmd, extra) in [
        ("hunt", vec![]),
        ("ingest", vec![]),
        ("blast", vec!["--actor", "adele.vance@contoso.com"]),
        ("audit", vec![]),
    ] {
        let mut args = vec![good, missing];
        args.extend(extra);
        let o = run(cmd, &args);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{missing} does not exist")),
            "{cmd}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{cmd} wrote a result");
    }
}

fn simulate(out: &Path, seed: u64) -> Value {
    let o = run(
        "simulate",
        &[
            "--out",
            out.to_str().unwrap(),
            "--tenants",
            "10",
            "--compromised",
            "3",
            "--scale",
            "0.03",
            "--seed",
            &seed.to_string(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap()
}

/// Writes the attacker's PowerShell user agent in every plain JSON log file with terminal
/// control sequences (as JSON escapes, which the reader decodes); returns the replacements.
fn inject_controls(logs: &Path) -> usize {
    const UA: &str =
        "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3930";
    const PAYLOAD: &str = "WindowsPowerShell\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m";
    let mut n = 0;
    let mut stack = vec![logs.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).unwrap();
                n += text.matches(UA).count();
                std::fs::write(&p, text.replace(UA, PAYLOAD)).unwrap();
            }
        }
    }
    n
}

fn has_raw_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

#[test]
fn blast_reports_unread_inputs_in_its_json_manifest_and_letters() {
    let tmp = Tmp::new("blast");
    let truth = simulate(&tmp.0, 42);
    let logs = tmp.0.join("logs");
    assert!(
        inject_controls(&logs) > 0,
        "no attacker user agent to replace"
    );
    let bad = tmp.0.join("bad");
    let expected = bad_inputs(&bad);
    let account = truth["partner_account"].as_str().unwrap();
    let reports = tmp.0.join("reports");
    let (logs, bad) = (logs.to_str().unwrap(), bad.to_str().unwrap());
    let args = [
        logs,
        bad,
        "--actor",
        account,
        "--format",
        "json",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    let o = run("blast", &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!has_raw_control(&err), "{err:?}");
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &r["input_problems"];
    let files = p["files"].as_u64().unwrap();
    assert!(files > 5, "{p}");
    assert!(
        err.contains(&format!(
            "(5 of {files} files not fully read, 1 records rejected)"
        )),
        "{err}"
    );
    assert_eq!(p["records_rejected"], 1);
    let listed: Vec<(String, String, String)> = p["files_not_read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("path"), s("status"), s("reason"))
        })
        .collect();
    assert_eq!(listed.len(), expected.len(), "{listed:#?}");
    for (name, status, why) in &expected {
        let path = format!("{bad}/{name}");
        let f = listed
            .iter()
            .find(|f| f.0 == path)
            .unwrap_or_else(|| panic!("{path} not listed: {listed:#?}"));
        assert_eq!(f.1, *status);
        assert!(f.2.contains(why), "{f:?}");
    }
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["input_problems"], *p);

    // Every letter says what could not be read; log content stays free of control characters.
    let mut folders = 0;
    let mut csv_escapes = 0;
    for e in std::fs::read_dir(&reports).unwrap() {
        let f = e.unwrap().path();
        if !f.is_dir() {
            continue;
        }
        folders += 1;
        let md = std::fs::read_to_string(f.join("notification.md")).unwrap();
        let html = std::fs::read_to_string(f.join("notification.html")).unwrap();
        let csv = std::fs::read_to_string(f.join("evidence.csv")).unwrap();
        let said = format!("5 of the {files} input files could not be fully read");
        for (page, utf16) in [
            (&md, "powershell\\_export.csv (unrecognised: binary"),
            (&html, "powershell_export.csv (unrecognised: binary"),
        ] {
            assert!(page.contains(&said), "{}: {page}", f.display());
            assert!(page.contains(utf16), "{}", f.display());
        }
        for (name, text) in [("md", &md), ("html", &html), ("csv", &csv)] {
            assert!(!has_raw_control(text), "{name} of {}", f.display());
        }
        csv_escapes += csv
            .matches("WindowsPowerShell\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m")
            .count();
    }
    assert!(folders > 0);
    assert!(csv_escapes > 0, "the user agent is not in the evidence");

    // The table for people shows nothing raw either; --strict turns the problems into status 2.
    let o = run("blast", &[logs, bad, "--actor", account, "--strict"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!has_raw_control(&String::from_utf8_lossy(&o.stdout)));
    let o = run(
        "blast",
        &[logs, "--actor", account, "--strict", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["input_problems"]["files_not_read"], serde_json::json!([]));
}

#[test]
fn hunt_lists_the_first_20_rejected_records_and_counts_the_rest() {
    let tmp = Tmp::new("many");
    let mut text = ual("2021-04-28T15:05:26", "Send") + "\n";
    for _ in 0..30 {
        text.push_str("{\"CreationTime\":\n");
    }
    let p = tmp.0.join("broken.jsonl");
    std::fs::write(&p, text).unwrap();
    let o = run(
        "hunt",
        &[p.to_str().unwrap(), "--decode-all", "--format", "jsonl"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let listed: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("tenantwatch: rejected "))
        .collect();
    assert_eq!(listed.len(), 20, "{err}");
    for (i, l) in listed.iter().enumerate() {
        assert!(
            l.ends_with(&format!(
                "broken.jsonl:{}: invalid JSON: EOF while parsing a value at line 1 column 16",
                i + 2
            )),
            "{l}"
        );
    }
    assert!(
        err.contains("tenantwatch: 10 more rejected records not listed"),
        "{err}"
    );
    assert!(
        err.contains("not fully read: ") && err.contains("partial: 30 records rejected"),
        "{err}"
    );
}
