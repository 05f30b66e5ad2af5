//! Property test: the candidate index never changes the result. Random events built from
//! the rules' own fields and values (mutated in case, wrapped, nested in arrays, turned into
//! numbers) must give exactly the same matches with and without the index.

use std::path::Path;

use serde_json::{Map, Value, json};
use tw_sigma::RuleSet;

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const SYNTHETIC: &str = r#"
title: eq
detection:
  sel:
    Operation: [Add member to role., Consent to application.]
    ResultType: 0
  condition: sel
---
title: contains and filter
detection:
  sel:
    Cmd|contains: [' -enc ', 'évil']
  filter:
    User|endswith: '@contoso.com'
  condition: sel and not filter
---
title: windash base64
detection:
  a:
    Cmd|windash|contains: ' -nop '
  b:
    Cmd|base64offset|contains: 'http://'
  condition: 1 of them
---
title: wildcards
detection:
  sel:
    User: 'adm?n*@*.com'
  condition: sel
---
title: keywords
detection:
  kw:
    - listKeys
    - ÉVIL
  condition: kw
---
title: all keywords
detection:
  kw:
    '|all': [alpha, beta]
  condition: kw
---
title: cased and numbers
detection:
  a:
    Operation|cased: Add member to role.
  b:
    ResultType: '50126'
  c:
    Risk|gte: 5
  condition: a or (b and not c)
---
title: regex and cidr
detection:
  a:
    User|re|i: '^adm.*'
  b:
    Ip|cidr: 10.0.0.0/8
  condition: a and b
---
title: nested and null
detection:
  sel:
    properties.message: [Consent to application., 0]
    Tags|contains|all: [alp, bet]
  n:
    User: null
  condition: sel or n
---
title: neq exists
detection:
  sel:
    Operation|neq: Consent to application.
    Ip|exists: true
  condition: sel
"#;

fn collect_strings(v: &Value, keys: &mut Vec<String>, values: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let field = k.split('|').next().unwrap_or_default();
                if !field.is_empty() && field != "condition" {
                    keys.push(field.to_string());
                }
                collect_strings(x, keys, values);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, keys, values)),
        other => values.push(other.clone()),
    }
}

fn mutate(r: &mut Rng, v: &Value) -> Value {
    let s = match v {
        Value::String(s) => s.replace(['*', '?', '\\'], ""),
        Value::Number(n) => {
            return match r.below(3) {
                0 => v.clone(),
                1 => json!(n.to_string()),
                _ => json!(format!("{}.0", n)),
            };
        }
        other => return other.clone(),
    };
    match r.below(8) {
        0 => json!(s.to_uppercase()),
        1 => json!(s.to_lowercase()),
        2 => json!(format!("xx {s} yy")),
        3 => json!(format!("{s}@contoso.com")),
        4 => json!([s, "other"]),
        5 => json!(s.replace('-', "/")),
        6 => json!(s.chars().rev().collect::<String>()),
        _ => json!(s),
    }
}

fn random_event(r: &mut Rng, keys: &[String], values: &[Value]) -> Value {
    let mut m = Map::new();
    for _ in 0..r.below(6) + 1 {
        let k = r.pick(keys).clone();
        let base = r.pick(values).clone();
        let v = mutate(r, &base);
        if r.below(4) == 0 && k.contains('.') {
            // Nested form of a dotted key.
            let (head, tail) = k.split_once('.').unwrap_or((&k, "x"));
            m.insert(head.to_string(), json!({ tail: v }));
        } else {
            m.insert(k, v);
        }
    }
    if r.below(5) == 0 {
        m.insert("Risk".into(), json!(r.below(10)));
    }
    if r.below(5) == 0 {
        m.insert("Ip".into(), json!(format!("10.0.{}.1", r.below(3))));
    }
    Value::Object(m)
}

fn check(set: &RuleSet, keys: &[String], values: &[Value], seed: u64, n: usize) {
    let mut r = Rng(seed);
    let mut scratch = tw_sigma::Scratch::new();
    let mut matched = 0;
    for _ in 0..n {
        let ev = random_event(&mut r, keys, values);
        let a = set.matches_with(&ev, &mut scratch);
        let b = set.matches_unindexed(&ev);
        assert_eq!(a, b, "index changed the result for {ev}");
        matched += a.len();
    }
    assert!(matched > 0, "the generator should produce some matches");
}

#[test]
fn synthetic_rules_index_is_exact() {
    let mut b = RuleSet::builder();
    b.add_yaml("synthetic.yml", SYNTHETIC);
    let set = b.build();
    assert!(set.errors().is_empty(), "{:?}", set.errors());
    let docs = tw_sigma::yaml_to_json("synthetic.yml", SYNTHETIC).unwrap();
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for d in &docs {
        collect_strings(&d["detection"], &mut keys, &mut values);
    }
    values.extend([
        json!("alpha beta"),
        json!("aGVsbG8gaHR0cDovL2V2aWw="),
        json!("admin@x.com"),
        json!(null),
    ]);
    check(&set, &keys, &values, 0x5eed, 4000);
    let st = set.stats();
    assert!(st.skipped > 0 && st.evaluated > 0, "{st:?}");
}

#[test]
fn corpus_rules_index_is_exact() {
    // The SigmaHQ rules copied into the repository (tests/fixtures/sigma/PROVENANCE.md).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sigma/rules");
    assert!(
        root.is_dir(),
        "the SigmaHQ rules are missing at {}",
        root.display()
    );
    let mut b = RuleSet::builder();
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    let mut todo = vec![root];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                b.add_yaml(&p.display().to_string(), &text);
                for doc in tw_sigma::yaml_to_json("x", &text).unwrap() {
                    collect_strings(&doc["detection"], &mut keys, &mut values);
                }
            }
        }
    }
    let set = b.build();
    assert!(set.errors().is_empty());
    keys.sort();
    keys.dedup();
    check(&set, &keys, &values, 42, 3000);
    let st = set.stats();
    eprintln!(
        "corpus: {st:?}, {} predicates for {} rules",
        set.predicate_count(),
        set.rules().len()
    );
    assert!(st.skipped > st.evaluated, "{st:?}");
}
