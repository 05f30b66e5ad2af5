//! `tenantwatch rules compile` on the built-in pack and the SigmaHQ cloud rules copied in
//! tests/fixtures/sigma (source and licence in its PROVENANCE.md): the JSON contract, the counts
//! and reasons on standard error, and every KQL query checked by a small parser of the KQL subset
//! the lowering emits (balanced parentheses and quotes, known tables, operators and functions; no
//! network). Spark SQL results are compared with the native engine's by `scripts/spark-diff.py`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (compiled JSON, standard error, exit status).
fn compile(args: &[&str]) -> (Vec<Value>, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .args(["rules", "compile"])
        .args(args)
        .output()
        .expect("run tenantwatch");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json array");
    let rules = v.as_array().expect("array").clone();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (rules, err, out.status.code().unwrap_or(-1))
}

fn counts(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.contains("rules compiled"))
        .expect("counts line");
    let nums: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn spark_sql_covers_every_rule_the_engine_loads() {
    let (rules, err, code) = compile(&[
        "--target",
        "spark-sql",
        "--rules",
        "tests/fixtures/sigma/rules",
    ]);
    assert_eq!(code, 0, "{err}");
    let (compiled, not_compiled) = counts(&err);
    assert_eq!(compiled, rules.len());
    // The native-only rules are the built-in pack's first-seen, chain/burst and new-behaviour
    // rules, each named with its reason.
    let reasons: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not compiled:"))
        .collect();
    assert_eq!(reasons.len(), not_compiled, "{err}");
    assert!(reasons.iter().all(|l| l.contains("tenantwatch.")), "{err}");
    assert!(reasons.iter().any(|l| l.contains("first-seen")), "{err}");
    // 142 SigmaHQ rules, none left out; rule ids unique; every query over `events`.
    let mut ids = HashSet::new();
    for r in &rules {
        let id = r["rule_id"].as_str().expect("rule_id");
        assert!(ids.insert(id.to_string()), "duplicate {id}");
        assert!(r["title"].is_string() && r["level"].is_string(), "{r}");
        let sql = r["sql"].as_str().expect("sql");
        assert!(sql.contains("FROM events WHERE log_kind IN ("), "{sql}");
        assert!(sql.contains(" AS rule_id, "), "{sql}");
    }
    let sigmahq = rules
        .iter()
        .filter(|r| !r["rule_id"].as_str().unwrap_or("").starts_with("0c2d8f6a-"))
        .count();
    assert_eq!(sigmahq, 142);
    // Correlations (temporal_ordered sequences of the pack) are windowed queries: their
    // observations and reported windows, then the windows' evidence records.
    assert!(rules.iter().any(|r| {
        let sql = r["sql"].as_str().unwrap_or("");
        sql.starts_with("WITH o") && sql.contains(" LATERAL VIEW explode(ev) AS e")
    }));
}

#[test]
fn kql_queries_parse_and_read_known_tables() {
    let (rules, err, code) = compile(&["--target", "kql", "--rules", "tests/fixtures/sigma/rules"]);
    assert_eq!(code, 0, "{err}");
    assert!(rules.len() > 100, "{err}");
    for r in &rules {
        let q = r["sql"].as_str().expect("query");
        if let Err(e) = kql::check(q) {
            panic!("{}: {e}\n{q}", r["rule_id"]);
        }
    }
    // Correlations are left to Spark or the native engine, with the reason.
    assert!(err.contains("single-event rules only"), "{err}");
    // The lowering vectors (IPv6 networks, every time part) compile to KQL of the same subset.
    let vectors = root().join("tests/fixtures/spark-diff/rules/lowering-vectors.yml");
    let (vrules, err, code) = compile(&["--target", "kql", "--rules", vectors.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let parts = [
        "ipv6_is_in_range(",
        "hourofday(",
        "week_of_year(",
        "getyear(",
        "getmonth(",
    ];
    for part in parts {
        assert!(
            vrules
                .iter()
                .any(|r| r["sql"].as_str().unwrap_or("").contains(part)),
            "no vector query uses {part}: {err}"
        );
    }
    for r in &vrules {
        let q = r["sql"].as_str().expect("query");
        if let Err(e) = kql::check(q) {
            panic!("{}: {e}\n{q}", r["rule_id"]);
        }
    }
    // The checker refuses what is not KQL of the emitted subset.
    for bad in [
        "SigninLogs | where (tostring(x) =~ \"a\"",
        "SigninLogz | where true | extend rule_id = \"r\"",
        "SigninLogs | where tostring(x) ~~ \"a\" | extend rule_id = \"r\"",
        "SigninLogs | where tostring(x) =~ \"a | extend rule_id = \"r\"",
        "SigninLogs | where frobnicate(x) | extend rule_id = \"r\"",
    ] {
        assert!(kql::check(bad).is_err(), "{bad}");
    }
}

/// A tokenizer and recursive-descent parser of the KQL subset the lowering emits.
mod kql {
    const TABLES: &[&str] = &[
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AuditLogs",
        "OfficeActivity",
        "MicrosoftGraphActivityLogs",
        "AzureActivity",
    ];
    const FUNCTIONS: &[&str] = &[
        "tostring",
        "todynamic",
        "column_ifexists",
        "tolower",
        "todouble",
        "real",
        "isnull",
        "isnotnull",
        "isempty",
        "isnotempty",
        "ipv4_is_in_range",
        "indexof",
        "iff",
        "not",
        "trim",
        "trim_end",
        "replace_string",
        // Time parts and IPv6 networks (crates/tw-sigma/src/lower/kql_parts.rs).
        "ipv6_is_in_range",
        "extract",
        "extract_all",
        "array_length",
        "coalesce",
        "strcat",
        "tohex",
        "toint",
        "substring",
        "countof",
        "abs",
        "floor",
        "unixtime_seconds_todatetime",
        "datetime_part",
        "datetime_add",
        "make_datetime",
        "hourofday",
        "dayofmonth",
        "week_of_year",
        "getmonth",
        "getyear",
    ];
    const STRING_OPS: &[&str] = &[
        "contains",
        "contains_cs",
        "startswith",
        "startswith_cs",
        "endswith",
        "endswith_cs",
    ];

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Ident(String),
        Str,
        Num,
        Sym(&'static str),
    }

    fn tokens(q: &str) -> Result<Vec<Tok>, String> {
        const SYMS: &[&str] = &[
            "==", "=~", "!=", "<=", ">=", "|", "(", ")", "[", "]", ",", "<", ">", "=", "+", "*",
            "-", "/",
        ];
        let c: Vec<char> = q.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < c.len() {
            if c[i].is_whitespace() {
                i += 1;
            } else if c[i] == '@' && c.get(i + 1) == Some(&'"') {
                // Verbatim string: no escapes, "" for a quote.
                i += 2;
                loop {
                    match (c.get(i), c.get(i + 1)) {
                        (None, _) => return Err("unterminated string".into()),
                        (Some('"'), Some('"')) => i += 2,
                        (Some('"'), _) => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                out.push(Tok::Str);
            } else if c[i] == '"' {
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => i += 2,
                        Some('"') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                out.push(Tok::Str);
            } else if c[i].is_ascii_digit()
                || (c[i] == '-' && c.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                i += 1;
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '-') {
                    i += 1;
                }
                out.push(Tok::Num);
            } else if c[i].is_alphabetic() || c[i] == '_' {
                let s = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(c[s..i].iter().collect()));
            } else {
                let rest: String = c[i..].iter().take(2).collect();
                let sym = SYMS
                    .iter()
                    .find(|s| rest.starts_with(**s))
                    .ok_or_else(|| format!("unexpected character {:?}", c[i]))?;
                i += sym.len();
                out.push(Tok::Sym(sym));
            }
        }
        Ok(out)
    }

    struct P {
        t: Vec<Tok>,
        i: usize,
    }

    impl P {
        fn peek(&self) -> Option<&Tok> {
            self.t.get(self.i)
        }
        fn sym(&mut self, s: &str) -> Result<(), String> {
            match self.peek() {
                Some(Tok::Sym(x)) if *x == s => {
                    self.i += 1;
                    Ok(())
                }
                other => Err(format!("expected {s}, found {other:?}")),
            }
        }
        fn is_sym(&self, s: &str) -> bool {
            matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
        }
        fn word(&mut self, w: &str) -> Result<(), String> {
            match self.peek() {
                Some(Tok::Ident(x)) if x == w => {
                    self.i += 1;
                    Ok(())
                }
                other => Err(format!("expected {w}, found {other:?}")),
            }
        }
        fn is_word(&self, w: &str) -> bool {
            matches!(self.peek(), Some(Tok::Ident(x)) if x == w)
        }
        fn table_where(&mut self) -> Result<(), String> {
            match self.peek() {
                Some(Tok::Ident(t)) if TABLES.contains(&t.as_str()) => self.i += 1,
                other => return Err(format!("unknown table {other:?}")),
            }
            self.sym("|")?;
            self.word("where")?;
            self.expr()
        }
        fn query(&mut self) -> Result<(), String> {
            if self.is_word("union") {
                self.i += 1;
                loop {
                    self.sym("(")?;
                    self.table_where()?;
                    self.sym(")")?;
                    if !self.is_sym(",") {
                        break;
                    }
                    self.i += 1;
                }
            } else {
                self.table_where()?;
            }
            self.sym("|")?;
            self.word("extend")?;
            self.word("rule_id")?;
            self.sym("=")?;
            match self.peek() {
                Some(Tok::Str) => self.i += 1,
                other => return Err(format!("expected the rule id, found {other:?}")),
            }
            match self.peek() {
                None => Ok(()),
                Some(t) => Err(format!("trailing {t:?}")),
            }
        }
        fn expr(&mut self) -> Result<(), String> {
            self.and()?;
            while self.is_word("or") {
                self.i += 1;
                self.and()?;
            }
            Ok(())
        }
        fn and(&mut self) -> Result<(), String> {
            self.comparison()?;
            while self.is_word("and") {
                self.i += 1;
                self.comparison()?;
            }
            Ok(())
        }
        fn comparison(&mut self) -> Result<(), String> {
            if self.is_sym("*") {
                self.i += 1;
                match self.peek() {
                    Some(Tok::Ident(op)) if op == "contains" || op == "contains_cs" => self.i += 1,
                    other => return Err(format!("expected contains after *, found {other:?}")),
                }
                return self.sum();
            }
            self.sum()?;
            match self.peek().cloned() {
                Some(Tok::Sym(s)) if ["==", "=~", "!=", "<", "<=", ">", ">="].contains(&s) => {
                    self.i += 1;
                    self.sum()
                }
                Some(Tok::Ident(w)) if STRING_OPS.contains(&w.as_str()) => {
                    self.i += 1;
                    self.sum()
                }
                Some(Tok::Ident(w)) if w == "matches" => {
                    self.i += 1;
                    self.word("regex")?;
                    self.sum()
                }
                _ => Ok(()),
            }
        }
        fn sum(&mut self) -> Result<(), String> {
            self.product()?;
            while self.is_sym("+") || self.is_sym("-") {
                self.i += 1;
                self.product()?;
            }
            Ok(())
        }
        fn product(&mut self) -> Result<(), String> {
            self.term()?;
            while self.is_sym("*") || self.is_sym("/") {
                self.i += 1;
                self.term()?;
            }
            Ok(())
        }
        fn term(&mut self) -> Result<(), String> {
            match self.peek().cloned() {
                Some(Tok::Sym("(")) => {
                    self.i += 1;
                    self.expr()?;
                    self.sym(")")?;
                }
                Some(Tok::Str) | Some(Tok::Num) => self.i += 1,
                Some(Tok::Ident(w)) if w == "true" || w == "false" => self.i += 1,
                Some(Tok::Ident(f)) if FUNCTIONS.contains(&f.as_str()) => {
                    self.i += 1;
                    self.sym("(")?;
                    self.expr()?;
                    while self.is_sym(",") {
                        self.i += 1;
                        self.expr()?;
                    }
                    self.sym(")")?;
                }
                other => return Err(format!("unexpected {other:?}")),
            }
            while self.is_sym("[") {
                self.i += 1;
                match self.peek() {
                    Some(Tok::Str) => self.i += 1,
                    other => return Err(format!("expected a key, found {other:?}")),
                }
                self.sym("]")?;
            }
            Ok(())
        }
    }

    /// Ok when `q` is a query of the emitted subset.
    pub fn check(q: &str) -> Result<(), String> {
        let mut p = P {
            t: tokens(q)?,
            i: 0,
        };
        p.query()
    }
}
