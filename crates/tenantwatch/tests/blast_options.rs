//! `tenantwatch blast` seeds and bounds through the CLI on one simulated case: `--app`,
//! `--partner-tenant`, `--max-shared` and `--findings-min-level`, checked against the case's
//! ground truth.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn tw(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    o
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A simulated case (seed 42) in a scratch folder, removed at the end of the test.
struct Case {
    dir: PathBuf,
    truth: Value,
}

impl Case {
    fn new(tag: &str) -> Case {
        let dir = std::env::temp_dir().join(format!("tw-blast-opt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = tw(&[
            "simulate",
            "--out",
            dir.to_str().unwrap(),
            "--tenants",
            "10",
            "--compromised",
            "3",
            "--scale",
            "0.03",
            "--seed",
            "42",
        ]);
        assert!(o.status.success(), "{}", err(&o));
        let truth = serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap())
            .unwrap();
        Case { dir, truth }
    }

    fn logs(&self) -> String {
        self.dir.join("logs").to_str().unwrap().to_string()
    }

    /// Runs blast with `--format json`; checks the exit status is 0.
    fn blast_json(&self, args: &[&str]) -> Value {
        let logs = self.logs();
        let mut a = vec!["blast", logs.as_str()];
        a.extend(args);
        a.extend(["--format", "json"]);
        let o = tw(&a);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        serde_json::from_slice(&o.stdout).expect("blast JSON")
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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

fn with_status<'a>(r: &'a Value, status: &str) -> BTreeSet<&'a str> {
    r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == status)
        .map(|t| t["tenant_id"].as_str().unwrap())
        .collect()
}

/// Shared-infrastructure addresses not followed, with the number of other identities using them.
fn shared(r: &Value) -> Vec<(String, u64)> {
    r["not_followed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let reason = p["reason"].as_str()?;
            // "… with an honest history: N identities not compromised used it …"
            let n = reason.strip_prefix("shared infrastructure with an honest history: ")?;
            let n = n.split(' ').next()?.parse().ok()?;
            Some((p["indicator"].as_str()?.to_string(), n))
        })
        .collect()
}

#[test]
fn an_app_seed_reaches_only_compromised_tenants() {
    let case = Case::new("app");
    let truth = &case.truth;
    // The applications the partner account gave credentials to, as the actor seed finds them.
    let by_actor = case.blast_json(&["--actor", truth["partner_account"].as_str().unwrap()]);
    let apps: Vec<String> = by_actor["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            p["indicator"]
                .as_str()?
                .strip_prefix("app:")
                .map(str::to_string)
        })
        .collect();
    assert!(!apps.is_empty(), "{by_actor:#}");
    let compromised = strs(&truth["compromised_tenants"]);
    for app in &apps {
        let r = case.blast_json(&["--app", app]);
        assert_eq!(r["seeds"][0]["kind"], "app");
        assert_eq!(r["seeds"][0]["value"], app.clone());
        assert!(r["seeds"][0]["records"].as_u64().unwrap() > 0, "{app}");
        assert_eq!(r["pivots"][0]["indicator"], format!("app:{app}"));
        let affected = with_status(&r, "affected");
        assert!(!affected.is_empty(), "{app}");
        // The account that planted the application's credential is compromised through it, so
        // the partner's own tenant, where that account signed in from the attacker's
        // addresses, may be affected too; no other customer is.
        let partner = truth["partner_tenant"].as_str().unwrap();
        for t in affected {
            assert!(compromised.contains(t) || t == partner, "{app} reached {t}");
        }
    }
}

#[test]
fn a_partner_tenant_seed_shows_its_access_without_presuming_it_malicious() {
    let case = Case::new("partner");
    let truth = &case.truth;
    let partner = truth["partner_tenant"].as_str().unwrap();
    let r = case.blast_json(&["--partner-tenant", partner]);
    assert_eq!(r["seeds"][0]["kind"], "partner_tenant");
    assert!(r["seeds"][0]["records"].as_u64().unwrap() > 0);
    assert_eq!(r["pivots"][0]["kind"], "tenant");
    assert_eq!(r["pivots"][0]["indicator"], partner);
    assert!(with_status(&r, "affected").is_empty(), "{r:#}");
    // Every customer the partner administers shows its access.
    let access = with_status(&r, "access_no_activity");
    for t in strs(&truth["compromised_tenants"])
        .iter()
        .chain(&strs(&truth["untouched_partner_tenants"]))
    {
        assert!(access.contains(t.as_str()), "{t}: {access:?}");
    }
}

#[test]
fn max_shared_moves_the_shared_infrastructure_threshold() {
    let case = Case::new("shared");
    let truth = &case.truth;
    let actor = truth["partner_account"].as_str().unwrap();
    let default = case.blast_json(&["--actor", actor]);
    let low: Vec<(String, u64)> = shared(&default);
    assert!(!low.is_empty(), "the case has shared addresses");
    let m = low.iter().map(|s| s.1).min().unwrap();
    let r = case.blast_json(&["--actor", actor, "--max-shared", &m.to_string()]);
    // Only addresses with more than m honest co-users are still refused for them.
    for (ip, n) in shared(&r) {
        assert!(
            n > m,
            "{ip} used by {n} others is not followed at --max-shared {m}"
        );
    }
    // Addresses whose honest co-users --max-shared now tolerates are no longer refused for them
    // (one may still be refused for another reason, e.g. its egress pool's honest history).
    let still: BTreeSet<String> = shared(&r).into_iter().map(|s| s.0).collect();
    for (ip, n) in &low {
        if *n <= m {
            assert!(!still.contains(ip), "{ip} ({n} others) still refused");
        }
    }
}

#[test]
fn findings_min_level_says_which_findings_are_not_seeds() {
    let case = Case::new("levels");
    let logs = case.logs();
    let o = tw(&["hunt", &logs, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let findings = String::from_utf8(o.stdout).unwrap();
    let levels: Vec<String> = findings
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["rule"]["level"].as_str().unwrap().to_string()
        })
        .collect();
    let file = case.dir.join("findings.jsonl");
    std::fs::write(&file, &findings).unwrap();
    let file = file.to_str().unwrap();
    let total = levels.len();
    for (min, kept) in [
        ("critical", &["critical"][..]),
        ("high", &["high", "critical"][..]),
        ("low", &["low", "medium", "high", "critical"][..]),
    ] {
        let below = levels
            .iter()
            .filter(|l| !kept.contains(&l.as_str()))
            .count();
        let o = tw(&[
            "blast",
            &logs,
            "--findings",
            file,
            "--findings-min-level",
            min,
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let said = format!(
            "{below} of {total} findings are below --findings-min-level {min} and are not seeds"
        );
        assert_eq!(err(&o).contains(&said), below > 0, "{min}: {}", err(&o));
    }
    let o = tw(&[
        "blast",
        &logs,
        "--findings",
        file,
        "--findings-min-level",
        "severe",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("unknown --findings-min-level \"severe\""),
        "{}",
        err(&o)
    );
}
