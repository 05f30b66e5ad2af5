//! The command line itself: `--help`, `--version`, an unknown subcommand or option, and
//! `rules list --format json`.

use std::process::{Command, Output};

use serde_json::Value;

fn tw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .args(args)
        .output()
        .expect("run tenantwatch")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn help_lists_every_command_and_the_exit_statuses() {
    let o = tw(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    for cmd in ["audit", "blast", "ingest", "hunt", "rules", "simulate"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd}: {out}"
        );
    }
    assert!(
        out.contains("Exit status: 0 ran clean; 1 usage or fatal error"),
        "{out}"
    );
    let o = tw(&["hunt", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.contains("--max-correlation-state"), "{out}");
    assert!(
        out.contains("A rejected rule gives status 2 even without --strict"),
        "{out}"
    );
    assert!(out.contains("2 ran, but something was left out: a rule rejected (hunt, rules)"));
    let o = tw(&["blast", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("--strict"));
}

#[test]
fn version_is_the_package_version() {
    let o = tw(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("tenantwatch {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_subcommand_or_option_is_a_usage_error() {
    let o = tw(&["hnut", "logs"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("unrecognized subcommand 'hnut'"), "{err}");
    assert!(o.stdout.is_empty());
    let o = tw(&["hunt", "logs", "--no-such-option"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--no-such-option"));
    let o = tw(&[]);
    assert_eq!(o.status.code(), Some(1), "no subcommand");
}

#[test]
fn rules_list_as_json_gives_every_builtin_rule() {
    let o = tw(&["rules", "list", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rules = v["rules"].as_array().expect("rules");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"))
        .expect("rules folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
        .count();
    // One rule per file of the pack, each loaded, with its path, id, title and level.
    assert_eq!(rules.len(), files);
    assert_eq!(v["summary"]["loaded"], files);
    assert_eq!(v["summary"]["rejected"], 0);
    for r in rules {
        assert_eq!(r["status"], "loaded", "{r}");
        assert!(
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("builtin:tw_") && p.ends_with(".yml")),
            "{r}"
        );
        assert!(r["id"].is_string() && r["title"].is_string(), "{r}");
        assert!(
            matches!(
                r["level"].as_str(),
                Some("informational" | "low" | "medium" | "high" | "critical")
            ),
            "{r}"
        );
    }
}
