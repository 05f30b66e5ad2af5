//! Processing pipelines: mappings, conditions, placeholders, logsource changes, ordering,
//! strict field checking.

use serde_json::json;
use tw_sigma::{CorrelationEngine, CorrelationLimits, Pipeline, RuleSet};

const RULE: &str = r#"
title: signin failure
id: r1
logsource: { product: azure, service: signinlogs }
detection:
  sel:
    ResultType: 50126
    properties.userAgent|contains: python
  condition: sel
"#;

fn set_with(pipelines: &[&str], rule: &str, strict: bool) -> RuleSet {
    let mut b = RuleSet::builder();
    for (i, p) in pipelines.iter().enumerate() {
        b.pipeline(Pipeline::from_yaml(&format!("p{i}.yml"), p).unwrap());
    }
    b.strict_fields(strict);
    b.add_yaml("rule.yml", rule);
    b.build()
}

const MAP: &str = r#"
name: signin graph
priority: 10
transformations:
  - type: field_name_mapping
    mapping:
      ResultType: [status.errorCode, resultType]
    rule_conditions:
      - type: logsource
        product: azure
        service: signinlogs
  - type: field_name_prefix_mapping
    mapping:
      "properties.": ""
"#;

#[test]
fn one_to_many_and_prefix_mapping() {
    let set = set_with(&[MAP], RULE, true);
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    let r = &set.rules()[0];
    assert_eq!(r.fields(), ["status.errorCode", "resultType", "userAgent"]);
    assert!(r.unmapped_fields().is_empty());
    assert_eq!(
        set.matches(&json!({"status": {"errorCode": 50126}, "userAgent": "python-requests"}))
            .len(),
        1
    );
    assert_eq!(
        set.matches(&json!({"resultType": "50126", "userAgent": "python-requests"}))
            .len(),
        1
    );
    assert_eq!(
        set.matches(&json!({"Result": 50126, "userAgent": "python-requests"}))
            .len(),
        0
    );
}

#[test]
fn rule_conditions_filter_by_logsource() {
    let rule = RULE.replace("signinlogs", "auditlogs");
    let set = set_with(&[MAP], &rule, false);
    let r = &set.rules()[0];
    assert_eq!(r.fields(), ["ResultType", "userAgent"]);
    assert_eq!(r.unmapped_fields(), ["ResultType"]);
    // Strict mode rejects the rule and names the field and pipeline.
    let set = set_with(&[MAP], &rule, true);
    assert_eq!(set.rules().len(), 0);
    let e = &set.errors()[0];
    assert!(
        e.reason
            .contains("field 'ResultType' not mapped by pipeline signin graph"),
        "{e}"
    );
    assert_eq!(e.line, Some(7));
}

#[test]
fn add_condition_and_negated() {
    let p = r#"
name: scope
transformations:
  - type: add_condition
    conditions:
      category: SignInLogs
  - type: add_condition
    negated: true
    conditions:
      userType: Guest
"#;
    let set = set_with(&[p], RULE, false);
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    let base = json!({"ResultType": 50126, "properties": {"userAgent": "python"}, "category": "SignInLogs"});
    assert_eq!(set.matches(&base).len(), 1);
    let mut guest = base.clone();
    guest["userType"] = json!("Guest");
    assert_eq!(set.matches(&guest).len(), 0);
    let mut other = base.clone();
    other["category"] = json!("AuditLogs");
    assert_eq!(set.matches(&other).len(), 0);
}

#[test]
fn value_placeholders_from_vars() {
    let rule = r#"
title: t
detection:
  sel:
    homeTenantId|expand: '%HomeTenantID%'
  condition: sel
"#;
    let p = r#"
name: tenant vars
vars:
  HomeTenantID: [aaaa-1111, bbbb-2222]
transformations:
  - type: value_placeholders
"#;
    let set = set_with(&[p], rule, false);
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    assert_eq!(set.matches(&json!({"homeTenantId": "BBBB-2222"})).len(), 1);
    assert_eq!(set.matches(&json!({"homeTenantId": "cccc"})).len(), 0);
    // Without the transformation the placeholder is unresolved.
    let set = set_with(&["name: none\ntransformations: []\n"], rule, false);
    assert!(
        set.errors()[0]
            .reason
            .contains("unresolved placeholder '%HomeTenantID%'")
    );
}

#[test]
fn change_logsource_affects_later_conditions_and_priority_orders_pipelines() {
    let first = r#"
name: second by priority
priority: 20
transformations:
  - type: field_name_mapping
    mapping: { A: B }
    rule_conditions:
      - type: logsource
        service: renamed
"#;
    let second = r#"
name: first by priority
priority: 10
transformations:
  - type: change_logsource
    service: renamed
  - type: field_name_mapping
    mapping: { B: C }
"#;
    let rule = "title: t\nlogsource: {product: x, service: orig}\ndetection:\n  sel:\n    A: 1\n  condition: sel\n";
    let set = set_with(&[first, second], rule, true);
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    let r = &set.rules()[0];
    // priority 10 runs first (B→C does not apply to A), then A→B.
    assert_eq!(r.fields(), ["B"]);
    assert_eq!(r.logsource().service.as_deref(), Some("renamed"));
}

#[test]
fn unsupported_transformation_is_an_error() {
    let e = Pipeline::from_yaml("p.yml", "transformations:\n  - type: drop_detection_item\n")
        .unwrap_err();
    assert!(
        e.reason
            .contains("unsupported pipeline transformation type 'drop_detection_item'")
    );
    assert_eq!(e.line, Some(2));
}

#[test]
fn correlation_group_by_is_mapped() {
    let rules = r#"
title: fail
name: fail
logsource: { product: azure, service: signinlogs }
detection:
  sel:
    ResultType: 50126
  condition: sel
---
title: many
correlation:
  type: event_count
  rules: [fail]
  group-by: [UserPrincipalName]
  timespan: 5m
  condition: { gte: 2 }
"#;
    let p = r#"
name: graph
transformations:
  - type: field_name_mapping
    mapping:
      ResultType: status.errorCode
      UserPrincipalName: userPrincipalName
"#;
    let set = set_with(&[p], rules, true);
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    assert!(!set.rules()[0].standalone());
    let mut engine = CorrelationEngine::new(&set, CorrelationLimits::default());
    for (i, t) in [0i64, 60_000].iter().enumerate() {
        let ev = json!({"status": {"errorCode": 50126}, "userPrincipalName": "a@x"});
        for m in set.matches(&ev) {
            engine.observe(m.rule, i as u64, *t, &ev);
        }
    }
    let (out, stats) = engine.finish();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].group,
        vec![("UserPrincipalName".to_string(), "a@x".to_string())]
    );
    assert_eq!(out[0].events, vec![0, 1]);
    assert_eq!(stats.missing_group_field, 0);
}
