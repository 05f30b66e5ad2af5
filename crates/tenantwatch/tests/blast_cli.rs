//! `tenantwatch blast` on simulated cases: from the stolen partner account alone, the affected
//! tenants and the mailboxes read equal the truth over several seeds, untouched partner tenants
//! are `access_no_activity`; indicators that match nothing and bounded pivots say so; the report
//! folder, manifest and evidence CSV; attacker-controlled log content stays inert.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{Tmp, bin};

fn simulate(out: &Path, seed: u64) -> Value {
    let seed = seed.to_string();
    common::simulate_world(
        out,
        &[
            "--tenants",
            "10",
            "--compromised",
            "3",
            "--scale",
            "0.03",
            "--seed",
            &seed,
        ],
    )
}

fn blast(args: &[&str]) -> Output {
    bin().arg("blast").args(args).output().unwrap()
}

/// SHA-256 of bytes, lowercase hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn partner_account_alone_finds_the_truth_over_seeds() {
    for seed in [11u64, 23, 37] {
        let tmp = Tmp::new(&format!("truth-{seed}"));
        let truth = simulate(&tmp.0, seed);
        let account = truth["partner_account"].as_str().unwrap();
        let logs = tmp.0.join("logs");
        let o = blast(&[
            logs.to_str().unwrap(),
            "--actor",
            account,
            "--format",
            "json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let r = json_of(&o);
        let tenants = r["tenants"].as_array().unwrap();
        let by_id: BTreeMap<&str, &Value> = tenants
            .iter()
            .map(|t| (t["tenant_id"].as_str().unwrap(), t))
            .collect();
        let partner = truth["partner_tenant"].as_str().unwrap();
        // Affected customers are exactly the attacked tenants.
        let affected: BTreeSet<String> = tenants
            .iter()
            .filter(|t| t["status"] == "affected" && t["role"] == "customer")
            .map(|t| t["tenant_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(affected, strs(&truth["compromised_tenants"]), "seed {seed}");
        // The partner's own tenant, where the account was taken over, is affected too, and
        // reported as the partner.
        assert_eq!(by_id[partner]["status"], "affected", "seed {seed}");
        assert_eq!(by_id[partner]["role"], "partner", "seed {seed}");
        let all_affected = tenants.iter().filter(|t| t["status"] == "affected").count();
        assert_eq!(all_affected, affected.len() + 1, "seed {seed}");
        // Mailboxes read, per tenant.
        let empty = serde_json::json!({});
        let truth_mail = truth["mailboxes_read"]
            .as_object()
            .unwrap_or_else(|| empty.as_object().unwrap());
        for t in tenants {
            let id = t["tenant_id"].as_str().unwrap();
            let expected = truth_mail.get(id).map(strs).unwrap_or_default();
            assert_eq!(
                strs(&t["mailboxes_read"]),
                expected,
                "seed {seed} tenant {id}"
            );
            assert!(t["first"].is_string() == (t["status"] == "affected"));
            assert!(t["last"].is_string() == (t["status"] == "affected"));
        }
        // Untouched partner tenants, including the one where the owner kept working: access,
        // no malicious activity, stated against the data present.
        let owner = truth["owner_routine_tenant"].as_str().unwrap();
        let mut untouched = strs(&truth["untouched_partner_tenants"]);
        assert!(untouched.contains(owner));
        untouched.insert(owner.to_string());
        for id in &untouched {
            let t = by_id[id.as_str()];
            assert_eq!(t["status"], "access_no_activity", "seed {seed} tenant {id}");
            assert!(t["coverage"]["first"].is_string() && t["coverage"]["last"].is_string());
            assert!(t["access"].as_object().is_some_and(|a| !a.is_empty()));
        }
        // The owner's honest work from the partner's office is shared infrastructure.
        let nf = r["not_followed"].as_array().unwrap();
        assert!(
            nf.iter().any(|p| p["reason"]
                .as_str()
                .unwrap()
                .contains("shared infrastructure")),
            "seed {seed}: {nf:?}"
        );
        // Every pivot says why.
        for p in r["pivots"].as_array().unwrap() {
            assert!(!p["reason"].as_str().unwrap().is_empty());
        }
        // Attacker addresses found are the truth's.
        let truth_ips = strs(&truth["attacker_ips"]);
        for p in r["pivots"].as_array().unwrap() {
            if p["kind"] == "ip" {
                assert!(
                    truth_ips.contains(p["indicator"].as_str().unwrap()),
                    "seed {seed}: {p}"
                );
            }
        }
    }
}

#[test]
fn unmatched_indicators_and_bounded_pivots_are_reported() {
    let tmp = Tmp::new("blast-bounds");
    let truth = simulate(&tmp.0, 5);
    let logs = tmp.0.join("logs");
    let o = blast(&[
        logs.to_str().unwrap(),
        "--ip",
        "203.0.113.254",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = json_of(&o);
    assert_eq!(r["seeds"][0]["records"], 0);
    assert!(
        r["seeds"][0]["note"]
            .as_str()
            .unwrap()
            .contains("matches nothing")
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("matches nothing"));
    assert!(
        r["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "not_reached")
    );

    let account = truth["partner_account"].as_str().unwrap();
    let o = blast(&[
        logs.to_str().unwrap(),
        "--actor",
        account,
        "--max-pivots",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let r = json_of(&o);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["pivots"].as_array().unwrap().len(), 3);
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("--max-pivots"))
    );

    // The depth limit stops before the applications, and says so.
    let o = blast(&[
        logs.to_str().unwrap(),
        "--actor",
        account,
        "--depth",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = json_of(&o);
    assert!(
        r["pivots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["depth"].as_u64().unwrap() <= 1)
    );
    assert!(
        r["not_followed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["reason"] == "depth limit reached")
    );

    // The table for people.
    let o = blast(&[logs.to_str().unwrap(), "--actor", account]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("affected") && table.contains("access_no_activity"));
    assert!(table.contains("pivots:") && table.contains("not followed:"));

    // No seed: a usage error.
    let o = blast(&[logs.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Replaces the attacker's PowerShell user agent in every plain (not compressed) log file with
/// attacker-controlled markup and a spreadsheet formula.
fn inject(logs: &Path) -> usize {
    const UA: &str =
        "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3930";
    const PAYLOAD: &str =
        "=cmd|' /C calc'!A0 <script>document.title='pwned'</script><img src=x onerror=alert(1)>";
    let mut n = 0;
    let mut stack = vec![logs.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if !(name.ends_with(".json") || name.ends_with(".csv")) {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            if text.contains(UA) {
                n += text.matches(UA).count();
                std::fs::write(&p, text.replace(UA, PAYLOAD)).unwrap();
            }
        }
    }
    n
}

fn chromium() -> Option<PathBuf> {
    let find = || {
        ["chromium", "chromium-browser"].iter().find_map(|c| {
            let o = Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {c}"))
                .output()
                .ok()?;
            let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
            (o.status.success() && !p.is_empty()).then(|| PathBuf::from(p))
        })
    };
    if let Some(p) = find() {
        return Some(p);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let _ = Command::new("sh")
            .arg("-c")
            .arg("apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1")
            .status();
    }
    find()
}

fn chromium_run(exe: &Path, args: &[&str], url: &str) -> Output {
    let profile = std::env::temp_dir().join(format!("tw-blast-chromium-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&profile);
    let o = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    o
}

#[test]
fn reports_are_complete_and_log_content_stays_inert() {
    let tmp = Tmp::new("blast-report");
    let truth = simulate(&tmp.0, 42);
    let logs = tmp.0.join("logs");
    assert!(inject(&logs) > 0, "no attacker user agent to replace");
    let account = truth["partner_account"].as_str().unwrap();
    let reports = tmp.0.join("reports");
    let o = blast(&[
        logs.to_str().unwrap(),
        "--actor",
        account,
        "--report-dir",
        reports.to_str().unwrap(),
        "--sender",
        "<b>Partner</b>",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // One folder per affected tenant, inside the report folder.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
            .unwrap();
    let affected: Vec<&Value> = summary["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "affected")
        .collect();
    let folders: Vec<PathBuf> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(folders.len(), affected.len());
    for f in &folders {
        for name in ["notification.md", "notification.html", "evidence.csv"] {
            assert!(f.join(name).is_file(), "{}", f.join(name).display());
        }
    }

    // The manifest: every input file and every report, hashed; versions.
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("manifest.json")).unwrap())
            .unwrap();
    assert!(m["tool_version"].is_string() && m["rule_set_version"].is_string());
    let mut on_disk = Vec::new();
    let mut stack = vec![logs.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                on_disk.push(p);
            }
        }
    }
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), on_disk.len(), "every input file is hashed");
    for i in inputs {
        let path = PathBuf::from(i["path"].as_str().unwrap());
        assert!(on_disk.contains(&path), "{path:?}");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(i["bytes"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(
            i["sha256"].as_str().unwrap(),
            sha256_hex(&bytes),
            "{path:?}"
        );
    }
    let reported = m["reports"].as_array().unwrap();
    assert_eq!(reported.len(), folders.len() * 3 + 1);
    let one = &reported[0];
    let bytes = std::fs::read(reports.join(one["path"].as_str().unwrap())).unwrap();
    assert_eq!(one["bytes"].as_u64().unwrap(), bytes.len() as u64);

    // A compromised customer's report, with the injected content.
    let victim = truth["compromised_tenants"][0].as_str().unwrap();
    let folder = folders
        .iter()
        .find(|f| f.file_name().unwrap().to_string_lossy().ends_with(victim))
        .unwrap();
    let csv = std::fs::read_to_string(folder.join("evidence.csv")).unwrap();
    assert!(csv.contains("'=cmd|"), "formula not neutralised:\n{csv}");
    assert!(!csv.contains(",=cmd|"));
    assert!(csv.contains(",signin,") || csv.contains(",directory_audit,"));
    let html = std::fs::read_to_string(folder.join("notification.html")).unwrap();
    let md = std::fs::read_to_string(folder.join("notification.md")).unwrap();
    assert!(html.contains("&lt;script&gt;"), "payload not shown");
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>Partner"));
    assert!(!md.contains("<script") && !md.contains("<img"));
    let t = affected
        .iter()
        .find(|t| t["tenant_id"] == victim)
        .copied()
        .unwrap();
    let mailboxes = strs(&t["mailboxes_read"]);
    for mb in &mailboxes {
        assert!(html.contains(mb.as_str()) && md.contains(mb.as_str()));
    }

    // Rendered in a browser (TW_SKIP_BROWSER=1 leaves this part out where no browser can be had).
    if std::env::var_os("TW_SKIP_BROWSER").is_some_and(|v| v == "1") {
        return;
    }
    let exe = chromium().expect(
        "chromium is not installed and cannot be installed here (apt-get install chromium); set TW_SKIP_BROWSER=1 to leave the browser check out",
    );
    let url = format!(
        "file://{}",
        folder
            .join("notification.html")
            .canonicalize()
            .unwrap()
            .display()
    );
    let o = chromium_run(&exe, &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        dom.contains("id=\"evidence\""),
        "no DOM: {dom}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(dom.contains(victim));
    for mb in &mailboxes {
        assert!(dom.contains(mb.as_str()), "{mb} not on the page");
    }
    for tech in strs(&t["techniques"]) {
        assert!(dom.contains(tech.as_str()), "{tech} not on the page");
    }
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "payload not shown as text"
    );
    assert!(
        !dom.to_lowercase().contains("<script"),
        "a script element made it into the DOM"
    );
    assert!(!dom.contains("<img"), "an img element made it into the DOM");
    assert!(!dom.contains("<title>pwned"));
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("blast-notification.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    let o = chromium_run(&exe, &[&arg, "--window-size=1280,2000"], &url);
    assert!(
        shot.is_file() && std::fs::metadata(&shot).unwrap().len() > 10_000,
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("screenshot: {}", shot.display());
}

// ---------------------------------------------------------------------------------------------
// Hand-built cases in the real export shapes: Graph beta sign-in pages (users and service
// principals), Graph `directoryAudits` pages, Management Activity API lines. A reseller
// (partner tenant) with an office egress pool and a VPN; customers attacked with a stolen
// technician account; a decoy customer where the owner keeps working from the office.

const PARTNER: &str = "5d0c1b2a-0000-4000-8000-00000000a000";
const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";
const EXO_APP: &str = "00000002-0000-0ff1-ce00-000000000000";
const OFFICE: &str = "198.51.100.10";
const OFFICE2: &str = "198.51.100.11";
const VPN: &str = "198.51.100.40";
const ATTACKER: &str = "203.0.113.50";
const ATTACKER2: &str = "203.0.113.77";

/// The time `day` days and `min` minutes after the logs start (2025-03-03T00:00:00Z).
fn at(day: u32, min: u32) -> String {
    let d = 3 + day;
    let (mo, d) = if d > 31 { (4, d - 31) } else { (3, d) };
    format!(
        "2025-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        min / 60,
        min % 60,
        (day * 7 + min) % 60
    )
}

fn uid(n: u32) -> String {
    format!("{n:08x}-1111-4222-8333-{n:012x}")
}

/// Who made a directory change, from where, when.
struct By<'a> {
    upn: &'a str,
    ip: &'a str,
    when: String,
}

#[derive(Default)]
struct World {
    /// (tenant folder, tenant id) → sign-ins, directory audits, unified audit log lines.
    signins: BTreeMap<(String, String), Vec<Value>>,
    audits: BTreeMap<(String, String), Vec<Value>>,
    ual: BTreeMap<(String, String), Vec<Value>>,
    n: u32,
}

impl World {
    fn next(&mut self) -> String {
        self.n += 1;
        uid(0x5000 + self.n)
    }

    /// A user's sign-in (interactive, Azure portal) into `tenant` from `ip`.
    fn user_signin(&mut self, t: (&str, &str), upn: &str, home: &str, ip: &str, when: String) {
        let id = self.next();
        let cross = if home == t.1 {
            "none"
        } else {
            "serviceProvider"
        };
        self.signins
            .entry((t.0.into(), t.1.into()))
            .or_default()
            .push(serde_json::json!({
                "id": id, "createdDateTime": when, "userDisplayName": upn.split('@').next(),
                "userPrincipalName": upn, "userId": uid(upn.len() as u32 * 7919),
                "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "appDisplayName": "Azure Portal",
                "ipAddress": ip, "clientAppUsed": "Browser",
                "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
                "isInteractive": true, "tokenIssuerType": "AzureAD", "clientCredentialType": "none",
                "resourceDisplayName": "Windows Azure Service Management API",
                "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013", "resourceTenantId": t.1,
                "homeTenantId": home, "homeTenantName": null, "servicePrincipalId": "",
                "servicePrincipalName": "", "servicePrincipalCredentialKeyId": "",
                "userType": "member", "crossTenantAccessType": cross,
                "signInEventTypes": ["interactiveUser"],
                "status": {"errorCode": 0, "failureReason": null, "additionalDetails": null},
                "location": {"city": "Utrecht", "countryOrRegion": "NL"}
            }));
    }

    /// An application's sign-in with a client secret `key` into its tenant.
    fn app_signin(
        &mut self,
        t: (&str, &str),
        app: &str,
        sp: &str,
        key: &str,
        ip: &str,
        when: String,
    ) {
        let id = self.next();
        self.signins
            .entry((t.0.into(), t.1.into()))
            .or_default()
            .push(serde_json::json!({
                "id": id, "createdDateTime": when, "userDisplayName": null,
                "userPrincipalName": null, "userId": "", "appId": app,
                "appDisplayName": "Contoso Scheduler", "ipAddress": ip, "clientAppUsed": "",
                "userAgent": "python-requests/2.31.0", "isInteractive": false,
                "tokenIssuerType": "AzureAD", "clientCredentialType": "clientSecret",
                "resourceDisplayName": "Microsoft Graph", "resourceId": GRAPH_APP,
                "resourceTenantId": t.1, "homeTenantId": t.1, "servicePrincipalId": sp,
                "servicePrincipalName": "Contoso Scheduler",
                "servicePrincipalCredentialKeyId": key, "userType": "servicePrincipal",
                "crossTenantAccessType": "none", "signInEventTypes": ["servicePrincipal"],
                "status": {"errorCode": 0, "failureReason": null, "additionalDetails": null}
            }));
    }

    fn audit(&mut self, t: (&str, &str), by: &By<'_>, activity: &str, targets: Value) {
        let corr = self.next();
        self.audits
            .entry((t.0.into(), t.1.into()))
            .or_default()
            .push(serde_json::json!({
                "id": format!("Directory_{corr}_ABCDE_12345678"), "category": "ApplicationManagement",
                "correlationId": corr, "result": "success", "resultReason": "",
                "activityDisplayName": activity, "activityDateTime": by.when,
                "loggedByService": "Core Directory", "operationType": "Assign",
                "initiatedBy": {"app": null, "user": {"id": uid(by.upn.len() as u32 * 7919),
                    "displayName": null, "userPrincipalName": by.upn, "ipAddress": by.ip,
                    "userType": null, "homeTenantId": PARTNER, "homeTenantName": null}},
                "targetResources": targets,
                "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3930"}]
            }));
    }

    /// `Add service principal credentials` with key `key` on `sp` (of application `app`).
    fn add_secret(&mut self, t: (&str, &str), by: &By<'_>, app: &str, sp: &str, key: &str) {
        let targets = serde_json::json!([{"id": sp, "displayName": "Contoso Scheduler",
            "type": "ServicePrincipal", "modifiedProperties": [
                {"displayName": "KeyDescription", "oldValue": "[]",
                 "newValue": format!("[\"[KeyIdentifier={key},KeyType=Password,KeyUsage=Verify,DisplayName=sync]\"]")},
                {"displayName": "Included Updated Properties", "oldValue": null, "newValue": "\"KeyDescription\""},
                {"displayName": "TargetId.ServicePrincipalNames", "oldValue": null, "newValue": format!("\"{app}\"")}],
            "administrativeUnits": []}]);
        self.audit(t, by, "Add service principal credentials", targets);
    }

    /// `Add app role assignment to service principal`: the resource (Exchange Online) is the
    /// first target; the client is named in the `ServicePrincipal.*` properties.
    fn grant_exchange(&mut self, t: (&str, &str), by: &By<'_>, app: &str, sp: &str, exo_sp: &str) {
        let q = |s: &str| format!("\"{s}\"");
        let targets = serde_json::json!([{"id": exo_sp, "displayName": "Office 365 Exchange Online",
            "type": "ServicePrincipal", "modifiedProperties": [
                {"displayName": "AppRole.Id", "oldValue": null, "newValue": q("dc890d15-9560-4a4c-9b7f-a736ec74ec40")},
                {"displayName": "AppRole.Value", "oldValue": null, "newValue": q("full_access_as_app")},
                {"displayName": "AppRoleAssignment.CreatedDateTime", "oldValue": null, "newValue": q(&by.when)},
                {"displayName": "ServicePrincipal.ObjectID", "oldValue": null, "newValue": q(sp)},
                {"displayName": "ServicePrincipal.DisplayName", "oldValue": null, "newValue": q("Contoso Scheduler")},
                {"displayName": "ServicePrincipal.AppId", "oldValue": null, "newValue": q(app)},
                {"displayName": "ServicePrincipal.Name", "oldValue": null, "newValue": q(app)},
                {"displayName": "TargetId.ServicePrincipalNames", "oldValue": null, "newValue": q(EXO_APP)}],
            "administrativeUnits": []}]);
        self.audit(
            t,
            by,
            "Add app role assignment to service principal",
            targets,
        );
    }

    /// `MailItemsAccessed` of `owner`'s mailbox by application `app` through Microsoft Graph.
    fn app_reads(&mut self, t: (&str, &str), app: &str, owner: &str, ip: &str, when: String) {
        let id = self.next();
        let created = when.trim_end_matches('Z').to_string();
        self.ual.entry((t.0.into(), t.1.into())).or_default().push(serde_json::json!({
            "CreationTime": created, "Id": id, "Operation": "MailItemsAccessed",
            "OrganizationId": t.1, "RecordType": 50, "ResultStatus": "Succeeded",
            "UserKey": "10032001A2B3C4D5", "UserType": 0, "Version": 1, "Workload": "Exchange",
            "UserId": owner, "AppId": GRAPH_APP, "ClientAppId": app, "ClientIPAddress": ip,
            "ClientInfoString": "Client=REST;Client=RESTSystem;;", "ExternalAccess": false,
            "InternalLogonType": 0, "LogonType": 0, "MailboxGuid": uid(owner.len() as u32),
            "MailboxOwnerUPN": owner,
            "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}],
            "Folders": [{"FolderItems": [{"InternetMessageId": "<AM0PR01MB1234@AM0PR01MB1234.eurprd01.prod.outlook.com>"}], "Id": "LgAAAAAM7KyTTmWeRac2KXBEz/7aAQARGHK", "Path": "\\Inbox"}]
        }));
    }

    /// The owner reading its own mail in Outlook on the web (`AppId` is Exchange Online, the
    /// API, not a client that acted).
    fn owner_reads(&mut self, t: (&str, &str), owner: &str, ip: &str, when: String) {
        let id = self.next();
        self.ual.entry((t.0.into(), t.1.into())).or_default().push(serde_json::json!({
            "CreationTime": when.trim_end_matches('Z'), "Id": id, "Operation": "MailItemsAccessed",
            "OrganizationId": t.1, "RecordType": 50, "ResultStatus": "Succeeded",
            "UserId": owner, "AppId": EXO_APP, "ClientIPAddress": ip, "Workload": "Exchange",
            "ClientInfoString": "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36;",
            "LogonType": 0, "MailboxOwnerUPN": owner,
            "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}]
        }));
    }

    fn write(&self, logs: &Path) {
        let page = |ctx: &str, v: &Vec<Value>| {
            serde_json::json!({"@odata.context": ctx, "value": v}).to_string()
        };
        for ((name, _), v) in &self.signins {
            let d = logs.join(name).join("entra");
            std::fs::create_dir_all(&d).unwrap();
            let ctx = "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns";
            std::fs::write(d.join("signIns.json"), page(ctx, v)).unwrap();
        }
        for ((name, _), v) in &self.audits {
            let d = logs.join(name).join("entra");
            std::fs::create_dir_all(&d).unwrap();
            let ctx = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits";
            std::fs::write(d.join("directoryAudits.json"), page(ctx, v)).unwrap();
        }
        for ((name, _), v) in &self.ual {
            let d = logs.join(name).join("ual");
            std::fs::create_dir_all(&d).unwrap();
            let lines: Vec<String> = v.iter().map(Value::to_string).collect();
            std::fs::write(d.join("AuditRecords.json"), lines.join("\n") + "\n").unwrap();
        }
    }
}

/// How the attacker works in a hand-built case.
#[derive(Clone, Copy, PartialEq)]
enum Attack {
    /// From its own addresses, reused by the applications it backdoors.
    Reuse,
    /// The stolen account's actions come through the reseller's VPN; the applications sign in
    /// from the attacker's own address.
    Vpn,
}

const TECH: &str = "tech@keystone-partners.example";
const TECH2: &str = "ops@keystone-partners.example";
const COLLEAGUES: [&str; 3] = [
    "anna@keystone-partners.example",
    "bram@keystone-partners.example",
    "chen@keystone-partners.example",
];

/// Tenants: (folder, id). `A`, `B`: attacked; `D`: decoy (the owner keeps working there);
/// `E`: attacked with the second stolen account; `C`: untouched.
fn tenant(c: char) -> (&'static str, String) {
    let name = match c {
        'P' => "keystone-partners",
        'A' => "alder-freight",
        'B' => "birch-legal",
        'C' => "cedar-retail",
        'D' => "dune-dental",
        _ => "elm-studios",
    };
    let id = if c == 'P' {
        PARTNER.to_string()
    } else {
        format!("7e{:06x}-0000-4000-8000-00000000{:04x}", c as u32, c as u32)
    };
    (name, id)
}

/// Writes a 14-day case; `second` adds a second stolen account that the attacker uses from
/// the same address after the first (not seeded).
fn hand_case(logs: &Path, attack: Attack, second: bool) {
    let mut w = World::default();
    let (pn, pid) = tenant('P');
    let p = (pn, pid.as_str());
    // Routine: the staff at the office pool and on the VPN, every day; the owner also works
    // in the decoy tenant from the office.
    for day in 0..14 {
        for (i, c) in COLLEAGUES.iter().enumerate() {
            let ip = if i == 0 { OFFICE2 } else { OFFICE };
            w.user_signin(p, c, PARTNER, ip, at(day, 480 + i as u32 * 7));
            w.user_signin(p, c, PARTNER, VPN, at(day, 1020 + i as u32 * 5));
        }
        w.user_signin(p, TECH, PARTNER, OFFICE, at(day, 500));
        w.user_signin(p, TECH2, PARTNER, OFFICE, at(day, 505));
        let (dn, did) = tenant('D');
        w.user_signin((dn, &did), TECH, PARTNER, OFFICE, at(day, 600));
        let (cn, cid) = tenant('C');
        w.user_signin((cn, &cid), COLLEAGUES[1], PARTNER, OFFICE, at(day, 640));
    }
    // Customers' own routine: each application signs in from its cloud host with its own
    // secret, owners read their own mail.
    for (k, c) in ['A', 'B', 'E', 'C', 'D'].iter().enumerate() {
        let (n, id) = tenant(*c);
        let t = (n, id.as_str());
        let app = uid(0xA00 + k as u32);
        let sp = uid(0xB00 + k as u32);
        for day in 0..14 {
            w.app_signin(
                t,
                &app,
                &sp,
                &uid(0xC00 + k as u32),
                &format!("20.50.1.{}", 10 + k),
                at(day, 120),
            );
            w.owner_reads(
                t,
                &format!("owner{k}@{n}.example"),
                &format!("84.10.0.{}", 10 + k),
                at(day, 560),
            );
        }
    }
    let action_ip = if attack == Attack::Vpn { VPN } else { ATTACKER };
    let app_ip = if attack == Attack::Vpn {
        ATTACKER2
    } else {
        ATTACKER
    };
    // The attack, from day 8: the partner tenant, then A and B.
    w.user_signin(p, TECH, PARTNER, action_ip, at(8, 1300));
    for (k, c) in [(0usize, 'A'), (1, 'B')] {
        let (n, id) = tenant(c);
        let t = (n, id.as_str());
        let app = uid(0xA00 + k as u32);
        let sp = uid(0xB00 + k as u32);
        let key = uid(0xD00 + k as u32);
        let day = 8 + k as u32;
        w.user_signin(t, TECH, PARTNER, action_ip, at(day, 1320));
        let by = By {
            upn: TECH,
            ip: action_ip,
            when: at(day, 1330),
        };
        w.add_secret(t, &by, &app, &sp, &key);
        let by = By {
            upn: TECH,
            ip: action_ip,
            when: at(day, 1335),
        };
        w.grant_exchange(t, &by, &app, &sp, &uid(0xE00 + k as u32));
        w.app_signin(t, &app, &sp, &key, app_ip, at(day, 1350));
        for m in 0..2 {
            w.app_reads(
                t,
                &app,
                &format!("staff{m}@{n}.example"),
                app_ip,
                at(day, 1360 + m),
            );
        }
    }
    if second {
        // The second account, from the same address, in E (and the partner tenant).
        let (n, id) = tenant('E');
        let t = (n, id.as_str());
        w.user_signin(p, TECH2, PARTNER, ATTACKER, at(10, 1300));
        w.user_signin(t, TECH2, PARTNER, ATTACKER, at(10, 1310));
        let app = uid(0xA02);
        let sp = uid(0xB02);
        let key = uid(0xD02);
        let by = By {
            upn: TECH2,
            ip: ATTACKER,
            when: at(10, 1320),
        };
        w.add_secret(t, &by, &app, &sp, &key);
        w.app_signin(t, &app, &sp, &key, ATTACKER, at(10, 1340));
        w.app_reads(
            t,
            &app,
            &format!("staff9@{n}.example"),
            ATTACKER,
            at(10, 1345),
        );
    }
    w.write(logs);
}

/// The folder name of a hand-built tenant id.
fn name_of(id: &str) -> String {
    "PABCDE"
        .chars()
        .map(tenant)
        .find(|(_, t)| t == id)
        .map_or_else(|| id.to_string(), |(n, _)| n.to_string())
}

fn affected(r: &Value) -> BTreeSet<String> {
    r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "affected")
        .map(|t| name_of(t["tenant_id"].as_str().unwrap()))
        .collect()
}

fn tenant_row<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| name_of(t["tenant_id"].as_str().unwrap()) == name)
        .unwrap_or_else(|| panic!("no tenant {name}: {r}"))
}

fn run_case(tag: &str, attack: Attack, second: bool, seeds: &[&str]) -> Value {
    let tmp = Tmp::new(tag);
    let logs = tmp.0.join("logs");
    hand_case(&logs, attack, second);
    let mut args = vec![logs.to_str().unwrap().to_string()];
    for s in seeds {
        args.push("--actor".into());
        args.push(s.to_string());
    }
    args.extend(["--format".to_string(), "json".to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = blast(&a);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    json_of(&o)
}

fn names(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn attacker_reusing_its_address_for_backdoored_apps_is_followed() {
    let r = run_case("reuse", Attack::Reuse, false, &[TECH]);
    assert_eq!(
        affected(&r),
        names(&["keystone-partners", "alder-freight", "birch-legal"]),
        "{:#}",
        r["pivots"]
    );
    for (name, k) in [("alder-freight", 0), ("birch-legal", 1)] {
        let row = tenant_row(&r, name);
        // The application's records from the attacker address count, and the mail it read.
        let app = format!("app:{}", uid(0xA00 + k));
        assert!(
            row["actors"].as_array().unwrap().iter().any(|a| a == &app),
            "{row}"
        );
        let want = names(&[
            &format!("staff0@{name}.example"),
            &format!("staff1@{name}.example"),
        ]);
        assert_eq!(strs(&row["mailboxes_read"]), want);
        // The owners' own reads and the application's routine sign-ins are not evidence.
        assert!(
            row["ips"]
                .as_array()
                .unwrap()
                .iter()
                .all(|ip| ip == ATTACKER),
            "{row}"
        );
    }
    // The attacker address is followed although the backdoored applications use it too.
    let pivot = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["indicator"] == ATTACKER)
        .expect("attacker address followed");
    assert!(
        pivot["reason"].as_str().unwrap().contains("new to it"),
        "{pivot}"
    );
    // The decoy tenant: access, no activity.
    assert_eq!(
        tenant_row(&r, "dune-dental")["status"],
        "access_no_activity"
    );
    assert_eq!(
        tenant_row(&r, "cedar-retail")["status"],
        "access_no_activity"
    );
    // The office (colleagues before and after) is not followed, and says why.
    let nf = r["not_followed"].as_array().unwrap();
    let office = nf
        .iter()
        .find(|p| p["indicator"] == OFFICE)
        .expect("office listed");
    let why = office["reason"].as_str().unwrap();
    assert!(
        why.contains("honest history") || why.contains("its own history"),
        "{why}"
    );
    // Microsoft Exchange Online, the resource of the app role assignment, is never a
    // compromised identity.
    assert!(
        r["pivots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p["indicator"].as_str().unwrap().contains(EXO_APP)),
        "{:#}",
        r["pivots"]
    );
}

#[test]
fn attacker_through_the_partner_vpn_is_linked_by_its_credentials() {
    let r = run_case("vpn", Attack::Vpn, false, &[TECH]);
    assert_eq!(
        affected(&r),
        names(&["alder-freight", "birch-legal"]),
        "{:#}\n{:#}",
        r["pivots"],
        r["not_followed"]
    );
    // The VPN is shared (colleagues on it every day) and stays unfollowed.
    let nf = r["not_followed"].as_array().unwrap();
    assert!(nf.iter().any(|p| p["indicator"] == VPN), "{nf:#?}");
    assert!(
        r["pivots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["indicator"] != VPN)
    );
    // The credential added through the VPN is the attacker's: the application then signed in
    // with it from an address new to it.
    let key = uid(0xD00);
    let p = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["indicator"] == key.as_str())
        .expect("credential pivot");
    assert!(
        p["reason"].as_str().unwrap().contains("suspect period"),
        "{p}"
    );
    assert_eq!(
        strs(&tenant_row(&r, "alder-freight")["mailboxes_read"]),
        names(&[
            "staff0@alder-freight.example",
            "staff1@alder-freight.example"
        ])
    );
    assert_eq!(
        tenant_row(&r, "dune-dental")["status"],
        "access_no_activity"
    );
}

#[test]
fn a_second_stolen_account_on_the_attacker_address_is_compromised_through_it() {
    let r = run_case("second", Attack::Reuse, true, &[TECH]);
    assert_eq!(
        affected(&r),
        names(&[
            "keystone-partners",
            "alder-freight",
            "birch-legal",
            "elm-studios"
        ])
    );
    let second = format!("user:{TECH2}");
    let p = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["indicator"] == second.as_str())
        .expect("second account compromised");
    assert_eq!(p["from"], ATTACKER);
    assert_eq!(
        strs(&tenant_row(&r, "elm-studios")["mailboxes_read"]),
        names(&["staff9@elm-studios.example"])
    );
    // Its owner's honest work from the office stays out; the decoy stays unaffected.
    assert_eq!(
        tenant_row(&r, "dune-dental")["status"],
        "access_no_activity"
    );
    // Seeding both accounts gives the same tenants.
    let both = run_case("second-both", Attack::Reuse, true, &[TECH, TECH2]);
    assert_eq!(affected(&both), affected(&r));
}

#[test]
fn max_shared_tolerates_honest_co_users_of_an_attacker_address() {
    // The office pool has three honest users: with --max-shared 3 they are tolerated, the
    // office counts as the attacker's from the attacker's first use only, and the colleagues
    // (who used it before) are not compromised.
    let tmp = Tmp::new("blast-maxshared");
    let logs = tmp.0.join("logs");
    hand_case(&logs, Attack::Reuse, false);
    let o = blast(&[
        logs.to_str().unwrap(),
        "--actor",
        TECH,
        "--max-shared",
        "3",
        "--format",
        "json",
    ]);
    let r = json_of(&o);
    for c in COLLEAGUES {
        let id = format!("user:{c}");
        assert!(
            r["pivots"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["indicator"] != id.as_str()),
            "{c} compromised: {:#}",
            r["pivots"]
        );
    }
    assert_eq!(
        tenant_row(&r, "cedar-retail")["status"],
        "access_no_activity"
    );
}
