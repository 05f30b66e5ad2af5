//! Rough matching throughput: `cargo run --release -p tw-sigma --example throughput -- RULES_DIR [EVENTS]`.
//! Loads every rule under RULES_DIR and matches synthetic sign-in/audit shaped events.

use std::time::Instant;

use serde_json::json;
use tw_sigma::{RuleSet, Scratch};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "../shared/corpus/sigma/rules".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let mut b = RuleSet::builder();
    let mut todo = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                b.add_yaml(&p.display().to_string(), &t);
            }
        }
    }
    let t0 = Instant::now();
    let set = b.build();
    println!(
        "compiled {} rules ({} errors, {} predicates, {} unindexed) in {:?}",
        set.rules().len(),
        set.errors().len(),
        set.predicate_count(),
        set.unindexed_rule_count(),
        t0.elapsed()
    );
    let ops = [
        "Add member to role.",
        "UserLoggedIn",
        "Consent to application.",
        "Set-Mailbox",
        "FileAccessed",
        "Update application – Certificates and secrets management",
        "MailItemsAccessed",
        "New-InboxRule",
    ];
    let events: Vec<_> = (0..1000)
        .map(|i| json!({
            "time": "2024-05-01T03:15:00Z",
            "operationName": ops[i % ops.len()],
            "Operation": ops[(i * 7) % ops.len()],
            "ResultType": if i % 3 == 0 { json!(0) } else { json!("50126") },
            "properties": {"message": ops[(i * 3) % ops.len()], "userAgent": "Mozilla/5.0", "ipAddress": format!("10.0.{}.{}", i % 250, i % 7)},
            "UserId": format!("user{i}@contoso.com"),
            "Parameters": [{"Name": "Identity", "Value": "x"}, {"Name": "ForwardTo", "Value": "a@evil.com"}],
        }))
        .collect();
    let bytes: usize = events.iter().map(|e| e.to_string().len()).sum::<usize>() * n / events.len();
    let mut s = Scratch::new();
    let t0 = Instant::now();
    let mut hits = 0usize;
    for i in 0..n {
        hits += set.matches_with(&events[i % events.len()], &mut s).len();
    }
    let el = t0.elapsed().as_secs_f64();
    let st = set.stats();
    println!(
        "{n} events, {hits} matches in {el:.2}s: {:.0} events/s, {:.1} MB/s of JSON text; pairs evaluated {} skipped {}",
        n as f64 / el,
        bytes as f64 / el / 1e6,
        st.evaluated,
        st.skipped
    );
}
