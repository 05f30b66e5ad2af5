//! Bad input through `tenantwatch ingest`, generated in a scratch folder by each test: broken records
//! are counted and listed with file, line and reason while the rest of the file is read; damaged
//! containers and unknown files are listed with the reason; nothing panics; exit statuses follow
//! `--strict`; usage errors exit with 1. Every run checks `records = read + rejected`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

/// A scratch folder removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tw-bad-input-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Out {
    code: i32,
    report: Value,
    stdout: String,
    stderr: String,
}

/// Runs `tenantwatch ingest ARGS...` in `dir` with no report flags.
fn raw(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(dir)
        .arg("ingest")
        .args(args)
        .output()
        .expect("tenantwatch runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "tenantwatch panicked: {stderr}"
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
    )
}

/// Runs `tenantwatch ingest ARGS... --stats --format json` in `dir`; the report is on stdout.
fn ingest(dir: &Path, args: &[&str]) -> Out {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--stats", "--format", "json"]);
    let (code, stdout, stderr) = raw(dir, &all);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}): {stdout}\n{stderr}"));
    check_totals(&report);
    Out {
        code,
        report,
        stdout,
        stderr,
    }
}

/// records = read + rejected, per file and in total.
fn check_totals(report: &Value) {
    let n = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    let mut sum = 0;
    for f in report["files"].as_array().expect("files") {
        assert_eq!(n(&f["records"]), n(&f["read"]) + n(&f["rejected"]), "{f:#}");
        sum += n(&f["records"]);
    }
    let t = &report["totals"];
    assert_eq!(n(&t["records"]), n(&t["read"]) + n(&t["rejected"]), "{t:#}");
    assert_eq!(n(&t["records"]), sum);
}

fn file<'a>(out: &'a Out, path: &str) -> &'a Value {
    out.report["files"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["path"] == path))
        .unwrap_or_else(|| panic!("{path} not in the report: {}", out.stdout))
}

fn errors_of<'a>(out: &'a Out, path: &str) -> Vec<&'a Value> {
    out.report["errors"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["path"] == path).collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<absent>".into(),
        other => other.to_string(),
    }
}

/// (status, records, read, rejected) of a file.
fn counts(out: &Out, path: &str) -> (String, u64, u64, u64) {
    let f = file(out, path);
    let n = |k: &str| f[k].as_u64().unwrap_or(u64::MAX);
    (text(&f["status"]), n("records"), n("read"), n("rejected"))
}

/// A Management Activity API record (one line of JSON).
fn ual(time: &str, op: &str) -> String {
    format!(
        r#"{{"CreationTime":"{time}","Id":"0b1f6c8e-7d2a-4e3b-9c4d-5e6f7a8b9c0d","Operation":"{op}","OrganizationId":"{TENANT}","RecordType":50,"ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","UserId":"adele.vance@contoso.com","ClientIPAddress":"203.0.113.45"}}"#
    )
}

#[test]
fn a_broken_json_line_is_rejected_with_its_line_and_the_rest_is_read() {
    let tmp = TempDir::new("broken-json");
    let lines = [
        ual("2021-04-28T15:05:26", "MailItemsAccessed"),
        r#"{"CreationTime":"2021-04-28T15:06:00","Operation":"MailItemsAccessed","RecordType":50,"#
            .to_string(),
        ual("2021-04-28T15:07:00", "Send"),
        r#"{"hello":"a record of no known log"}"#.to_string(),
        ual("2021-04-28T15:08:00", "SoftDelete"),
    ];
    tmp.write("ual.jsonl", lines.join("\n") + "\n");
    // The same in a PowerShell-style array: one broken element in the middle.
    let arr = format!(
        "[\r\n    {},\r\n    {{\"CreationTime\": \"2021-04-28T15:06:00\", \"Operation\": tru}},\r\n    {}\r\n]\r\n",
        ual("2021-04-28T15:05:26", "MailItemsAccessed"),
        ual("2021-04-28T15:07:00", "Send")
    );
    tmp.write("ual_array.json", arr);

    let out = ingest(&tmp.0, &["ual.jsonl", "ual_array.json"]);
    assert_eq!(
        out.code, 0,
        "without --strict a rejected record is not a failure"
    );
    assert_eq!(
        counts(&out, "ual.jsonl"),
        ("partial".into(), 5, 3, 2),
        "the lines after the broken one are read"
    );
    let errs = errors_of(&out, "ual.jsonl");
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!(errs[0]["line"], 2);
    assert_eq!(errs[0]["record"], 1);
    assert!(
        text(&errs[0]["reason"]).contains("invalid JSON"),
        "{:#}",
        errs[0]
    );
    assert_eq!(errs[1]["line"], 4);
    assert_eq!(errs[1]["record"], 3);
    assert!(
        text(&errs[1]["reason"]).contains("not a record of any known log"),
        "{:#}",
        errs[1]
    );
    assert_eq!(
        text(&file(&out, "ual.jsonl")["format"]),
        "ual.mgmt_api_json"
    );

    assert_eq!(counts(&out, "ual_array.json"), ("partial".into(), 3, 2, 1));
    let errs = errors_of(&out, "ual_array.json");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["line"], 3);
    assert_eq!(errs[0]["record"], 1);
    assert!(text(&errs[0]["reason"]).contains("invalid JSON"));
}

#[test]
fn a_truncated_json_array_keeps_its_records_and_reports_the_end() {
    let tmp = TempDir::new("truncated-array");
    tmp.write(
        "blob.json",
        format!(
            "[{},{},{{\"CreationTime\":\"2021-04-28T15:09:00\",\"Oper",
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            ual("2021-04-28T15:07:00", "Send")
        ),
    );
    tmp.write(
        "unclosed.json",
        format!(
            "[\n{},\n{}\n",
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            ual("2021-04-28T15:07:00", "Send")
        ),
    );
    let out = ingest(&tmp.0, &["."]);
    assert_eq!(counts(&out, "./blob.json"), ("partial".into(), 3, 2, 1));
    let e = errors_of(&out, "./blob.json");
    assert!(
        text(&e[0]["reason"]).contains("unexpected end of input"),
        "{e:#?}"
    );
    assert_eq!(counts(&out, "./unclosed.json"), ("partial".into(), 2, 2, 0));
    let e = errors_of(&out, "./unclosed.json");
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(text(&e[0]["reason"]).contains("unclosed"), "{e:#?}");
    assert_eq!(e[0]["record"], Value::Null, "a file problem, not a record");
}

#[test]
fn a_csv_row_with_bad_quoting_is_rejected_and_the_next_rows_are_read() {
    let tmp = TempDir::new("bad-quoting");
    let good = |t: &str| {
        format!(
            r#"{t}.0000000Z,adele.vance@contoso.com,MailItemsAccessed,"{}""#,
            ual(t, "MailItemsAccessed").replace('"', "\"\"")
        )
    };
    // The AuditData cell of the second row was written without doubling its quotes.
    let bad = format!(
        r#"2021-04-28T15:06:00.0000000Z,adele.vance@contoso.com,MailItemsAccessed,"{}""#,
        ual("2021-04-28T15:06:00", "MailItemsAccessed")
    );
    let text_csv = [
        "CreationDate,UserIds,Operations,AuditData".to_string(),
        good("2021-04-28T15:05:26"),
        bad,
        good("2021-04-28T15:07:00"),
    ]
    .join("\n")
        + "\n";
    tmp.write("purview.csv", text_csv);
    let out = ingest(&tmp.0, &["purview.csv"]);
    assert_eq!(counts(&out, "purview.csv"), ("partial".into(), 3, 2, 1));
    assert_eq!(
        text(&file(&out, "purview.csv")["format"]),
        "ual.purview_csv"
    );
    let e = errors_of(&out, "purview.csv");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["line"], 3);
    assert_eq!(e[0]["record"], 1);
    assert!(text(&e[0]["reason"]).contains("bad quoting"), "{e:#?}");

    // AuditData that is not JSON at all is a record error too.
    tmp.write(
        "purview2.csv",
        "CreationDate,UserIds,Operations,AuditData\n2021-04-28T15:05:26.0000000Z,a@b.com,Send,not json\n",
    );
    let out = ingest(&tmp.0, &["purview2.csv"]);
    assert_eq!(counts(&out, "purview2.csv"), ("partial".into(), 1, 0, 1));
    let e = errors_of(&out, "purview2.csv");
    assert!(text(&e[0]["reason"]).contains("AuditData"), "{e:#?}");
}

#[test]
fn an_unparseable_timestamp_is_a_record_error_never_now() {
    let tmp = TempDir::new("bad-time");
    tmp.write(
        "ual.jsonl",
        [
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            ual("yesterday", "Send"),
            ual("2021-02-30T10:00:00", "Send"),
            ual("2021-04-28T15:07:00", "SoftDelete"),
        ]
        .join("\n"),
    );
    tmp.write(
        "OfficeActivity.csv",
        "\u{feff}TenantId,TimeGenerated [UTC],Operation,OrganizationId,UserId,OfficeWorkload,RecordType,Type\n\
         5c4b3a29-1807-4f6e-8d5c-4b3a29180716,\"4/28/2021, 3:05:26.000 PM\",FileAccessed,8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f,adele.vance@contoso.com,SharePoint,SharePointFileOperation,OfficeActivity\n\
         5c4b3a29-1807-4f6e-8d5c-4b3a29180716,28/04/2021 15:05:26,FileAccessed,8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f,adele.vance@contoso.com,SharePoint,SharePointFileOperation,OfficeActivity\n",
    );
    let out = ingest(
        &tmp.0,
        &[
            "ual.jsonl",
            "OfficeActivity.csv",
            "--emit",
            "jsonl",
            "--out",
            "events.jsonl",
        ],
    );
    assert_eq!(counts(&out, "ual.jsonl"), ("partial".into(), 4, 2, 2));
    let e = errors_of(&out, "ual.jsonl");
    assert_eq!(e.len(), 2);
    for (err, line) in e.iter().zip([2, 3]) {
        assert_eq!(err["line"], line);
        let reason = text(&err["reason"]);
        assert!(
            reason.contains("unparseable timestamp") && reason.contains("CreationTime"),
            "{reason}"
        );
    }
    assert_eq!(
        counts(&out, "OfficeActivity.csv"),
        ("partial".into(), 2, 1, 1)
    );
    let e = errors_of(&out, "OfficeActivity.csv");
    assert_eq!(e[0]["line"], 3);
    assert!(
        text(&e[0]["reason"]).contains("unparseable timestamp"),
        "{e:#?}"
    );

    // No event was made up for the rejected records.
    let events = std::fs::read_to_string(tmp.0.join("events.jsonl")).unwrap();
    let times: Vec<String> = events
        .lines()
        .map(|l| text(&serde_json::from_str::<Value>(l).unwrap()["time"]))
        .collect();
    assert_eq!(
        times,
        vec![
            "2021-04-28T15:05:26.000Z",
            "2021-04-28T15:07:00.000Z",
            "2021-04-28T15:05:26.000Z"
        ]
    );
}

#[test]
fn invalid_utf8_is_a_record_error_or_an_unrecognised_file() {
    let tmp = TempDir::new("utf8");
    let mut jl = Vec::new();
    jl.extend_from_slice(ual("2021-04-28T15:05:26", "MailItemsAccessed").as_bytes());
    jl.extend_from_slice(b"\n{\"CreationTime\":\"2021-04-28T15:06:00\",\"Operation\":\"Se\xffnd\",\"RecordType\":50}\n");
    jl.extend_from_slice(b"{\"CreationTime\":\"2021-04-28T15:06:30\",\"Operation\":\"Send\",\"RecordType\":50,\"Subject\":\"caf\xe9\"}\n");
    jl.extend_from_slice(ual("2021-04-28T15:07:00", "Send").as_bytes());
    tmp.write("ual.jsonl", jl);

    let mut csv = b"TenantId,TimeGenerated [UTC],Operation,OrganizationId,UserId,OfficeWorkload,RecordType,Type\n".to_vec();
    csv.extend_from_slice(b"w,\"4/28/2021, 3:05:26.000 PM\",FileAccessed,t,adele@contoso.com,SharePoint,SharePointFileOperation,OfficeActivity\n");
    csv.extend_from_slice(b"w,\"4/28/2021, 3:05:27.000 PM\",File\xffAccessed,t,adele@contoso.com,SharePoint,SharePointFileOperation,OfficeActivity\n");
    tmp.write("OfficeActivity.csv", csv);
    // A Latin-1 header: not UTF-8 text at all.
    tmp.write("latin1.csv", b"Op\xe9ration,Utilisateur\nSend,adele\n");

    let out = ingest(&tmp.0, &["ual.jsonl", "OfficeActivity.csv", "latin1.csv"]);
    assert_eq!(counts(&out, "ual.jsonl"), ("partial".into(), 4, 2, 2));
    let e = errors_of(&out, "ual.jsonl");
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0]["line"].clone(), e[1]["line"].clone()),
        (2.into(), 3.into())
    );
    assert_eq!(
        counts(&out, "OfficeActivity.csv"),
        ("partial".into(), 2, 1, 1)
    );
    let e = errors_of(&out, "OfficeActivity.csv");
    assert_eq!(e[0]["line"], 3);
    assert!(text(&e[0]["reason"]).contains("UTF-8"), "{e:#?}");
    let f = file(&out, "latin1.csv");
    assert_eq!(text(&f["status"]), "unrecognised");
    assert!(text(&f["note"]).contains("UTF-8"), "{f:#}");
}

#[test]
fn files_that_are_no_log_are_listed_as_unrecognised_with_the_reason() {
    let tmp = TempDir::new("unrecognised");
    tmp.write(
        "notes.txt",
        "Call with the customer at 10:00.\nAsk for the Purview export.\n",
    );
    tmp.write("screenshot.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10");
    tmp.write("config.json", r#"{"theme":"dark","fontSize":12}"#);
    let out = ingest(&tmp.0, &["."]);
    assert_eq!(out.code, 0);
    for (p, note) in [
        ("./notes.txt", "no known log"),
        ("./screenshot.png", "binary"),
        ("./config.json", "no known log shape"),
    ] {
        let f = file(&out, p);
        assert_eq!(text(&f["status"]), "unrecognised", "{f:#}");
        assert_eq!(f["records"], 0);
        assert!(text(&f["note"]).contains(note), "{f:#}");
    }
    assert_eq!(out.report["totals"]["unrecognised_files"], 3);
}

#[test]
fn empty_files_are_listed_as_empty() {
    let tmp = TempDir::new("empty");
    tmp.write("empty.json", b"");
    tmp.write("blank.csv", "\n\n   \r\n");
    tmp.write("bom_only.json", b"\xef\xbb\xbf");
    let out = ingest(&tmp.0, &["."]);
    for p in ["./empty.json", "./blank.csv", "./bom_only.json"] {
        assert_eq!(counts(&out, p), ("empty".into(), 0, 0, 0), "{p}");
    }
}

#[test]
fn a_truncated_gzip_keeps_what_was_read_and_reports_the_break() {
    use flate2::{Compression, write::GzEncoder};
    let tmp = TempDir::new("gz");
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    for i in 0..5000 {
        let t = format!(
            "2021-04-28T{:02}:{:02}:{:02}",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        );
        writeln!(enc, "{}", ual(&t, &format!("Op{i}"))).unwrap();
    }
    let gz = enc.finish().unwrap();
    tmp.write("whole.jsonl.gz", &gz);
    tmp.write("cut.jsonl.gz", &gz[..gz.len() * 6 / 10]);
    let out = ingest(&tmp.0, &["whole.jsonl.gz", "cut.jsonl.gz"]);
    assert_eq!(counts(&out, "whole.jsonl.gz"), ("ok".into(), 5000, 5000, 0));
    let (status, records, read, _) = counts(&out, "cut.jsonl.gz");
    assert_eq!(status, "partial");
    assert!(read > 0 && read < 5000 && records < 5000, "read {read}");
    let f = file(&out, "cut.jsonl.gz");
    assert!(text(&f["note"]).contains("stream broken"), "{f:#}");
    let e = errors_of(&out, "cut.jsonl.gz");
    assert!(
        e.iter()
            .any(|e| e["line"] == 0 && text(&e["reason"]).contains("stream broken")),
        "{e:#?}"
    );
}

#[test]
fn a_corrupt_zip_is_listed_as_unreadable() {
    let tmp = TempDir::new("zip");
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend((0..300u32).map(|i| (i * 7 % 251) as u8));
    tmp.write("corrupt.zip", junk);
    // A real archive cut before its central directory.
    let good = zip_with(&[(
        "logs/ual.json",
        ual("2021-04-28T15:05:26", "Send").as_bytes(),
    )]);
    tmp.write("cut.zip", &good[..good.len() / 2]);
    let out = ingest(&tmp.0, &["corrupt.zip", "cut.zip"]);
    assert_eq!(out.code, 0);
    for p in ["corrupt.zip", "cut.zip"] {
        let f = file(&out, p);
        assert_eq!(text(&f["status"]), "unreadable", "{f:#}");
        assert!(text(&f["note"]).contains("corrupt zip"), "{f:#}");
        let e = errors_of(&out, p);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0]["line"], 0);
    }
    let (code, _, _) = raw(
        &tmp.0,
        &["corrupt.zip", "--strict", "--stats", "--format", "json"],
    );
    assert_eq!(code, 2);
}

/// A zip archive with these members (stored, names taken as given).
fn zip_with(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_zip_member_escaping_the_archive_is_refused() {
    let tmp = TempDir::new("zip-slip");
    let rec = ual("2021-04-28T15:05:26", "MailItemsAccessed");
    let z = zip_with(&[
        ("export/ual.json", rec.as_bytes()),
        ("../evil.json", rec.as_bytes()),
        ("export/../../evil2.json", rec.as_bytes()),
        ("/etc/evil3.json", rec.as_bytes()),
    ]);
    tmp.write("collection.zip", z);
    let out = ingest(&tmp.0, &["collection.zip"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        counts(&out, "collection.zip!export/ual.json"),
        ("ok".into(), 1, 1, 0)
    );
    for name in ["../evil.json", "export/../../evil2.json", "/etc/evil3.json"] {
        let p = format!("collection.zip!{name}");
        let f = file(&out, &p);
        assert_eq!(text(&f["status"]), "unreadable", "{f:#}");
        assert!(text(&f["note"]).contains("escapes"), "{f:#}");
        assert_eq!(errors_of(&out, &p).len(), 1);
    }
    assert_eq!(out.report["totals"]["read"], 1);
    assert!(!tmp.0.parent().unwrap().join("evil.json").exists());
    let (code, _, _) = raw(
        &tmp.0,
        &["collection.zip", "--strict", "--stats", "--format", "json"],
    );
    assert_eq!(code, 2, "a refused member is a rejected file");
}

#[test]
fn deeply_nested_json_is_rejected_without_a_crash() {
    let tmp = TempDir::new("deep");
    let depth = 100_000;
    tmp.write("deep_array.json", "[".repeat(depth) + &"]".repeat(depth));
    tmp.write(
        "deep_lines.jsonl",
        format!(
            "{}\n{}1{}\n{}\n",
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            "{\"a\":".repeat(depth),
            "}".repeat(depth),
            ual("2021-04-28T15:07:00", "Send")
        ),
    );
    tmp.write(
        "deep_in_record.json",
        format!(
            r#"[{},{{"CreationTime":"2021-04-28T15:07:00","Operation":"Send","RecordType":50,"deep":{}{}}}]"#,
            ual("2021-04-28T15:05:26", "Send"),
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    tmp.write(
        "deep_unclosed.json",
        "{\"records\":".to_string() + &"[".repeat(depth),
    );
    let out = ingest(&tmp.0, &["."]);
    assert_eq!(out.code, 0);
    assert_eq!(
        counts(&out, "./deep_array.json"),
        ("partial".into(), 1, 0, 1)
    );
    assert_eq!(
        counts(&out, "./deep_lines.jsonl"),
        ("partial".into(), 3, 2, 1)
    );
    assert_eq!(
        counts(&out, "./deep_in_record.json"),
        ("partial".into(), 2, 1, 1)
    );
    for p in [
        "./deep_array.json",
        "./deep_lines.jsonl",
        "./deep_in_record.json",
    ] {
        let e = errors_of(&out, p);
        assert_eq!(e.len(), 1, "{p}: {e:#?}");
        assert!(text(&e[0]["reason"]).contains("recursion limit"), "{e:#?}");
    }
    let (status, _, read, _) = counts(&out, "./deep_unclosed.json");
    assert_eq!((status.as_str(), read), ("partial", 0));
    assert!(!errors_of(&out, "./deep_unclosed.json").is_empty());
}

#[test]
fn a_record_over_the_size_limit_is_rejected_and_the_next_one_read() {
    let tmp = TempDir::new("oversize");
    let big = format!(
        r#"{{"CreationTime":"2021-04-28T15:06:00","Operation":"Send","RecordType":50,"Blob":"{}"}}"#,
        "x".repeat(3 << 20)
    );
    tmp.write(
        "lines.jsonl",
        format!(
            "{}\n{big}\n{}\n",
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            ual("2021-04-28T15:07:00", "Send")
        ),
    );
    tmp.write(
        "array.json",
        format!(
            "[{},{big},{}]",
            ual("2021-04-28T15:05:26", "MailItemsAccessed"),
            ual("2021-04-28T15:07:00", "Send")
        ),
    );
    let out = ingest(
        &tmp.0,
        &["lines.jsonl", "array.json", "--max-record-mib", "1"],
    );
    for p in ["lines.jsonl", "array.json"] {
        assert_eq!(counts(&out, p), ("partial".into(), 3, 2, 1), "{p}");
        let e = errors_of(&out, p);
        assert_eq!(e[0]["record"], 1);
        assert!(
            text(&e[0]["reason"]).contains("longer than the limit"),
            "{e:#?}"
        );
    }
}

/// 200 MB on one line: a Management Activity API content blob (a JSON array) of small records.
/// Generated streaming; read in well under a minute by a debug build on two cores.
#[test]
fn a_200_mb_single_line_file_is_read_completely() {
    let tmp = TempDir::new("huge");
    let path = tmp.0.join("content_blob.json");
    let target: usize = 200 << 20;
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
    w.write_all(b"[").unwrap();
    let mut written = 1usize;
    let mut n = 0u64;
    while written < target {
        let i = n;
        let t = format!(
            "2021-04-{:02}T{:02}:{:02}:{:02}",
            20 + i / 86_400 % 8,
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        );
        let rec = ual(&t, "MailItemsAccessed");
        if n > 0 {
            w.write_all(b",").unwrap();
            written += 1;
        }
        w.write_all(rec.as_bytes()).unwrap();
        written += rec.len();
        n += 1;
    }
    w.write_all(b"]").unwrap();
    w.flush().unwrap();
    drop(w);
    assert!(std::fs::metadata(&path).unwrap().len() >= target as u64);

    let out = ingest(&tmp.0, &["content_blob.json"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        counts(&out, "content_blob.json"),
        ("ok".into(), n, n, 0),
        "every record of the one-line array is read"
    );
    assert_eq!(
        text(&file(&out, "content_blob.json")["format"]),
        "ual.mgmt_api_json"
    );
}

#[test]
fn strict_turns_rejected_records_into_exit_status_2() {
    let tmp = TempDir::new("strict");
    tmp.write(
        "clean.jsonl",
        ual("2021-04-28T15:05:26", "MailItemsAccessed") + "\n",
    );
    tmp.write(
        "dirty.jsonl",
        format!(
            "{}\n{{\"CreationTime\":\n",
            ual("2021-04-28T15:05:26", "Send")
        ),
    );
    tmp.write("notes.txt", "not a log\n");
    let json = ["--stats", "--format", "json"];
    let with = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(json);
        raw(&tmp.0, &a).0
    };
    assert_eq!(with(&["clean.jsonl"]), 0);
    assert_eq!(with(&["clean.jsonl", "--strict"]), 0);
    assert_eq!(with(&["dirty.jsonl"]), 0);
    assert_eq!(with(&["dirty.jsonl", "--strict"]), 2);
    assert_eq!(with(&["clean.jsonl", "dirty.jsonl", "--strict"]), 2);
    assert_eq!(with(&["notes.txt", "--strict"]), 2);
    // The table report and emitted events follow the same rule.
    let (code, stdout, _) = raw(&tmp.0, &["dirty.jsonl", "--strict"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("1 rejected"), "{stdout}");
    let (code, stdout, stderr) = raw(
        &tmp.0,
        &["dirty.jsonl", "--strict", "--emit", "jsonl", "--stats"],
    );
    assert_eq!(code, 2);
    assert_eq!(
        stdout.lines().count(),
        1,
        "the good record is still emitted"
    );
    assert!(
        stderr.contains("rejected"),
        "the report goes to standard error"
    );
}

#[test]
fn usage_errors_exit_with_1() {
    let tmp = TempDir::new("usage");
    tmp.write("ual.jsonl", ual("2021-04-28T15:05:26", "Send") + "\n");
    let (code, stdout, stderr) = raw(&tmp.0, &["ual.jsonl", "--format-in", "ual.fancy_json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("unknown --format-in"), "{stderr}");
    assert!(
        stderr.contains("ual.purview_csv"),
        "the known names are listed: {stderr}"
    );
    assert!(stdout.is_empty());
    let (code, _, stderr) = raw(&tmp.0, &["ual.jsonl", "--gap-hours", "0"]);
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = raw(&tmp.0, &[]);
    assert_eq!(code, 1, "no path: {stderr}");
    let (code, _, stderr) = raw(&tmp.0, &["ual.jsonl", "--tenant-map", "missing.map"]);
    assert_eq!(code, 1, "{stderr}");
    let out = ingest(&tmp.0, &["ual.jsonl", "--format-in", "json"]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn errors_are_listed_up_to_the_limit_and_all_counted() {
    let tmp = TempDir::new("many-errors");
    let mut text = ual("2021-04-28T15:05:26", "MailItemsAccessed") + "\n";
    for _ in 0..150 {
        text.push_str("{\"CreationTime\":\n");
    }
    text.push_str(&ual("2021-04-28T15:07:00", "Send"));
    text.push('\n');
    tmp.write("ual.jsonl", text);
    let out = ingest(&tmp.0, &["ual.jsonl"]);
    assert_eq!(counts(&out, "ual.jsonl"), ("partial".into(), 152, 2, 150));
    let listed = errors_of(&out, "ual.jsonl");
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0]["line"], 2);
    assert_eq!(listed[99]["line"], 101);
    assert_eq!(out.report["errors_not_listed"], 50);
}

#[test]
fn microsoft_json_dates_are_read_and_not_rejected() {
    let tmp = TempDir::new("msdate");
    tmp.write(
        "ual.jsonl",
        ual("/Date(1619622326000)/", "MailItemsAccessed") + "\n",
    );
    let out = ingest(
        &tmp.0,
        &["ual.jsonl", "--emit", "jsonl", "--out", "ev.jsonl"],
    );
    assert_eq!(counts(&out, "ual.jsonl"), ("ok".into(), 1, 1, 0));
    let ev: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.0.join("ev.jsonl")).unwrap()).unwrap();
    assert_eq!(ev["time"], "2021-04-28T15:05:26.000Z");
}

/// Events emitted by `ingest ARGS... --emit jsonl` (the report goes to standard error).
fn emitted(dir: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = args.to_vec();
    all.extend(["--emit", "jsonl"]);
    let (code, stdout, stderr) = raw(dir, &all);
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{stderr}")))
        .collect();
    (code, events)
}

/// Seventeen UAL records with distinct times, one per line.
fn seventeen() -> Vec<String> {
    (0..17)
        .map(|i| ual(&format!("2021-04-28T15:{i:02}:00"), "MailItemsAccessed"))
        .collect()
}

#[test]
fn blank_lines_before_the_records_lose_nothing() {
    let tmp = TempDir::new("blank-start");
    let blank = "\n".repeat(70_000);
    tmp.write("ual.jsonl", blank.clone() + &seventeen().join("\n") + "\n");
    let csv = "TenantId,TimeGenerated [UTC],OperationName,Category,Result,AADTenantId\n\
        8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f,\"4/28/2021, 3:05:26.000 PM\",Add member to role,RoleManagement,success,8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f\n";
    tmp.write("audit.csv", "\r\n".repeat(40_000) + csv);
    tmp.write(
        "indented.json",
        format!("\n\n    [\n      {}\n    ]\n", seventeen()[0]),
    );
    let out = ingest(&tmp.0, &["ual.jsonl", "audit.csv", "indented.json"]);
    assert_eq!(out.code, 0);
    assert_eq!(counts(&out, "indented.json"), ("ok".into(), 1, 1, 0));
    assert_eq!(counts(&out, "ual.jsonl"), ("ok".into(), 17, 17, 0));
    assert_eq!(counts(&out, "audit.csv"), ("ok".into(), 1, 1, 0));
    let (_, events) = emitted(&tmp.0, &["ual.jsonl", "audit.csv"]);
    assert_eq!(events.len(), 18);
    assert_eq!(
        events[0]["source"]["line"], 70_001,
        "lines count the blank ones"
    );
    assert_eq!(events[16]["source"]["line"], 70_017);
    assert_eq!(
        events[17]["source"]["line"], 40_002,
        "the row after the CSV header"
    );
}

#[test]
fn a_nul_byte_rejects_its_record_only_unless_the_file_is_binary() {
    let tmp = TempDir::new("nul");
    let mut lines = seventeen();
    lines[2] = lines[2].replace("MailItemsAccessed", "Mail\0ItemsAccessed");
    tmp.write("ual.jsonl", lines.join("\n") + "\n");
    tmp.write(
        "audit.csv",
        "TimeGenerated [UTC],OperationName,Category,Result,AADTenantId\n\
         \"4/28/2021, 3:05:26.000 PM\",Add member\0 to role,RoleManagement,success,8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f\n\
         \"4/28/2021, 3:06:26.000 PM\",Add member to role,RoleManagement,success,8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f\n",
    );
    // An executable: many control bytes from the start.
    tmp.write(
        "tool.exe",
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0",
    );
    let out = ingest(&tmp.0, &["ual.jsonl", "audit.csv", "tool.exe"]);
    assert_eq!(counts(&out, "ual.jsonl"), ("partial".into(), 17, 16, 1));
    let e = errors_of(&out, "ual.jsonl");
    assert_eq!(
        (e[0]["line"].as_u64(), e[0]["record"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(counts(&out, "audit.csv"), ("partial".into(), 2, 1, 1));
    let e = errors_of(&out, "audit.csv");
    assert_eq!(e[0]["line"], 2);
    assert!(text(&e[0]["reason"]).contains("NUL"), "{e:#?}");
    let f = file(&out, "tool.exe");
    assert_eq!(text(&f["status"]), "unrecognised");
    assert_eq!(text(&f["note"]), "binary content");
}

#[test]
fn line_ends_that_vary_within_a_file_lose_nothing() {
    let tmp = TempDir::new("line-ends");
    let mut text = String::new();
    for (i, rec) in seventeen().iter().enumerate() {
        text.push_str(rec);
        text.push_str(["\n", "\r\n", "\r"][i % 3]);
    }
    tmp.write("ual.jsonl", &text);
    let out = ingest(&tmp.0, &["ual.jsonl"]);
    assert_eq!(counts(&out, "ual.jsonl"), ("ok".into(), 17, 17, 0));
    let (_, events) = emitted(&tmp.0, &["ual.jsonl"]);
    let lines: Vec<u64> = events
        .iter()
        .filter_map(|e| e["source"]["line"].as_u64())
        .collect();
    assert_eq!(lines, (1..=17).collect::<Vec<u64>>());
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut b = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        b.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    b
}

#[test]
fn utf16_exports_of_windows_powershell_are_read() {
    let tmp = TempDir::new("utf16");
    // Export-Csv -Encoding Unicode of Search-UnifiedAuditLog results.
    let ad = ual("2021-04-28T15:05:26", "MailItemsAccessed").replace('"', "\"\"");
    let csv = format!(
        "\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\r\n\
         \"ExchangeItem\",\"4/28/2021 3:05:26 PM\",\"adele.vance@contoso.com\",\"MailItemsAccessed\",\"{ad}\"\r\n\
         \"ExchangeItem\",\"4/28/2021 3:06:26 PM\",\"adele.vance@contoso.com\",\"MailItemsAccessed\",\"{{broken\"\r\n"
    );
    tmp.write("ual_le.csv", utf16(&csv, false));
    let lines = seventeen()[..3].join("\r\n") + "\r\n{\"CreationTime\":\r\n";
    tmp.write("ual_be.json", utf16(&lines, true));
    let out = ingest(&tmp.0, &["ual_le.csv", "ual_be.json"]);
    assert_eq!(counts(&out, "ual_le.csv"), ("partial".into(), 2, 1, 1));
    assert_eq!(text(&file(&out, "ual_le.csv")["format"]), "ual.purview_csv");
    assert!(text(&file(&out, "ual_le.csv")["note"]).contains("UTF-16"));
    assert_eq!(errors_of(&out, "ual_le.csv")[0]["line"], 3);
    assert_eq!(counts(&out, "ual_be.json"), ("partial".into(), 4, 3, 1));
    assert_eq!(errors_of(&out, "ual_be.json")[0]["line"], 4);
    let (_, events) = emitted(&tmp.0, &["ual_be.json"]);
    assert_eq!(events[2]["source"]["line"], 3);
    assert_eq!(events[0]["user"], "adele.vance@contoso.com");
}

#[cfg(unix)]
#[test]
fn links_are_followed_once_and_special_files_skipped_unopened() {
    let tmp = TempDir::new("links");
    tmp.write("case/ual.jsonl", seventeen().join("\n") + "\n");
    tmp.write("case/sub/more.jsonl", seventeen()[..2].join("\n") + "\n");
    std::os::unix::fs::symlink(".", tmp.0.join("case/loop")).unwrap();
    std::os::unix::fs::symlink("..", tmp.0.join("case/sub/back")).unwrap();
    std::os::unix::fs::symlink("ual.jsonl", tmp.0.join("case/again.jsonl")).unwrap();
    let fifo = Command::new("mkfifo").arg(tmp.0.join("case/pipe")).status();
    assert!(fifo.is_ok_and(|s| s.success()), "mkfifo");
    let out = ingest(&tmp.0, &["case", "--strict"]);
    assert_eq!(out.report["totals"]["read"], 19, "{}", out.stdout);
    for (p, note) in [
        ("case/loop", "the same folder as case"),
        ("case/sub/back", "the same folder as case"),
        ("case/ual.jsonl", ""),
        ("case/pipe", "FIFO"),
    ] {
        let f = file(&out, p);
        assert!(text(&f["note"]).contains(note), "{f:#}");
    }
    // A second name of a file already read is skipped too ("again" sorts before "ual").
    assert_eq!(text(&file(&out, "case/ual.jsonl")["status"]), "skipped");
    assert_eq!(counts(&out, "case/again.jsonl"), ("ok".into(), 17, 17, 0));
    assert_eq!(out.report["totals"]["skipped_files"], 4);
    assert_eq!(out.code, 0, "nothing was rejected: skipping is no failure");
    assert!(out.report["errors"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn a_csv_row_over_the_size_limit_is_rejected_and_the_next_one_read() {
    use flate2::{Compression, write::GzEncoder};
    let tmp = TempDir::new("csv-oversize");
    let header =
        "TenantId,TimeGenerated [UTC],OperationName,Category,Result,AADTenantId,TargetResources\n";
    let row = |t: &str, cell: &str| {
        format!(
            "{TENANT},\"4/28/2021, {t} PM\",Add member to role,RoleManagement,success,{TENANT},\"{cell}\"\n"
        )
    };
    let body = header.to_string()
        + &row("3:05:26.000", "[]")
        + &row("3:06:26.000", &format!("x\n{}", "y".repeat(3 << 20)))
        + &row("3:07:26.000", "[]");
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(body.as_bytes()).unwrap();
    tmp.write("audit.csv.gz", gz.finish().unwrap());
    tmp.write("audit.csv", &body);
    let out = ingest(
        &tmp.0,
        &["audit.csv", "audit.csv.gz", "--max-record-mib", "1"],
    );
    for p in ["audit.csv", "audit.csv.gz"] {
        assert_eq!(counts(&out, p), ("partial".into(), 3, 2, 1), "{p}");
        let e = errors_of(&out, p);
        assert_eq!(
            (e[0]["line"].as_u64(), e[0]["record"].as_u64()),
            (Some(3), Some(1))
        );
        assert!(
            text(&e[0]["reason"]).contains("longer than the limit of 1048576 bytes"),
            "{e:#?}"
        );
    }
    let (_, events) = emitted(&tmp.0, &["audit.csv", "--max-record-mib", "1"]);
    assert_eq!(
        events[1]["source"]["line"], 5,
        "the row after the long one, on its own line"
    );
    let out = ingest(&tmp.0, &["audit.csv"]);
    assert_eq!(
        counts(&out, "audit.csv"),
        ("ok".into(), 3, 3, 0),
        "within the default limit"
    );
}

#[test]
fn control_characters_from_the_data_never_reach_the_terminal() {
    let tmp = TempDir::new("escapes");
    let evil = "\u{1b}]0;owned\u{7}\u{1b}[2J";
    tmp.write(
        &format!("x{evil}.json"),
        format!("{{\"k{}\":1}}\n", "\\u001b[31m\\u0007"),
    );
    let z = zip_with(&[(&format!("m{evil}.json"), b"not a log\n")]);
    tmp.write("c.zip", z);
    let (code, stdout, stderr) = raw(&tmp.0, &["."]);
    assert_eq!(code, 0, "{stderr}");
    for bad in ['\u{1b}', '\u{7}'] {
        assert!(
            !stdout.contains(bad),
            "raw control character in: {stdout:?}"
        );
    }
    assert!(
        stdout.contains("x\\x1b]0;owned\\x07\\x1b[2J.json"),
        "{stdout}"
    );
    assert!(
        stdout.contains("k\\x1b[31m\\x07"),
        "the key is shown escaped: {stdout}"
    );
    assert!(stdout.contains("c.zip!m\\x1b]0;owned"), "{stdout}");
}

#[test]
fn zip_member_names_of_windows_and_damaged_members_are_handled() {
    let tmp = TempDir::new("zip-names");
    let rec = ual("2021-04-28T15:05:26", "MailItemsAccessed");
    let z = zip_with(&[
        ("export\\ual.json", rec.as_bytes()),
        ("..\\evil.json", rec.as_bytes()),
        ("C:\\Windows\\evil.json", rec.as_bytes()),
        ("c:evil.json", rec.as_bytes()),
        ("\\\\server\\share\\evil.json", rec.as_bytes()),
    ]);
    tmp.write("collection.zip", z);
    // A member whose local header is damaged: its name is still in the central directory.
    let mut z = zip_with(&[
        ("a.json", rec.as_bytes()),
        ("logs/second.json", rec.as_bytes()),
    ]);
    let second = z
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    z[second + 2] = b'X';
    tmp.write("damaged.zip", z);
    let out = ingest(&tmp.0, &["collection.zip", "damaged.zip"]);
    assert_eq!(
        counts(&out, "collection.zip!export/ual.json"),
        ("ok".into(), 1, 1, 0)
    );
    for name in [
        "..\\evil.json",
        "C:\\Windows\\evil.json",
        "c:evil.json",
        "\\\\server\\share\\evil.json",
    ] {
        let p = format!("collection.zip!{name}");
        let f = file(&out, &p);
        assert_eq!(text(&f["status"]), "unreadable", "{f:#}");
        assert!(text(&f["note"]).contains("escapes"), "{f:#}");
    }
    assert_eq!(counts(&out, "damaged.zip!a.json"), ("ok".into(), 1, 1, 0));
    let f = file(&out, "damaged.zip!logs/second.json");
    assert!(text(&f["note"]).contains("corrupt zip member"), "{f:#}");
    assert_eq!(out.report["totals"]["read"], 2);
}

/// A Log Analytics table's `TenantId` is the workspace the rows were stored in: when a query
/// projected the table's own tenant column away, the rows take their tenant from the folder,
/// never the workspace; with the tenant column they keep it.
#[test]
fn a_log_analytics_workspace_id_is_never_taken_for_the_tenant() {
    let tmp = TempDir::new("workspace-id");
    let workspace = "5d1f2c3b-0a9e-4b8c-8d7e-6f5a4b3c2d1e";
    let tenant = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";
    // SigninLogs as the portal's query export writes it (columns of the real table).
    let head = "TenantId,TimeGenerated [UTC],OperationName,Category,ResultType,UserPrincipalName,\
                AppId,AppDisplayName,IPAddress,ConditionalAccessStatus,IsInteractive";
    let row = "\"4/28/2021, 3:05:26.000 PM\",Sign-in activity,SignInLogs,0,adele@contoso.com,\
               00000002-0000-0ff1-ce00-000000000000,Office 365 Exchange Online,203.0.113.7,\
               notApplied,true";
    tmp.write(
        "contoso/projected.csv",
        format!("{head}\n{workspace},{row}\n"),
    );
    tmp.write(
        "contoso/whole.csv",
        format!("{head},AADTenantId\n{workspace},{row},{tenant}\n"),
    );
    let (code, events) = emitted(&tmp.0, &["contoso/projected.csv", "contoso/whole.csv"]);
    assert_eq!(code, 0);
    assert_eq!(events.len(), 2, "{events:#?}");
    let tenant_of = |file: &str| {
        events
            .iter()
            .find(|e| text(&e["source"]["file"]).ends_with(file))
            .map(|e| e["tenant_id"].clone())
    };
    assert_eq!(tenant_of("whole.csv"), Some(Value::from(tenant)));
    let projected = tenant_of("projected.csv");
    assert_ne!(projected, Some(Value::from(workspace)), "{events:#?}");
}
