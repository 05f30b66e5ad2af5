//! `tenantwatch audit` through the binary, on the fixtures in `tests/fixtures/audit/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const CONTOSO: &str = "c0a7b1e2-5d4c-4a2b-9c3d-1e2f3a4b5c6d";
const RESELLER: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const FABRIKAM: &str = "f0e1d2c3-b4a5-4968-8776-655443322110";
const AS_OF: &str = "2021-01-15T00:00:00Z";

// ScubaGear sample, counted independently with a Python one-off over
// tests/fixtures/audit/scubagear/ScubaResults_fa5589b7-d528-4f80.json:
// distinct AppIds across Raw.risky_applications, risky_third_party_service_principals,
// legacy_exchange_service_principal, dedicated_exchange_hybrid_applications[].Apps and
// privileged_service_principals (8); those with any non-null KeyCredentials, PasswordCredentials
// or FederatedCredentials (4); len(privileged_service_principals) (3); len(privileged_roles) (8)
// and the sum of their Assignments (26).
const SCUBA_APPS: usize = 8;
const SCUBA_APPS_WITH_CREDENTIALS: usize = 4;
const SCUBA_PRIVILEGED_SERVICE_PRINCIPALS: usize = 3;
const SCUBA_PRIVILEGED_ROLES: usize = 8;
const SCUBA_ROLE_ASSIGNMENTS: u64 = 26;
const SCUBA_TENANT: &str = "ca08493a-c9c8-4db0-a9e8-d3b4bafac269";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/audit")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .arg("audit")
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("run tenantwatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json", "--as-of", AS_OF]);
    let (code, out, err) = run(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v)
}

fn doors(v: &Value) -> &Vec<Value> {
    v["doors"].as_array().expect("doors")
}

fn door<'a>(v: &'a Value, kind: &str, name_part: &str) -> &'a Value {
    doors(v)
        .iter()
        .find(|d| d["kind"] == kind && d["name"].as_str().unwrap_or("").contains(name_part))
        .unwrap_or_else(|| panic!("no {kind} door named like {name_part:?}"))
}

#[test]
fn contoso_doors_are_found_and_ranked() {
    let (code, v) = json(&["contoso"]);
    assert_eq!(code, 0, "{v}");
    let s = &v["summary"];
    assert_eq!(
        (
            s["critical"].as_u64(),
            s["high"].as_u64(),
            s["medium"].as_u64(),
            s["low"].as_u64()
        ),
        (Some(10), Some(6), Some(2), Some(3))
    );
    // The contract fields, on every door, and the ranking critical → low.
    let order = ["critical", "high", "medium", "low"];
    let mut last = 0;
    for d in doors(&v) {
        for f in [
            "tenant_id",
            "kind",
            "id",
            "name",
            "risk",
            "reason",
            "action",
        ] {
            assert!(
                d[f].as_str().is_some_and(|x| !x.is_empty()),
                "{f} missing in {d}"
            );
        }
        assert!(
            ["partner", "app", "credential", "federation", "exchange"]
                .contains(&d["kind"].as_str().unwrap())
        );
        let r = order.iter().position(|o| d["risk"] == *o).expect("risk");
        assert!(r >= last, "not ranked: {d}");
        last = r;
        assert_eq!(d["tenant_id"], CONTOSO);
    }
    // Partner: the reseller's principals hold Global Administrator; its MFA is trusted.
    let p = doors(&v)
        .iter()
        .find(|d| d["kind"] == "partner" && d["id"] == RESELLER)
        .expect("partner door");
    assert_eq!(p["risk"], "critical");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("Global Administrator")
    );
    assert!(p["reason"].as_str().unwrap().contains("service provider"));
    assert!(p["reason"].as_str().unwrap().contains("MFA"));
    // A third-party app that can read every mailbox.
    let a = door(&v, "app", "Mail Archiver Pro");
    assert_eq!(a["risk"], "critical");
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("can read every mailbox in the tenant")
    );
    assert_eq!(a["other_tenant_id"], "7d6c5b4a-3e2f-4c1d-9e0f-a1b2c3d4e5f6");
    let names: Vec<&str> = a["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Mail.Read") && names.contains(&"full_access_as_app"),
        "{names:?}"
    );
    let c = door(&v, "credential", "Mail Archiver Pro");
    assert_eq!(c["risk"], "critical");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("local service principal of another tenant's app")
    );
    assert_eq!(c["credentials"][0]["type"], "certificate");
    assert_eq!(c["credentials"][0]["on"], "service_principal");
    // A credential on a Microsoft first-party service principal.
    let e = door(&v, "credential", "Office 365 Exchange Online");
    assert_eq!(e["risk"], "critical");
    assert_eq!(e["first_party"], true);
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("Microsoft first-party")
    );
    // Delegated Mail.ReadWrite for all users: high; user-consented User.Read: low.
    assert_eq!(door(&v, "app", "Backup Helper")["risk"], "high");
    assert_eq!(door(&v, "app", "Team Calendar")["risk"], "low");
    assert_eq!(
        door(&v, "app", "Team Calendar")["verified_publisher"],
        "Calendar Vendor Ltd"
    );
    // Directory role on a service principal; recently added secret on a powerful app.
    assert_eq!(
        door(&v, "app", "Automation Runner")["roles"][0]["name"],
        "Application Administrator"
    );
    let hr = door(&v, "credential", "HR Sync");
    assert!(hr["reason"].as_str().unwrap().contains("added recently"));
    assert_eq!(hr["credentials"].as_array().unwrap().len(), 2);
    // Federation.
    let sales = door(&v, "federation", "sales.contoso.com");
    assert_eq!(sales["risk"], "critical");
    assert!(sales["reason"].as_str().unwrap().contains("any.sts"));
    let main = doors(&v)
        .iter()
        .find(|d| d["kind"] == "federation" && d["id"] == "contoso.com")
        .unwrap();
    assert_eq!(main["risk"], "high");
    assert!(
        main["reason"]
            .as_str()
            .unwrap()
            .contains("second signing certificate")
    );
    assert_eq!(main["expiry"], "2021-06-01T00:00:00.000Z");
    assert_eq!(door(&v, "federation", "legacy.contoso.com")["risk"], "high");
    assert_eq!(door(&v, "federation", "c0ntoso-login.com")["risk"], "low");
    // Exchange.
    let rule = door(&v, "exchange", "adele@contoso.com: .");
    assert_eq!(rule["risk"], "critical");
    assert!(
        rule["reason"]
            .as_str()
            .unwrap()
            .contains("adele.v@mail-archive-pro.example")
    );
    assert_eq!(
        door(&v, "exchange", "cfo@contoso.com: news")["risk"],
        "medium"
    );
    assert_eq!(door(&v, "exchange", "payroll@contoso.com")["risk"], "high");
    assert_eq!(door(&v, "exchange", "svc-migration")["risk"], "high");
    assert_eq!(door(&v, "exchange", "#EXT#")["risk"], "high");
    assert!(
        !doors(&v)
            .iter()
            .any(|d| d["name"].as_str().unwrap().contains("NT AUTHORITY"))
    );
    // Evidence points at file and object.
    let ev = &door(&v, "app", "Mail Archiver Pro")["evidence"][0];
    assert!(
        ev["file"]
            .as_str()
            .unwrap()
            .ends_with("servicePrincipals.page1.json")
    );
    assert_eq!(ev["index"], 2);
    // What could not be checked is said.
    let gaps: Vec<&str> = v["checks_not_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["check"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"federation.configuration"), "{gaps:?}");
    assert!(gaps.contains(&"partners.gdap_relationships"));
    assert!(!gaps.contains(&"apps.service_principals"));
    assert!(v["problems"].as_array().unwrap().is_empty());
}

#[test]
fn reseller_partner_side_relationships() {
    let (code, v) = json(&["reseller"]);
    assert_eq!(code, 0);
    let dap: Vec<&Value> = doors(&v)
        .iter()
        .filter(|d| d["name"].as_str().unwrap().starts_with("DAP"))
        .collect();
    assert_eq!(dap.len(), 2);
    for d in &dap {
        assert_eq!(d["risk"], "critical");
        assert!(
            d["reason"]
                .as_str()
                .unwrap()
                .contains("Global Administrator via DAP, no expiry")
        );
        assert!(d["action"].as_str().unwrap().contains("GDAP"));
        assert_eq!(d["other_tenant_id"], RESELLER);
    }
    assert!(
        dap.iter().any(|d| d["tenant_id"] == CONTOSO)
            && dap.iter().any(|d| d["tenant_id"] == FABRIKAM)
    );
    let g = door(&v, "partner", "Contoso full admin");
    assert_eq!(g["risk"], "critical");
    assert_eq!(g["tenant_id"], CONTOSO);
    let roles: Vec<(&str, &str)> = g["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["template_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(roles.contains(&(
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10"
    )));
    assert!(roles.contains(&(
        "Helpdesk Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8"
    )));
    assert_eq!(g["start"], "2020-06-10T11:26:44.994Z");
    assert_eq!(g["expiry"], "2022-06-10T11:26:44.994Z");
    assert!(g["reason"].as_str().unwrap().contains("auto-extends"));
    assert!(
        g["reason"]
            .as_str()
            .unwrap()
            .contains("66666666-0000-4000-8000-000000000001")
    );
    let m = door(&v, "partner", "MLT_Fabrikam");
    assert_eq!(m["risk"], "medium");
    assert!(
        !doors(&v)
            .iter()
            .any(|d| d["name"].as_str().unwrap().contains("Old Fabrikam"))
    );
}

#[test]
fn signins_give_last_use() {
    let (code, v) = json(&["reseller", "contoso", "--signins", "signins"]);
    assert_eq!(code, 0);
    assert_eq!(
        door(&v, "partner", "Contoso full admin")["last_use"],
        "2020-12-14T03:05:11.000Z"
    );
    let p = doors(&v)
        .iter()
        .find(|d| d["kind"] == "partner" && d["id"] == RESELLER)
        .unwrap();
    assert_eq!(p["last_use"], "2020-12-14T03:05:11.000Z");
    assert_eq!(
        door(&v, "app", "Mail Archiver Pro")["last_use"],
        "2020-12-16T08:00:00.000Z"
    );
    assert!(door(&v, "app", "Team Calendar").get("last_use").is_none());
}

#[test]
fn compare_with_an_earlier_snapshot_and_an_earlier_report() {
    let (_, v) = json(&["contoso", "--compare", "contoso-before"]);
    let c = &v["compare"];
    let removed: Vec<&str> = c["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(removed, vec!["Old Connector"]);
    let added: Vec<&str> = c["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        added.contains(&"Mail Archiver Pro") && added.contains(&"sales.contoso.com"),
        "{added:?}"
    );
    // HR Sync was there before: only the credential added to it since is new.
    let hr: Vec<&Value> = c["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"] == "HR Sync")
        .collect();
    assert_eq!(hr.len(), 1, "{hr:?}");
    assert_eq!(hr[0]["kind"], "credential");
    assert_eq!(added.len(), 20, "{added:?}");
    // The same through a JSON report written earlier.
    let dir = std::env::temp_dir().join(format!("tw-audit-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("before.json");
    let (_, out, _) = run(&["contoso-before", "--format", "json", "--as-of", AS_OF]);
    std::fs::write(&old, out).unwrap();
    let (_, v2) = json(&["contoso", "--compare", old.to_str().unwrap()]);
    assert_eq!(v2["compare"]["removed"], c["removed"]);
    assert_eq!(
        v2["compare"]["added"].as_array().unwrap().len(),
        c["added"].as_array().unwrap().len()
    );
    let (_, table, _) = run(&["contoso", "--compare", "contoso-before", "--as-of", AS_OF]);
    assert!(table.contains("CHANGES SINCE contoso-before"));
    assert!(
        table.contains("CHANGES SINCE contoso-before (20 added, 1 removed, 0 changed)"),
        "{table}"
    );
    let removed_lines: Vec<&str> = table.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(removed_lines.len(), 1, "{table}");
    assert!(
        removed_lines[0].starts_with("  - critical app ")
            && removed_lines[0].ends_with("22222222-0000-4000-8000-000000000099 Old Connector"),
        "{table}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_input_is_reported_with_file_and_index() {
    let (code, v) = json(&["bad"]);
    assert_eq!(code, 2);
    let problems = v["problems"].as_array().unwrap();
    let at = |file: &str, index: Option<u64>| {
        problems
            .iter()
            .any(|p| p["file"].as_str().unwrap().ends_with(file) && p["index"].as_u64() == index)
    };
    for i in 1..=4 {
        assert!(
            at("servicePrincipals.json", Some(i)),
            "object {i}: {problems:?}"
        );
    }
    assert!(!at("servicePrincipals.json", Some(0)));
    assert!(at("truncated.json", None));
    assert!(
        !problems
            .iter()
            .any(|p| p["file"].as_str().unwrap().ends_with("notes.txt"))
    );
    assert_eq!(door(&v, "app", "Good App")["risk"], "low");
    let files = v["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"].as_str().unwrap().ends_with("garbage.bin") && f["note"].is_string())
    );
}

#[test]
fn markdown_and_table_neutralise_hostile_names() {
    let (code, md, _) = run(&["contoso", "--format", "markdown", "--as-of", AS_OF]);
    assert_eq!(code, 0);
    assert!(md.contains("| critical | app |"));
    assert!(md.contains("Backup Helper &lt;script&gt;"));
    assert!(!md.contains("<script>") && !md.contains("](http"));
    let (_, table, _) = run(&["contoso", "--as-of", AS_OF]);
    assert!(table.contains("DOORS (21: 10 critical, 6 high, 2 medium, 3 low)"));
    assert!(table.contains("CHECKS NOT RUN"));
}

#[test]
fn scubagear_sample_apps_credentials_and_roles() {
    let (code, v) = json(&["scubagear"]);
    assert_eq!(code, 0, "{}", v["problems"]);
    assert_eq!(v["tenants"][0]["tenant_id"], SCUBA_TENANT);
    let creds: Vec<&Value> = doors(&v)
        .iter()
        .filter(|d| d["kind"] == "credential")
        .collect();
    assert_eq!(creds.len(), SCUBA_APPS_WITH_CREDENTIALS);
    let apps: std::collections::BTreeSet<&str> = doors(&v)
        .iter()
        .filter(|d| d["kind"] == "app" || d["kind"] == "credential")
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(apps.len(), SCUBA_APPS);
    let with_roles = doors(&v)
        .iter()
        .filter(|d| d["kind"] == "app" && d["roles"].as_array().is_some_and(|r| !r.is_empty()))
        .count();
    assert_eq!(with_roles, SCUBA_PRIVILEGED_SERVICE_PRINCIPALS);
    let roles = v["privileged_roles"].as_array().unwrap();
    assert_eq!(roles.len(), SCUBA_PRIVILEGED_ROLES);
    assert_eq!(
        roles
            .iter()
            .map(|r| r["assignments"].as_u64().unwrap())
            .sum::<u64>(),
        SCUBA_ROLE_ASSIGNMENTS
    );
    // The legacy Exchange service principal carries a certificate: a first-party principal with a credential.
    let exo = door(&v, "credential", "Office 365 Exchange Online");
    assert_eq!(exo["risk"], "critical");
    assert_eq!(exo["first_party"], true);
    // The dedicated hybrid app holds full_access_as_app.
    assert_eq!(door(&v, "app", "ExchangeServerApp")["risk"], "critical");
    let partial: Vec<&str> = v["checks_partial"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["check"].as_str().unwrap())
        .collect();
    assert!(partial.contains(&"apps.service_principals"));
}

#[test]
fn usage_errors_exit_1() {
    let (code, _, err) = run(&["does-not-exist"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"));
    let (code, _, _) = run(&["contoso", "--as-of", "yesterday-ish"]);
    assert_eq!(code, 1);
}

#[test]
fn damaged_copies_never_panic() {
    let src = fixtures().join("contoso");
    let dir = std::env::temp_dir().join(format!("tw-audit-damage-{}", std::process::id()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for (n, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 2] {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for g in &files {
                std::fs::copy(g, dir.join(g.file_name().unwrap())).unwrap();
            }
            let mut damaged = bytes[..cut].to_vec();
            if n % 2 == 0 {
                damaged.extend_from_slice(b"}]}");
            }
            std::fs::write(dir.join(f.file_name().unwrap()), damaged).unwrap();
            let (code, out, err) = run(&[dir.to_str().unwrap(), "--format", "json"]);
            assert!(!err.contains("panicked"), "{err}");
            let v: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {err}", f.display()));
            // The damaged file is named among the problems, and they make the exit status 2.
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let problems = v["problems"].as_array().expect("problems");
            assert!(
                problems
                    .iter()
                    .any(|p| p["file"].as_str().is_some_and(|x| x.ends_with(&name))),
                "{name} cut at {cut}: {problems:#?}"
            );
            assert_eq!(code, 2, "{}: {err}", f.display());
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A copy of the contoso snapshot in a scratch folder, with `extra` files added.
fn contoso_copy(tag: &str, extra: &[(&str, String)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-audit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = fixtures().join("contoso");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    for (name, text) in extra {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

/// The service principals of contoso's first page, as JSON objects.
fn contoso_service_principals() -> Vec<Value> {
    let text =
        std::fs::read_to_string(fixtures().join("contoso/servicePrincipals.page1.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["value"].as_array().unwrap().clone()
}

fn page(objects: &[Value]) -> String {
    serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals",
        "value": objects,
    })
    .to_string()
}

#[test]
fn a_conflicting_duplicate_object_is_reported_with_both_places() {
    let sps = contoso_service_principals();
    let mut changed = sps[2].clone();
    assert_eq!(changed["displayName"], "Mail Archiver Pro");
    changed["displayName"] = "Mail Archiver Pro (renamed)".into();
    // The same export taken twice repeats Microsoft Graph unchanged: no problem.
    let dir = contoso_copy(
        "dup",
        &[(
            "servicePrincipals.page3.json",
            page(&[sps[0].clone(), changed]),
        )],
    );
    let (code, v) = json(&[dir.to_str().unwrap()]);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert!(
        p["file"]
            .as_str()
            .unwrap()
            .ends_with("servicePrincipals.page3.json"),
        "{p}"
    );
    assert_eq!(p["index"], 1);
    let reason = p["reason"].as_str().unwrap();
    assert!(
        reason.contains("service principal 22222222-0000-4000-8000-000000000001 differs")
            && reason.contains("servicePrincipals.page1.json object 2"),
        "{reason}"
    );
    assert_eq!(code, 2);
    // The first one read is audited.
    assert!(
        doors(&v)
            .iter()
            .any(|d| d["name"] == "Mail Archiver Pro" && d["kind"] == "app")
    );
    assert!(
        !doors(&v)
            .iter()
            .any(|d| d["name"] == "Mail Archiver Pro (renamed)")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_huge_string_in_one_object_rejects_that_object_only() {
    let sps = contoso_service_principals();
    let mut huge = sps[2].clone();
    huge["id"] = "22222222-0000-4000-8000-0000000000aa".into();
    huge["notes"] = "A".repeat(3 << 20).into();
    let mut other = sps[2].clone();
    other["id"] = "22222222-0000-4000-8000-0000000000bb".into();
    other["appId"] = "33333333-0000-4000-8000-0000000000bb".into();
    other["displayName"] = "Second Archiver".into();
    let dir = contoso_copy(
        "huge",
        &[("servicePrincipals.big.json", page(&[huge, other]))],
    );
    let out = dir.join("report.json");
    let (code, stdout, err) = run(&[
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.is_empty(), "--out writes nothing to standard output");
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let problems: Vec<&Value> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["file"]
                .as_str()
                .unwrap()
                .ends_with("servicePrincipals.big.json")
        })
        .collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["index"], 0);
    let reason = problems[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("a string of {} bytes", 3 << 20))
            && reason.contains(&format!("longer than the {} bytes", 1 << 20)),
        "{reason}"
    );
    assert!(doors(&v).iter().any(|d| d["name"] == "Second Archiver"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sign_in_logs_not_fully_read_are_problems() {
    let dir = std::env::temp_dir().join(format!("tw-audit-signins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixtures().join("signins/contoso-signins.json"),
        dir.join("contoso-signins.json"),
    )
    .unwrap();
    // Windows PowerShell 5's default encoding (UTF-16 with a byte order mark) is read, but a
    // table of no known log shape is still a file not fully read.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "CreatedDateTime,UserPrincipalName,AppId,IPAddress\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(dir.join("signins-ps5.csv"), utf16).unwrap();
    let (code, v) = json(&["contoso", "--signins", dir.to_str().unwrap()]);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("signins-ps5.csv")
    );
    let reason = problems[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("sign-in log not fully read (unrecognised: text that is no known log"),
        "{reason}"
    );
    assert_eq!(code, 2);
    // The readable sign-ins still give last use.
    assert_eq!(
        door(&v, "app", "Mail Archiver Pro")["last_use"],
        "2020-12-16T08:00:00.000Z"
    );
    std::fs::remove_dir_all(&dir).ok();
}
