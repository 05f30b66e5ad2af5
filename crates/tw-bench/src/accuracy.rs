//! Accuracy of one simulated world: the findings of `tenantwatch hunt` and the results of
//! `tenantwatch blast` judged against the world's `truth.json` (`tenantwatch simulate`).
//!
//! - **Recall per technique**: an attack record counts as found when it is in the evidence of any
//!   finding (over all levels, and over findings of level medium and above).
//! - **Benign high+ findings per tenant**: high or critical findings whose evidence holds no
//!   attack record, counted per tenant (every tenant of the world, those without any at 0).
//! - **Blast affected set**: customer tenants with status `affected` against the attacked ones
//!   (exact, missing, extra), for each blast result given; whether a decoy tenant (where a stolen
//!   account's owner worked honestly) became affected.
//! - **Mailboxes read**: `(tenant, mailbox)` pairs of the blast result against truth (precision,
//!   recall, exact).
//!
//! Evidence files are matched to truth files by path suffix: truth names files relative to
//! `logs/`, findings name them as the path given to `hunt`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

/// Levels in order.
const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn level_rank(l: &str) -> usize {
    LEVELS
        .iter()
        .position(|x| x.eq_ignore_ascii_case(l))
        .unwrap_or(0)
}

/// What truth says about a world, as the evaluation needs it.
#[derive(Debug, Default)]
pub struct Truth {
    /// `(file, record)` → technique.
    pub malicious: BTreeMap<(String, u64), String>,
    /// Every file under `logs/`.
    pub files: BTreeSet<String>,
    /// Attacked customer tenants.
    pub compromised: BTreeSet<String>,
    /// The reseller's tenant.
    pub partner: String,
    /// Every tenant of the world.
    pub tenants: BTreeSet<String>,
    /// Tenants where a stolen account's owner worked honestly.
    pub decoys: BTreeSet<String>,
    /// `(tenant, mailbox)` pairs the attacker read.
    pub mailboxes: BTreeSet<(String, String)>,
    /// Every stolen account.
    pub stolen: Vec<String>,
    /// The world's variations (`null` in a classic world).
    pub variations: Value,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_ascii_lowercase()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

impl Truth {
    /// Reads `truth.json` (classic and varied worlds alike).
    pub fn from_json(v: &Value) -> Result<Truth, String> {
        let mut t = Truth {
            partner: s(&v["partner_tenant"]),
            compromised: strs(&v["compromised_tenants"]).into_iter().collect(),
            ..Truth::default()
        };
        let mal = v["malicious"]
            .as_array()
            .ok_or("truth.json: no `malicious` array")?;
        for m in mal {
            let file = m["file"].as_str().unwrap_or_default().to_string();
            let record = m["record"].as_u64().ok_or("truth.json: a record index")?;
            t.malicious
                .insert((file, record), s(&m["technique"]).to_string());
        }
        if let Some(files) = v["files"].as_object() {
            t.files = files.keys().cloned().collect();
        }
        for tn in v["tenants"].as_array().into_iter().flatten() {
            t.tenants.insert(s(&tn["id"]));
        }
        t.decoys.insert(s(&v["owner_routine_tenant"]));
        for d in v["decoy_tenants"].as_array().into_iter().flatten() {
            t.decoys.insert(s(&d["tenant_id"]));
        }
        t.decoys.remove("");
        for (tenant, mbs) in v["mailboxes_read"].as_object().into_iter().flatten() {
            for m in strs(mbs) {
                t.mailboxes.insert((tenant.to_ascii_lowercase(), m));
            }
        }
        t.variations = v["variations"].clone();
        t.stolen = strs(&v["stolen_accounts"]);
        if t.stolen.is_empty() {
            t.stolen.push(s(&v["partner_account"]));
        }
        Ok(t)
    }

    /// The truth file an evidence path names: itself, or the longest truth path it ends with.
    fn file_of(&self, evidence: &str) -> Option<&str> {
        let e = evidence.replace('\\', "/");
        if let Some(f) = self.files.get(e.as_str()) {
            return Some(f);
        }
        e.match_indices('/')
            .map(|(i, _)| &e[i + 1..])
            .find_map(|suffix| self.files.get(suffix).map(String::as_str))
    }
}

/// A finding, as the evaluation needs it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Level rank (0 informational .. 4 critical).
    pub level: usize,
    /// Tenant id (lower case; empty when absent).
    pub tenant: String,
    /// Evidence `(truth file, record)`; evidence outside truth's files is kept with its path.
    pub evidence: Vec<(String, u64)>,
}

/// Reads findings JSON lines (`hunt --format jsonl`); a line that is not a finding is an error
/// naming the line.
pub fn read_findings(text: &str, truth: &Truth) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("findings line {}: {e}", n + 1))?;
        let level = v["rule"]["level"]
            .as_str()
            .ok_or_else(|| format!("findings line {}: no rule.level", n + 1))?;
        let evidence = v["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let f = e["file"].as_str()?;
                let file = truth.file_of(f).unwrap_or(f).to_string();
                Some((file, e["record"].as_u64()?))
            })
            .collect();
        out.push(Finding {
            level: level_rank(level),
            tenant: s(&v["tenant_id"]),
            evidence,
        });
    }
    Ok(out)
}

/// Found and total attack records of one technique.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recall {
    /// Attack records.
    pub total: u64,
    /// In the evidence of a finding of any level.
    pub found: u64,
    /// In the evidence of a finding of level medium or above.
    pub found_medium: u64,
    /// In the evidence of a finding of level high or above.
    pub found_high: u64,
}

/// Recall per technique.
pub fn recall(truth: &Truth, findings: &[Finding]) -> BTreeMap<String, Recall> {
    let mut any = BTreeSet::new();
    let mut medium = BTreeSet::new();
    let mut high = BTreeSet::new();
    for f in findings {
        for e in &f.evidence {
            any.insert(e);
            if f.level >= 2 {
                medium.insert(e);
            }
            if f.level >= 3 {
                high.insert(e);
            }
        }
    }
    let mut out: BTreeMap<String, Recall> = BTreeMap::new();
    for (key, tech) in &truth.malicious {
        let r = out.entry(tech.clone()).or_default();
        r.total += 1;
        r.found += u64::from(any.contains(key));
        r.found_medium += u64::from(medium.contains(key));
        r.found_high += u64::from(high.contains(key));
    }
    out
}

/// Benign high or critical findings per tenant: every tenant of the world (0 when none), plus
/// any other tenant id the findings name.
pub fn benign_high(truth: &Truth, findings: &[Finding]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = truth.tenants.iter().map(|t| (t.clone(), 0)).collect();
    for f in findings.iter().filter(|f| f.level >= 3) {
        if f.evidence.iter().any(|e| truth.malicious.contains_key(e)) {
            continue;
        }
        let tenant = if f.tenant.is_empty() {
            "unknown".to_string()
        } else {
            f.tenant.clone()
        };
        *out.entry(tenant).or_default() += 1;
    }
    out
}

/// The median of counts (0 for none).
pub fn median(v: &[u64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}

/// A blast result judged against truth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlastScore {
    /// Attacked customer tenants not reported affected.
    pub missing: Vec<String>,
    /// Customer tenants reported affected that were not attacked.
    pub extra: Vec<String>,
    /// Decoy tenants reported affected.
    pub decoys_affected: Vec<String>,
    /// `(tenant, mailbox)` pairs reported.
    pub mailboxes_reported: u64,
    /// Reported pairs that the attacker read.
    pub mailboxes_right: u64,
    /// Pairs the attacker read.
    pub mailboxes_true: u64,
}

impl BlastScore {
    /// The affected set is exactly the attacked tenants.
    pub fn exact(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty()
    }
    /// The mailboxes read are exactly truth's.
    pub fn mailboxes_exact(&self) -> bool {
        self.mailboxes_reported == self.mailboxes_right
            && self.mailboxes_right == self.mailboxes_true
    }
}

/// Judges a blast result (`blast --format json`).
pub fn blast(truth: &Truth, v: &Value) -> Result<BlastScore, String> {
    let tenants = v["tenants"]
        .as_array()
        .ok_or("blast result: no `tenants` array")?;
    let mut affected = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for t in tenants {
        let id = s(&t["tenant_id"]);
        if id == truth.partner || t["role"].as_str() == Some("partner") {
            continue;
        }
        if t["status"].as_str() == Some("affected") {
            affected.insert(id.clone());
        }
        for m in strs(&t["mailboxes_read"]) {
            pairs.insert((id.clone(), m));
        }
    }
    let right = pairs.intersection(&truth.mailboxes).count() as u64;
    Ok(BlastScore {
        missing: truth.compromised.difference(&affected).cloned().collect(),
        extra: affected.difference(&truth.compromised).cloned().collect(),
        decoys_affected: truth.decoys.intersection(&affected).cloned().collect(),
        mailboxes_reported: pairs.len() as u64,
        mailboxes_right: right,
        mailboxes_true: truth.mailboxes.len() as u64,
    })
}

fn blast_json(b: &BlastScore) -> Value {
    json!({
        "exact": b.exact(),
        "missing": b.missing,
        "extra": b.extra,
        "decoys_affected": b.decoys_affected,
        "mailboxes": {
            "reported": b.mailboxes_reported,
            "right": b.mailboxes_right,
            "true": b.mailboxes_true,
            "exact": b.mailboxes_exact(),
        },
    })
}

/// The evaluation of one world as a JSON object (one line of the script's results).
pub fn world_json(
    truth: &Truth,
    findings: &[Finding],
    blast_actor: Option<&BlastScore>,
    blast_findings: Option<&BlastScore>,
) -> Value {
    let rec: BTreeMap<String, Value> = recall(truth, findings)
        .into_iter()
        .map(|(k, r)| {
            let v = json!({"total": r.total, "found": r.found, "found_medium": r.found_medium,
                "found_high": r.found_high});
            (k, v)
        })
        .collect();
    let benign = benign_high(truth, findings);
    let counts: Vec<u64> = benign.values().copied().collect();
    let worst: BTreeMap<&String, &u64> = benign.iter().filter(|(_, n)| **n > 0).collect();
    json!({
        "recall": rec,
        "benign_high": {
            "total": counts.iter().sum::<u64>(),
            "max": counts.iter().max().copied().unwrap_or(0),
            "median": median(&counts),
            "tenants": counts.len(),
            "per_tenant": worst,
        },
        "blast_actor": blast_actor.map(blast_json),
        "blast_findings": blast_findings.map(blast_json),
        "stolen_accounts": truth.stolen,
        "variations": truth.variations,
    })
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * a as f64 / b as f64)
    }
}

fn blast_line(name: &str, b: &Value) -> String {
    if b.is_null() {
        return format!("  {name}: not given\n");
    }
    let m = &b["mailboxes"];
    let (rep, right, tru) = (
        m["reported"].as_u64().unwrap_or(0),
        m["right"].as_u64().unwrap_or(0),
        m["true"].as_u64().unwrap_or(0),
    );
    format!(
        "  {name}: exact {} (missing {}, extra {}), decoy affected {}, mailboxes precision {} recall {} exact {}\n",
        if b["exact"].as_bool() == Some(true) {
            "yes"
        } else {
            "no"
        },
        b["missing"].as_array().map_or(0, Vec::len),
        b["extra"].as_array().map_or(0, Vec::len),
        if b["decoys_affected"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            "YES"
        } else {
            "no"
        },
        pct(right, rep),
        pct(right, tru),
        if m["exact"].as_bool() == Some(true) {
            "yes"
        } else {
            "no"
        },
    )
}

/// The evaluation of one world as text.
pub fn world_text(v: &Value) -> String {
    let mut out = String::from("  recall (all levels / medium+ / high+):\n");
    for (tech, r) in v["recall"].as_object().into_iter().flatten() {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let (t, f, m, h) = (n("total"), n("found"), n("found_medium"), n("found_high"));
        out.push_str(&format!(
            "    {tech:<26} {f:>4}/{t:<4} {:>8}   {m:>4}/{t:<4} {:>8}   {h:>4}/{t:<4} {:>8}\n",
            pct(f, t),
            pct(m, t),
            pct(h, t)
        ));
    }
    let b = &v["benign_high"];
    out.push_str(&format!(
        "  benign high+ findings: {} in {} tenants, max {} per tenant, median {}\n",
        b["total"], b["tenants"], b["max"], b["median"]
    ));
    out.push_str(&blast_line("blast --actor   ", &v["blast_actor"]));
    out.push_str(&blast_line("blast --findings", &v["blast_findings"]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small world: two attacked customers, one untouched decoy, the reseller; the malicious
    /// records are in two files of the attacked tenants.
    fn truth() -> Truth {
        let v = json!({
            "partner_tenant": "P",
            "partner_account": "owner@reseller.com",
            "compromised_tenants": ["A", "B"],
            "owner_routine_tenant": "D",
            "tenants": [{"id": "P"}, {"id": "A"}, {"id": "B"}, {"id": "D"}, {"id": "C"}],
            "mailboxes_read": {"A": ["x@a.com", "y@a.com"], "B": ["z@b.com"]},
            "files": {"customers/a/ual/u.json": 10, "customers/b/entra/s.json": 5,
                      "x.zip!b/ual/u.csv": 3},
            "malicious": [
                {"file": "customers/a/ual/u.json", "record": 1, "technique": "sp_credential_added"},
                {"file": "customers/a/ual/u.json", "record": 2, "technique": "mail_items_accessed"},
                {"file": "customers/b/entra/s.json", "record": 0, "technique": "sp_credential_added"},
                {"file": "x.zip!b/ual/u.csv", "record": 2, "technique": "mail_items_accessed"}
            ]
        });
        Truth::from_json(&v).unwrap()
    }

    fn finding(level: &str, tenant: &str, ev: &[(&str, u64)]) -> String {
        let evidence: Vec<Value> = ev
            .iter()
            .map(|(f, r)| json!({"file": f, "record": r, "line": r + 1}))
            .collect();
        json!({"rule": {"id": "r", "title": "t", "level": level}, "tenant_id": tenant,
               "evidence": evidence})
        .to_string()
    }

    #[test]
    fn recall_counts_records_in_any_findings_evidence_by_path_suffix() {
        let t = truth();
        let text = [
            finding("low", "A", &[("case/logs/customers/a/ual/u.json", 1)]),
            finding("medium", "A", &[("logs/customers/a/ual/u.json", 2)]),
            finding("high", "B", &[("logs/x.zip!b/ual/u.csv", 2)]),
            finding("critical", "A", &[("logs/customers/a/ual/u.json", 7)]),
        ]
        .join("\n");
        let f = read_findings(&text, &t).unwrap();
        let r = recall(&t, &f);
        let cred = r["sp_credential_added"];
        assert_eq!((cred.total, cred.found, cred.found_medium), (2, 1, 0));
        let mail = r["mail_items_accessed"];
        assert_eq!((mail.total, mail.found, mail.found_medium), (2, 2, 2));
        // Record 2 is in a medium finding only; record 7 in a critical one.
        assert_eq!(mail.found_high, 1);
    }

    #[test]
    fn benign_high_counts_only_high_findings_without_attack_records() {
        let t = truth();
        let text = [
            finding("high", "A", &[("logs/customers/a/ual/u.json", 7)]),
            finding("critical", "A", &[("logs/customers/a/ual/u.json", 8)]),
            finding(
                "high",
                "A",
                &[
                    ("logs/customers/a/ual/u.json", 1),
                    ("logs/customers/a/ual/u.json", 9),
                ],
            ),
            finding("medium", "C", &[("logs/customers/a/ual/u.json", 9)]),
            finding("high", "", &[("elsewhere.json", 0)]),
        ]
        .join("\n");
        let f = read_findings(&text, &t).unwrap();
        let b = benign_high(&t, &f);
        assert_eq!(b["a"], 2);
        assert_eq!(b["c"], 0);
        assert_eq!(b["unknown"], 1);
        let counts: Vec<u64> = b.values().copied().collect();
        assert_eq!(median(&counts), 0.0);
        assert_eq!(median(&[3, 1, 2, 0]), 1.5);
    }

    #[test]
    fn blast_scores_affected_set_decoys_and_mailboxes() {
        let t = truth();
        let v = json!({"tenants": [
            {"tenant_id": "P", "role": "partner", "status": "affected", "mailboxes_read": []},
            {"tenant_id": "A", "status": "affected", "mailboxes_read": ["X@a.com", "q@a.com"]},
            {"tenant_id": "B", "status": "access_no_activity", "mailboxes_read": []},
            {"tenant_id": "D", "status": "affected", "mailboxes_read": []},
            {"tenant_id": "C", "status": "not_reached"}
        ]});
        let b = blast(&t, &v).unwrap();
        assert_eq!(b.missing, vec!["b"]);
        assert_eq!(b.extra, vec!["d"]);
        assert_eq!(b.decoys_affected, vec!["d"]);
        assert_eq!(
            (b.mailboxes_reported, b.mailboxes_right, b.mailboxes_true),
            (2, 1, 3)
        );
        assert!(!b.exact() && !b.mailboxes_exact());
        let right = json!({"tenants": [
            {"tenant_id": "a", "status": "affected", "mailboxes_read": ["x@a.com", "y@a.com"]},
            {"tenant_id": "b", "status": "affected", "mailboxes_read": ["z@b.com"]}
        ]});
        let b = blast(&t, &right).unwrap();
        assert!(b.exact() && b.mailboxes_exact() && b.decoys_affected.is_empty());
    }

    #[test]
    fn a_line_that_is_not_a_finding_is_an_error_naming_it() {
        let t = truth();
        let e = read_findings("{\"rule\":{\"level\":\"low\"}}\nnot json", &t).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = read_findings("{\"rule\":{}}", &t).unwrap_err();
        assert!(e.contains("line 1") && e.contains("level"), "{e}");
    }

    #[test]
    fn world_json_and_text_report_every_part() {
        let t = truth();
        let f = read_findings(&finding("high", "C", &[("x", 1)]), &t).unwrap();
        let v = world_json(&t, &f, Some(&BlastScore::default()), None);
        assert_eq!(v["benign_high"]["max"], 1);
        assert_eq!(v["recall"]["sp_credential_added"]["found"], 0);
        let text = world_text(&v);
        assert!(text.contains("blast --findings: not given"), "{text}");
        assert!(text.contains("max 1 per tenant"), "{text}");
    }
}
