//! The raw-record prefilter changes nothing but speed: on every fixture of every export format,
//! the SigmaHQ rules, the SigmaHQ test vectors, the built-in pack's vectors, the public corpus
//! copies and the bundled example, `hunt` finds exactly what `hunt --decode-all` (every record
//! decoded and matched) finds; and records whose text hides a literal behind a JSON escape are
//! still matched.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hunt(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .arg("hunt")
        .args(args)
        .args(["--format", "jsonl", "--threads", "2"])
        .output()
        .expect("run tenantwatch");
    assert!(
        matches!(out.status.code(), Some(0)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Number of records the prefilter left undecoded, from the summary line.
fn not_decoded(stderr: &str) -> u64 {
    let at = stderr.find(" not decoded").expect("summary line");
    let head = &stderr[..at];
    let start = head.rfind(' ').map_or(0, |i| i + 1);
    head[start..].parse().expect("count")
}

fn same_findings(paths: &[&str], rules: &[&str]) -> u64 {
    let mut args: Vec<&str> = paths.to_vec();
    for r in rules {
        args.push("--rules");
        args.push(r);
    }
    let (fast, err) = hunt(&args);
    args.push("--decode-all");
    let (full, err_full) = hunt(&args);
    assert_eq!(not_decoded(&err_full), 0, "{err_full}");
    assert_eq!(
        fast, full,
        "prefiltered and full hunts differ on {paths:?} with {rules:?}"
    );
    not_decoded(&err)
}

#[test]
fn prefiltered_hunt_equals_full_hunt_on_every_fixture() {
    let sigma = "tests/fixtures/sigma/rules";
    let mut skipped = 0;
    for dir in [
        "tests/fixtures/formats",
        "tests/fixtures/corpus",
        "tests/fixtures/sigmahq",
        "tests/fixtures/builtin",
        "examples/reseller-breach/logs",
    ] {
        assert!(root().join(dir).exists(), "{dir}");
        // With the built-in pack (whose first-seen rules learn from every sign-in, Graph and
        // audit record) and without it.
        same_findings(&[dir], &[sigma]);
        skipped += same_findings(&[dir, "--no-builtin"], &[sigma]);
    }
    // Generic mode: fields as named, every rule on every record, no routing.
    same_findings(
        &[
            "tests/fixtures/corpus",
            "--format-in",
            "json",
            "--no-builtin",
        ],
        &[sigma, "tests/fixtures/sigmahq/rules"],
    );
    // The SigmaHQ vectors with their own rule copies only (no built-in pack).
    let (fast, _) = hunt(&[
        "tests/fixtures/sigmahq",
        "--rules",
        "tests/fixtures/sigmahq/rules",
        "--no-builtin",
    ]);
    let (full, _) = hunt(&[
        "tests/fixtures/sigmahq",
        "--rules",
        "tests/fixtures/sigmahq/rules",
        "--no-builtin",
        "--decode-all",
    ]);
    assert_eq!(fast, full);
    assert!(!fast.is_empty());
    // The prefilter did skip records somewhere, or this test would prove nothing.
    assert!(skipped > 0);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().to_string()
}

/// Hunts unified audit log lines `ual` with the one rule `rule` (YAML), with and without the
/// prefilter, in a folder of its own named after `case`; checks that both give the same findings
/// and returns them, the fast run's standard error and each finding's first evidence record.
fn hunt_fast_and_full(case: &str, rule: &str, ual: &str) -> (String, String, Vec<u64>) {
    let dir = std::env::temp_dir().join(format!("tw-prefilter-{case}-{}", std::process::id()));
    let rule = write(&dir, "rule.yml", rule);
    let logs = dir.join("logs");
    write(&logs, "ual.jsonl", ual);
    let logs = logs.to_string_lossy().to_string();
    let (fast, err) = hunt(&[&logs, "--rules", &rule, "--no-builtin"]);
    let (full, _) = hunt(&[&logs, "--rules", &rule, "--no-builtin", "--decode-all"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(fast, full);
    let records = fast
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["evidence"][0]["record"].as_u64().expect("record")
        })
        .collect();
    (fast, err, records)
}

#[test]
fn literals_hidden_by_escapes_or_case_are_still_matched() {
    let rule = "title: Forwarding parameter set\nid: 5f0c7a1e-1111-4c1e-9a55-000000000001\nlevel: high\n\
         logsource: {product: m365, service: exchange}\n\
         detection:\n  sel:\n    Operation: Set-Mailbox\n    Parameters.Name: ForwardingSmtpAddress\n  condition: sel\n";
    // Management API lines: the operation spelled with a \u escape, in upper case, with a
    // trailing full stop, and a record that matches nothing.
    let line = |op: &str, param: &str, id: u32| {
        format!(
            "{{\"CreationTime\":\"2024-03-01T10:00:0{id}\",\"Id\":\"00000000-0000-0000-0000-00000000000{id}\",\"Operation\":\"{op}\",\"OrganizationId\":\"3f077120-9ad8-590f-3cc3-95b254b50b0b\",\"RecordType\":1,\"UserKey\":\"u\",\"UserType\":2,\"Version\":1,\"Workload\":\"Exchange\",\"ClientIP\":\"10.0.0.1\",\"UserId\":\"admin@contoso.com\",\"ObjectId\":\"x\",\"Parameters\":[{{\"Name\":\"{param}\",\"Value\":\"evil@example.net\"}}]}}\n"
        )
    };
    let text = [
        line("Set-M\\u0061ilbox", "ForwardingSmtpAddress", 1),
        line("SET-MAILBOX.", "FORWARDINGSMTPADDRESS", 2),
        line("Set-Mailbox", "Forwarding\\u0053mtpAddress", 3),
        line("Set-Mailbox", "Identity", 4),
        line("New-InboxRule", "Name", 5),
    ]
    .concat();
    let (fast, err, records) = hunt_fast_and_full("escapes", rule, &text);
    assert_eq!(records, [0, 1, 2], "{fast}");
    // The two records without the parameter were never decoded.
    assert_eq!(not_decoded(&err), 2, "{err}");
}

#[test]
fn a_rule_value_of_thousands_of_one_letter_matches_as_with_every_record_decoded() {
    // A value longer than any literal the prefilter looks up: only its start is looked up,
    // the rule checks the whole value.
    let long = "a".repeat(3000);
    let rule = format!(
        "title: Long parameter\nid: 5f0c7a1e-1111-4c1e-9a55-000000000009\nlevel: high\n\
         logsource: {{product: m365, service: exchange}}\n\
         detection:\n  sel:\n    ObjectId|contains: 'x{long}y'\n  condition: sel\n"
    );
    let line = |object: &str, id: u32| {
        format!(
            "{{\"CreationTime\":\"2024-03-01T10:00:0{id}\",\"Id\":\"00000000-0000-0000-0000-00000000000{id}\",\"Operation\":\"FolderBind\",\"OrganizationId\":\"3f077120-9ad8-590f-3cc3-95b254b50b0b\",\"RecordType\":2,\"UserKey\":\"u\",\"UserType\":2,\"Version\":1,\"Workload\":\"Exchange\",\"ClientIP\":\"10.0.0.1\",\"UserId\":\"admin@contoso.com\",\"ObjectId\":\"{object}\"}}\n"
        )
    };
    let text = [
        line(&format!("/Users/x{long}y/Inbox"), 1),
        // The value's start, not the whole value.
        line(&format!("/Users/x{}y", &long[..200]), 2),
        line(&format!("/Users/X{}Y", long.to_uppercase()), 3),
        line("/Users/x/Inbox", 4),
    ]
    .concat();
    let (fast, err, records) = hunt_fast_and_full("long-value", &rule, &text);
    assert_eq!(records, [0, 2], "{fast}");
    // The value's start alone and the other folder are never decoded (the key's value is
    // checked for the whole value).
    assert_eq!(not_decoded(&err), 2, "{err}");
}

#[test]
fn literals_with_a_solidus_are_matched_when_it_is_escaped() {
    let rule = "title: Inbox folder touched\nid: 5f0c7a1e-1111-4c1e-9a55-000000000002\nlevel: high\n\
         logsource: {product: m365, service: exchange}\n\
         detection:\n  sel:\n    ObjectId|endswith: '/Users/x/Inbox'\n  condition: sel\n";
    let line = |object: &str, id: u32| {
        format!(
            "{{\"CreationTime\":\"2024-03-01T10:00:0{id}\",\"Id\":\"00000000-0000-0000-0000-00000000000{id}\",\"Operation\":\"FolderBind\",\"OrganizationId\":\"3f077120-9ad8-590f-3cc3-95b254b50b0b\",\"RecordType\":2,\"UserKey\":\"u\",\"UserType\":2,\"Version\":1,\"Workload\":\"Exchange\",\"ClientIP\":\"10.0.0.1\",\"UserId\":\"admin@contoso.com\",\"ObjectId\":\"{object}\"}}\n"
        )
    };
    // The same path written plainly, with escaped solidi, and another folder (whose path holds
    // every piece of the rule's value between solidi, but not the value).
    let text = [
        line("contoso.com/Users/x/Inbox", 1),
        line("contoso.com\\/Users\\/x\\/Inbox", 2),
        line("contoso.com/Inbox/Users/x/Sent Items", 3),
    ]
    .concat();
    let (fast, err, records) = hunt_fast_and_full("solidus", rule, &text);
    assert_eq!(records, [0, 1], "{fast}");
    // The other folder's record was never decoded: the whole path is looked up.
    assert_eq!(not_decoded(&err), 1, "{err}");
}

#[test]
fn purview_rows_are_prefiltered_on_their_audit_data() {
    // A key/value condition is checked in the AuditData JSON of each row (a CSV row names no
    // keys): the rows whose `ActorContextId` differs (or is absent) are never decoded, though
    // they hold the same tenant id under another key; the matching one is found.
    let dir = std::env::temp_dir().join(format!("tw-prefilter-purview-{}", std::process::id()));
    let rule = write(
        &dir,
        "rule.yml",
        "title: actor of the tenant\nlogsource: { product: m365, service: audit }\n\
         detection:\n  sel:\n    ActorContextId: 8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f\n  condition: sel\n",
    );
    let csv = "tests/fixtures/formats/ual.purview_csv/Audit_Search_export_new-header.csv";
    let (fast, err) = hunt(&[csv, "--rules", &rule, "--no-builtin"]);
    let (full, _) = hunt(&[csv, "--rules", &rule, "--no-builtin", "--decode-all"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(fast, full);
    assert_eq!(fast.lines().count(), 1, "{fast}");
    // Three rows, two of them left undecoded.
    assert_eq!(not_decoded(&err), 2, "{err}");
}

/// A unified audit log `UserLoggedIn` line.
fn login(time: &str, user: &str, home: &str, tenant: &str, ip: &str) -> String {
    format!(
        r#"{{"CreationTime":"{time}","Id":"{time}-{user}","Operation":"UserLoggedIn","OrganizationId":"{tenant}","RecordType":15,"ResultStatus":"Success","UserKey":"{user}","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"{ip}","ObjectId":"00000002-0000-0000-c000-000000000000","UserId":"{user}","ActorContextId":"{home}","Actor":[{{"ID":"{user}","Type":5}}]}}"#
    )
}

/// Log-ins of actors in their own tenant are set aside unread by the partner first-seen rule,
/// and read in a second look only for the tenants cross-tenant actors come from: a partner
/// account's new address in its own tenant is found, another tenant's user is never decoded.
#[test]
fn partner_logins_in_their_own_tenant_are_read_in_a_second_look() {
    let partner = "11111111-1111-4111-8111-111111111111";
    let customer = "22222222-2222-4222-8222-222222222222";
    let other = "33333333-3333-4333-8333-333333333333";
    let admin = "admin@partner.example";
    let dir = std::env::temp_dir().join(format!("tw-second-look-{}", std::process::id()));
    let logs = dir.join("logs");
    let lines = |v: &[String]| v.join("\n") + "\n";
    write(
        &logs.join("partner"),
        "ual.json",
        &lines(&[
            login(
                "2024-02-01T10:00:00",
                admin,
                partner,
                partner,
                "198.51.100.1",
            ),
            login(
                "2024-02-06T10:00:00",
                admin,
                partner,
                partner,
                "203.0.113.9",
            ),
        ]),
    );
    write(
        &logs.join("customer"),
        "ual.json",
        &lines(&[login(
            "2024-02-01T11:00:00",
            admin,
            partner,
            customer,
            "198.51.100.1",
        )]),
    );
    write(
        &logs.join("other"),
        "ual.json",
        &lines(&[
            login(
                "2024-02-01T09:00:00",
                "bob@other.example",
                other,
                other,
                "192.0.2.1",
            ),
            login(
                "2024-02-06T09:00:00",
                "bob@other.example",
                other,
                other,
                "192.0.2.77",
            ),
        ]),
    );
    let logs = logs.to_string_lossy().to_string();
    // The partner rule alone: the pack's users' address history (for mail-hiding bursts) reads
    // every log-in, which would hide what the second look saves.
    let rule = "rules/tw_partner_login_first_seen_ip_ual.yml";
    let (fast, err) = hunt(&[&logs, "--no-builtin", "--rules", rule]);
    let (full, _) = hunt(&[&logs, "--no-builtin", "--rules", rule, "--decode-all"]);
    let (pack, _) = hunt(&[&logs]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(fast, full);
    // With the whole pack the partner's finding is the same.
    let partner_findings = |out: &str| {
        out.lines()
            .filter(|l| l.contains("0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b07"))
            .count()
    };
    assert_eq!(partner_findings(&pack), partner_findings(&fast), "{pack}");
    let found: Vec<serde_json::Value> = fast
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|f: &serde_json::Value| f["rule"]["id"] == "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b07")
        .collect();
    assert_eq!(found.len(), 1, "{fast}");
    assert_eq!(found[0]["ip"], "203.0.113.9", "{fast}");
    let file = found[0]["evidence"][0]["file"].as_str().expect("file");
    assert!(file.contains("partner"), "{file}");
    // The other tenant's two log-ins were never decoded; the partner's own were, late.
    assert_eq!(not_decoded(&err), 2, "{err}");
}

/// The Entra admin center's sign-in download is hunted with SigmaHQ's field names (mapped onto
/// its column headers, `Application ID ` with its trailing space among them), prefiltered or not.
#[test]
fn the_portal_sign_in_download_is_hunted_with_sigma_field_names() {
    let dir = std::env::temp_dir().join(format!("tw-prefilter-portal-{}", std::process::id()));
    let rule = write(
        &dir,
        "rule.yml",
        "title: Office client password failure from a documentation network\n\
         id: 4a7e2f10-0c3b-4d5e-9f60-7a8b9c0d1e99\n\
         logsource: {product: azure, service: signinlogs}\n\
         detection:\n  sel:\n    ResultType: 50126\n    appId: d3590ed6-52b3-4102-aeff-aad2292ab01c\n    \
         ipAddress|cidr: 203.0.113.0/24\n    userAgent|contains: python-requests\n  condition: sel\n\
         level: high\n",
    );
    let logs = "tests/fixtures/formats/signin.portal_csv";
    let (fast, _) = hunt(&[logs, "--rules", &rule, "--no-builtin"]);
    let (full, _) = hunt(&[logs, "--rules", &rule, "--no-builtin", "--decode-all"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(fast, full);
    let found: Vec<serde_json::Value> = fast
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(found.len(), 1, "{fast}");
    assert_eq!(found[0]["evidence"][0]["record"], 1, "{fast}");
    assert_eq!(
        found[0]["actor"]["user"], "megan.bowen@contoso.com",
        "{fast}"
    );
}
