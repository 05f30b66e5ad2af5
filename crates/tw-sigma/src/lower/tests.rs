//! Lowering tests that need no engine: escaping, regex translation, what is refused and why,
//! per-format branches, correlations and the rules they consume. The queries' results are
//! compared with the native engine's in the differential test (`scripts/spark-diff.py`).

use super::*;

/// Every rule on log kind `audit`; formats `a` and `b`, where `a` renames `Operation` to
/// `activityDisplayName` (an operation field) and `tw.user` is a column.
struct Ctx;

impl LowerContext for Ctx {
    fn scope(&self, _: usize) -> Result<Scope, String> {
        Ok(Scope {
            kinds: vec!["audit".into()],
            formats: vec!["a".into(), "b".into()],
        })
    }
    fn reads(&self, format: Option<&str>, field: &str) -> Vec<FieldRead> {
        if field == "tw.user" {
            return vec![FieldRead::Column {
                name: "tw_user".into(),
                list: false,
            }];
        }
        let path = match (format, field) {
            (Some("a"), "Operation") => "activityDisplayName",
            _ => field,
        };
        vec![FieldRead::Json {
            path: path.into(),
            operation: path == "activityDisplayName",
        }]
    }
    fn native_only(&self, _: usize) -> Option<String> {
        None
    }
    fn correlation_native_only(&self, _: usize) -> Option<String> {
        None
    }
    fn tables(&self, _: usize) -> Vec<(String, String)> {
        vec![("AuditLogs".into(), "b".into())]
    }
    fn targets(&self, _: &str, field: &str) -> Vec<String> {
        vec![field.to_string()]
    }
}

fn set(yaml: &str) -> RuleSet {
    let mut b = RuleSet::builder();
    b.add_yaml("t.yml", yaml);
    let set = b.build();
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    set
}

fn rule(detection: &str) -> String {
    format!(
        "title: t\nid: r1\nlevel: high\nlogsource: {{product: azure, service: auditlogs}}\ndetection:\n{detection}\n"
    )
}

#[test]
fn like_and_literal_escaping() {
    let s = set(&rule(
        "  sel:\n    Operation|contains: \"50%_OFF\\\\it's\"\n  condition: sel",
    ));
    let out = spark::lower(&s, &Ctx);
    assert_eq!(out.compiled.len(), 1, "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    // Lowercased needle `50%_off\it's` → LIKE `%50\%\_off\\it's%` → SQL literal.
    assert!(
        q.contains(r"lower(x2) LIKE '%50\\%\\_off\\\\it\'s%'")
            || q.contains(r"LIKE '%50\\%\\_off\\\\it\'s%'"),
        "{q}"
    );
    assert_eq!(out.compiled[0].rule_id, "r1");
    assert_eq!(out.compiled[0].level, "high");
}

#[test]
fn formats_with_other_field_names_get_their_own_branch() {
    let s = set(&rule(
        "  sel:\n    Operation: Add member to role\n  condition: sel",
    ));
    let q = &spark::lower(&s, &Ctx).compiled[0].query;
    assert!(q.contains("log_kind IN ('audit')"), "{q}");
    assert!(q.contains("WHEN format IN ('a') THEN"), "{q}");
    assert!(
        q.contains("'activityDisplayName'") && q.contains("'Operation'"),
        "{q}"
    );
    // Operation names are offered with the normalised variants.
    assert!(q.contains("replace("), "{q}");
    assert!(q.contains("= 'add member to role'"), "{q}");
}

#[test]
fn refused_rules_say_why() {
    let cases = [
        ("    f|re: '[[:alpha:]]+'\n", "POSIX class"),
        ("    f|re: 'a\\b{start}'\n", "word-edge"),
    ];
    for (sel, why) in cases {
        let s = set(&rule(&format!("  sel:\n{sel}  condition: sel")));
        let out = spark::lower(&s, &Ctx);
        assert!(out.compiled.is_empty(), "{sel}");
        assert!(
            out.not_compiled[0].reason.contains(why),
            "{sel}: {:?}",
            out.not_compiled
        );
    }
}

#[test]
fn cidr_numbers_and_columns() {
    let s = set(&rule(
        "  sel:\n    ip|cidr: 10.0.0.0/8\n    ResultType: 0\n    tw.user|endswith: '@contoso.com'\n  condition: sel",
    ));
    let q = &spark::lower(&s, &Ctx).compiled[0].query;
    // 10.0.0.0/8 as hex, for IPv4 addresses and IPv4-mapped IPv6 ones.
    assert!(q.contains("BETWEEN '0a000000' AND '0affffff'"), "{q}");
    assert!(q.contains("LIKE '600000000000000000000ffff%'"), "{q}");
    assert!(
        q.contains("try_cast(") && q.contains("CAST('0' AS DOUBLE)"),
        "{q}"
    );
    assert!(q.contains("`tw_user` IS NULL"), "{q}");
    assert!(q.contains("LIKE '%@contoso.com'"), "{q}");
}

#[test]
fn ipv6_cidr_is_a_range_of_fixed_width_hex() {
    let s = set(&rule(
        "  sel:\n    ip|cidr: '2001:DB8::/32'\n  condition: sel",
    ));
    let out = spark::lower(&s, &Ctx);
    assert_eq!(out.compiled.len(), 1, "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    assert!(
        q.contains(&format!(
            "BETWEEN '620010db8{}' AND '620010db8{}'",
            "0".repeat(24),
            "f".repeat(24)
        )),
        "{q}"
    );
    // `::` expanded to the zero groups it stands for; at most seven groups around it.
    assert!(
        q.contains("repeat('0:', 8 - size(regexp_extract_all("),
        "{q}"
    );
    assert!(q.contains("<= 7"), "{q}");
    // KQL has no exact counterpart: refused with the reason.
    let k = kql::lower(&s, &Ctx);
    assert!(k.compiled.is_empty());
    assert!(
        k.not_compiled[0].reason.contains("IPv6"),
        "{:?}",
        k.not_compiled
    );
}

#[test]
fn time_parts_read_the_text_digits_or_the_epoch_number() {
    let s = set(&rule(
        "  sel:\n    CreationTime|week: 53\n    CreationTime|hour|gte: 22\n  condition: sel",
    ));
    let out = spark::lower(&s, &Ctx);
    assert_eq!(out.compiled.len(), 1, "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    // Text: `YYYY-MM-DD` then an optional clock after `T`, `t` or a space, 16 bytes at least.
    assert!(q.contains("octet_length(t"), "{q}");
    assert!(q.contains("IN ('T', 't', ' ')"), "{q}");
    // ISO week of the date, an out-of-range day rolling over as the engine's civil arithmetic.
    assert!(q.contains("weekofyear(date_add(make_date("), "{q}");
    // Numbers: seconds, or milliseconds from 1e11 on, split with floor semantics in UTC.
    assert!(q.contains(">= 1e11"), "{q}");
    assert!(q.contains("pmod(s"), "{q}");
    assert!(q.contains(">= CAST('22' AS DOUBLE)"), "{q}");
    assert!(q.contains("= CAST('53' AS DOUBLE)"), "{q}");
    let k = kql::lower(&s, &Ctx);
    assert!(
        k.not_compiled[0].reason.contains("time-part"),
        "{:?}",
        k.not_compiled
    );
}

#[test]
fn keywords_search_the_raw_text_with_json_escapes() {
    let s = set(&rule("  kw:\n    - 'say \"hi\"'\n  condition: kw"));
    let q = &spark::lower(&s, &Ctx).compiled[0].query;
    assert!(q.contains("array(raw)"), "{q}");
    // The needle JSON-escaped (`say \"hi\"`), then LIKE-escaped, then SQL-escaped.
    assert!(q.contains(r#"LIKE '%say \\\\"hi\\\\"%'"#), "{q}");
    assert!(q.contains("regexp_extract_all(x1, "), "{q}");
}

#[test]
fn keyword_wildcards_match_each_decoded_string_value() {
    let s = set(&rule("  kw:\n    - 'add*mem?er'\n  condition: kw"));
    let out = spark::lower(&s, &Ctx);
    assert_eq!(out.compiled.len(), 1, "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    // Values only (a token followed by `:` is a key), decoded from JSON, then the engine's
    // anchored pattern in Java's flavour on the lowercased value.
    assert!(q.contains("s NOT LIKE '%:'"), "{q}");
    assert!(
        q.contains(r"lower(from_json(concat('[', s, ']'), 'array<string>')[0]) RLIKE '(?dU)(?s)^.*add.*mem.er.*\\z'"),
        "{q}"
    );
}

#[test]
fn java_regex_translation() {
    let none = ReFlags::default();
    assert_eq!(java_regex("^a$", none).unwrap(), r"(?dU)^a\z");
    let m = ReFlags {
        m: true,
        ..ReFlags::default()
    };
    assert_eq!(java_regex("^a$", m).unwrap(), "(?dUm)^a$");
    assert_eq!(
        java_regex("(?P<x_1>a)[]b]", none).unwrap(),
        r"(?dU)(?:a)[\]b]"
    );
    assert_eq!(java_regex(r"[$]\pL\v", none).unwrap(), r"(?dU)[$]\p{L}\x0B");
    assert!(java_regex(r"\p{Greek}", none).is_err());
    assert!(java_regex("(?m)a", none).is_err());
    assert!(java_regex("a{,3}", none).is_err());
    assert!(java_regex("[a--b]", none).is_err());
}

const CORRELATED: &str = concat!(
    "title: cred\nname: cred\nlogsource: {product: azure, service: auditlogs}\n",
    "detection: {sel: {Operation: Add service principal credentials}, condition: sel}\n---\n",
    "title: signin\nname: signin\nlogsource: {product: azure, service: auditlogs}\n",
    "detection: {sel: {Operation: Sign-in}, condition: sel}\n---\n",
    "title: cred then signin\nid: c1\nlevel: high\ncorrelation:\n  type: temporal_ordered\n",
    "  rules: [cred, signin]\n  aliases:\n    sp: {cred: TargetResources.id, signin: tw.user}\n",
    "  group-by: [sp]\n  timespan: 8h\n",
);

#[test]
fn correlations_replace_the_rules_they_consume() {
    let s = set(CORRELATED);
    let out = spark::lower(&s, &Ctx);
    let ids: Vec<&str> = out.compiled.iter().map(|l| l.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["c1"], "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    assert!(q.contains("xs[k].t + 28800000"), "{q}");
    assert!(
        q.contains("'TargetResources'") && q.contains("`tw_user`"),
        "{q}"
    );
    assert!(q.contains("IF(nx < 2 AND o.p = nx, nx + 1, nx)"), "{q}");
    assert!(
        q.contains("array_position(transform(w, o -> o.p), 0)"),
        "{q}"
    );
}
