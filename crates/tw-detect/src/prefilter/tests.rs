use super::plan::count_windows;
use super::*;
use tw_event::Format;

#[test]
fn literals_are_cut_to_what_survives_escapes() {
    assert_eq!(
        raw_literal("update application – certificates and secrets management").as_deref(),
        Some(" certificates and secrets management")
    );
    assert_eq!(raw_literal("/me/messages").as_deref(), Some("/me/messages"));
    assert_eq!(raw_literal("50126"), None);
    assert_eq!(raw_literal("1e3"), None);
    assert_eq!(raw_literal("a-b"), None);
    assert_eq!(raw_literal("süßes"), None);
}

#[test]
fn a_long_value_gives_a_bounded_literal() {
    let long = "a".repeat(40_000);
    assert_eq!(raw_literal(&long), Some("a".repeat(MAX_LITERAL)));
    let s = set(&format!(
        "title: long\nlogsource: {{product: azure}}\ndetection:\n  sel: {{OperationName|contains: 'x-{long}'}}\n  condition: sel\n"
    ));
    let all = |_: &FieldRef| true;
    let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
    assert!(p.literal_count() > 0, "{:?}", p.describe(0));
    for (lit, _) in p.literals() {
        assert!(lit.len() <= MAX_LITERAL, "{} bytes", lit.len());
    }
    let mut seen = PrefilterScratch::default();
    let text = format!(r#"{{"OperationName":"x-{long}"}}"#);
    assert_ne!(p.verdict(text.as_bytes(), true, &mut seen), Verdict::Skip);
    let short = format!(r#"{{"OperationName":"{}"}}"#, "b".repeat(200));
    assert_eq!(p.verdict(short.as_bytes(), true, &mut seen), Verdict::Skip);
}

fn set(yaml: &str) -> RuleSet {
    let mut b = RuleSet::builder();
    b.add_yaml("t.yml", yaml);
    let s = b.build();
    assert!(s.errors().is_empty(), "{:?}", s.errors());
    s
}

#[test]
fn verdicts() {
    let s = set(
        "title: a\nlogsource: {product: azure}\ndetection:\n  sel: {operationName: 'Add owner to application'}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure}\ndetection:\n  sel: {ResultType|re: '^5'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure}\ndetection:\n  sel: {tw.ip: '1.2.3.4'}\n  keywords: ['Set-Mailbox']\n  condition: sel or keywords\n---\ntitle: d\nlogsource: {product: azure}\ndetection:\n  sel: {Operation: 'Set-Mailbox', Parameters|contains|all: ['ForwardingSmtpAddress', 'DeliverToMailboxAndForward']}\n  condition: sel\n",
    );
    let all = |_: &FieldRef| true;
    let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
    let mut seen = PrefilterScratch::default();
    // A regular expression gives no literal.
    assert_eq!(p.always(), &[1]);
    assert_eq!(
        p.verdict(
            br#"{"operationName":"ADD OWNER TO APPLICATION."}"#,
            true,
            &mut seen
        ),
        Verdict::Rules(vec![0, 1])
    );
    assert_eq!(
        p.verdict(
            br#"{"operationName":"Add owner to \u0061pplication"}"#,
            true,
            &mut seen
        ),
        Verdict::All
    );
    // An escaped solidus may hide a literal holding `/`.
    assert_eq!(
        p.verdict(
            br#"{"operationName":"Add owner to\/application"}"#,
            true,
            &mut seen
        ),
        Verdict::All
    );
    // Every clause of d must be satisfied: the operation alone is not enough.
    assert_eq!(
        p.verdict(
            br#"{"Operation":"Set-Mailbox","Parameters":[{"Name":"ForwardingSmtpAddress"}]}"#,
            true,
            &mut seen
        ),
        Verdict::Rules(vec![1, 2])
    );
    assert_eq!(
        p.verdict(br#"{"Operation":"Set-Mailbox","Parameters":[{"Name":"ForwardingSmtpAddress"},{"Name":"DeliverToMailboxAndForward"}]}"#, true, &mut seen),
        Verdict::Rules(vec![1, 2, 3])
    );
    // Without the tw.* field, rule c has no necessary literal: it is always a candidate.
    let no_tw = |f: &FieldRef| !f.name().starts_with("tw.");
    let p = RawPrefilter::new(&s, &no_tw, &|_, _| None, &[]);
    assert_eq!(p.always(), &[1, 2]);
    let s = set(
        "title: a\nlogsource: {product: azure}\ndetection:\n  sel: {operationName: 'Add owner to application', ResultType: 50126}\n  condition: sel\n",
    );
    let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
    assert_eq!(
        p.verdict(
            br#"{"operationName":"Add member","ResultType":50126}"#,
            true,
            &mut seen
        ),
        Verdict::Skip
    );
    assert_eq!(
        p.verdict(
            br#"{"operationName":"Add owner to application","ResultType":"50126"}"#,
            true,
            &mut seen
        ),
        Verdict::Rules(vec![0])
    );
    // KELVIN SIGN lowercases to ASCII k.
    assert_eq!(
        p.verdict("{\"x\":\"\u{212A}\"}".as_bytes(), true, &mut seen),
        Verdict::All
    );
}

/// How often `w` occurs in `texts`, ASCII case-insensitively, counted one position at a time.
fn naive_count(texts: &[&[u8]], w: &[u8]) -> u64 {
    let n: usize = texts
        .iter()
        .map(|t| {
            let t = t.to_ascii_lowercase();
            t.windows(w.len()).filter(|x| *x == w).count()
        })
        .sum();
    n as u64
}

#[test]
fn window_counts_match_a_naive_count() {
    let texts: [&[u8]; 3] = [
        b"{\"ResultType\":\"50126\",\"resultDescription\":\"Invalid\"}",
        b"resulttyperesulttype RESULTTYPE resu",
        b"",
    ];
    let windows: [&[u8]; 5] = [b"resulttype", b"result", b"ulttyp", b"esul", b"nowhere"];
    let (n, fours) = count_windows(&texts, &windows);
    for (w, got) in windows.iter().zip(&n) {
        assert_eq!(
            *got,
            naive_count(&texts, w),
            "{}",
            String::from_utf8_lossy(w)
        );
    }
    assert_eq!(fours.get(b"resu"), Some(&6));
    assert_eq!(fours.get(b"ultt"), Some(&4));
}

/// Windows of every length around the eight bytes compared at once, found in texts that end
/// inside them: counted as a naive count does.
#[test]
fn window_counts_match_a_naive_count_at_every_length() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let word = b"abAB";
    let texts: Vec<Vec<u8>> = (0..300)
        .map(|i| (0..i % 40).map(|_| word[(next() % 4) as usize]).collect())
        .collect();
    let windows: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            (0..4 + i % 12)
                .map(|_| b"ab"[(next() % 2) as usize])
                .collect()
        })
        .collect();
    let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
    let windows: Vec<&[u8]> = windows.iter().map(Vec::as_slice).collect();
    let (n, _) = count_windows(&texts, &windows);
    for (w, got) in windows.iter().zip(&n) {
        assert_eq!(
            *got,
            naive_count(&texts, w),
            "{}",
            String::from_utf8_lossy(w)
        );
    }
}

/// The prefilter of the rules in `yaml`, each field read from a key of its own name, the
/// rules routed to `routes`.
fn keyed_prefilter(yaml: &str, routes: Vec<Vec<LogKind>>) -> RawPrefilter {
    let s = set(yaml);
    let all = |_: &FieldRef| true;
    let keys = |_: usize, f: &FieldRef| Some(vec![f.name().to_lowercase()]);
    let mut p = RawPrefilter::new(&s, &all, &keys, &[]);
    p.route(routes);
    p
}

/// The bit of `kind` in the prefilter's kind masks.
fn kind_bit(p: &RawPrefilter, kind: LogKind) -> u64 {
    1u64 << p.kinds.iter().position(|k| *k == kind).expect("kind")
}

/// A JSON record of the test's text.
fn record(b: &[u8]) -> tw_ingest::RawRecord<'_> {
    tw_ingest::RawRecord {
        bytes: b,
        spells_keys: true,
        format: None,
        falls_back: false,
        source: "test.json",
        record: 0,
        columns: None,
    }
}

#[test]
fn tuned_per_kind_the_prefilter_still_hides_no_match() {
    // Sign-ins built from varied parts (case, escapes, numbers written several ways); the
    // prefilter is routed and tuned on the first of them, so that its per-kind choices
    // (keys every sign-in spells, triggers rare among sign-ins) are in play.
    let s = set(
        "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {userAgent|exists: true}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'mailbox', Details|contains: ['forwardingsmtp', 'redirectto']}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {status.errorCode: 50126}\n  condition: sel\n---\ntitle: d\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {appDisplayName|startswith: 'Azure', tokenIssuerType: 'AzureAD'}\n  condition: sel\n---\ntitle: e\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
    );
    let all = |_: &FieldRef| true;
    let keys = |_: usize, f: &FieldRef| {
        let leaf = f.name().rsplit('.').next()?;
        Some(vec![raw_literal(&leaf.to_lowercase())?])
    };
    let mut p = RawPrefilter::new(&s, &all, &keys, &[]);
    let signin = vec![LogKind::Signin];
    p.route(vec![
        signin.clone(),
        signin.clone(),
        signin.clone(),
        signin,
        vec![LogKind::DirectoryAudit],
    ]);
    let pick = |seed: &mut u64, n: usize| {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as usize % n
    };
    let mut seed = 11u64;
    let texts: Vec<String> = (0..3000)
        .map(|i| {
            let agent = ["", r#","userAgent":"Mozilla""#, r#","UserAgent":null"#, r#","useragent":"x""#];
            let result = ["mailbox full", "MAILBOX", "other", r#"\u006dailbox"#, "mail box"];
            let details = ["ForwardingSmtp on", "redirectTo x", "none", r#"Forwarding\u0053mtp"#];
            let code = ["50126", "50126.0", r#""50126""#, "0", "5.0126e4"];
            let app = ["Azure Portal", "azure CLI", "Office", r#"Azure\/Portal"#];
            let issuer = ["AzureAD", "azuread", "ADFederationServices"];
            format!(
                r#"{{"createdDateTime":"2020-12-14T03:{i}Z"{},"ResultDescription":"{}","Details":"{}","status":{{"errorCode":{}}},"appDisplayName":"{}","tokenIssuerType":"{}"}}"#,
                agent[pick(&mut seed, if i < 600 { 2 } else { 4 }) + usize::from(i < 600)],
                result[pick(&mut seed, 5)],
                details[pick(&mut seed, 4)],
                code[pick(&mut seed, 5)],
                app[pick(&mut seed, 4)],
                issuer[pick(&mut seed, 3)],
            )
        })
        .collect();
    let sample: Vec<&[u8]> = texts[..600].iter().map(|t| t.as_bytes()).collect();
    p.tune(&sample);
    let signin_mask = kind_bit(&p, LogKind::Signin);
    // The sample makes the userAgent key a clause of every sign-in: rule a is not looked up.
    assert_eq!(p.plan(signin_mask, false).always, vec![0]);
    let mut scratch = PrefilterScratch::default();
    let mut matched_any = [false; 4];
    for t in &texts {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(t) else {
            continue;
        };
        let verdict = p.verdict_record(&record(t.as_bytes()), &mut scratch);
        for m in s.matches_unindexed(&doc) {
            if m.rule >= 4 {
                continue;
            }
            matched_any[m.rule] = true;
            let ok = match &verdict {
                Verdict::All => true,
                Verdict::Rules(c) => c.contains(&(m.rule as u32)),
                _ => false,
            };
            assert!(
                ok,
                "rule {} matched {t} but the verdict is {verdict:?}",
                m.rule
            );
        }
    }
    // Every rule matched somewhere, or this test would prove little.
    assert_eq!(matched_any, [true; 4]);
}

#[test]
fn triggers_are_chosen_by_their_share_of_the_rules_own_log_kinds() {
    // "mailbox" is in every sign-in but rare overall (audit records outnumber sign-ins):
    // among sign-ins, the other clause is the rare one.
    let s = set(
        "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'mailbox', Details|contains: ['forwardingsmtp', 'redirectto']}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
    );
    let all = |_: &FieldRef| true;
    let mut p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
    p.route(vec![vec![LogKind::Signin], vec![LogKind::DirectoryAudit]]);
    let signins: Vec<String> = (0..400)
        .map(|i| format!(r#"{{"createdDateTime":"2020-12-14T03:12:{i}Z","ResultDescription":"mailbox {i}","status":{{}}}}"#))
        .collect();
    let audits: Vec<String> = (0..60_000)
        .map(|i| format!(r#"{{"activityDateTime":"x","activityDisplayName":"Update user {i}"}}"#))
        .collect();
    let sample = |signins: &[String]| -> Vec<Vec<u8>> {
        signins
            .iter()
            .chain(&audits)
            .map(|t| t.as_bytes().to_vec())
            .collect()
    };
    let trigger = |p: &RawPrefilter| {
        p.describe(0)
            .into_iter()
            .find(|d| d.contains("(trigger)"))
            .unwrap_or_default()
    };
    // Too few sign-ins sampled for their own shares: the single-literal clause wins among
    // clauses under 1 % overall.
    let few = sample(&signins[..60]);
    p.tune(&few.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(trigger(&p).contains("mailbox"), "{:?}", p.describe(0));
    let enough = sample(&signins);
    p.tune(&enough.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(
        trigger(&p).contains("forwardingsmtp"),
        "{:?}",
        p.describe(0)
    );
    let mut scratch = PrefilterScratch::default();
    let plain: &[u8] = br#"{"createdDateTime":"x","ResultDescription":"mailbox","status":{}}"#;
    let forward: &[u8] = br#"{"createdDateTime":"x","ResultDescription":"mailbox","Details":"ForwardingSmtp x","status":{}}"#;
    assert_eq!(
        p.verdict_record(&record(plain), &mut scratch),
        Verdict::Skip
    );
    assert_eq!(
        p.verdict_record(&record(forward), &mut scratch),
        Verdict::Rules(vec![0])
    );
}

#[test]
fn a_clause_in_every_sampled_record_of_a_kind_is_not_looked_up_there() {
    let mut p = keyed_prefilter(
        "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {tokenIssuerName|exists: true}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
        vec![
            vec![LogKind::Signin],
            vec![LogKind::Signin],
            vec![LogKind::DirectoryAudit],
        ],
    );
    let lit = p
        .literal_text
        .iter()
        .position(|t| t == "tokenissuername")
        .expect("key literal") as u32;
    let signin = kind_bit(&p, LogKind::Signin);
    let texts: Vec<String> = (0..400)
        .map(|i| format!(r#"{{"createdDateTime":"2020-12-14T03:12:{i}Z","tokenIssuerName":"","ResultDescription":"ok","status":{{"failureReason":"ok"}}}}"#))
        .collect();
    let sample: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let with: &[u8] = br#"{"createdDateTime":"x","tokenIssuerName":"sts","ResultDescription":"Invalid password","status":{}}"#;
    let without: &[u8] =
        br#"{"createdDateTime":"x","ResultDescription":"Invalid password","status":{}}"#;
    // Too few records of the kind in the sample: still looked up.
    p.tune(&sample[..40]);
    assert!(p.plan(signin, false).scanned[lit as usize]);
    let mut scratch = PrefilterScratch::default();
    assert_eq!(
        p.verdict_record(&record(without), &mut scratch),
        Verdict::Rules(vec![1])
    );
    p.tune(&sample);
    let plan = p.plan(signin, false);
    assert!(!plan.scanned[lit as usize]);
    assert_eq!(plan.always, vec![0]);
    // Rule b, whose literal is rare, is still looked up; rule a is a candidate throughout.
    assert_eq!(
        p.verdict_record(&record(with), &mut scratch),
        Verdict::Rules(vec![0, 1])
    );
    assert_eq!(
        p.verdict_record(&record(without), &mut scratch),
        Verdict::Rules(vec![0, 1])
    );
    // Not for CSV rows, whose sample lines show no kind.
    assert!(p.plan(signin, true).always.is_empty());
}

#[test]
fn a_rule_requiring_a_value_is_no_candidate_where_every_such_value_is_empty() {
    // A rule of another kind, so that sign-ins get a plan of their own.
    let mut p = keyed_prefilter(
        "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {tokenIssuerName|exists: true}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
        vec![vec![LogKind::Signin], vec![LogKind::DirectoryAudit]],
    );
    p.require_value(0, &["tokenissuername".to_string()]);
    // A key already looked at gets no second lookup.
    let keys = p.pair_keys;
    p.require_value(0, &["tokenissuername".to_string()]);
    assert_eq!(p.pair_keys, keys);
    let sign_in = |issuer: &str| {
        format!(
            r#"{{"createdDateTime":"2020-12-14T03:12:44Z","tokenIssuerName":{issuer},"ResultDescription":"ok","status":{{"failureReason":"ok"}}}}"#
        )
    };
    let check = |p: &RawPrefilter| {
        let mut scratch = PrefilterScratch::default();
        let mut verdict = |t: &str| p.verdict_record(&record(t.as_bytes()), &mut scratch);
        assert_eq!(verdict(&sign_in(r#""""#)), Verdict::Skip);
        assert_eq!(verdict(&sign_in(r#"  ""  "#)), Verdict::Skip);
        for kept in [
            r#""http://sts.contoso.com/adfs/services/trust""#,
            r#"" ""#,
            "null",
            "42",
            r#"{"name":""}"#,
            r#"[""]"#,
            r#""\"""#,
            // A JSON string holding JSON, as some exports nest records.
            r#""{\"a\":1}""#,
        ] {
            assert_eq!(verdict(&sign_in(kept)), Verdict::Rules(vec![0]), "{kept}");
        }
        // Another occurrence of the key with a value: the field's may be that one.
        let nested =
            r#"{"createdDateTime":"x","tokenIssuerName":"","details":{"tokenIssuerName":"sts"}}"#;
        assert_eq!(verdict(nested), Verdict::Rules(vec![0]));
        // Text that cannot be trusted: every rule.
        assert_eq!(verdict(&sign_in(r#""\u0041""#)), Verdict::All);
    };
    // Looked up through the scan (the key is the rule's trigger), then, tuned on sign-ins
    // that all spell the key, without it.
    check(&p);
    let texts: Vec<String> = (0..400).map(|_| sign_in(r#""""#)).collect();
    let sample: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    p.tune(&sample);
    let signin = kind_bit(&p, LogKind::Signin);
    let plan = p.plan(signin, false);
    assert!(plan.always.is_empty());
    assert_eq!(plan.always_checked, vec![0]);
    check(&p);
}

#[test]
fn kinds_predicted_from_the_record_before_are_checked() {
    let s = set(
        "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {ActivityDisplayName|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  sel: {OperationNameValue|contains: 'Invalid password'}\n  condition: sel\n",
    );
    let all = |_: &FieldRef| true;
    let mut p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
    p.route(vec![
        vec![LogKind::Signin],
        vec![LogKind::DirectoryAudit],
        vec![LogKind::AzureActivity],
    ]);
    let signin: &[u8] = br#"{"createdDateTime":"2020-12-14T03:12:44Z","status":{"failureReason":"Invalid password"}}"#;
    let audit: &[u8] = br#"{"activityDateTime":"2020-12-14T03:12:44Z","activityDisplayName":"Invalid password reset"}"#;
    let both: &[u8] =
        br#"{"createdDateTime":"x","activityDisplayName":"Invalid password","targetResources":[]}"#;
    // Azure Monitor's activity log: known by its category's value.
    let activity: &[u8] =
        br#"{"time":"x","category" : "Administrative","operationName":"Invalid password"}"#;
    let sample: Vec<&[u8]> = vec![signin, audit, activity];
    for tuned in [false, true] {
        if tuned {
            p.tune(&sample);
        }
        let mut seen = PrefilterScratch::default();
        for order in [
            [signin, audit, signin, both, activity],
            [audit, signin, both, audit, activity],
            [activity, signin, activity, audit, activity],
        ] {
            for b in order {
                let want = if b == signin {
                    vec![0]
                } else if b == audit {
                    vec![1]
                } else if b == activity {
                    vec![2]
                } else {
                    vec![0, 1]
                };
                assert_eq!(
                    p.verdict_record(&record(b), &mut seen),
                    Verdict::Rules(want),
                    "{}",
                    String::from_utf8_lossy(b)
                );
            }
        }
    }
}

fn pair(keys: &[&str], values: &[(&str, bool)]) -> Pair {
    Pair {
        keys: keys.iter().map(|k| key_finder(k)).collect(),
        key_ids: (0..keys.len() as u32).collect(),
        values: values
            .iter()
            .map(|(v, e)| PairValue::new(v, *e).expect("value"))
            .collect(),
    }
}

#[test]
fn key_value_conditions_follow_json_and_json_in_strings() {
    let lower = |t: &str| t.to_ascii_lowercase().into_bytes();
    let p = pair(&["iscompliant"], &[("false", true)]);
    assert!(p.holds(&lower(
        r#"{"deviceDetail":{"isCompliant":false,"isManaged":true}}"#
    )));
    assert!(!p.holds(&lower(
        r#"{"deviceDetail":{"isCompliant":true},"isInteractive":false}"#
    )));
    // Pretty-printed, and inside a JSON string (Log Analytics dynamic columns).
    assert!(p.holds(&lower("{\"isCompliant\" :\n   false}")));
    assert!(p.holds(&lower(r#"{"DeviceDetail":"{\"isCompliant\":false}"}"#)));
    assert!(p.holds(&lower(r#"{"DeviceDetail":"{\"isCompliant\":\n false}"}"#)));
    assert!(!p.holds(&lower(
        r#"{"DeviceDetail":"{\"isCompliant\":true}","x":false}"#
    )));
    assert!(p.holds(&lower(r#"{"deviceDetail.isCompliant":false}"#)));
    // A longer key ending in the name is another field.
    assert!(!p.holds(&lower(r#"{"wasCompliant":true,"notiscompliant":false}"#)));
    // Exact values: operation names with a trailing full stop and spaces; objects are
    // compared as their JSON text; arrays fan out; escapes and non-ASCII are not judged.
    let op = pair(
        &["operation"],
        &[("add service principal credentials", true)],
    );
    assert!(op.holds(&lower(
        r#"{"Operation":"Add service principal credentials. "}"#
    )));
    assert!(!op.holds(&lower(r#"{"Operation":"Add service principal"}"#)));
    assert!(op.holds(&lower(
        r#"{"Operation":["x","Add service principal credentials"]}"#
    )));
    assert!(!op.holds(&lower(
        r#"{"Operation":{"name":"Add service principal credentials"}}"#
    )));
    assert!(op.holds(&lower(
        r#"{"Operation":"Add service principal \"credentials\""}"#
    )));
    assert!(op.holds(&lower(
        "{\"Operation\":\"Add service principal credentials\u{a0}\"}"
    )));
    let sub = pair(&["operation"], &[("credentials", false)]);
    assert!(sub.holds(&lower(
        r#"{"Operation":{"name":"Add service principal credentials"}}"#
    )));
    // A string value holding an escaped quote is read to its real end.
    let far = pair(&["target"], &[("needle", false)]);
    assert!(far.holds(&lower(r#"{"Target":"a \"quoted\" needle"}"#)));
    assert!(far.holds(&lower(r#"{"x":"{\"Target\":\"a \\\"q\\\" needle\"}"}"#)));
    assert!(!far.holds(&lower(r#"{"Target":"a","y":"needle"}"#)));
    // Numbers are held, not equal: 50126.0 is 50126.
    let num = pair(&["resulttype"], &[("50126", true)]);
    assert!(num.holds(&lower(r#"{"ResultType":50126.0}"#)));
    assert!(num.holds(&lower(r#"{"ResultType":"50126"}"#)));
    assert!(!num.holds(&lower(r#"{"ResultType":0}"#)));
    assert!(num.holds(&lower(r#"{"ResultType":5.0126e4}"#)));
    assert!(num.holds(&lower(r#"{"ResultType":"5.0126E+4"}"#)));
}

#[test]
fn the_sample_holds_whole_lines_from_the_start_of_each_input() {
    // Sign-in lines (the shape of the corpus' Entra ID exports) past the per-input limit, and a
    // short input: the line cut by the limit is left out, the short input is taken whole.
    let dir = std::env::temp_dir().join(format!("tw-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let line = |i: usize| {
        format!(
            r#"{{"createdDateTime":"2020-12-14T03:{:02}:00Z","userPrincipalName":"user{i}@contoso.com","appDisplayName":"Azure Portal","status":{{"errorCode":50126}}}}"#,
            i % 60
        )
    };
    let long: Vec<String> = (0..2_000).map(line).collect();
    std::fs::write(dir.join("a.json"), long.join("\n")).expect("write");
    std::fs::write(dir.join("b.json"), format!("{}\n{}\n", line(1), line(2))).expect("write");
    let sample = sample_texts(std::slice::from_ref(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    let whole: usize = long
        .iter()
        .scan(0, |used, l| {
            *used += l.len() + 1;
            Some(*used <= plan::SAMPLE_PER_INPUT)
        })
        .filter(|fits| *fits)
        .count();
    assert!(whole > 0 && whole < long.len());
    assert_eq!(sample.len(), whole + 2);
    for (got, want) in sample.iter().zip(long.iter().take(whole)) {
        assert_eq!(got.as_slice(), want.as_bytes());
    }
    assert_eq!(sample[whole].as_slice(), line(1).as_bytes());
}

/// The prefilter of a hunt that learns cross-tenant actors: one UAL rule (`New-InboxRule`), the
/// home-tenant keys kept, own-tenant UAL records told by `ActorContextId` = `OrganizationId`.
fn keeping_prefilter(defer: bool) -> RawPrefilter {
    let s = set(
        "title: a\nlogsource: {product: m365, service: audit}\ndetection:\n  sel: {Operation: 'New-InboxRule'}\n  condition: sel\n",
    );
    let all = |_: &FieldRef| true;
    let keys = |_: usize, f: &FieldRef| Some(vec![f.name().to_lowercase()]);
    let mut p = RawPrefilter::new(&s, &all, &keys, &["hometenantid", "actorcontextid"]);
    p.route(vec![vec![LogKind::Ual]]);
    p.keep_unless_same(LogKind::Ual, "ActorContextId", "OrganizationId");
    p.keep_only_in(vec![LogKind::Ual, LogKind::Signin, LogKind::DirectoryAudit]);
    if defer {
        p.defer_same_tenant(vec![0]);
    }
    p
}

/// The verdict on a CSV row of `format` with `header` and `cells`, handed as the reader does
/// (cells unquoted and concatenated, their ends kept).
fn csv_verdict(p: &RawPrefilter, format: Format, header: &[&str], cells: &[&str]) -> Verdict {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let text: String = cells.concat();
    let ends: Vec<usize> = cells
        .iter()
        .scan(0, |end, c| {
            *end += c.len();
            Some(*end)
        })
        .collect();
    let raw = tw_ingest::RawRecord {
        bytes: text.as_bytes(),
        spells_keys: false,
        format: Some(format),
        falls_back: false,
        source: "test.csv",
        record: 0,
        columns: Some(tw_ingest::RawColumns::new(&header, &ends)),
    };
    p.verdict_record(&raw, &mut PrefilterScratch::default())
}

#[test]
fn csv_rows_are_kept_for_home_tenants_only_where_one_can_be() {
    let p = keeping_prefilter(false);
    let ual = ["TenantId", "OrganizationId", "ActorContextId", "Operation"];
    let kept = Verdict::Rules(Vec::new());
    // Another tenant's actor: kept, its home tenant is learnt.
    let other = ["w", "Org-1", "org-2", "FileAccessed"];
    assert_eq!(
        csv_verdict(&p, Format::UalLogAnalyticsCsv, &ual, &other),
        kept
    );
    // No actor tenant in the row, or the organisation's own (case aside): nothing to learn.
    let empty = ["w", "org-1", " ", "FileAccessed"];
    assert_eq!(
        csv_verdict(&p, Format::UalLogAnalyticsCsv, &ual, &empty),
        Verdict::Skip
    );
    let own = ["w", "ORG-1", "org-1", "FileAccessed"];
    assert_eq!(
        csv_verdict(&p, Format::UalLogAnalyticsCsv, &ual, &own),
        Verdict::Skip
    );
    // A header spelling the column otherwise: the row cannot be judged, it is kept.
    let spelt = ["TenantId", "OrganizationId", "Actor tenant", "Operation"];
    assert_eq!(
        csv_verdict(&p, Format::UalLogAnalyticsCsv, &spelt, &empty),
        kept
    );
    // A kind whose formats read no home tenant: never kept for it.
    let activity = ["TenantId", "HomeTenantId", "OperationNameValue"];
    let row = ["w", "org-2", "MICROSOFT.COMPUTE/WRITE"];
    assert_eq!(
        csv_verdict(&p, Format::AzureActivityLogAnalyticsCsv, &activity, &row),
        Verdict::Skip
    );
    // A rule's match is never dropped: the own-tenant row holding it is decoded for the rule.
    let rule = ["w", "org-1", "org-1", "New-InboxRule"];
    assert_eq!(
        csv_verdict(&p, Format::UalLogAnalyticsCsv, &ual, &rule),
        Verdict::Rules(vec![0])
    );
    // Unless the rule's own-tenant records are set aside: then they are, with their tenant.
    let deferring = keeping_prefilter(true);
    assert_eq!(
        csv_verdict(&deferring, Format::UalLogAnalyticsCsv, &ual, &rule),
        Verdict::Defer("org-1".into())
    );
}
