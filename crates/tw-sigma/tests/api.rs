//! The public API as other crates use it: metadata, evidence, counters, logsource filter.

use serde_json::json;
use tw_sigma::{Level, LogSource, RuleSet, Status};

const RULES: &str = r#"
title: Mailbox forwarding
id: 0001
status: stable
level: high
tags: [attack.t1114.003]
logsource: { product: m365, service: audit }
fields: [UserId]
detection:
  selection:
    Operation: Set-Mailbox
    Parameters|contains: ForwardingSmtpAddress
  filter:
    UserId|endswith: '@contoso.com'
  condition: selection and not filter
---
title: Keyword
id: 0002
level: low
logsource: { product: azure, service: activitylogs }
detection:
  keywords:
    - listKeys
  condition: keywords
"#;

#[test]
fn metadata_evidence_and_counters() {
    let mut b = RuleSet::builder();
    assert_eq!(b.add_yaml("r.yml", RULES), 2);
    let set = b.build();
    assert!(set.errors().is_empty());
    let r = &set.rules()[0];
    assert_eq!(r.id(), Some("0001"));
    assert_eq!(r.level(), Some(Level::High));
    assert_eq!(r.status(), Some(&Status::Stable));
    assert_eq!(r.tags(), ["attack.t1114.003"]);
    assert_eq!(r.logsource().service.as_deref(), Some("audit"));
    assert_eq!(r.fields(), ["Operation", "Parameters", "UserId"]);
    assert_eq!(r.source().fields, ["UserId"]);
    assert!(r.standalone());

    let ev = json!({"Operation": "Set-Mailbox", "Parameters": [{"Name": "ForwardingSmtpAddress", "Value": "x@evil.com"}], "UserId": "a@fabrikam.com"});
    let m = set.matches(&ev);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].rule, 0);
    assert_eq!(
        m[0].fields[0],
        ("Operation".to_string(), "Set-Mailbox".to_string())
    );
    assert_eq!(m[0].fields[1].0, "Parameters");
    assert!(m[0].fields[1].1.contains("ForwardingSmtpAddress"));
    assert_eq!(m[0].fields.len(), 2, "negated filters give no evidence");

    let kw = set.matches(&json!({"op": "Microsoft.Storage/storageAccounts/listKeys/action"}));
    assert_eq!(kw[0].rule, 1);
    assert_eq!(kw[0].fields[0].0, "(keywords)");

    let st = set.stats();
    assert_eq!(st.events, 2);
    assert_eq!(st.evaluated + st.skipped, 4);
    assert!(st.skipped >= 1);
    // Every field has its slot.
    for (i, f) in set.fields().iter().enumerate() {
        assert_eq!(f.slot(), i);
    }
}

#[test]
fn logsource_filter_keeps_compatible_rules() {
    let mut b = RuleSet::builder();
    b.logsource_filter(LogSource {
        product: Some("m365".into()),
        service: Some("audit".into()),
        ..LogSource::default()
    });
    b.add_yaml("r.yml", RULES);
    let set = b.build();
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.filtered_out(), 1);
}

#[test]
fn errors_name_path_line_and_reason() {
    let mut b = RuleSet::builder();
    b.add_yaml(
        "bad.yml",
        "title: t\ndetection:\n  sel:\n    F|contains|startswith: x\n  condition: sel\n",
    );
    let set = b.build();
    let e = &set.errors()[0];
    assert_eq!(e.path, "bad.yml");
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.to_string(),
        "bad.yml:4: conflicting modifiers 'contains' and 'startswith'"
    );
}

#[test]
fn rule_set_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    assert_send_sync::<tw_sigma::Rule>();
}

#[test]
fn a_rule_is_reported_when_one_correlation_referring_to_it_asks_for_it() {
    let rules = r#"
title: mail read
name: mail
logsource: { product: m365, service: audit }
detection:
  sel:
    Operation: MailItemsAccessed
  condition: sel
---
title: admin change
name: admin
logsource: { product: m365, service: audit }
detection:
  sel:
    Operation: Add member to role.
  condition: sel
---
title: many mailboxes
correlation:
  type: value_count
  rules: [mail]
  group-by: [ClientAppId]
  timespan: 1h
  condition: { field: MailboxOwnerUPN, gte: 5 }
generate: true
---
title: same address
correlation:
  type: temporal
  rules: [mail, admin]
  group-by: [ClientIPAddress]
  timespan: 24h
"#;
    let mut b = RuleSet::builder();
    b.add_yaml("r.yml", rules);
    let set = b.build();
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    // `mail` feeds both correlations; one of them asks for its matches: they are reported.
    assert!(set.rules()[0].standalone());
    // `admin` only feeds a correlation without `generate: true`.
    assert!(!set.rules()[1].standalone());
}
