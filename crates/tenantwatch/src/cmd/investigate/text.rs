//! The verdict for a terminal: at most [`MAX_LINES`] lines on any case, every list capped with
//! "… and N more", control characters from the logs replaced.

use std::collections::BTreeMap;

use tw_analyze::verdict::Verdict;
use tw_report::table::clean;

/// The line budget of the verdict.
pub const MAX_LINES: usize = 60;

fn day(t: Option<tw_event::Timestamp>) -> String {
    t.map(|t| {
        let s = t.to_string();
        s.get(..16).unwrap_or(&s).replace('T', " ")
    })
    .unwrap_or_else(|| "-".into())
}

/// Up to `shown` lines, then "… and N more".
fn capped(out: &mut Vec<String>, lines: Vec<String>, shown: usize) {
    let n = lines.len();
    if n <= shown + 1 {
        out.extend(lines);
        return;
    }
    out.extend(lines.into_iter().take(shown));
    out.push(format!("  … and {} more (verdict.json)", n - shown));
}

/// Items packed into lines of at most ~100 characters, at most `max_lines` lines.
fn packed(out: &mut Vec<String>, items: &[String], max_lines: usize) {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::from(" ");
    let mut used = 0;
    for it in items {
        if cur.len() + it.len() > 100 && cur.len() > 1 {
            if lines.len() + 1 >= max_lines {
                break;
            }
            lines.push(std::mem::replace(&mut cur, String::from(" ")));
        }
        cur.push(' ');
        cur.push_str(it);
        used += 1;
    }
    if cur.len() > 1 {
        lines.push(cur);
    }
    if used < items.len()
        && let Some(last) = lines.last_mut()
    {
        last.push_str(&format!(" … and {} more", items.len() - used));
    }
    out.extend(lines);
}

/// The verdict as lines of text.
pub fn verdict_lines(v: &Verdict, case_dir: &str) -> Vec<String> {
    let mut o = Vec::new();
    let customers = v
        .affected_tenants
        .iter()
        .filter(|t| t.role != "partner")
        .count();
    let window = v.attack_window.map_or_else(
        || "no malicious activity linked".to_string(),
        |w| {
            format!(
                "attack window {} .. {} UTC",
                day(Some(w.from)),
                day(Some(w.to))
            )
        },
    );
    o.push(format!(
        "VERDICT: {} tenant(s) affected ({customers} customer), {} of {} examined; {window}{}",
        v.affected_tenants.len(),
        v.affected_tenants.len(),
        v.tenants_examined,
        if v.truncated {
            " — TRUNCATED, lists may be incomplete (verdict.json notes)"
        } else {
            ""
        }
    ));
    identities(&mut o, v);
    affected(&mut o, v);
    reached(&mut o, v);
    gaps(&mut o, v);
    unexplained(&mut o, v);
    unread(&mut o, v);
    o.push("What to do first:".into());
    let actions: Vec<String> = v
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| format!("  {}. {}", i + 1, clean(a, 150)))
        .collect();
    capped(&mut o, actions, 5);
    o.push(format!(
        "Case folder: {} (index.html, verdict.json, reports/, manifest.json)",
        clean(case_dir, 200)
    ));
    o.truncate(MAX_LINES);
    o
}

fn identities(o: &mut Vec<String>, v: &Verdict) {
    o.push(format!(
        "Compromised identities ({}):",
        v.compromised_identities.len()
    ));
    let lines = v
        .compromised_identities
        .iter()
        .map(|i| {
            format!(
                "  {} {} — {}",
                i.kind,
                clean(&i.id, 60),
                clean(&i.reason, 110)
            )
        })
        .collect();
    capped(o, lines, 6);
    o.push(format!(
        "Attacker addresses ({}):",
        v.attacker_addresses.len()
    ));
    let addrs: Vec<String> = v
        .attacker_addresses
        .iter()
        .map(|a| clean(&a.address, 45))
        .collect();
    packed(o, &addrs, 2);
}

fn affected(o: &mut Vec<String>, v: &Verdict) {
    o.push(format!("Affected tenants ({}):", v.affected_tenants.len()));
    let lines = v
        .affected_tenants
        .iter()
        .map(|t| {
            let name = if t.name.is_empty() {
                &t.tenant_id
            } else {
                &t.name
            };
            format!(
                "  {}{} {} .. {}  mailboxes read {}, objects changed {}; {}",
                clean(name, 36),
                if t.role == "partner" {
                    " (partner)"
                } else {
                    ""
                },
                day(t.first),
                day(t.last),
                t.mailboxes_read.len() + t.mailbox_ids_read.len(),
                t.objects_changed.len(),
                clean(&techniques(&t.techniques), 48)
            )
        })
        .collect();
    capped(o, lines, 14);
}

/// Technique labels without their ATT&CK tags, each once.
fn techniques(list: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for t in list {
        let w = t.split_whitespace().next().unwrap_or("");
        if !w.is_empty() && !seen.contains(&w) {
            seen.push(w);
        }
    }
    seen.join(",")
}

fn reached(o: &mut Vec<String>, v: &Verdict) {
    o.push(format!(
        "Reached, no malicious activity ({}):",
        v.reached_no_activity.len()
    ));
    let items: Vec<String> = v
        .reached_no_activity
        .iter()
        .map(|t| {
            format!(
                "{} [{}..{}]",
                clean(v.name_of(&t.tenant_id), 30),
                day(t.coverage.first).get(..10).unwrap_or("-"),
                day(t.coverage.last).get(..10).unwrap_or("-")
            )
        })
        .collect();
    packed(o, &items, 4);
}

fn gaps(o: &mut Vec<String>, v: &Verdict) {
    let mut by: BTreeMap<(usize, &str), Vec<String>> = BTreeMap::new();
    // Affected tenants first, then those reached, then the rest.
    let rank = |t: &str| {
        if v.affected_tenants.iter().any(|x| x.tenant_id == t) {
            0
        } else if v.reached_no_activity.iter().any(|x| x.tenant_id == t) {
            1
        } else {
            2
        }
    };
    for g in &v.coverage_gaps {
        let key = (rank(&g.tenant_id), g.tenant_id.as_str());
        by.entry(key).or_default().push(match g.kind.as_str() {
            "missing" => format!("{} missing", g.log_kind),
            k => format!(
                "{} {k} {}..{}",
                g.log_kind,
                day(Some(g.from)).get(5..).unwrap_or("-"),
                day(Some(g.to)).get(5..).unwrap_or("-")
            ),
        });
    }
    let window = if v.attack_window.is_some() {
        "in the attack window"
    } else {
        "in the case period"
    };
    o.push(format!(
        "Logs missing or with gaps {window} ({} tenants):",
        by.len()
    ));
    let lines = by
        .into_iter()
        .map(|((_, t), list)| {
            let shown = list.iter().take(2).cloned().collect::<Vec<_>>().join("; ");
            let extra = list.len().saturating_sub(2);
            format!(
                "  {}: {}{}",
                clean(v.name_of(t), 36),
                clean(&shown, 90),
                if extra > 0 {
                    format!(" (+{extra})")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    capped(o, lines, 6);
}

fn unexplained(o: &mut Vec<String>, v: &Verdict) {
    o.push(format!(
        "High findings the breach does not explain ({}):",
        v.unexplained_findings.len()
    ));
    let lines = v
        .unexplained_findings
        .iter()
        .map(|f| {
            format!(
                "  {} {} [{}] {}",
                day(f.time),
                clean(v.name_of(f.tenant_id.as_deref().unwrap_or("-")), 30),
                f.rule.level,
                clean(&f.rule.title, 80)
            )
        })
        .collect();
    capped(o, lines, 4);
}

fn unread(o: &mut Vec<String>, v: &Verdict) {
    if v.files_not_fully_read.is_empty() {
        return;
    }
    o.push(format!(
        "Files not fully read ({}):",
        v.files_not_fully_read.len()
    ));
    let lines = v
        .files_not_fully_read
        .iter()
        .map(|f| {
            format!(
                "  {} {}: {}",
                f.status,
                clean(&f.path, 70),
                clean(f.reason.as_deref().unwrap_or(""), 60)
            )
        })
        .collect();
    capped(o, lines, 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_capped() {
        let mut o = Vec::new();
        capped(&mut o, (0..20).map(|i| i.to_string()).collect(), 5);
        assert_eq!(o.len(), 6);
        assert!(o[5].contains("15 more"));
        let mut p = Vec::new();
        let items: Vec<String> = (0..200).map(|i| format!("tenant-{i:03}")).collect();
        packed(&mut p, &items, 2);
        assert_eq!(p.len(), 2);
        assert!(p[1].contains("more"));
    }
}
