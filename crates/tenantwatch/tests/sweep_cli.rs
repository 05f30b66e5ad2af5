//! `tenantwatch sweep`: indicator files in the shapes agencies and vendors publish (plain,
//! CSV/TSV, STIX 2.1, MISP) load with every skipped entry named by file and line; every indicator
//! kind matches in the fields real exports hold it in (mapped, bracketed and ported addresses,
//! forwarded-for lists, CIDR edges, subdomains); every log format is swept like a text search
//! for the addresses; the example case's attacker addresses find every attacker record; output
//! formats keep log text inert; unreadable input and `--strict`; `--iocs` on `blast`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;
use common::{Tmp, bin};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tenantwatch sweep ARGS` run from the repository root.
fn sweep(args: &[&str]) -> Output {
    bin()
        .current_dir(root())
        .arg("sweep")
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Findings of `--format jsonl` output.
fn findings(o: &Output) -> Vec<Value> {
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(2),
        "{}",
        stderr(o)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (record index, rule title) of each finding.
fn by_record(f: &[Value]) -> BTreeSet<(u64, String)> {
    f.iter()
        .map(|x| {
            (
                x["evidence"][0]["record"].as_u64().unwrap(),
                x["rule"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const IOCS: &str = "tests/fixtures/iocs";
const EDGES: &str = "tests/fixtures/iocs/logs/ual_edges.jsonl";

/// The 1-based line of the first line of `file` holding `marker`.
fn line_of(file: &str, marker: &str) -> usize {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    text.lines().position(|l| l.contains(marker)).unwrap() + 1
}

#[test]
fn published_lists_of_every_shape_load_and_skipped_entries_are_named() {
    let files = [
        "campaign-plain.txt",
        "pulse-export.csv",
        "misp-attributes.csv",
        "vendor-iocs.tsv",
        "advisory.stix.json",
        "misp-event.json",
    ];
    let mut args: Vec<String> = vec![EDGES.into()];
    for f in files {
        args.push("--iocs".into());
        args.push(format!("{IOCS}/{f}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sweep(&refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    // Every entry not loaded, by the text of its line (STIX and MISP: the object's id line).
    let expected = [
        ("campaign-plain.txt", "203.0.113.300"),
        ("campaign-plain.txt", "2001:db8::/129"),
        ("campaign-plain.txt", "see the report"),
        ("pulse-export.csv", "FileHash-SHA256"),
        ("pulse-export.csv", "not-an-address"),
        ("misp-attributes.csv", "sha256"),
        ("vendor-iocs.tsv", "mutex"),
        ("advisory.stix.json", "indicator--5e6f7a8b"),
        ("advisory.stix.json", "indicator--6f7a8b9c"),
        ("advisory.stix.json", "indicator--7a8b9c0d"),
        ("advisory.stix.json", "indicator--8b9c0d1e"),
        ("misp-event.json", "\"md5\""),
        ("misp-event.json", "\"link\""),
        ("misp-event.json", "192.0.2.53"),
        ("misp-event.json", "\"port\""),
    ];
    for (f, marker) in expected {
        let path = format!("{IOCS}/{f}");
        let want = format!("skipped indicator {path}:{}:", line_of(&path, marker));
        assert!(err.contains(&want), "{want} not in\n{err}");
    }
    assert_eq!(
        err.matches("skipped indicator ").count(),
        expected.len(),
        "{err}"
    );
    // Totals per type; repeated values counted as duplicates, not loaded twice: six distinct
    // IPv4 indicators (203.0.113.45, 198.51.100.0/24, 192.0.2.77/32, 192.0.2.200, 198.51.100.23,
    // 192.0.2.99) in fourteen entries.
    assert!(
        err.contains("indicators loaded: ipv4 6 (+8 duplicates), ipv6 3 (+2 duplicates)"),
        "totals wrong:\n{err}"
    );
    assert!(err.contains("skipped: "), "{err}");
    assert!(err.contains("stix relationship objects are no indicators"));
    // The same files under --strict: the skipped entries make the run incomplete.
    let mut strict = refs.clone();
    strict.push("--strict");
    assert_eq!(sweep(&strict).status.code(), Some(2));
}

#[test]
fn every_kind_matches_in_the_fields_exports_hold_it_in() {
    let o = sweep(&[
        EDGES,
        "--iocs",
        "tests/fixtures/iocs/campaign-plain.txt",
        "--format",
        "jsonl",
    ]);
    let f = findings(&o);
    let got = by_record(&f);
    let want: BTreeSet<(u64, String)> = [
        (0, "ipv4 192.0.2.77/32"),
        (1, "ipv6 2001:db8:77::/48"),
        (2, "domain northwind-support.example"),
        (2, "email exfil@northwind-support.example"),
        (2, "ipv4 192.0.2.200"),
        (3, "ipv6 2001:db8:ffff::1/128"),
        (3, "user-agent python-requests/2.25.1"),
        (5, "ipv4 198.51.100.0/24"),
        (7, "domain northwind-support.example"),
        (7, "ipv6 2001:db8:4a::17"),
    ]
    .into_iter()
    .map(|(r, t)| (r, format!("Indicator match: {t}")))
    .collect();
    assert_eq!(got, want);
    let fwd = f
        .iter()
        .find(|x| x["rule"]["title"] == "Indicator match: ipv4 198.51.100.0/24")
        .unwrap();
    assert_eq!(fwd["rule"]["origin"], "ioc");
    assert_eq!(fwd["rule"]["level"], "high");
    assert_eq!(fwd["tenant_id"], "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f");
    assert_eq!(fwd["evidence"][0]["line"], 6);
    assert_eq!(
        fwd["matched"]["ExtendedProperties.Value"],
        "10.20.30.40, 198.51.100.99"
    );
    assert_eq!(
        fwd["matched"]["ioc.description"],
        "hosting range, all of it"
    );
    assert_eq!(
        fwd["matched"]["ioc.source"],
        format!(
            "tests/fixtures/iocs/campaign-plain.txt:{}",
            line_of("tests/fixtures/iocs/campaign-plain.txt", "198.51.100.0/24")
        )
    );
    // Exact domains: the forwarding address on a subdomain no longer matches.
    let exact = by_record(&findings(&sweep(&[
        EDGES,
        "--iocs",
        "tests/fixtures/iocs/campaign-plain.txt",
        "--format",
        "jsonl",
        "--exact-domains",
    ])));
    let mut want_exact = want.clone();
    want_exact.remove(&(
        7,
        "Indicator match: domain northwind-support.example".into(),
    ));
    assert_eq!(exact, want_exact);
}

#[test]
fn the_whole_address_space_and_valid_at() {
    let tmp = Tmp::new("sweep-edges");
    let list = tmp.0.join("all.txt");
    std::fs::write(&list, "0.0.0.0/0\n::/0\n").unwrap();
    let f = findings(&sweep(&[
        EDGES,
        "--iocs",
        list.to_str().unwrap(),
        "--format",
        "jsonl",
    ]));
    // Every record holds an address: IPv4 ones (mapped included) match /0, IPv6 ones ::/0.
    let records: BTreeSet<u64> = by_record(&f).into_iter().map(|x| x.0).collect();
    assert_eq!(records, (0..8).collect());
    // STIX validity: the hosting range was valid until 2022, the rest from November 2024.
    let at = |t: &str| {
        by_record(&findings(&sweep(&[
            EDGES,
            "--iocs",
            "tests/fixtures/iocs/advisory.stix.json",
            "--format",
            "jsonl",
            "--valid-at",
            t,
        ])))
        .into_iter()
        .map(|x| x.1)
        .collect::<BTreeSet<String>>()
    };
    let late = at("2024-11-20T00:00:00Z");
    assert!(late.contains("Indicator match: ipv6 2001:db8:4a::17"));
    assert!(!late.contains("Indicator match: ipv4 198.51.100.0/24"));
    let early = at("2021-06-01T00:00:00Z");
    assert_eq!(
        early,
        ["Indicator match: ipv4 198.51.100.0/24".to_string()].into()
    );
    let o = sweep(&[
        EDGES,
        "--iocs",
        "tests/fixtures/iocs/advisory.stix.json",
        "--valid-at",
        "2024-11-20T00:00:00Z",
    ]);
    assert!(stderr(&o).contains("ipv4 1 (+1 not valid at 2024-11-20T00:00:00Z)"));
    assert_eq!(
        sweep(&[
            EDGES,
            "--iocs",
            "tests/fixtures/iocs/advisory.stix.json",
            "--valid-at",
            "soon"
        ])
        .status
        .code(),
        Some(1)
    );
}

/// Every record read from `path` whose document holds one of `needles`, as (file, record).
fn records_holding(path: &Path, base: &Path, needles: &[&str]) -> BTreeSet<(String, u64)> {
    let mut out = BTreeSet::new();
    let opts = tw_ingest::IngestOptions {
        threads: 1,
        ..Default::default()
    };
    tw_ingest::ingest(
        &[path.to_path_buf()],
        &opts,
        |ev, out: &mut Vec<(String, u64)>| {
            let text = ev.doc().to_string();
            if needles.iter().any(|n| text.contains(n)) {
                out.push((ev.provenance.file.to_string(), ev.provenance.record));
            }
        },
        |(file, rec)| {
            let rel = Path::new(&file)
                .strip_prefix(base)
                .map(|p| p.display().to_string())
                .unwrap_or(file);
            out.insert((rel, rec));
        },
    );
    out
}

/// The (file, record) evidence of findings, files relative to `base`.
fn evidence(f: &[Value], base: &str) -> BTreeSet<(String, u64)> {
    f.iter()
        .map(|x| {
            let file = x["evidence"][0]["file"].as_str().unwrap();
            let rel = file
                .strip_prefix(base)
                .unwrap_or(file)
                .trim_start_matches('/');
            (
                rel.to_string(),
                x["evidence"][0]["record"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_log_format_is_swept_like_a_text_search() {
    let tmp = Tmp::new("sweep-formats");
    let list = tmp.0.join("addresses.txt");
    std::fs::write(&list, "203.0.113[.]45\n2001:db8:4a::17\n").unwrap();
    let base = "tests/fixtures/formats";
    let f = findings(&sweep(&[
        base,
        "--iocs",
        list.to_str().unwrap(),
        "--format",
        "jsonl",
    ]));
    let found = evidence(&f, base);
    let abs = root().join(base);
    let want = records_holding(&abs, &abs, &["203.0.113.45", "2001:db8:4a::17"]);
    assert_eq!(found, want);
    // The fixtures tell the story in every format: the addresses are in most of them.
    let folders: BTreeSet<&str> = want
        .iter()
        .filter_map(|(file, _)| file.split('/').next())
        .collect();
    assert!(folders.len() >= 20, "{folders:?}");
}

#[test]
fn the_example_cases_attacker_addresses_find_every_attacker_record() {
    let base = "examples/reseller-breach/logs";
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/reseller-breach/truth.json")).unwrap(),
    )
    .unwrap();
    let ips: Vec<&str> = truth["attacker_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let tmp = Tmp::new("sweep-example");
    let list = tmp.0.join("attacker.txt");
    std::fs::write(&list, ips.join("\n")).unwrap();
    let f = findings(&sweep(&[
        base,
        "--iocs",
        list.to_str().unwrap(),
        "--format",
        "jsonl",
    ]));
    let found = evidence(&f, base);
    let abs = root().join(base);
    let holding = records_holding(&abs, &abs, &ips);
    let attack: BTreeSet<(String, u64)> = truth["malicious"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap().to_string(),
                m["record"].as_u64().unwrap(),
            )
        })
        .collect();
    let attack_with_address: BTreeSet<_> = attack.intersection(&holding).cloned().collect();
    assert!(attack_with_address.len() > 100);
    assert!(
        attack_with_address.is_subset(&found),
        "missed: {:?}",
        attack_with_address.difference(&found).collect::<Vec<_>>()
    );
    assert_eq!(found, holding);
    // Every compromised tenant shows up in the sweep.
    let tenants: BTreeSet<&str> = f.iter().filter_map(|x| x["tenant_id"].as_str()).collect();
    for t in truth["compromised_tenants"].as_array().unwrap() {
        assert!(tenants.contains(t.as_str().unwrap()), "{t}");
    }
}

#[test]
fn log_text_stays_inert_in_table_and_csv_and_out_writes_the_file() {
    let tmp = Tmp::new("sweep-hostile");
    let log = tmp.0.join("ual.jsonl");
    std::fs::write(
        &log,
        r#"{"CreationTime":"2024-11-18T09:00:00","Id":"9b8c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d09","Operation":"=HYPERLINK(\"http://x\")","OrganizationId":"8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f","RecordType":6,"UserType":0,"Version":1,"Workload":"SharePoint","ClientIP":"203.0.113.45","UserId":"adele.vance@contoso.com","UserAgent":"python-requests/2.25.1 \u001b[2J\u001b]0;owned\u0007"}
"#,
    )
    .unwrap();
    let list = tmp.0.join("iocs.txt");
    std::fs::write(
        &list,
        "203.0.113.45 # relay \u{1b}[31mred\nuser-agent: python-requests/2.25.1\n",
    )
    .unwrap();
    let l = list.to_str().unwrap();
    let table = sweep(&[log.to_str().unwrap(), "--iocs", l]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert!(!table.stdout.contains(&0x1b) && !table.stdout.contains(&0x07));
    assert!(!table.stderr.contains(&0x1b));
    let out = String::from_utf8_lossy(&table.stdout);
    assert!(
        out.contains("tenant 8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f"),
        "{out}"
    );
    assert!(out.contains("2 matches of 2 indicators"), "{out}");
    let csv_path = tmp.0.join("m.csv");
    let csv = sweep(&[
        log.to_str().unwrap(),
        "--iocs",
        l,
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(csv.status.code(), Some(0));
    assert!(csv.stdout.is_empty());
    let text = std::fs::read_to_string(&csv_path).unwrap();
    // Two rows (one per indicator), the formula in the operation cell neutralised.
    assert_eq!(text.matches("'=HYPERLINK").count(), 2, "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"));
}

#[test]
fn unreadable_input_is_counted_and_strict_exits_2() {
    let tmp = Tmp::new("sweep-unread");
    std::fs::copy(root().join(EDGES), tmp.0.join("ual.jsonl")).unwrap();
    std::fs::write(
        tmp.0.join("broken.json.gz"),
        b"\x1f\x8b\x08\x00 not gzip at all",
    )
    .unwrap();
    let dir = tmp.0.to_str().unwrap();
    let list = "tests/fixtures/iocs/campaign-plain.txt";
    let o = sweep(&[dir, "--iocs", list, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("not fully read"), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.json.gz"));
    assert_eq!(findings(&o).len(), 10);
    let strict = sweep(&[dir, "--iocs", list, "--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    // A missing indicator file, or one without any indicator, is an error.
    assert_eq!(sweep(&[dir, "--iocs", "nope.txt"]).status.code(), Some(1));
    let empty = tmp.0.join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    let o = sweep(&[dir, "--iocs", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no indicator loaded"));
}

#[test]
fn blast_seeds_from_indicators_name_them() {
    let base = "examples/reseller-breach/logs";
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/reseller-breach/truth.json")).unwrap(),
    )
    .unwrap();
    let tmp = Tmp::new("sweep-blast");
    let list = tmp.0.join("attacker.txt");
    let ips: Vec<&str> = truth["attacker_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    std::fs::write(&list, format!("# campaign\n{}\n", ips.join("\n"))).unwrap();
    let l = list.to_str().unwrap();
    let o = bin()
        .current_dir(root())
        .args(["blast", base, "--quiet", "--format", "json", "--iocs", l])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let reasons: Vec<&str> = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["reason"].as_str())
        .collect();
    let want = format!("seed: indicator ipv4 {} from {l}:2", ips[0]);
    assert!(
        reasons.iter().any(|x| x.contains(&want)),
        "{want} not in {reasons:?}"
    );
    let status: BTreeMap<&str, &str> = r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tenant_id"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    for t in truth["compromised_tenants"].as_array().unwrap() {
        assert_eq!(status.get(t.as_str().unwrap()), Some(&"affected"), "{t}");
    }
}

#[test]
fn investigate_adds_indicator_seeds_to_the_derived_ones() {
    let base = "examples/reseller-breach/logs";
    let tmp = Tmp::new("sweep-investigate");
    let list = tmp.0.join("attacker.txt");
    std::fs::write(&list, "185.244.67.228\n146.70.14.86\n").unwrap();
    let l = list.to_str().unwrap();
    let matches = findings(&sweep(&[base, "--iocs", l, "--format", "jsonl"])).len() as u64;
    assert!(matches > 0);
    let case = tmp.0.join("case");
    let o = bin()
        .current_dir(root())
        .args(["investigate", base, "--quiet", "--iocs", l, "--out"])
        .arg(&case)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("blast.json")).unwrap()).unwrap();
    let seeds = b["seeds"].as_array().unwrap();
    // The hunt's findings, then the records holding an indicator.
    assert_eq!(seeds.len(), 2, "{seeds:?}");
    assert_eq!(seeds[1]["kind"], "findings");
    assert_eq!(seeds[1]["records"].as_u64(), Some(matches));
}
