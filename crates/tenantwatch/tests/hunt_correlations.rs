//! `tenantwatch hunt` with chained Sigma correlations: a correlation over a correlation reports
//! every base event behind the inner matches it consumed (the Sigma specification's own example,
//! "many failed logins followed by a successful login"), on Graph `auditLogs/signIns` pages in
//! the shape the API returns.

mod common;

use std::path::PathBuf;

use serde_json::{Value, json};

/// One Graph v1.0 sign-in (the fields of `signIns_v1.0_pages.json` in tests/fixtures/formats).
fn sign_in(n: u32, time: &str, upn: &str, error: u32) -> Value {
    json!({
        "id": format!("7e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a{n:02}"),
        "createdDateTime": time,
        "userDisplayName": upn.split('@').next(),
        "userPrincipalName": upn,
        "userId": format!("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c{n:02}"),
        "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "appDisplayName": "Azure Portal",
        "ipAddress": "203.0.113.45",
        "clientAppUsed": "Browser",
        "correlationId": format!("c0ffee00-4c5d-4e6f-8a7b-9c0d1e2f3a{n:02}"),
        "conditionalAccessStatus": "notApplied",
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes": [],
        "riskEventTypes_v2": [],
        "resourceDisplayName": "Windows Azure Service Management API",
        "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "status": {
            "errorCode": error,
            "failureReason": if error == 0 { "Other." } else { "Invalid username or password or Invalid on-premise username or password." },
            "additionalDetails": null
        },
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows10",
            "browser": "Edge 90.0.818", "isCompliant": false, "isManaged": false, "trustType": ""},
        "location": {"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
            "geoCoordinates": {"altitude": null, "latitude": 52.37403, "longitude": 4.88969}},
        "appliedConditionalAccessPolicies": []
    })
}

const RULES: &str = r#"title: Failed sign-in
name: login_failed
status: test
logsource: {product: azure, service: signinlogs}
detection:
  sel: {ResultType: 50126}
  condition: sel
level: low
---
title: Successful sign-in
name: login_ok
status: test
logsource: {product: azure, service: signinlogs}
detection:
  sel: {ResultType: 0}
  condition: sel
level: low
---
title: Many failed sign-ins
name: many_failures
correlation:
  type: event_count
  rules: [login_failed]
  group-by: [tw.user]
  timespan: 10m
  condition: {gte: 2}
---
title: Failed sign-ins then a success
id: 5a1c0f3e-8d2b-4c6e-9f7a-1b2c3d4e5f60
correlation:
  type: temporal_ordered
  rules: [many_failures, login_ok]
  group-by: [tw.user]
  timespan: 30m
level: high
"#;

/// A case of `rules` (one rule file) and one Graph sign-in page of `sign_ins`, under `tmp`:
/// (rules folder, logs folder).
fn case(tmp: &common::Tmp, rules: &str, sign_ins: Vec<Value>) -> (PathBuf, PathBuf) {
    let dir = tmp.0.join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let page = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
        "value": sign_ins,
    });
    let logs = tmp.0.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("signIns.json"), page.to_string()).unwrap();
    (dir, logs)
}

/// The findings titled `title` of `hunt` over the case (with `extra`), which must exit 0, and
/// the whole output.
fn findings_titled(
    case: &(PathBuf, PathBuf),
    extra: Option<&str>,
    title: &str,
) -> (Vec<Value>, String) {
    let out = common::bin()
        .arg("hunt")
        .arg(&case.1)
        .arg("--rules")
        .arg(&case.0)
        .args(["--no-builtin", "--format", "jsonl"])
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let found = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|f| f["rule"]["title"] == title)
        .collect();
    (found, text)
}

/// The record numbers of a finding's evidence, in its order.
fn evidence_records(finding: &Value) -> Vec<u64> {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["record"].as_u64())
        .collect()
}

#[test]
fn a_correlation_over_a_correlation_reports_the_inner_events() {
    let tmp = common::Tmp::new("hunt-chain");
    let adele = "adele.vance@contoso.com";
    let alex = "alex.wilber@contoso.com";
    let case = case(
        &tmp,
        RULES,
        vec![
            sign_in(0, "2021-04-28T14:20:00Z", adele, 0),
            sign_in(1, "2021-04-28T14:08:45Z", adele, 50126),
            sign_in(2, "2021-04-28T14:08:40Z", alex, 50126),
            sign_in(3, "2021-04-28T14:05:10Z", adele, 50126),
            sign_in(4, "2021-04-28T14:02:00Z", adele, 0),
            sign_in(5, "2021-04-28T14:21:00Z", alex, 0),
        ],
    );
    for extra in [None, Some("--decode-all")] {
        let (chain, text) = findings_titled(&case, extra, "Failed sign-ins then a success");
        assert_eq!(chain.len(), 1, "{text}");
        let records = evidence_records(&chain[0]);
        // The two failures of Adele (records 3 and 1, in time order), then her success (0); not
        // her earlier success (4), nor Alex's single failure.
        assert_eq!(records, [3, 1, 0], "{}", chain[0]);
        assert_eq!(chain[0]["actor"]["user"], adele, "{}", chain[0]);
    }
}

const SHARED: &str = r#"title: Failed sign-in
name: login_failed
status: test
logsource: {product: azure, service: signinlogs}
detection:
  sel: {ResultType: 50126}
  condition: sel
level: low
---
title: Sign-in
name: any_login
status: test
logsource: {product: azure, service: signinlogs}
detection:
  sel: {userPrincipalName|contains: '@'}
  condition: sel
level: low
---
title: Many failed sign-ins
name: many_failures
correlation:
  type: event_count
  rules: [login_failed]
  group-by: [tw.user]
  timespan: 10m
  condition: {gte: 2}
---
title: Sign-ins from an address
name: failing_addresses
correlation:
  type: value_count
  rules: [any_login]
  group-by: [tw.user]
  timespan: 10m
  condition: {field: ipAddress, gte: 1}
---
title: Failures counted both ways
id: 5a1c0f3e-8d2b-4c6e-9f7a-1b2c3d4e5f61
correlation:
  type: temporal
  rules: [many_failures, failing_addresses]
  group-by: [tw.user]
  timespan: 30m
level: high
"#;

#[test]
fn a_record_behind_two_inner_correlations_is_listed_once() {
    let tmp = common::Tmp::new("hunt-chain-shared");
    let adele = "adele.vance@contoso.com";
    let case = case(
        &tmp,
        SHARED,
        vec![
            sign_in(0, "2021-04-28T14:20:00Z", adele, 0),
            sign_in(1, "2021-04-28T14:08:45Z", adele, 50126),
            sign_in(2, "2021-04-28T14:05:10Z", adele, 50126),
        ],
    );
    let (both, text) = findings_titled(&case, None, "Failures counted both ways");
    assert_eq!(both.len(), 1, "{text}");
    let mut records = evidence_records(&both[0]);
    // Both inner correlations stand on Adele's two failures (matched by two rules): each is
    // listed once, with her success, which the second one counts too.
    let listed = records.len();
    records.sort_unstable();
    records.dedup();
    assert_eq!(listed, records.len(), "{}", both[0]);
    assert_eq!(records, [0, 1, 2], "{}", both[0]);
}
