//! `tenantwatch hunt` options through the CLI on generated unified audit log lines:
//! `--max-correlation-state` (a bound that holds, says when it cuts, and is never 0), `--out`,
//! `--config` placeholders, and the exit status when a rule is rejected.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("tw-hunt-opt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hunt(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(dir)
        .arg("hunt")
        .args(args)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn findings(text: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| serde_json::from_str(l).expect("finding JSON"))
        .collect()
}

/// A MailItemsAccessed record of the Management Activity API from `ip` at minute `min`.
fn mail_read(n: usize, ip: &str, min: usize) -> String {
    format!(
        r#"{{"CreationTime":"2024-03-01T10:{min:02}:{:02}","Id":"0b1f6c8e-7d2a-4e3b-9c4d-{n:012}","Operation":"MailItemsAccessed","OrganizationId":"{TENANT}","RecordType":50,"ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","UserId":"adele.vance@contoso.com","ClientIPAddress":"{ip}"}}"#,
        n % 60
    ) + "\n"
}

const RULES: &str = "title: Mail read\nid: 5f0c7a1e-2222-4c1e-9a55-000000000001\nname: mail_read\nstatus: test\nlevel: low\n\
logsource: {product: m365, service: exchange}\ndetection:\n  sel:\n    Operation: MailItemsAccessed\n  condition: sel\n\
---\ntitle: Many mail reads from one address\nid: 5f0c7a1e-2222-4c1e-9a55-000000000002\nstatus: test\nlevel: high\n\
correlation:\n  type: event_count\n  rules: [mail_read]\n  group-by: [ClientIPAddress]\n  timespan: 1h\n  condition: {gte: 3}\n";

#[test]
fn the_correlation_state_bound_holds_and_says_what_it_dropped() {
    let tmp = Tmp::new("corr");
    // 20 addresses, each reading mail 3 times in a row: 60 observations, 20 groups.
    let text: String = (0..60)
        .map(|i| mail_read(i, &format!("198.51.100.{}", i / 3), i / 3))
        .collect();
    tmp.write("ual.jsonl", text);
    tmp.write("rules.yml", RULES);
    let base = ["ual.jsonl", "--rules", "rules.yml", "--no-builtin"];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend(["--format", "jsonl", "--threads", "2"]);
        a.extend(extra);
        hunt(&tmp.0, &a)
    };
    let all = run(&[]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert_eq!(findings(&all.stdout).len(), 20);
    assert!(!stderr(&all).contains("bound reached"), "{}", stderr(&all));

    // Room for 10 groups: those read first are found, the rest dropped and counted.
    let cut = run(&["--max-correlation-state", "30"]);
    assert_eq!(cut.status.code(), Some(0), "{}", stderr(&cut));
    let f = findings(&cut.stdout);
    assert_eq!(f.len(), 10);
    for x in &f {
        assert_eq!(x["rule"]["title"], "Many mail reads from one address");
        assert_eq!(x["evidence"].as_array().map(Vec::len), Some(3), "{x}");
    }
    let ips: Vec<&str> = f.iter().map(|x| x["ip"].as_str().unwrap_or("")).collect();
    for i in 0..10 {
        assert!(ips.contains(&format!("198.51.100.{i}").as_str()), "{ips:?}");
    }
    assert!(
        stderr(&cut).contains("correlation state bound reached, 30 observations dropped"),
        "{}",
        stderr(&cut)
    );

    // 0 is no setting: the bound always holds.
    let zero = run(&["--max-correlation-state", "0"]);
    assert_eq!(zero.status.code(), Some(1));
    assert!(
        stderr(&zero).contains("--max-correlation-state must be at least 1"),
        "{}",
        stderr(&zero)
    );
    assert!(zero.stdout.is_empty());
}

#[test]
fn out_writes_the_findings_to_a_file_and_nothing_to_standard_output() {
    let tmp = Tmp::new("out");
    let text: String = (0..6).map(|i| mail_read(i, "198.51.100.7", i)).collect();
    tmp.write("ual.jsonl", text);
    tmp.write("rules.yml", RULES);
    let args = [
        "ual.jsonl",
        "--rules",
        "rules.yml",
        "--no-builtin",
        "--format",
        "jsonl",
    ];
    let to_stdout = hunt(&tmp.0, &args);
    assert_eq!(to_stdout.status.code(), Some(0));
    assert_eq!(findings(&to_stdout.stdout).len(), 1);
    let mut with_out = args.to_vec();
    with_out.extend(["--out", "findings.jsonl"]);
    let o = hunt(&tmp.0, &with_out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let written = std::fs::read(tmp.0.join("findings.jsonl")).unwrap();
    assert_eq!(written, to_stdout.stdout);
    // A file that cannot be created is a fatal error.
    let mut bad = args.to_vec();
    bad.extend(["--out", "no-such-folder/findings.jsonl"]);
    let o = hunt(&tmp.0, &bad);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot create"), "{}", stderr(&o));
}

#[test]
fn config_placeholders_resolve_expand_and_a_rejected_rule_exits_2() {
    let tmp = Tmp::new("config");
    let text: String = [
        mail_read(1, "203.0.113.45", 1),
        mail_read(2, "198.51.100.9", 2),
    ]
    .concat();
    tmp.write("ual.jsonl", text);
    tmp.write(
        "rule.yml",
        "title: Mail read from a known attacker address\nid: 5f0c7a1e-2222-4c1e-9a55-000000000003\nstatus: test\nlevel: high\n\
         logsource: {product: m365, service: exchange}\ndetection:\n  sel:\n    Operation: MailItemsAccessed\n    ClientIPAddress|expand: '%attacker_ips%'\n  condition: sel\n",
    );
    tmp.write(
        "config.yml",
        "placeholders:\n  attacker_ips: ['203.0.113.45']\n",
    );
    let args = [
        "ual.jsonl",
        "--rules",
        "rule.yml",
        "--no-builtin",
        "--format",
        "jsonl",
    ];
    let mut with = args.to_vec();
    with.extend(["--config", "config.yml"]);
    let o = hunt(&tmp.0, &with);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let f = findings(&o.stdout);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["ip"], "203.0.113.45");
    // Without the config the rule is rejected, named with its placeholder: the hunt runs the
    // other rules and exits 2 even without --strict (a rule asked for did not run).
    let o = hunt(&tmp.0, &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("rule rejected: ") && err.contains("rule.yml") && err.contains("attacker_ips"),
        "{err}"
    );
    assert!(
        err.contains("0 rules, 0 correlations, 0 retired skipped, 1 rejected"),
        "{err}"
    );
    // A config that is not there is a fatal error.
    let mut missing = args.to_vec();
    missing.extend(["--config", "nope.yml"]);
    assert_eq!(hunt(&tmp.0, &missing).status.code(), Some(1));
}
