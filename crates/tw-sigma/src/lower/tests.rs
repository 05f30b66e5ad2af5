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
    // KQL: the network fully spelled out for `ipv6_is_in_range`, the address checked first.
    let k = kql::lower(&s, &Ctx);
    assert_eq!(k.compiled.len(), 1, "{:?}", k.not_compiled);
    let q = &k.compiled[0].query;
    assert!(
        q.contains(r#"ipv6_is_in_range("#) && q.contains(r#""2001:db8:0:0:0:0:0:0/32")"#),
        "{q}"
    );
    assert!(q.contains("<= 7"), "{q}");
    assert!(q.contains("tohex("), "{q}");
}

/// What the KQL address check does, step by step, with its own regexes (`trim`, `extract`,
/// `matches regex` and `extract_all` as KQL defines them).
fn kql_address_of(text: &str) -> Option<String> {
    let re = |r: &str| regex::Regex::new(r).unwrap();
    let ws = re(&format!("^{0}|{0}$", super::kql_parts::WS));
    let t = ws.replace_all(text, "").to_string();
    let c = if t.starts_with('[') {
        let caps = re(super::kql_parts::BRACKETED).captures(&t)?;
        caps[1].to_string()
    } else {
        t
    };
    let h = match re(&super::kql_parts::v4_tail()).captures(&c) {
        Some(tail) => {
            let o = re(super::kql_parts::OCTETS).captures(&c)?;
            let n = |k: usize| o[k].parse::<u32>().unwrap();
            format!(
                "{}{:x}:{:x}",
                &tail[1],
                n(1) * 256 + n(2),
                n(3) * 256 + n(4)
            )
        }
        None => c,
    };
    let groups = re("([0-9A-Fa-f]+)").find_iter(&h).count();
    let valid =
        re(&super::kql_parts::v6_shape()).is_match(&h) && (!h.contains("::") || groups <= 7);
    valid.then_some(h)
}

/// The IPv4 address the KQL test of an IPv4 network reads: a dotted one (plain, `[v4]`,
/// `v4:port`), else the IPv4 address an IPv4-mapped IPv6 address holds.
fn kql_v4_of(text: &str) -> Option<std::net::Ipv4Addr> {
    let re = |r: &str| regex::Regex::new(r).unwrap();
    let ws = re(&format!("^{0}|{0}$", super::kql_parts::WS));
    let t = ws.replace_all(text, "").to_string();
    let port = re(&super::kql_parts::v4_port());
    let c = if t.starts_with('[') {
        let caps = re(super::kql_parts::BRACKETED).captures(&t);
        caps.map_or(String::new(), |c| c[1].to_string())
    } else if let Some(caps) = port.captures(&t) {
        caps[1].to_string()
    } else {
        t
    };
    if re(&format!("^{}$", super::kql_parts::v4())).is_match(&c) {
        return c.parse().ok();
    }
    let h = kql_address_of(text)?.parse::<std::net::Ipv6Addr>().ok()?;
    h.to_ipv4_mapped()
}

#[test]
fn kql_ipv4_networks_read_ports_brackets_and_mapped_addresses_as_the_engine() {
    let spellings = [
        "10.1.2.3",
        " 10.1.2.3\u{a0}",
        "10.1.2.3:443",
        "10.1.2.3:",
        "10.1.2.3:44a",
        "[10.1.2.3]",
        "[10.1.2.3]:443",
        "010.1.2.3",
        "10.1.2",
        "256.1.2.3",
        "::ffff:10.1.2.3",
        "[::ffff:10.1.2.3]:443",
        "::ffff:a01:203",
        "0:0:0:0:0:ffff:a01:203",
        "::10.1.2.3",
        "::fffe:10.1.2.3",
        "2001:db8::1",
        "",
        "x10.1.2.3",
    ];
    for text in spellings {
        let native = match crate::value::parse_ip(text) {
            Some(std::net::IpAddr::V4(a)) => Some(a),
            Some(std::net::IpAddr::V6(a)) => a.to_ipv4_mapped(),
            None => None,
        };
        assert_eq!(kql_v4_of(text), native, "{text:?}");
    }
    // Both forms in the query: the dotted address, and the mapped range of the network.
    let s = set(&rule("  sel:\n    ip|cidr: 10.0.0.0/8\n  condition: sel"));
    let q = &kql::lower(&s, &Ctx).compiled[0].query;
    assert!(
        q.contains(r#"ipv4_is_in_range("#) && q.contains(r#""10.0.0.0/8")"#),
        "{q}"
    );
    assert!(q.contains(r#""0:0:0:0:0:ffff:a00:0/104")"#), "{q}");
}

#[test]
fn kql_address_check_accepts_what_the_native_parser_reads_as_ipv6() {
    let spellings = [
        "2001:db8::1",
        " 2001:DB8::1 ",
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        "[2001:db8::1",
        "2001:db8::1%eth0",
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "1::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7",
        "2001:db8:::1",
        "12345::",
        "::ffff:10.1.2.3",
        "1:2:3:4:5:6:10.1.2.3",
        "1:2:3:4:5:6:7:10.1.2.3",
        "::010.1.2.3",
        "::256.1.2.3",
        "::1.2.3",
        "10.1.2.3",
        "10.1.2.3:80",
        "[10.1.2.3]",
        "\u{a0}::1\u{3000}",
        "\u{2028}::2",
        "::g",
        ":1::2",
        "1::2:",
        "",
    ];
    for text in spellings {
        let native = crate::value::parse_ip(text).filter(std::net::IpAddr::is_ipv6);
        let kql = kql_address_of(text).map(|h| h.parse::<std::net::Ipv6Addr>());
        match (native, kql) {
            (Some(ip), Some(Ok(h))) => assert_eq!(ip, std::net::IpAddr::V6(h), "{text:?}"),
            (None, None) => {}
            (n, k) => panic!("{text:?}: native {n:?}, KQL {k:?}"),
        }
    }
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
    // KQL: the same reading of the text or the epoch number.
    let k = kql::lower(&s, &Ctx);
    assert_eq!(k.compiled.len(), 1, "{:?}", k.not_compiled);
    let q = &k.compiled[0].query;
    // ISO 8601 weeks (`week_of_year`, not the older `weekofyear`), the day rolling over.
    assert!(
        q.contains(r#"week_of_year(datetime_add("day", toint(substring("#),
        "{q}"
    );
    assert!(!q.contains("weekofyear("), "{q}");
    // The clock: 16 UTF-8 bytes at least, then `T`, `t` or a space, two digits, one ASCII
    // character, two digits.
    assert!(
        q.contains(r#"countof("#) && q.contains(r#"[^\x00-\x{FFFF}]"#),
        "{q}"
    );
    assert!(q.contains(r#"== "t" or"#), "{q}");
    assert!(q.contains(r#"[0-9]{2}[\x00-\x7F][0-9]{2}"#), "{q}");
    // Epoch numbers: milliseconds from 1e11, truncated toward zero, UTC.
    assert!(q.contains(">= 1e11"), "{q}");
    assert!(q.contains("unixtime_seconds_todatetime(iff("), "{q}");
    assert!(q.contains("hourofday(") && q.contains(">= real(22)"), "{q}");
    assert!(q.contains("== real(53)"), "{q}");
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

/// Two failures per user, then a success; and the apps with bursts of two users.
const NESTED: &str = concat!(
    "title: fail\nname: fail\nlogsource: {product: azure, service: auditlogs}\n",
    "detection: {sel: {Operation: Sign-in failed}, condition: sel}\n---\n",
    "title: ok\nname: ok\nlogsource: {product: azure, service: auditlogs}\n",
    "detection: {sel: {Operation: Sign-in}, condition: sel}\n---\n",
    "title: then ok\nid: outer\ncorrelation:\n  type: temporal_ordered\n",
    "  rules: [burst, ok]\n  group-by: [User]\n  timespan: 30m\n---\n",
    "title: burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: [fail]\n",
    "  group-by: [app, User]\n  timespan: 10m\n  condition: {gte: 2}\n---\n",
    "title: apps\nid: apps\ncorrelation:\n  type: value_count\n  rules: [burst]\n",
    "  group-by: [APP]\n  timespan: 3h\n  condition: {field: user, gte: 2}\n",
);

#[test]
fn a_correlation_of_a_correlation_observes_the_inner_windows() {
    let s = set(NESTED);
    let out = spark::lower(&s, &Ctx);
    let ids: Vec<&str> = out.compiled.iter().map(|l| l.rule_id.as_str()).collect();
    // The inner correlation is consumed: it has no query of its own.
    assert_eq!(ids, vec!["outer", "apps"], "{:?}", out.not_compiled);
    let q = &out.compiled[0].query;
    // Inner CTEs (correlation 1) come before the outer ones (correlation 0), which read them.
    let (o1, w1, o0) = (
        q.find("o1 AS (").unwrap(),
        q.find("w1 AS (").unwrap(),
        q.find("o0 AS (").unwrap(),
    );
    assert!(o1 < w1 && w1 < o0, "{q}");
    assert!(q.contains("FROM w1"), "{q}");
    // The outer group-by `User` is the inner's second group value; the inner is evaluated
    // first (rank 0, source 1), the rule matches are source 0.
    assert!(q.contains("t, 1 AS src, CAST('' AS STRING) AS file, CAST(0 AS BIGINT) AS record, 0 AS p, gk, wi, gk[1] AS g0"), "{q}");
    assert!(q.contains("0 AS src, file, record, 1 AS p"), "{q}");
    // Both rules' conditions are in the one query, the inner window of 10 minutes too.
    assert!(
        q.contains("'sign-in failed'") && q.contains("'sign-in'"),
        "{q}"
    );
    assert!(
        q.contains("xs[k].t + 600000") && q.contains("xs[k].t + 1800000"),
        "{q}"
    );
    // Evidence: the base records of the outer windows' observations.
    assert!(q.contains("FROM w0 LATERAL VIEW explode(ev) AS e"), "{q}");
    // With the window each record belongs to.
    assert!(
        q.contains("to_json(named_struct('g', gk, 'w', wi)) AS window_id FROM w0"),
        "{q}"
    );
    // `APP` finds the inner `app` ignoring case; the counted `user` is the inner `User`.
    let apps = &out.compiled[1].query;
    assert!(apps.contains("gk[0] AS g0, gk[1] AS v"), "{apps}");
}

#[test]
fn a_measured_inner_value_is_a_number_as_the_engine_writes_it() {
    let yaml = NESTED.replace(
        "condition: {field: user, gte: 2}",
        "condition: {field: tries, gte: 4}",
    );
    let s = set(&yaml.replace("value_count", "value_sum"));
    let out = spark::lower(&s, &Ctx);
    let q = &out.compiled[1].query;
    assert!(
        q.contains(
            "CASE WHEN abs(m) < 1e15 AND m = floor(m) THEN CAST(CAST(m AS BIGINT) AS STRING)"
        ),
        "{q}"
    );
    // Counting distinct measured averages: each side writes a double one way, so distinct
    // averages are distinct texts on both: lowered.
    let averages = yaml.replace("type: event_count", "type: value_avg\n  field: n");
    let out = spark::lower(&set(&averages), &Ctx);
    let ids: Vec<&str> = out.compiled.iter().map(|l| l.rule_id.as_str()).collect();
    assert!(ids.contains(&"apps"), "{:?}", out.not_compiled);
    let apps = &out.compiled[ids.iter().position(|i| *i == "apps").unwrap()].query;
    assert!(
        apps.contains("CAST(CAST(m AS BIGINT) AS STRING) ELSE CAST(m AS STRING) END AS v"),
        "{apps}"
    );
    // Counted together with a rule's field texts, a fraction's spelling would matter: refused.
    let mixed = averages.replace("  rules: [burst]\n", "  rules: [burst, fail]\n");
    let out = spark::lower(&set(&mixed), &Ctx);
    let refused: Vec<&str> = out.not_compiled.iter().map(|n| n.reason.as_str()).collect();
    assert!(
        refused.iter().any(|r| r.contains(
            "value_count of the measured values of correlation burst together with values read from events"
        )),
        "{refused:?}"
    );
}

#[test]
fn correlations_are_ranked_in_the_native_evaluation_order() {
    let s = set(NESTED);
    // The first pass skips outer (0), which waits for burst (1), evaluates burst, then apps
    // (2), whose inner correlation is now done; the second pass evaluates outer.
    assert_eq!(super::spark_corr::evaluation_rank(&s), vec![2, 0, 1]);
}

/// `Ctx`, except that correlation `.0` is native-only.
struct NativeCorrelation(usize);

impl LowerContext for NativeCorrelation {
    fn scope(&self, r: usize) -> Result<Scope, String> {
        Ctx.scope(r)
    }
    fn reads(&self, format: Option<&str>, field: &str) -> Vec<FieldRead> {
        Ctx.reads(format, field)
    }
    fn native_only(&self, _: usize) -> Option<String> {
        None
    }
    fn correlation_native_only(&self, c: usize) -> Option<String> {
        (c == self.0).then(|| "kept against a history".to_string())
    }
    fn tables(&self, _: usize) -> Vec<(String, String)> {
        Vec::new()
    }
    fn targets(&self, _: &str, field: &str) -> Vec<String> {
        vec![field.to_string()]
    }
}

#[test]
fn an_outer_correlation_of_a_native_only_one_is_native_only() {
    let out = spark::lower(&set(NESTED), &NativeCorrelation(1));
    assert!(out.compiled.is_empty(), "{:?}", out.compiled);
    assert_eq!(out.not_compiled.len(), 2);
    assert!(
        out.not_compiled
            .iter()
            .all(|n| n.reason == "refers to correlation burst: kept against a history"),
        "{:?}",
        out.not_compiled
    );
}

#[test]
fn a_native_only_outer_correlation_is_not_lowered() {
    let out = spark::lower(&set(NESTED), &NativeCorrelation(0));
    let ids: Vec<&str> = out.compiled.iter().map(|l| l.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["apps"]);
    assert_eq!(out.not_compiled.len(), 1);
    assert_eq!(out.not_compiled[0].rule_id, "outer");
    assert_eq!(out.not_compiled[0].reason, "kept against a history");
}

#[test]
fn value_percentile_takes_the_nearest_rank() {
    let rules = NESTED
        .split("---\ntitle: then ok")
        .next()
        .unwrap_or_default();
    let yaml = format!(
        "{rules}---\ntitle: slow\nid: p\ncorrelation:\n  type: value_percentile\n  rules: [fail]\n  group-by: [User]\n  timespan: 1h\n  condition: {{field: ms, percentile: 75, gte: 1000}}\n"
    );
    let out = spark::lower(&set(&yaml), &Ctx);
    let q = &out
        .compiled
        .iter()
        .find(|l| l.rule_id == "p")
        .expect("compiled")
        .query;
    assert!(q.contains("element_at(array_sort("), "{q}");
    assert!(
        q.contains("ceil(CAST('75' AS DOUBLE) / CAST(100 AS DOUBLE) * CAST(size("),
        "{q}"
    );
    assert!(q.contains(">= CAST('1000' AS DOUBLE)"), "{q}");
}

#[test]
fn an_inner_correlation_two_levels_share_is_defined_once() {
    // `both` reads `burst` directly and through `then ok`: three levels, `burst` built once.
    let yaml = format!(
        "{NESTED}---\ntitle: both\nid: both\ncorrelation:\n  type: temporal\n  rules: [then_ok, burst]\n  group-by: [User]\n  timespan: 1h\n"
    )
    .replace("title: then ok\nid: outer\n", "title: then ok\nid: outer\nname: then_ok\n");
    let out = spark::lower(&set(&yaml), &Ctx);
    let q = &out
        .compiled
        .iter()
        .find(|l| l.rule_id == "both")
        .expect("compiled")
        .query;
    for cte in [
        "o1 AS (", "w1 AS (", "o0 AS (", "w0 AS (", "o3 AS (", "w3 AS (",
    ] {
        assert_eq!(q.matches(cte).count(), 1, "{cte}: {q}");
    }
    // Inner levels first: burst, then `then ok`, then `both`.
    let at = |cte: &str| q.find(cte).unwrap_or(usize::MAX);
    assert!(
        at("w1 AS (") < at("o0 AS (") && at("w0 AS (") < at("o3 AS ("),
        "{q}"
    );
    // `then ok` and `burst` are consumed by `both` (no generate): only `both` and `apps` remain.
    let ids: Vec<&str> = out.compiled.iter().map(|l| l.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["apps", "both"], "{:?}", out.not_compiled);
}
