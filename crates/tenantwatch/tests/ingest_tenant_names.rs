//! Tenant names through `tenantwatch ingest --stats`: read from the records (tenant name fields,
//! the UPN domains of each tenant's own users), set by `--tenant-map` lines, and taken from the
//! export folder only when nothing else names the tenant (and then marked `folder`). Checked on
//! the simulator's output against its ground truth and on a real public export.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

const GRANITE: &str = "5b1c8e2a-3d4f-4a6b-8c9d-0e1f2a3b4c5d";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tw-names-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, name: &str, text: &str) {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tenantwatch ARGS...` in `dir`: (exit status, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("tenantwatch runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
    )
}

/// `ingest ARGS... --stats --format json`: the report.
fn report(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["ingest"];
    all.extend(args);
    all.extend(["--stats", "--format", "json"]);
    let (code, stdout, stderr) = run(dir, &all);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// tenant id → (name, name_source).
fn names(report: &Value) -> std::collections::BTreeMap<String, (String, String)> {
    report["tenant_names"]
        .as_array()
        .expect("tenant_names")
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("tenant_id"), (s("name"), s("name_source")))
        })
        .collect()
}

#[test]
fn simulated_tenants_are_named_from_their_records_never_their_folders() {
    let tmp = TempDir::new("sim");
    let (code, _, stderr) = run(
        &tmp.0,
        &[
            "simulate",
            "--out",
            "case",
            "--tenants",
            "8",
            "--compromised",
            "3",
            "--days",
            "3",
            "--seed",
            "11",
            "--scale",
            "0.3",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.0.join("case/truth.json")).unwrap())
            .unwrap();
    let got = names(&report(&tmp.0, &["case/logs"]));
    let tenants = truth["tenants"].as_array().unwrap();
    assert_eq!(got.len(), tenants.len(), "{got:#?}");
    let mut by_source = std::collections::BTreeMap::<String, usize>::new();
    for t in tenants {
        let id = t["id"].as_str().unwrap().to_ascii_lowercase();
        let (name, source) = &got[&id];
        *by_source.entry(source.clone()).or_default() += 1;
        match source.as_str() {
            "tenant_name" => assert_eq!(name, t["name"].as_str().unwrap(), "{id}"),
            "user_domain" => assert_eq!(name, t["domain"].as_str().unwrap(), "{id}"),
            other => panic!("{id} named {name:?} from {other}"),
        }
    }
    // Both ways occur in this world: names carried by records and users' domains.
    assert_eq!(by_source.len(), 2, "{by_source:?}");
}

#[test]
fn a_real_export_is_named_by_its_initial_domain() {
    // Azure Sentinel training lab (Microsoft, MIT licence): Log Analytics CSV exports of one
    // demo tenant whose users sign in as *@m365x816222.onmicrosoft.com; one record's user is an
    // Exchange Online server account (NAMPRD06.PROD.OUTLOOK.COM), which names no tenant.
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry");
    let got = names(&report(&corpus, &["."]));
    assert_eq!(
        got["2ad3fc79-1859-42fa-9011-6f8df2251b22"],
        (
            "m365x816222.onmicrosoft.com".into(),
            "initial_domain".into()
        )
    );
}

/// A Graph directoryAudits page of actions by an application (no user, so no UPN domain) in a
/// tenant the records do not name.
fn app_only_audits() -> String {
    let rec = |i: u32| {
        json!({
            "id": format!("Directory_1d8a4c2e-5f6b-4a7c-9d8e-0f1a2b3c4d5e_{i}"),
            "category": "ApplicationManagement",
            "correlationId": "1d8a4c2e-5f6b-4a7c-9d8e-0f1a2b3c4d5e",
            "result": "success",
            "resultReason": "",
            "activityDisplayName": "Update application",
            "activityDateTime": format!("2025-01-16T0{i}:12:44.1234567Z"),
            "loggedByService": "Core Directory",
            "operationType": "Update",
            "initiatedBy": {"app": {"appId": "14d82eec-204b-4c2f-b7e8-296a70dab67e",
                "displayName": "Graph Explorer", "servicePrincipalId": "7e3f1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
                "servicePrincipalName": null}, "user": null},
            "targetResources": [],
            "additionalDetails": []
        })
    };
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
        "value": [rec(1), rec(2)]
    })
    .to_string()
}

#[test]
fn folders_name_a_tenant_last_and_whole_and_the_map_names_it_first() {
    let tmp = TempDir::new("map");
    let folder = "exports/Granite! Realty Ltd - logs 2025-01-17";
    tmp.write(
        &format!("{folder}/graph/directoryAudits.json"),
        &app_only_audits(),
    );
    tmp.write("one.map", &format!("{folder} = {GRANITE}\n"));
    let got = names(&report(&tmp.0, &["exports", "--tenant-map", "one.map"]));
    assert_eq!(
        got[GRANITE],
        (
            "Granite! Realty Ltd - logs 2025-01-17".into(),
            "folder".into()
        ),
        "the whole folder name, `!` and all, marked as a folder (not `exports`, not `graph`)"
    );
    // The old two-field line keeps working; a third field names the tenant.
    tmp.write(
        "named.map",
        &format!("# folder = tenant [name]\n{folder} = {GRANITE} Granite Realty Ltd\n"),
    );
    let r = report(&tmp.0, &["exports", "--tenant-map", "named.map"]);
    assert_eq!(
        names(&r)[GRANITE],
        ("Granite Realty Ltd".into(), "map".into())
    );
    assert!(r.get("warnings").is_none(), "{r:#}");
    let (_, table, _) = run(&tmp.0, &["ingest", "exports", "--tenant-map", "named.map"]);
    assert!(
        table.contains(&format!(
            "{GRANITE}   Granite Realty Ltd (map: --tenant-map)"
        )),
        "{table}"
    );
}

/// A map kept beside the case it describes is read from another working folder too: its
/// folders, not found from there, are taken from the map's own folder, matching the inputs named
/// the same way.
#[test]
fn a_map_beside_the_case_works_from_another_folder() {
    let tmp = TempDir::new("map-beside");
    let folder = "exports/Granite Realty Ltd - logs 2025-01-17";
    tmp.write(
        &format!("case/{folder}/graph/directoryAudits.json"),
        &app_only_audits(),
    );
    tmp.write(
        "case/named.map",
        &format!("{folder} = {GRANITE} Granite Realty Ltd\n"),
    );
    tmp.write("elsewhere/.keep", "");
    let here = tmp.0.join("elsewhere");
    let (exports, map) = (tmp.0.join("case/exports"), tmp.0.join("case/named.map"));
    let (exports, map) = (exports.to_string_lossy(), map.to_string_lossy());
    let r = report(&here, &[&exports, "--tenant-map", &map]);
    assert_eq!(
        names(&r)[GRANITE],
        ("Granite Realty Ltd".into(), "map".into()),
        "{r:#}"
    );
    // From the case's own folder, the same lines read as before.
    let r = report(
        &tmp.0.join("case"),
        &["exports", "--tenant-map", "named.map"],
    );
    assert_eq!(names(&r)[GRANITE].1, "map");
    // A folder in neither place is still an error naming the line.
    tmp.write("case/bad.map", &format!("exports/nowhere = {GRANITE}\n"));
    let bad = tmp.0.join("case/bad.map");
    let (code, _, stderr) = run(
        &here,
        &["ingest", &exports, "--tenant-map", &bad.to_string_lossy()],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("bad.map:1: the folder \"exports/nowhere\" does not exist"),
        "{stderr}"
    );
}

#[test]
fn map_lines_naming_no_folder_fail_and_conflicting_names_are_warned() {
    let tmp = TempDir::new("map-errors");
    tmp.write(
        "exports/granite/graph/directoryAudits.json",
        &app_only_audits(),
    );
    tmp.write(
        "bad.map",
        &format!("exports/granite = {GRANITE}\nexports/graniet = {GRANITE}\n"),
    );
    let (code, stdout, stderr) = run(&tmp.0, &["ingest", "exports", "--tenant-map", "bad.map"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("bad.map:2") && stderr.contains("exports/graniet"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
    tmp.write("noid.map", "exports/granite = Granite Realty\n");
    let (code, _, stderr) = run(&tmp.0, &["ingest", "exports", "--tenant-map", "noid.map"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("noid.map:1") && stderr.contains("no tenant id"),
        "{stderr}"
    );
    // Two names for one tenant: both are told, the first is used.
    tmp.write("exports/granite-old/audits.json", &app_only_audits());
    tmp.write(
        "two.map",
        &format!("exports/granite = {GRANITE} Granite Realty\nexports/granite-old = {GRANITE} Granite Homes\n"),
    );
    let r = report(&tmp.0, &["exports", "--tenant-map", "two.map"]);
    assert_eq!(names(&r)[GRANITE], ("Granite Realty".into(), "map".into()));
    let w = r["warnings"].to_string();
    assert!(
        w.contains("Granite Realty") && w.contains("Granite Homes"),
        "{w}"
    );
}
