//! The raw-record prefilter never hides a match: for any JSON record, every rule the engine
//! matches on the parsed record is among the prefilter's candidates for the record's bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tw_detect::prefilter::{PrefilterScratch, RawPrefilter, Verdict, raw_literal};
use tw_sigma::{FieldRef, RuleSet};

const RULES: &str = r#"
title: op equals
logsource: {product: m365}
detection: {sel: {Operation: Set-Mailbox}, condition: sel}
---
title: nested contains all
logsource: {product: m365}
detection: {sel: {Parameters.Name|contains|all: [Forwarding, Smtp]}, condition: sel}
---
title: starts and number
logsource: {product: azure}
detection:
  sel: {properties.message|startswith: 'Add service principal', ResultType: 50126}
  condition: sel
---
title: keywords
logsource: {product: azure}
detection: {kw: ['AzureHound', 'Update application – Certificates'], condition: kw}
---
title: bool and exists
logsource: {product: azure}
detection:
  sel: {DeviceDetail.isCompliant: 'false', userAgent|exists: true}
  condition: sel
---
title: or of and
logsource: {product: azure}
detection:
  a: {targetResources.displayName|endswith: '.onmicrosoft.com'}
  b: {operationName: 'Add domain to company.', result: success}
  condition: a or b
---
title: regex and wildcard
logsource: {product: azure}
detection:
  sel: {requestUri|re: '/(me|users/[^/]+)/messages', userAgent: 'python*requests'}
  condition: sel
---
title: empty and base64
logsource: {product: azure}
detection:
  sel: {DeviceDetail.deviceId: '', CommandLine|base64offset|contains: 'secret'}
  condition: sel
---
title: not
logsource: {product: azure}
detection:
  sel: {Workload: Exchange}
  f: {UserId|endswith: '@contoso.com'}
  condition: sel and not f
"#;

fn setup() -> &'static (RuleSet, RawPrefilter) {
    static S: OnceLock<(RuleSet, RawPrefilter)> = OnceLock::new();
    S.get_or_init(|| {
        let mut b = RuleSet::builder();
        b.add_yaml("fuzz.yml", RULES);
        let set = b.build();
        assert!(set.errors().is_empty(), "{:?}", set.errors());
        let keys = |_: usize, f: &FieldRef| {
            let leaf = f.name().rsplit('.').next()?;
            Some(vec![raw_literal(&leaf.to_lowercase())?])
        };
        let pre = RawPrefilter::new(&set, &|_| true, &keys, &[]);
        (set, pre)
    })
}

fuzz_target!(|data: &[u8]| {
    let (set, pre) = setup();
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if !doc.is_object() {
        return;
    }
    let matched: Vec<u32> = set
        .matches_unindexed(&doc)
        .into_iter()
        .map(|m| m.rule as u32)
        .collect();
    let mut s = PrefilterScratch::default();
    match pre.verdict(data, true, &mut s) {
        Verdict::All => {}
        Verdict::Skip => assert!(matched.is_empty(), "skipped a record matching {matched:?}"),
        // No rule is set aside by this prefilter.
        Verdict::Defer(t) => panic!("set aside for tenant {t} with no rule set aside"),
        Verdict::Rules(c) => {
            for m in &matched {
                assert!(c.contains(m), "rule {m} matched but not a candidate ({c:?})");
            }
        }
    }
});
