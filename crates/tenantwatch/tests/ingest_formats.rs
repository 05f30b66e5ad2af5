//! `tenantwatch ingest` on the format fixtures (`tests/fixtures/formats/`, written to imitate the
//! documented shape of every export): detected format and log kind, record counts, canonical fields
//! and provenance of at least one record per format, per-record log kinds of mixed Azure Monitor
//! files, tenant attribution (record, path, folder, map, unknown), generic JSON, coverage gaps, and
//! output that does not depend on the thread count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const CONTOSO: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";
const FABRIKAM: &str = "3d1f5b2c-7e4a-4b9c-8d6e-0f1a2b3c4d5e";
const PARTNER: &str = "b7e2c9d4-5a6f-4e1b-9c3d-2f8a7e6d5c4b";
const WORKSPACE: &str = "5c4b3a29-1807-4f6e-8d5c-4b3a29180716";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
const PORTAL: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
const AZCLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const SYNCAPP: &str = "e9a7c1d2-4b3f-4a5e-8c6d-7f8e9a0b1c2d";
const SYNCSP: &str = "6a0f2c1e-93d4-4b7a-a5e2-1c8d7f6b5a43";
const ADELE: &str = "adele.vance@contoso.com";
const MEGAN: &str = "megan.bowen@contoso.com";
const TECH: &str = "helpdesk@northwindit.example";
const TECH_GUEST: &str = "helpdesk_northwindit.example#EXT#@contoso.onmicrosoft.com";
const IP_ATT: &str = "203.0.113.45";
const IP_PARTNER: &str = "198.51.100.23";
const IP6: &str = "2001:db8:4a::17";
const ABSENT: &str = "<absent>";

const ZIP: &str = "containers/Contoso-IR_collection.zip";
const GZ_BLOB: &str = "signin.azure_monitor/insights-logs-signinlogs/resourceId=/tenants/8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f/providers/Microsoft.aadiam/y=2021/m=04/d=28/h=14/m=00/PT1H.json.gz";
const MIXED: &str = "azure_monitor.mixed/eventhub_insights-logs_mixed.json";

/// Every fixture read as one format: (path, format, log kind, records).
#[rustfmt::skip]
const FILES: &[(&str, &str, &str, u64)] = &[
    ("ual.mgmt_api_json/content_blob_Audit.General.json", "ual.mgmt_api_json", "ual", 3),
    ("ual.mgmt_api_json/Audit.Exchange_records.jsonl", "ual.mgmt_api_json", "ual", 2),
    ("ual.search_ual_json/SearchUnifiedAuditLog_ConvertTo-Json.json", "ual.search_ual_json", "ual", 2),
    ("ual.purview_csv/AuditLog_2021-04-28_old-header.csv", "ual.purview_csv", "ual", 2),
    ("ual.purview_csv/Audit_Search_export_new-header.csv", "ual.purview_csv", "ual", 3),
    ("ual.log_analytics_csv/OfficeActivity_query_export.csv", "ual.log_analytics_csv", "ual", 3),
    ("ual.log_analytics_json/OfficeActivity.json", "ual.log_analytics_json", "ual", 2),
    ("signin.graph_json/signIns_v1.0_pages.json", "signin.graph_json", "signin", 3),
    ("signin.graph_json/signIns_beta_ConvertTo-Json.json", "signin.graph_json", "signin", 2),
    ("signin.azure_monitor/SignInLogs_PT1H.json", "signin.azure_monitor", "signin", 3),
    ("signin.azure_monitor/eventhub_NonInteractive_SP_MI.json", "signin.azure_monitor", "signin", 3),
    (GZ_BLOB, "signin.azure_monitor", "signin", 2),
    ("signin.log_analytics_csv/SigninLogs_export.csv", "signin.log_analytics_csv", "signin", 3),
    ("signin.log_analytics_csv/AADNonInteractiveUserSignInLogs_export.csv", "signin.log_analytics_csv", "signin", 2),
    ("signin.log_analytics_csv/AADServicePrincipalSignInLogs_export.csv", "signin.log_analytics_csv", "signin", 2),
    ("signin.log_analytics_json/SigninLogs.json", "signin.log_analytics_json", "signin", 2),
    ("signin.portal_csv/InteractiveSignIns_2021-04-28_2021-04-29.csv", "signin.portal_csv", "signin", 3),
    ("directory_audit.graph_json/one_tenant_export/directoryAudits.json", "directory_audit.graph_json", "directory_audit", 3),
    ("directory_audit.graph_json/one_tenant_export/signIns.json", "signin.graph_json", "signin", 2),
    ("directory_audit.graph_json/two_tenant_export/directoryAudits.json", "directory_audit.graph_json", "directory_audit", 2),
    ("directory_audit.graph_json/two_tenant_export/signIns_contoso.json", "signin.graph_json", "signin", 1),
    ("directory_audit.graph_json/two_tenant_export/signIns_fabrikam.json", "signin.graph_json", "signin", 1),
    ("directory_audit.graph_json/tenants/3d1f5b2c-7e4a-4b9c-8d6e-0f1a2b3c4d5e/directoryAudits.json", "directory_audit.graph_json", "directory_audit", 1),
    ("directory_audit.azure_monitor/AuditLogs_PT1H.json", "directory_audit.azure_monitor", "directory_audit", 3),
    ("directory_audit.log_analytics_csv/AuditLogs_export.csv", "directory_audit.log_analytics_csv", "directory_audit", 3),
    ("directory_audit.log_analytics_json/AuditLogs.json", "directory_audit.log_analytics_json", "directory_audit", 2),
    ("azure_activity.rest_json/az_monitor_activity-log_list.json", "azure_activity.rest_json", "azure_activity", 2),
    ("azure_activity.azure_monitor/insights-activity-logs_PT1H.json", "azure_activity.azure_monitor", "azure_activity", 2),
    ("azure_activity.log_analytics_csv/AzureActivity_export.csv", "azure_activity.log_analytics_csv", "azure_activity", 2),
    ("azure_activity.log_analytics_json/AzureActivity.json", "azure_activity.log_analytics_json", "azure_activity", 1),
    ("graph_activity.azure_monitor/MicrosoftGraphActivityLogs_PT1H.json", "graph_activity.azure_monitor", "graph_activity", 2),
    ("graph_activity.log_analytics_csv/MicrosoftGraphActivityLogs_export.csv", "graph_activity.log_analytics_csv", "graph_activity", 2),
    ("graph_activity.log_analytics_json/MicrosoftGraphActivityLogs.json", "graph_activity.log_analytics_json", "graph_activity", 1),
    ("risk_detection.graph_json/riskDetections.json", "risk_detection.graph_json", "risk_detection", 2),
    ("risk_detection.graph_json/servicePrincipalRiskDetections_beta.json", "risk_detection.graph_json", "risk_detection", 1),
    ("risk_detection.azure_monitor/UserRiskEvents_PT1H.json", "risk_detection.azure_monitor", "risk_detection", 2),
    ("risk_detection.log_analytics_csv/AADUserRiskEvents_export.csv", "risk_detection.log_analytics_csv", "risk_detection", 2),
    ("risk_detection.log_analytics_csv/AADServicePrincipalRiskEvents_export.csv", "risk_detection.log_analytics_csv", "risk_detection", 1),
    ("risk_detection.log_analytics_json/AADUserRiskEvents.json", "risk_detection.log_analytics_json", "risk_detection", 1),
    ("containers/Contoso-IR_collection.zip!Contoso-IR/Entra/AuditLogs_PT1H.json", "directory_audit.azure_monitor", "directory_audit", 3),
    ("containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph/directoryAudits.json", "directory_audit.graph_json", "directory_audit", 3),
    ("containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph/signIns.json", "signin.graph_json", "signin", 2),
    ("containers/Contoso-IR_collection.zip!Contoso-IR/UAL/content_blob_Audit.General.json", "ual.mgmt_api_json", "ual", 3),
    ("containers/Contoso-IR_collection.zip!Contoso-IR/UAL/exchange/Audit.Exchange_records.jsonl.gz", "ual.mgmt_api_json", "ual", 2),
];

/// Fixtures of fixed bugs, asserted by their own tests at the end of this file (not by the table).
const KNOWN_BUG_FILES: &[&str] = &[
    "azure_activity.azure_monitor/eventhub_logprofile_Write_Action.json",
    "azure_activity.rest_json/activityLogs_rest_page.json",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/formats")
}

/// One run of `tenantwatch ingest --stats --format json --emit jsonl`.
struct Run {
    status: i32,
    report: Value,
    /// The report exactly as printed (standard error, since events go to standard output).
    report_text: Vec<u8>,
    events_text: Vec<u8>,
    events: Vec<Value>,
}

impl Run {
    fn file(&self, path: &str) -> &Value {
        self.report["files"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["path"] == path))
            .unwrap_or_else(|| panic!("{path} not in the report: {:#}", self.report["files"]))
    }

    fn event(&self, path: &str, record: u64) -> &Value {
        self.events
            .iter()
            .find(|e| e["source"]["file"] == path && e["source"]["record"] == record)
            .unwrap_or_else(|| panic!("no event {path} #{record}"))
    }

    fn events_of(&self, path: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["source"]["file"] == path)
            .collect()
    }

    fn coverage(&self, tenant: &str, kind: &str) -> &Value {
        self.report["coverage"]
            .as_array()
            .and_then(|c| {
                c.iter()
                    .find(|r| r["tenant_id"] == tenant && r["log_kind"] == kind)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no coverage row {tenant}/{kind}: {:#}",
                    self.report["coverage"]
                )
            })
    }

    fn attribution(&self, folder: &str) -> &Value {
        self.report["attribution"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["folder"] == folder))
            .unwrap_or_else(|| {
                panic!(
                    "no attribution for {folder}: {:#}",
                    self.report["attribution"]
                )
            })
    }
}

/// Runs `tenantwatch ingest PATHS... EXTRA...` in `dir`.
fn ingest_in(dir: &Path, paths: &[&str], extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(dir)
        .arg("ingest")
        .args(paths)
        .args(["--stats", "--format", "json", "--emit", "jsonl"])
        .args(extra)
        .output()
        .expect("tenantwatch runs");
    let report: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "the report is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let events = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every emitted line is one JSON event"))
        .collect();
    check_totals(&report);
    Run {
        status: out.status.code().unwrap_or(-1),
        report,
        report_text: out.stderr,
        events_text: out.stdout,
        events,
    }
}

fn ingest(paths: &[&str], extra: &[&str]) -> Run {
    ingest_in(&fixtures(), paths, extra)
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

/// Checks fields of a JSON value by JSON pointer; strings compare as text, other values as JSON
/// text, and `ABSENT` asks for a missing field.
fn expect(v: &Value, fields: &[(&str, &str)]) {
    for (ptr, want) in fields {
        let got = match v.pointer(ptr) {
            None => ABSENT.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        assert_eq!(
            &got,
            want,
            "field {ptr} of {}",
            serde_json::to_string(&strip_raw(v)).unwrap_or_default()
        );
    }
}

fn strip_raw(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("raw");
    }
    v
}

fn has_target(ev: &Value, t: &str) -> bool {
    ev["targets"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == t))
}

/// A scratch folder removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tw-formats-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_fixture_is_detected_with_its_format_log_kind_and_record_count() {
    let run = ingest(&["."], &[]);
    assert_eq!(run.status, 0);
    let strip = |p: &str| p.strip_prefix("./").unwrap_or(p).to_string();
    let listed: BTreeSet<String> = run.report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| strip(f["path"].as_str().unwrap()))
        .collect();
    let mut expected: BTreeSet<String> = FILES.iter().map(|f| f.0.to_string()).collect();
    expected.extend(
        [MIXED, "README.md", "generic.json/hunting_tool_export.json"]
            .iter()
            .chain(KNOWN_BUG_FILES)
            .map(|s| s.to_string()),
    );
    assert_eq!(
        listed, expected,
        "every fixture file is listed, nothing else"
    );

    for (path, format, kind, records) in FILES {
        let f = run.file(&format!("./{path}"));
        expect(
            f,
            &[
                ("/status", "ok"),
                ("/format", format),
                ("/log_kind", kind),
                ("/records", &records.to_string()),
                ("/read", &records.to_string()),
                ("/rejected", "0"),
            ],
        );
    }
    expect(
        run.file(&format!("./{MIXED}")),
        &[
            ("/status", "ok"),
            ("/format", "azure_monitor.mixed"),
            ("/log_kind", "mixed"),
            ("/records", "5"),
        ],
    );
    for p in ["./README.md", "./generic.json/hunting_tool_export.json"] {
        let f = run.file(p);
        expect(f, &[("/status", "unrecognised"), ("/records", "0")]);
        assert!(f["note"].as_str().is_some_and(|n| !n.is_empty()), "{f:#}");
    }
    expect(&run.report["totals"], &[("/rejected", "0")]);
    let read: u64 = run.report["totals"]["read"].as_u64().unwrap();
    assert_eq!(read as usize, run.events.len(), "one event per record read");
}

#[test]
fn ual_canonical_fields_and_provenance() {
    let run = ingest(
        &[
            "ual.mgmt_api_json",
            "ual.search_ual_json",
            "ual.purview_csv",
            "ual.log_analytics_csv",
            "ual.log_analytics_json",
        ],
        &[],
    );
    // Management Activity API content blob: one-line array, CreationTime without a zone.
    let blob = "ual.mgmt_api_json/content_blob_Audit.General.json";
    expect(
        run.event(blob, 0),
        &[
            ("/log", "ual"),
            ("/format", "ual.mgmt_api_json"),
            ("/source/file", blob),
            ("/source/record", "0"),
            ("/source/line", "1"),
            ("/time", "2021-04-28T15:05:26.000Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            // An application read the mailbox (`ClientAppId`): the owner is the target, not the actor.
            ("/user", ABSENT),
            ("/app_id", SYNCAPP),
            ("/ip", IP_ATT),
            ("/operation", "MailItemsAccessed"),
            ("/result/success", "true"),
            ("/result/code", "Succeeded"),
            ("/raw/OperationProperties/0/Value", "Bind"),
        ],
    );
    expect(
        run.event(blob, 1),
        &[
            ("/source/record", "1"),
            ("/source/line", "1"),
            ("/time", "2021-04-28T15:01:02.000Z"),
            ("/user", "Megan.Bowen@contoso.com"),
            ("/app_id", OFFICE),
            ("/ip", IP6),
            ("/operation", "UserLoggedIn"),
            ("/home_tenant_id", CONTOSO),
            ("/result/success", "true"),
        ],
    );
    let creds = run.event(blob, 2);
    expect(
        creds,
        &[
            ("/user", TECH_GUEST),
            ("/home_tenant_id", PARTNER),
            ("/tenant_id", CONTOSO),
            ("/operation", "Add service principal credentials"),
            ("/operation_raw", "Add service principal credentials."),
            ("/ip", ABSENT),
        ],
    );
    assert!(has_target(creds, SYNCSP), "{creds:#}");

    // JSON lines with CRLF and a blank line: the record index counts non-blank lines.
    let lines = "ual.mgmt_api_json/Audit.Exchange_records.jsonl";
    expect(
        run.event(lines, 0),
        &[
            ("/source/line", "1"),
            ("/operation", "New-InboxRule"),
            ("/ip", IP6),
            ("/result/code", "True"),
            ("/result/success", "true"),
        ],
    );
    expect(
        run.event(lines, 1),
        &[
            ("/source/record", "1"),
            ("/source/line", "3"),
            ("/time", "2021-04-28T15:12:03.000Z"),
            ("/operation", "Set-InboxRule"),
            ("/ip", IP_ATT),
        ],
    );

    // Search-UnifiedAuditLog via Windows PowerShell 5.1: the document is the decoded AuditData.
    let sual = "ual.search_ual_json/SearchUnifiedAuditLog_ConvertTo-Json.json";
    let e = run.event(sual, 0);
    expect(
        e,
        &[
            ("/format", "ual.search_ual_json"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T15:05:26.000Z"),
            ("/tenant_id", CONTOSO),
            // An application read the mailbox (`ClientAppId`): the owner is the target, not the actor.
            ("/user", ABSENT),
            ("/ip", IP_ATT),
            ("/operation", "MailItemsAccessed"),
            ("/raw/Operation", "MailItemsAccessed"),
            (
                "/raw/Folders/0/FolderItems/0/InternetMessageId",
                "<DM6PR11MB43291A2B3C4D5E6F@DM6PR11MB4329.namprd11.prod.outlook.com>",
            ),
        ],
    );
    expect(
        run.event(sual, 1),
        &[
            ("/source/line", "15"),
            ("/time", "2021-04-28T15:20:37.000Z"),
            ("/operation", "FileDownloaded"),
            ("/ip", IP_ATT),
        ],
    );

    // Purview CSV, old and new headers: the document is the AuditData cell.
    let old = "ual.purview_csv/AuditLog_2021-04-28_old-header.csv";
    expect(
        run.event(old, 1),
        &[
            ("/format", "ual.purview_csv"),
            ("/source/record", "1"),
            ("/time", "2021-04-28T15:10:44.000Z"),
            ("/tenant_id", CONTOSO),
            ("/operation", "New-InboxRule"),
            ("/ip", IP6),
            ("/raw/Parameters/2/Value", "RSS Feeds"),
        ],
    );
    let new = "ual.purview_csv/Audit_Search_export_new-header.csv";
    expect(
        run.event(new, 0),
        &[
            ("/operation", "Add service principal credentials"),
            ("/home_tenant_id", PARTNER),
            ("/user", TECH_GUEST),
        ],
    );
    expect(
        run.event(new, 2),
        &[
            ("/time", "2021-04-28T15:20:37.000Z"),
            ("/operation", "FileDownloaded"),
            ("/user", ADELE),
            ("/ip", IP_ATT),
        ],
    );

    // OfficeActivity from Log Analytics: the tenant is OrganizationId, not the workspace TenantId;
    // US-locale times; multi-line dynamic cells decoded.
    let la = "ual.log_analytics_csv/OfficeActivity_query_export.csv";
    expect(
        run.event(la, 0),
        &[
            ("/format", "ual.log_analytics_csv"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T15:20:37.000Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/user", ADELE),
            ("/ip", IP_ATT),
            ("/operation", "FileDownloaded"),
        ],
    );
    expect(
        run.event(la, 1),
        &[
            ("/source/line", "3"),
            ("/time", "2021-04-28T15:10:44.000Z"),
            ("/operation", "New-InboxRule"),
            ("/ip", IP6),
            ("/raw/Parameters/2/Value", "RSS Feeds"),
        ],
    );
    expect(
        run.event(la, 2),
        &[
            ("/source/line", "33"),
            ("/time", "2021-04-28T15:05:26.000Z"),
            ("/operation", "MailItemsAccessed"),
            ("/ip", IP_ATT),
            ("/app_id", SYNCAPP),
            ("/raw/Folders/0/Path", "\\Inbox"),
        ],
    );
    let laj = "ual.log_analytics_json/OfficeActivity.json";
    expect(
        run.event(laj, 0),
        &[
            ("/format", "ual.log_analytics_json"),
            ("/time", "2021-04-28T15:10:44.000Z"),
            ("/tenant_id", CONTOSO),
            ("/ip", IP6),
            ("/raw/Parameters/0/Name", "AlwaysDeleteOutlookRulesBlob"),
        ],
    );
    expect(
        run.event(laj, 1),
        &[("/source/line", "2"), ("/app_id", SYNCAPP)],
    );
}

#[test]
fn signin_canonical_fields_and_provenance() {
    let run = ingest(
        &[
            "signin.graph_json",
            "signin.azure_monitor",
            "signin.log_analytics_csv",
            "signin.log_analytics_json",
            "signin.portal_csv",
        ],
        &[],
    );
    // Graph v1.0, two pages in one file: records numbered across pages, @odata keys skipped.
    let pages = "signin.graph_json/signIns_v1.0_pages.json";
    let evs = run.events_of(pages);
    assert_eq!(evs.len(), 3);
    expect(
        run.event(pages, 0),
        &[
            ("/format", "signin.graph_json"),
            ("/source/line", "1"),
            ("/time", "2021-04-28T14:08:45.000Z"),
            ("/user", ADELE),
            ("/app_id", PORTAL),
            ("/ip", IP_ATT),
            ("/result/success", "true"),
            ("/result/code", "0"),
        ],
    );
    expect(
        run.event(pages, 1),
        &[
            ("/source/line", "1"),
            ("/user", MEGAN),
            ("/result/success", "false"),
            ("/result/code", "50126"),
        ],
    );
    expect(
        run.event(pages, 2),
        &[
            ("/source/record", "2"),
            ("/source/line", "2"),
            ("/ip", IP6),
            ("/app_id", OFFICE),
            ("/time", "2021-04-28T13:55:03.000Z"),
        ],
    );
    // Graph beta as PowerShell 7 output: the partner's sign-in names its home tenant.
    let beta = "signin.graph_json/signIns_beta_ConvertTo-Json.json";
    expect(
        run.event(beta, 0),
        &[
            ("/source/line", "2"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/app_id", AZCLI),
        ],
    );
    expect(
        run.event(beta, 1),
        &[
            ("/source/line", "60"),
            ("/user", TECH),
            ("/home_tenant_id", PARTNER),
            ("/tenant_id", CONTOSO),
            ("/ip", IP_PARTNER),
            ("/time", "2021-04-28T14:52:40.000Z"),
        ],
    );

    // Azure Monitor: JSON lines, and an Event Hub records blob with three sign-in categories.
    let am = "signin.azure_monitor/SignInLogs_PT1H.json";
    expect(
        run.event(am, 2),
        &[
            ("/format", "signin.azure_monitor"),
            ("/source/line", "3"),
            ("/time", "2021-04-28T14:08:45.221Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/user", ADELE),
            ("/app_id", PORTAL),
            ("/ip", IP_ATT),
            ("/operation", "Sign-in activity"),
            ("/result/success", "true"),
        ],
    );
    expect(
        run.event(am, 1),
        &[("/result/success", "false"), ("/result/code", "50126")],
    );
    let eh = "signin.azure_monitor/eventhub_NonInteractive_SP_MI.json";
    expect(
        run.event(eh, 0),
        &[("/source/line", "2"), ("/user", ADELE), ("/app_id", OFFICE)],
    );
    expect(
        run.event(eh, 1),
        &[
            ("/source/line", "3"),
            ("/user", ABSENT),
            ("/app_id", SYNCAPP),
            ("/service_principal_id", SYNCSP),
            ("/ip", IP_PARTNER),
            ("/time", "2021-04-28T14:40:02.700Z"),
        ],
    );
    expect(
        run.event(eh, 2),
        &[
            ("/source/line", "4"),
            ("/ip", ABSENT),
            (
                "/service_principal_id",
                "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            ),
        ],
    );
    // A gzip-compressed storage blob.
    expect(
        run.event(GZ_BLOB, 1),
        &[
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:08:45.221Z"),
            ("/tenant_id", CONTOSO),
        ],
    );

    // The Entra admin center's download: headers with spaces (one with a trailing space), the
    // outcome from the error code, the partner's sign-in with its home tenant and an IPv6 address.
    let portal = "signin.portal_csv/InteractiveSignIns_2021-04-28_2021-04-29.csv";
    expect(
        run.event(portal, 0),
        &[
            ("/format", "signin.portal_csv"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:08:45.000Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/user", ADELE),
            ("/app_id", PORTAL),
            ("/ip", IP_PARTNER),
            ("/result/success", "true"),
        ],
    );
    expect(
        run.event(portal, 1),
        &[
            ("/user", MEGAN),
            ("/app_id", OFFICE),
            ("/ip", IP_ATT),
            ("/result/success", "false"),
            ("/result/code", "50126"),
        ],
    );
    expect(
        run.event(portal, 2),
        &[
            ("/source/line", "4"),
            ("/user", TECH),
            ("/home_tenant_id", PARTNER),
            ("/ip", IP6),
            ("/result/code", "50074"),
        ],
    );

    // Log Analytics CSV: the tenant is the Entra tenant, not the workspace; multi-line cells.
    let la = "signin.log_analytics_csv/SigninLogs_export.csv";
    expect(
        run.event(la, 0),
        &[
            ("/format", "signin.log_analytics_csv"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:08:45.221Z"),
            ("/tenant_id", CONTOSO),
            ("/user", ADELE),
            ("/app_id", PORTAL),
            ("/ip", IP_ATT),
            ("/raw/LocationDetails/city", "Amsterdam"),
        ],
    );
    expect(
        run.event(la, 1),
        &[
            ("/source/line", "14"),
            ("/result/success", "false"),
            ("/result/code", "50126"),
            ("/raw/Status/errorCode", "50126"),
        ],
    );
    expect(
        run.event(la, 2),
        &[
            ("/source/line", "29"),
            ("/user", TECH),
            ("/home_tenant_id", PARTNER),
            ("/ip", IP_PARTNER),
            ("/time", "2021-04-28T14:52:40.500Z"),
        ],
    );
    expect(
        run.event(
            "signin.log_analytics_csv/AADNonInteractiveUserSignInLogs_export.csv",
            1,
        ),
        &[
            ("/source/line", "14"),
            ("/time", "2021-04-28T14:09:10.000Z"),
        ],
    );
    expect(
        run.event(
            "signin.log_analytics_csv/AADServicePrincipalSignInLogs_export.csv",
            1,
        ),
        &[
            ("/source/line", "8"),
            ("/tenant_id", CONTOSO),
            ("/service_principal_id", SYNCSP),
            ("/app_id", SYNCAPP),
            ("/ip", IP_ATT),
            ("/result/success", "false"),
            ("/result/code", "7000215"),
            ("/time", "2021-04-28T14:44:51.012Z"),
        ],
    );
    expect(
        run.event("signin.log_analytics_json/SigninLogs.json", 1),
        &[
            ("/format", "signin.log_analytics_json"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:07:12.093Z"),
            ("/tenant_id", CONTOSO),
            ("/user", MEGAN),
            ("/result/code", "50126"),
        ],
    );
}

#[test]
fn directory_audit_canonical_fields_and_provenance() {
    let run = ingest(
        &[
            "directory_audit.graph_json/one_tenant_export",
            "directory_audit.azure_monitor",
            "directory_audit.log_analytics_csv",
            "directory_audit.log_analytics_json",
        ],
        &[],
    );
    let g = "directory_audit.graph_json/one_tenant_export/directoryAudits.json";
    let e = run.event(g, 0);
    expect(
        e,
        &[
            ("/format", "directory_audit.graph_json"),
            ("/source/line", "1"),
            ("/time", "2021-04-28T14:58:11.547Z"),
            ("/user", TECH_GUEST),
            ("/home_tenant_id", PARTNER),
            ("/ip", IP_PARTNER),
            ("/operation", "Add service principal credentials"),
            ("/result/success", "true"),
            (
                "/user_agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.85 Safari/537.36 Edg/90.0.818.49",
            ),
        ],
    );
    assert!(has_target(e, "NorthwindSync"), "{e:#}");
    expect(
        run.event(g, 2),
        &[
            ("/source/line", "2"),
            ("/operation", "Update user"),
            ("/user", ABSENT),
            ("/app_id", GRAPH),
            (
                "/service_principal_id",
                "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
            ),
            ("/result/success", "false"),
            (
                "/result/code",
                "Microsoft.Online.Workflows.ObjectAlreadyExistsException",
            ),
        ],
    );
    let am = "directory_audit.azure_monitor/AuditLogs_PT1H.json";
    expect(
        run.event(am, 0),
        &[
            ("/format", "directory_audit.azure_monitor"),
            ("/time", "2021-04-28T14:57:02.123Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/user", ADELE),
            ("/ip", IP_ATT),
            ("/operation", "Consent to application"),
        ],
    );
    expect(
        run.event(am, 2),
        &[
            ("/source/line", "3"),
            ("/app_id", GRAPH),
            ("/ip", "20.190.128.100"),
        ],
    );
    let la = "directory_audit.log_analytics_csv/AuditLogs_export.csv";
    expect(
        run.event(la, 0),
        &[
            ("/format", "directory_audit.log_analytics_csv"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:58:11.547Z"),
            ("/tenant_id", CONTOSO),
            ("/user", TECH_GUEST),
            ("/home_tenant_id", PARTNER),
            ("/ip", IP_PARTNER),
            ("/operation", "Add service principal credentials"),
            ("/raw/InitiatedBy/user/ipAddress", IP_PARTNER),
        ],
    );
    expect(run.event(la, 1), &[("/source/line", "12")]);
    expect(
        run.event(la, 2),
        &[
            ("/source/line", "18"),
            ("/operation", "Update user"),
            ("/result/success", "false"),
        ],
    );
    expect(
        run.event("directory_audit.log_analytics_json/AuditLogs.json", 1),
        &[
            ("/format", "directory_audit.log_analytics_json"),
            ("/source/line", "2"),
            ("/tenant_id", CONTOSO),
            ("/user", ADELE),
            ("/operation", "Consent to application"),
        ],
    );
}

#[test]
fn azure_activity_canonical_fields_and_provenance() {
    let run = ingest(
        &[
            "azure_activity.rest_json/az_monitor_activity-log_list.json",
            "azure_activity.azure_monitor/insights-activity-logs_PT1H.json",
            "azure_activity.log_analytics_csv",
            "azure_activity.log_analytics_json",
        ],
        &[],
    );
    let rest = "azure_activity.rest_json/az_monitor_activity-log_list.json";
    let e = run.event(rest, 0);
    expect(
        e,
        &[
            ("/format", "azure_activity.rest_json"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:31:30.021Z"),
            ("/tenant_id", CONTOSO),
            ("/user", ADELE),
            ("/app_id", AZCLI),
            ("/ip", IP_ATT),
            (
                "/operation",
                "Microsoft.Authorization/roleAssignments/write",
            ),
            ("/result/success", "true"),
            ("/result/code", "Succeeded"),
        ],
    );
    assert!(
        has_target(
            e,
            "/subscriptions/1c61ccbf-70b3-45a3-a1fb-848ce46d70a6/providers/Microsoft.Authorization/roleAssignments/0f1e2d3c-4b5a-4697-8877-665544332211"
        ),
        "{e:#}"
    );
    expect(
        run.event(rest, 1),
        &[
            ("/source/line", "91"),
            ("/user", TECH),
            ("/ip", IP_PARTNER),
            (
                "/operation",
                "Microsoft.Compute/virtualMachines/runCommand/action",
            ),
            ("/result/code", "Accepted"),
        ],
    );
    let am = "azure_activity.azure_monitor/insights-activity-logs_PT1H.json";
    expect(
        run.event(am, 0),
        &[
            ("/format", "azure_activity.azure_monitor"),
            ("/time", "2021-04-28T14:31:30.021Z"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "record"),
            ("/app_id", AZCLI),
            ("/ip", IP_ATT),
            (
                "/operation",
                "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
            ),
            ("/result/success", "true"),
        ],
    );
    let la = "azure_activity.log_analytics_csv/AzureActivity_export.csv";
    expect(
        run.event(la, 0),
        &[
            ("/format", "azure_activity.log_analytics_csv"),
            ("/source/line", "2"),
            ("/time", "2021-04-28T14:31:30.021Z"),
            ("/tenant_id", CONTOSO),
            ("/user", ADELE),
            ("/app_id", AZCLI),
            ("/ip", IP_ATT),
            (
                "/operation",
                "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
            ),
            ("/result/code", "Success"),
            ("/raw/Authorization/evidence/role", "Owner"),
        ],
    );
    expect(
        run.event(la, 1),
        &[("/source/line", "44"), ("/user", TECH), ("/ip", IP_PARTNER)],
    );
    expect(
        run.event("azure_activity.log_analytics_json/AzureActivity.json", 0),
        &[
            ("/format", "azure_activity.log_analytics_json"),
            ("/time", "2021-04-28T14:31:30.021Z"),
            ("/tenant_id", CONTOSO),
            ("/user", ADELE),
        ],
    );
}

#[test]
fn graph_activity_and_risk_canonical_fields_and_provenance() {
    let run = ingest(
        &[
            "graph_activity.azure_monitor",
            "graph_activity.log_analytics_csv",
            "graph_activity.log_analytics_json",
            "risk_detection.graph_json",
            "risk_detection.azure_monitor",
            "risk_detection.log_analytics_csv",
            "risk_detection.log_analytics_json",
        ],
        &[],
    );
    let am = "graph_activity.azure_monitor/MicrosoftGraphActivityLogs_PT1H.json";
    expect(
        run.event(am, 0),
        &[
            ("/format", "graph_activity.azure_monitor"),
            ("/time", "2021-04-28T14:49:12.445Z"),
            ("/tenant_id", CONTOSO),
            ("/app_id", SYNCAPP),
            ("/service_principal_id", SYNCSP),
            ("/ip", IP_PARTNER),
            (
                "/operation",
                "GET https://graph.microsoft.com/v1.0/users/adele.vance@contoso.com/mailFolders/inbox/messages?$top=50",
            ),
            ("/result/success", "true"),
            ("/result/code", "200"),
        ],
    );
    expect(
        run.event(am, 1),
        &[
            ("/source/line", "2"),
            ("/ip", IP_ATT),
            ("/result/success", "false"),
            ("/result/code", "403"),
        ],
    );
    let la = "graph_activity.log_analytics_csv/MicrosoftGraphActivityLogs_export.csv";
    expect(
        run.event(la, 1),
        &[
            ("/format", "graph_activity.log_analytics_csv"),
            ("/source/line", "3"),
            ("/time", "2021-04-28T14:50:03.900Z"),
            ("/app_id", SYNCAPP),
            ("/service_principal_id", SYNCSP),
            ("/ip", IP_ATT),
            (
                "/operation",
                "POST https://graph.microsoft.com/v1.0/users/megan.bowen@contoso.com/messages/AAMkAGI2TG93AAA=/forward",
            ),
            ("/result/success", "false"),
        ],
    );
    expect(
        run.event(
            "graph_activity.log_analytics_json/MicrosoftGraphActivityLogs.json",
            0,
        ),
        &[
            ("/format", "graph_activity.log_analytics_json"),
            ("/time", "2021-04-28T14:49:12.445Z"),
            ("/result/code", "200"),
        ],
    );

    let rd = "risk_detection.graph_json/riskDetections.json";
    expect(
        run.event(rd, 0),
        &[
            ("/log", "risk_detection"),
            ("/format", "risk_detection.graph_json"),
            ("/time", "2021-04-28T14:08:45.221Z"),
            ("/user", ADELE),
            ("/ip", IP_ATT),
            ("/operation", "unfamiliarFeatures"),
            ("/tenant_source", "unknown"),
            ("/tenant_id", ABSENT),
        ],
    );
    expect(
        run.event(rd, 1),
        &[
            ("/time", "2021-04-28T14:21:40.002Z"),
            ("/user", MEGAN),
            ("/operation", "anonymizedIPAddress"),
        ],
    );
    expect(
        run.event(
            "risk_detection.graph_json/servicePrincipalRiskDetections_beta.json",
            0,
        ),
        &[
            ("/source/line", "4"),
            ("/app_id", SYNCAPP),
            ("/service_principal_id", SYNCSP),
            ("/operation", "investigationsThreatIntelligence"),
            ("/time", "2021-04-29T02:13:37.310Z"),
        ],
    );
    let ram = "risk_detection.azure_monitor/UserRiskEvents_PT1H.json";
    expect(
        run.event(ram, 0),
        &[
            ("/format", "risk_detection.azure_monitor"),
            ("/tenant_id", CONTOSO),
            ("/tenant_source", "path"),
            ("/user", ADELE),
            ("/time", "2021-04-28T14:08:45.221Z"),
        ],
    );
    expect(
        run.event(ram, 1),
        &[("/tenant_id", CONTOSO), ("/tenant_source", "record")],
    );
    expect(
        run.event(
            "risk_detection.log_analytics_csv/AADUserRiskEvents_export.csv",
            1,
        ),
        &[
            ("/format", "risk_detection.log_analytics_csv"),
            ("/source/line", "8"),
            ("/time", "2021-04-28T14:21:40.002Z"),
            ("/user", MEGAN),
            ("/ip", IP_ATT),
            ("/operation", "anonymizedIPAddress"),
        ],
    );
    expect(
        run.event(
            "risk_detection.log_analytics_csv/AADServicePrincipalRiskEvents_export.csv",
            0,
        ),
        &[
            ("/app_id", SYNCAPP),
            ("/service_principal_id", SYNCSP),
            ("/raw/KeyIds/0", "2b9f0e1d-7c6a-4b5e-9d8c-1a2b3c4d5e6f"),
        ],
    );
    expect(
        run.event(
            "risk_detection.log_analytics_json/AADUserRiskEvents.json",
            0,
        ),
        &[
            ("/format", "risk_detection.log_analytics_json"),
            ("/time", "2021-04-28T14:08:45.221Z"),
            ("/user", ADELE),
        ],
    );
}

#[test]
fn mixed_azure_monitor_file_decides_the_log_kind_per_record() {
    let run = ingest(&[MIXED], &[]);
    let f = run.file(MIXED);
    expect(
        f,
        &[
            ("/status", "ok"),
            ("/log_kind", "mixed"),
            ("/format", "azure_monitor.mixed"),
            ("/records", "5"),
            ("/formats/signin.azure_monitor", "1"),
            ("/formats/directory_audit.azure_monitor", "1"),
            ("/formats/graph_activity.azure_monitor", "1"),
            ("/formats/risk_detection.azure_monitor", "2"),
        ],
    );
    let kinds: Vec<(&str, &str)> = run
        .events
        .iter()
        .map(|e| {
            (
                e["log"].as_str().unwrap_or(""),
                e["format"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("signin", "signin.azure_monitor"),
            ("directory_audit", "directory_audit.azure_monitor"),
            ("graph_activity", "graph_activity.azure_monitor"),
            ("risk_detection", "risk_detection.azure_monitor"),
            ("risk_detection", "risk_detection.azure_monitor"),
        ]
    );
    for (i, e) in run.events.iter().enumerate() {
        expect(
            e,
            &[("/source/record", &i.to_string()), ("/source/line", "1")],
        );
    }
    expect(
        &run.events[1],
        &[
            ("/operation", "Add service principal credentials"),
            ("/home_tenant_id", PARTNER),
        ],
    );
    expect(
        &run.events[3],
        &[("/tenant_id", CONTOSO), ("/tenant_source", "path")],
    );
    expect(
        &run.events[4],
        &[
            ("/service_principal_id", SYNCSP),
            ("/tenant_source", "record"),
        ],
    );
    // Coverage is per log kind, whatever file carried the records.
    for kind in ["signin", "directory_audit", "graph_activity"] {
        expect(run.coverage(CONTOSO, kind), &[("/records", "1")]);
    }
    expect(
        run.coverage(CONTOSO, "risk_detection"),
        &[
            ("/records", "2"),
            ("/tenant_source/path", "1"),
            ("/tenant_source/record", "1"),
        ],
    );
}

#[test]
fn archives_gzip_and_nested_zip_folders() {
    let run = ingest(&[ZIP, GZ_BLOB], &[]);
    let members: Vec<&str> = run.report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .filter(|p| p.starts_with(ZIP))
        .collect();
    assert_eq!(
        members,
        vec![
            "containers/Contoso-IR_collection.zip!Contoso-IR/Entra/AuditLogs_PT1H.json",
            "containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph/directoryAudits.json",
            "containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph/signIns.json",
            "containers/Contoso-IR_collection.zip!Contoso-IR/UAL/content_blob_Audit.General.json",
            "containers/Contoso-IR_collection.zip!Contoso-IR/UAL/exchange/Audit.Exchange_records.jsonl.gz",
        ],
        "members listed sorted as archive!inner/path; folder entries are not files"
    );
    // A gzip member inside the zip is decompressed too.
    let gz_member = "containers/Contoso-IR_collection.zip!Contoso-IR/UAL/exchange/Audit.Exchange_records.jsonl.gz";
    expect(
        run.event(gz_member, 1),
        &[
            ("/source/line", "3"),
            ("/operation", "Set-InboxRule"),
            ("/ip", IP_ATT),
        ],
    );
    // Folder attribution works inside archives: the member's folder is archive!inner/folder.
    let da = "containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph/directoryAudits.json";
    for e in run.events_of(da) {
        expect(e, &[("/tenant_id", CONTOSO), ("/tenant_source", "folder")]);
    }
    expect(
        run.attribution("containers/Contoso-IR_collection.zip!Contoso-IR/Entra/graph"),
        &[("/method", "folder"), ("/tenant_id", CONTOSO)],
    );
    expect(run.file(GZ_BLOB), &[("/status", "ok"), ("/records", "2")]);
    expect(
        run.event(GZ_BLOB, 0),
        &[
            ("/source/file", GZ_BLOB),
            ("/time", "2021-04-28T14:09:10.000Z"),
        ],
    );
}

#[test]
fn tenant_attributed_from_a_folder_of_one_tenant() {
    let run = ingest(&["directory_audit.graph_json/one_tenant_export"], &[]);
    let da = "directory_audit.graph_json/one_tenant_export/directoryAudits.json";
    assert_eq!(run.events_of(da).len(), 3);
    for e in run.events_of(da) {
        expect(e, &[("/tenant_id", CONTOSO), ("/tenant_source", "folder")]);
    }
    for e in run.events_of("directory_audit.graph_json/one_tenant_export/signIns.json") {
        expect(e, &[("/tenant_id", CONTOSO), ("/tenant_source", "record")]);
    }
    expect(
        run.attribution("directory_audit.graph_json/one_tenant_export"),
        &[("/method", "folder"), ("/tenant_id", CONTOSO)],
    );
    expect(
        run.coverage(CONTOSO, "directory_audit"),
        &[("/records", "3"), ("/tenant_source/folder", "3")],
    );
    expect(
        run.coverage(CONTOSO, "signin"),
        &[("/records", "2"), ("/tenant_source/record", "2")],
    );
}

#[test]
fn tenant_not_guessed_in_a_folder_of_two_tenants() {
    let run = ingest(&["directory_audit.graph_json/two_tenant_export"], &[]);
    let da = "directory_audit.graph_json/two_tenant_export/directoryAudits.json";
    for e in run.events_of(da) {
        expect(e, &[("/tenant_id", ABSENT), ("/tenant_source", "unknown")]);
    }
    let a = run.attribution("directory_audit.graph_json/two_tenant_export");
    expect(a, &[("/method", "none"), ("/tenant_id", ABSENT)]);
    assert!(
        a["reason"].as_str().unwrap_or("").contains("2 tenants"),
        "{a:#}"
    );
    expect(
        run.coverage("unknown", "directory_audit"),
        &[("/records", "2"), ("/tenant_source/unknown", "2")],
    );
    expect(
        run.coverage(FABRIKAM, "signin"),
        &[("/tenant_source/record", "1")],
    );
    expect(
        run.coverage(CONTOSO, "signin"),
        &[("/tenant_source/record", "1")],
    );
}

#[test]
fn tenant_from_a_tenants_path_segment() {
    let p = "directory_audit.graph_json/tenants/3d1f5b2c-7e4a-4b9c-8d6e-0f1a2b3c4d5e/directoryAudits.json";
    let run = ingest(&[p], &[]);
    expect(
        run.event(p, 0),
        &[
            ("/source/line", "4"),
            ("/tenant_id", FABRIKAM),
            ("/tenant_source", "path"),
        ],
    );
    expect(
        run.coverage(FABRIKAM, "directory_audit"),
        &[("/tenant_source/path", "1")],
    );
}

#[test]
fn tenant_map_attributes_records_without_a_tenant() {
    let tmp = TempDir::new("map");
    let fx = fixtures();
    let folder = fx.join("directory_audit.graph_json/two_tenant_export");
    let folder_s = folder.to_string_lossy().to_string();
    let map = tmp.0.join("tenants.map");
    std::fs::write(
        &map,
        format!(
            "# export folder = tenant\n{folder_s} = {}\n",
            FABRIKAM.to_uppercase()
        ),
    )
    .unwrap();
    let map_s = map.to_string_lossy().to_string();
    let run = ingest_in(&fx, &[&folder_s], &["--tenant-map", &map_s]);
    assert_eq!(run.status, 0);
    let da = format!("{folder_s}/directoryAudits.json");
    assert_eq!(run.events_of(&da).len(), 2);
    for e in run.events_of(&da) {
        expect(e, &[("/tenant_id", FABRIKAM), ("/tenant_source", "map")]);
    }
    // Records that name their tenant keep it.
    for e in run.events_of(&format!("{folder_s}/signIns_contoso.json")) {
        expect(e, &[("/tenant_id", CONTOSO), ("/tenant_source", "record")]);
    }
    expect(
        run.attribution(&folder_s),
        &[("/method", "map"), ("/tenant_id", FABRIKAM)],
    );
    expect(
        run.coverage(FABRIKAM, "directory_audit"),
        &[("/tenant_source/map", "2")],
    );

    // The JSON form of the map.
    let jmap = tmp.0.join("tenants.json");
    std::fs::write(
        &jmap,
        serde_json::json!({ folder_s.clone(): FABRIKAM }).to_string(),
    )
    .unwrap();
    let run = ingest_in(
        &fx,
        &[&folder_s],
        &["--tenant-map", &jmap.to_string_lossy()],
    );
    for e in run.events_of(&da) {
        expect(e, &[("/tenant_id", FABRIKAM), ("/tenant_source", "map")]);
    }
}

#[test]
fn generic_mode_reads_json_of_no_known_shape() {
    let p = "generic.json/hunting_tool_export.json";
    let run = ingest(&[p], &[]);
    expect(
        run.file(p),
        &[("/status", "unrecognised"), ("/records", "0")],
    );
    assert!(run.events.is_empty());

    let run = ingest(&[p], &["--format-in", "json"]);
    assert_eq!(run.status, 0);
    expect(
        run.file(p),
        &[
            ("/status", "ok"),
            ("/format", "generic.json"),
            ("/log_kind", "generic"),
            ("/records", "3"),
        ],
    );
    expect(
        run.event(p, 2),
        &[
            ("/log", "generic"),
            ("/source/line", "21"),
            ("/time", "2021-04-28T15:20:37.000Z"),
            ("/tenant_id", CONTOSO),
            ("/raw/details/file", "Q1 payroll.xlsx"),
        ],
    );

    // A known format forced on a file is read as that format.
    let blob = "ual.mgmt_api_json/content_blob_Audit.General.json";
    let run = ingest(&[blob], &["--format-in", "ual.mgmt_api_json"]);
    expect(
        run.file(blob),
        &[("/format", "ual.mgmt_api_json"), ("/records", "3")],
    );
}

#[test]
fn coverage_gaps_follow_the_threshold() {
    let p = "signin.azure_monitor/SignInLogs_PT1H.json";
    let run = ingest(&[p], &[]);
    let row = run.coverage(CONTOSO, "signin");
    expect(
        row,
        &[
            ("/records", "3"),
            ("/first", "2021-04-27T09:00:00.123Z"),
            ("/last", "2021-04-28T14:08:45.221Z"),
            ("/gaps/0/from", "2021-04-27T10:30:00.500Z"),
            ("/gaps/0/to", "2021-04-28T14:08:45.221Z"),
            ("/gaps/0/hours", "27.6"),
            ("/gaps/1", ABSENT),
        ],
    );
    expect(&run.report, &[("/gap_threshold_hours", "24.0")]);

    let run = ingest(&[p], &["--gap-hours", "1"]);
    expect(
        run.coverage(CONTOSO, "signin"),
        &[
            ("/gaps/0/from", "2021-04-27T09:00:00.123Z"),
            ("/gaps/0/to", "2021-04-27T10:30:00.500Z"),
            ("/gaps/0/hours", "1.5"),
            ("/gaps/1/hours", "27.6"),
            ("/gaps/2", ABSENT),
        ],
    );
    expect(&run.report, &[("/gap_threshold_hours", "1.0")]);

    let run = ingest(&[p], &["--gap-hours", "48"]);
    expect(run.coverage(CONTOSO, "signin"), &[("/gaps/0", ABSENT)]);

    // Gaps are found across files of the same tenant and log kind.
    let run = ingest(&[p, GZ_BLOB, "signin.graph_json"], &["--gap-hours", "24"]);
    expect(
        run.coverage(CONTOSO, "signin"),
        &[
            ("/gaps/0/from", "2021-04-27T10:30:00.500Z"),
            ("/gaps/0/to", "2021-04-28T13:55:03.000Z"),
            ("/gaps/1", ABSENT),
        ],
    );
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let corpus = fixtures().join("../corpus");
    let corpus_s = corpus.to_string_lossy().to_string();
    let one = ingest(&[".", &corpus_s], &["--threads", "1"]);
    let four = ingest(&[".", &corpus_s], &["--threads", "4"]);
    assert!(one.events.len() > 100);
    assert!(
        one.events_text == four.events_text,
        "events differ between --threads 1 and --threads 4"
    );
    assert!(
        one.report_text == four.report_text,
        "reports differ between --threads 1 and --threads 4"
    );
    // Events come in input order: files as listed, records in file order.
    let order: Vec<(String, u64)> = one
        .events
        .iter()
        .map(|e| {
            (
                e["source"]["file"].as_str().unwrap_or("").to_string(),
                e["source"]["record"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let files: Vec<String> = one.report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect();
    let rank: BTreeMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let keys: Vec<(usize, u64)> = order
        .iter()
        .map(|(f, r)| (rank.get(f.as_str()).copied().unwrap_or(usize::MAX), *r))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "events are in input order");
}

// ---- Fixed bugs: each test states the expected behaviour on the fixture that showed the bug. ----

#[test]
fn activity_log_event_hub_categories_write_delete_action_are_azure_activity() {
    let p = "azure_activity.azure_monitor/eventhub_logprofile_Write_Action.json";
    let run = ingest(&[p], &[]);
    expect(
        run.file(p),
        &[
            ("/status", "ok"),
            ("/format", "azure_activity.azure_monitor"),
            ("/log_kind", "azure_activity"),
            ("/records", "2"),
        ],
    );
    expect(
        run.event(p, 0),
        &[
            ("/source/line", "3"),
            ("/tenant_id", CONTOSO),
            (
                "/operation",
                "Microsoft.Authorization/roleAssignments/write",
            ),
            ("/ip", IP_ATT),
        ],
    );
}

#[test]
fn arm_list_page_on_one_line_is_split_into_its_records() {
    let p = "azure_activity.rest_json/activityLogs_rest_page.json";
    let run = ingest(&[p], &[]);
    expect(
        run.file(p),
        &[
            ("/status", "ok"),
            ("/format", "azure_activity.rest_json"),
            ("/records", "2"),
        ],
    );
    expect(
        run.event(p, 1),
        &[
            ("/source/line", "1"),
            ("/user", TECH),
            (
                "/operation",
                "Microsoft.Compute/virtualMachines/runCommand/action",
            ),
        ],
    );
}

#[test]
fn graph_activity_log_analytics_tenant_is_the_entra_tenant_not_the_workspace() {
    let run = ingest(
        &[
            "graph_activity.log_analytics_csv",
            "graph_activity.log_analytics_json",
        ],
        &[],
    );
    assert_eq!(run.events.len(), 3);
    for e in &run.events {
        expect(e, &[("/tenant_id", CONTOSO)]);
        assert_ne!(e["tenant_id"], WORKSPACE);
    }
}

#[test]
fn crlf_csv_rows_report_the_line_they_start_on() {
    let run = ingest(&["ual.purview_csv"], &[]);
    for (p, lines) in [
        (
            "ual.purview_csv/AuditLog_2021-04-28_old-header.csv",
            &[2u64, 3][..],
        ),
        (
            "ual.purview_csv/Audit_Search_export_new-header.csv",
            &[2, 3, 4][..],
        ),
    ] {
        for (i, line) in lines.iter().enumerate() {
            expect(
                run.event(p, i as u64),
                &[("/source/line", &line.to_string())],
            );
        }
    }
}

#[test]
fn azure_monitor_activity_user_comes_from_the_identity_claims() {
    let p = "azure_activity.azure_monitor/insights-activity-logs_PT1H.json";
    let run = ingest(&[p], &[]);
    expect(run.event(p, 0), &[("/user", ADELE)]);
}
