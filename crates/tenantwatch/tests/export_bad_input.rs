//! Hostile input through `tenantwatch export --parquet`: a broken line is counted and listed with
//! file and line while the rest is exported (`--strict` exits 2); a tenant id made to climb out
//! of the output folder stays inside it, escaped, and one too long for a folder name goes to the
//! null partition; an output folder that is not empty, or is a
//! file, is refused with exit status 1 and nothing written.

mod common;

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use common::{Tmp, bin};

const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

/// A Management Activity API record (JSON lines) of `tenant` at `hour`.
fn ual_line(tenant: &str, hour: u32, op: &str) -> String {
    serde_json::json!({
        "CreationTime": format!("2020-12-14T{hour:02}:12:44"),
        "Id": format!("5f0c1c5e-0000-4000-8000-0000000000{hour:02}"),
        "Operation": op,
        "OrganizationId": tenant,
        "RecordType": 2,
        "ResultStatus": "Succeeded",
        "UserKey": "10032000A1B2C3D4",
        "UserType": 0,
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": "203.0.113.7",
        "UserId": "adele@contoso.com"
    })
    .to_string()
}

fn export(input: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let o = bin()
        .arg("export")
        .arg("--parquet")
        .arg(out)
        .arg(input)
        .args(extra)
        .arg("--quiet")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every file under `dir`, relative, as text.
fn files_under(dir: &Path) -> Vec<String> {
    common::files_under(dir)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

fn rows_in(path: &Path) -> usize {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum()
}

#[test]
fn a_broken_line_is_counted_listed_and_the_run_goes_on() {
    let tmp = Tmp::new("export-bad-line");
    let input = tmp.0.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let lines = [
        ual_line(TENANT, 3, "MailItemsAccessed"),
        "{\"CreationTime\": \"2020-12-14T04:00:00\", \"Operation\": ".to_string(),
        ual_line(TENANT, 5, "New-InboxRule"),
        ual_line(TENANT, 6, "Set-Mailbox"),
    ];
    std::fs::write(input.join("ual.json"), lines.join("\n") + "\n").unwrap();

    let out = tmp.0.join("lake");
    let (code, err) = export(&input, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("ual.json:2:"),
        "the broken line is listed: {err}"
    );
    assert!(err.contains("3 records read (1 rejected)"), "{err}");
    let files = files_under(&out);
    let want = format!("log_kind=ual/tenant_id={TENANT}/date=2020-12-14/part-00000.parquet");
    assert_eq!(files, vec![want.clone()]);
    assert_eq!(rows_in(&out.join(&want)), 3);

    let strict_out = tmp.0.join("lake-strict");
    let (code, err) = export(&input, &strict_out, &["--strict"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        rows_in(&strict_out.join(&want)),
        3,
        "--strict still writes the rows"
    );
}

#[test]
fn a_tenant_id_cannot_leave_the_output_folder() {
    let tmp = Tmp::new("export-escape");
    let input = tmp.0.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let long = "x".repeat(300);
    let hostile = ["../../outside", "..", "a/b=c%", long.as_str()];
    let lines: Vec<String> = hostile
        .iter()
        .enumerate()
        .map(|(i, t)| ual_line(t, i as u32 + 1, "MailItemsAccessed"))
        .collect();
    std::fs::write(input.join("ual.json"), lines.join("\n") + "\n").unwrap();
    let out = tmp.0.join("deep").join("lake");
    let (code, err) = export(&input, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let files = files_under(&out);
    let rows: usize = files.iter().map(|f| rows_in(&out.join(f))).sum();
    assert_eq!(rows, 4, "{files:?}");
    for f in &files {
        let parts: Vec<&str> = f.split('/').collect();
        assert_eq!(parts.len(), 4, "{f}");
        assert!(parts[1].starts_with("tenant_id="), "{f}");
        assert!(!parts.contains(&".."), "{f}");
    }
    // Nothing beside the output folder.
    assert_eq!(
        files_under(&tmp.0.join("deep")).len(),
        files.len(),
        "files written outside the output folder"
    );
    assert!(!tmp.0.join("outside").exists());
    // A tenant id too long for a folder name: the null partition, not a failed run.
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("log_kind=ual/tenant_id=__HIVE_DEFAULT_PARTITION__/")),
        "{files:?}"
    );
}

#[test]
fn an_output_folder_that_is_not_empty_or_is_a_file_is_refused() {
    let tmp = Tmp::new("export-refused");
    let input = tmp.0.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("ual.json"),
        ual_line(TENANT, 3, "Set-Mailbox") + "\n",
    )
    .unwrap();

    let busy = tmp.0.join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let (code, err) = export(&input, &busy, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(files_under(&busy), vec!["keep.txt".to_string()]);

    let file = tmp.0.join("a-file");
    std::fs::write(&file, "mine").unwrap();
    let (code, err) = export(&input, &file, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}
