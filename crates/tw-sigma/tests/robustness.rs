//! No input may panic: mutated rule texts, odd events, hostile regexes; correlation state
//! is bounded and reports drops.

use serde_json::json;
use tw_sigma::{CorrelationEngine, CorrelationLimits, RuleSet, load_documents};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEED_RULE: &str = r#"title: t
id: 1
status: test
logsource: {product: azure}
detection:
  sel:
    Operation|contains|all: ['a*b', 'c\*d']
    ResultType: [0, null, '', true]
    Cmd|windash|base64offset|contains: '-x'
    Ip|cidr: 10.0.0.0/8
    T|hour|gte: 3
  kw:
    - '|all': [x]
  _f: {A|re|i: '^(a|b)+$'}
  condition: 1 of sel* and not (kw or all of _*) | count() > 3
---
title: c
correlation: {type: event_count, rules: [1], group-by: [A], timespan: 1m, condition: {gte: 1}}
"#;

#[test]
fn mutated_rules_never_panic() {
    let alphabet: Vec<char> = "ab:|-*?\\'\"[]{}%&!\n #0.,é–".chars().collect();
    let mut r = Rng(0x1234_5678);
    for _ in 0..3000 {
        let mut s: Vec<char> = SEED_RULE.chars().collect();
        for _ in 0..r.below(6) + 1 {
            let pos = r.below(s.len() + 1);
            match r.below(3) {
                0 if pos < s.len() => {
                    s.remove(pos);
                }
                1 => s.insert(pos, alphabet[r.below(alphabet.len())]),
                _ => {
                    let end = (pos + r.below(20)).min(s.len());
                    let chunk: Vec<char> = s[pos.min(end)..end].to_vec();
                    for (i, c) in chunk.into_iter().enumerate() {
                        s.insert(pos + i, c);
                    }
                }
            }
        }
        let text: String = s.into_iter().collect();
        let _ = load_documents("m.yml", &text);
        let mut b = RuleSet::builder();
        b.add_yaml("m.yml", &text);
        let set = b.build();
        for e in set.errors() {
            assert!(!e.reason.is_empty());
        }
        let _ =
            set.matches(&json!({"Operation": "ab", "Cmd": "LXg=", "A": ["a", {"b": 1}], "T": 5}));
    }
}

#[test]
fn odd_events_never_panic() {
    let mut b = RuleSet::builder();
    b.add_yaml("s.yml", &SEED_RULE.replace(" | count() > 3", ""));
    let set = b.build();
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    for ev in [
        json!(null),
        json!([]),
        json!("string"),
        json!({"": ""}),
        json!({"Operation": [[[["ab"]]]], "T": "9999-99-99T99:99"}),
        json!({"Ip": "::ffff:10.1.1.1", "T": -1e300, "ResultType": 1e308}),
        json!({"Operation": {"nested": {"deep": "a*b c*d"}}, "Cmd": "\u{0}\u{ffff}"}),
    ] {
        let _ = set.matches(&ev);
        assert_eq!(set.matches(&ev), set.matches_unindexed(&ev));
    }
}

#[test]
fn huge_regex_rejected() {
    let rule = format!(
        "title: t\ndetection:\n  sel:\n    F|re: '{}'\n  condition: sel\n",
        "(a{1000}){1000}"
    );
    let mut b = RuleSet::builder();
    b.add_yaml("r.yml", &rule);
    let set = b.build();
    assert!(
        set.errors()[0].reason.contains("regular expression"),
        "{:?}",
        set.errors()
    );
}

#[test]
fn correlation_state_is_bounded_and_reported() {
    let rules = r#"
title: r
name: r
detection:
  sel: {Op: x}
  condition: sel
---
title: c
correlation: {type: event_count, rules: [r], group-by: [User], timespan: 1h, condition: {gte: 2}}
"#;
    let mut b = RuleSet::builder();
    b.add_yaml("c.yml", rules);
    let set = b.build();
    let mut engine = CorrelationEngine::new(
        &set,
        CorrelationLimits {
            max_observations: 10,
        },
    );
    let mut kept = Vec::new();
    for i in 0..25u64 {
        let ev = json!({"Op": "x", "User": format!("u{}", i % 3)});
        for m in set.matches(&ev) {
            if engine.observe(m.rule, i, i as i64 * 1000, &ev) {
                kept.push(i);
            }
        }
    }
    // The caller is told which observations were kept: it need keep nothing of the others.
    assert_eq!(kept, (0..10).collect::<Vec<u64>>());
    let ev = json!({"Op": "x"});
    for m in set.matches(&ev) {
        assert!(!engine.observe(m.rule, 99, 0, &ev));
    }
    let (out, stats) = engine.finish();
    assert_eq!(stats.observed, 10);
    assert_eq!(stats.dropped, 15);
    assert_eq!(stats.missing_group_field, 1);
    assert_eq!(out.len(), 3);
}
