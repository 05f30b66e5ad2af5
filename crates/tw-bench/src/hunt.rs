//! `tw-bench hunt`: runs a folder of Sigma rules (no built-in pack) over log exports with
//! [`tw_detect::Hunter`] and prints throughput, CPU time, the candidate index's skip share and
//! peak RSS as one JSON object.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tw_detect::{HuntOptions, Hunter, RuleSource, origin_of_path};
use tw_ingest::IngestOptions;

use crate::{cpu_seconds, peak_rss_mib};

/// Files under `p` (sorted), keeping only those `keep` accepts inside folders.
fn walk(p: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, keep, out)?;
        } else if keep(&e) {
            out.push(e);
        }
    }
    Ok(())
}

/// Every `.yml` / `.yaml` file under `dir` as a rule source.
pub fn load_rules(dir: &Path) -> std::io::Result<Vec<RuleSource>> {
    let mut files = Vec::new();
    let yaml = |e: &Path| e.extension().is_some_and(|x| x == "yml" || x == "yaml");
    walk(dir, &yaml, &mut files)?;
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f)?;
            let path = f.to_string_lossy().to_string();
            Ok(RuleSource {
                origin: origin_of_path(&path),
                path,
                text,
            })
        })
        .collect()
}

/// Runs the hunt and prints one JSON object.
/// With `builtin`, the built-in pack runs besides the rules in `rules` (as `tenantwatch hunt`
/// does without `--no-builtin`).
pub fn bench_hunt(
    paths: &[PathBuf],
    rules: &Path,
    threads: usize,
    builtin: bool,
) -> Result<(), String> {
    let mut sources = load_rules(rules).map_err(|e| format!("{}: {e}", rules.display()))?;
    if builtin {
        sources.extend(tw_detect::builtin_rules());
    }
    let t0 = Instant::now();
    let hunter = Hunter::new(&sources, HashMap::new())?;
    let compile_s = t0.elapsed().as_secs_f64();
    let set = hunter.rule_set();
    for e in set.errors() {
        eprintln!("tw-bench: rule rejected: {e}");
    }
    let rules_loaded = set.rules().len();
    let bytes: u64 = paths.iter().map(|p| input_bytes(p)).sum();
    let opts = HuntOptions {
        ingest: IngestOptions {
            threads,
            ..IngestOptions::default()
        },
        ..HuntOptions::default()
    };
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let result = hunter.hunt(paths, &opts);
    let secs = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu0).max(0.01);
    let mb = bytes as f64 / 1e6;
    let st = &result.stats;
    let pairs = st.evaluated + st.skipped;
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for f in &result.findings {
        *by_rule.entry(f.rule.title.clone()).or_default() += 1;
    }
    let out = serde_json::json!({
        "paths": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "rules_dir": rules.display().to_string(),
        "builtin": builtin,
        "rule_files": sources.len(),
        "rules": rules_loaded,
        "rules_rejected": set.errors().len(),
        "compile_seconds": round(compile_s, 3),
        "threads": threads,
        "bytes": bytes,
        "records": result.ingest.totals.records,
        "rejected": result.ingest.totals.rejected,
        "events": st.events,
        "findings": result.findings.len(),
        "seconds": round(secs, 2),
        "cpu_seconds": round(cpu, 2),
        "events_per_s": (st.events as f64 / secs).round(),
        "events_per_cpu_s": (st.events as f64 / cpu).round(),
        "mb_per_s": round(mb / secs, 1),
        "mb_per_cpu_s": round(mb / cpu, 1),
        "pairs_evaluated": st.evaluated,
        "pairs_skipped": st.skipped,
        "skipped_share": round(st.skipped as f64 / (pairs.max(1)) as f64, 4),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "findings_by_rule": by_rule,
    });
    println!("{out}");
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

fn input_bytes(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| input_bytes(&e.path()))
                    .sum()
            })
            .unwrap_or(0)
    } else {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }
}

/// `tw-bench prefilter`: how the raw-record prefilter of the rules in `rules` splits the lines of
/// JSON-lines files (skipped, some rules, every rule) and how fast it scans, on one thread.
pub fn bench_prefilter(paths: &[PathBuf], rules: &Path, builtin: bool) -> Result<(), String> {
    use tw_detect::prefilter::Verdict;
    let mut sources = load_rules(rules).map_err(|e| format!("{}: {e}", rules.display()))?;
    if builtin {
        sources.extend(tw_detect::builtin_rules());
    }
    let hunter = Hunter::new(&sources, HashMap::new())?;
    let mut pre = hunter.prefilter().clone();
    let t = Instant::now();
    let sample = tw_detect::prefilter::sample_texts(paths);
    let refs: Vec<&[u8]> = sample.iter().map(Vec::as_slice).collect();
    if std::env::var_os("TW_NO_TUNE").is_none() {
        pre.tune(&refs);
    }
    let tune_s = t.elapsed().as_secs_f64();
    eprintln!("{pre:?}");
    let set = hunter.rule_set();
    let always: Vec<String> = pre
        .always()
        .iter()
        .map(|&r| set.rules()[r as usize].title().to_string())
        .collect();
    if let Ok(dump) = std::env::var("TW_DUMP_LITERALS") {
        let text: String = pre
            .literals()
            .map(|(l, scanned)| format!("{l}\t{scanned}\n"))
            .collect();
        std::fs::write(dump, text).map_err(|e| e.to_string())?;
    }
    if let Ok(want) = std::env::var("TW_DESCRIBE") {
        for (i, r) in set.rules().iter().enumerate() {
            if r.title().contains(want.as_str()) || r.path().contains(want.as_str()) {
                eprintln!("{}: {:?}", r.title(), pre.describe(i));
            }
        }
    }
    let mut files = Vec::new();
    for p in paths {
        walk(p, &|_| true, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let (mut skip, mut some, mut all, mut cand_rules, mut bytes) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut per_file = BTreeMap::new();
    let mut by_rule: BTreeMap<u32, u64> = BTreeMap::new();
    let mut kept_only = 0u64;
    let mut seen = tw_detect::prefilter::PrefilterScratch::default();
    let mut secs = 0.0;
    for f in &files {
        let data = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        bytes += data.len() as u64;
        let t = Instant::now();
        let (mut fs, mut fo, mut fa) = (0u64, 0u64, 0u64);
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match pre.verdict(line, true, &mut seen) {
                Verdict::Skip | Verdict::Defer(_) => fs += 1,
                Verdict::Rules(r) => {
                    fo += 1;
                    kept_only += u64::from(r.is_empty());
                    cand_rules += r.len() as u64;
                    for x in &r {
                        *by_rule.entry(*x).or_insert(0u64) += 1;
                    }
                }
                Verdict::All => fa += 1,
            }
        }
        secs += t.elapsed().as_secs_f64();
        skip += fs;
        some += fo;
        all += fa;
        per_file.insert(f.display().to_string(), [fs, fo, fa]);
    }
    let records = skip + some + all;
    let mut top: Vec<(u64, &str)> = by_rule
        .iter()
        .map(|(r, n)| (*n, set.rules()[*r as usize].title()))
        .collect();
    top.sort_by(|a, b| b.cmp(a));
    top.truncate(12);
    let out = serde_json::json!({
        "rules": set.rules().len(),
        "literals": pre.literal_count(),
        "scanned_literals": pre.scanned_count(),
        "sample_texts": sample.len(),
        "tune_seconds": round(tune_s, 3),
        "always": always,
        "records": records,
        "skipped": skip,
        "some_rules": some,
        "kept_without_rule": kept_only,
        "all_rules": all,
        "mean_candidates": round(cand_rules as f64 / some.max(1) as f64, 2),
        "scan_seconds": round(secs, 2),
        "scan_mb_per_s": round(bytes as f64 / 1e6 / secs, 1),
        "scan_records_per_s": (records as f64 / secs).round(),
        "per_file_skip_some_all": per_file,
        "top_candidate_rules": top,
    });
    println!("{out}");
    Ok(())
}
