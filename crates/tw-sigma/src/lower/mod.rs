//! Lowering of a compiled [`RuleSet`] to query languages of other engines: Spark SQL
//! ([`spark`]) and KQL ([`kql`]). The input is the engine's compiled form (the predicates and
//! boolean programs [`RuleSet::build`](crate::RuleSetBuilder::build) produced, after modifiers,
//! placeholders, `windash` and `base64` expansion), not the rule text, so a lowered query
//! matches what the native engine matches.
//!
//! The crate knows nothing of the data behind the queries: a [`LowerContext`] says, per rule,
//! which log kinds and physical formats (values of the `log_kind` and `format` columns) it runs
//! on, and per format how a rule field is read ([`FieldRead`]: a path in the raw JSON record or a
//! column of computed values). What cannot be lowered exactly is reported with the reason
//! ([`NotLowered`]), never approximated silently.

pub mod kql;
mod kql_parts;
pub mod spark;
mod spark_corr;
mod spark_field;
mod spark_ip;
mod spark_time;

use crate::compile::{Predicate, Prog};
use crate::value::{CmpOp, IpNet, ReFlags, StrMatch, StrMode, Test, TimePart};
use crate::{Correlation, RuleSet};

/// How a rule field is read in one physical format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldRead {
    /// A path in the raw JSON record (the native engine's lookup rules: exact keys, then keys
    /// ignoring case; a flat dotted key before the nested walk; arrays traversed).
    /// `operation`: values are also offered in their normalised variants (trailing full stop
    /// and spaces removed, en dash as hyphen and back), as the native adapter does for
    /// operation names.
    Json { path: String, operation: bool },
    /// A column holding computed values: one value (`list` false, null when absent) or a list of
    /// values (null when the field is absent).
    Column { name: String, list: bool },
}

/// Where a rule runs: values of the `log_kind` column and of the `format` column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub kinds: Vec<String>,
    pub formats: Vec<String>,
}

/// What the lowering needs to know of the data (implemented by the caller).
pub trait LowerContext {
    /// The log kinds and formats detection rule `rule` (index into [`RuleSet::rules`]) runs on;
    /// `Err` with the reason when it runs natively only.
    fn scope(&self, rule: usize) -> Result<Scope, String>;
    /// Why detection rule `rule`'s own matches are reported natively only (an extension of the
    /// native runner decides what becomes a finding), if they are. Correlations still read its
    /// matches.
    fn native_only(&self, rule: usize) -> Option<String>;
    /// How field `field` is read in format `format` (`None`: a format outside every scope's
    /// list, read with the rule's own names).
    fn reads(&self, format: Option<&str>, field: &str) -> Vec<FieldRead>;
    /// Why correlation `c` (index into [`RuleSet::correlations`]) runs natively only, if it does.
    fn correlation_native_only(&self, c: usize) -> Option<String>;
    /// For KQL: the tables detection rule `rule` reads, each with the format whose field names
    /// the table has (empty: no table holds the rule's log source).
    fn tables(&self, rule: usize) -> Vec<(String, String)>;
    /// For KQL: the field names `field` resolves to in `format` (canonical fields as `tw.*`).
    fn targets(&self, format: &str, field: &str) -> Vec<String>;
    /// For KQL: whether the values of `target` (a name [`LowerContext::targets`] gave) are
    /// operation names, also offered in their normalised variants.
    fn is_operation(&self, _target: &str) -> bool {
        false
    }
}

/// One lowered rule: the query and what it reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lowered {
    pub rule_id: String,
    pub title: String,
    pub level: String,
    /// The query (Spark SQL or KQL, by target).
    #[serde(rename = "sql")]
    pub query: String,
}

/// A rule left to the native engine, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotLowered {
    pub rule_id: String,
    pub title: String,
    pub reason: String,
}

/// The result of lowering a rule set.
#[derive(Debug, Clone, Default)]
pub struct Lowering {
    pub compiled: Vec<Lowered>,
    pub not_compiled: Vec<NotLowered>,
}

impl Lowering {
    /// Files one rule's or correlation's outcome: its query, or the reason it has none.
    pub(crate) fn record(
        &mut self,
        (rule_id, title, level): (String, String, String),
        query: Result<String, String>,
    ) {
        match query {
            Ok(query) => self.compiled.push(Lowered {
                rule_id,
                title,
                level,
                query,
            }),
            Err(reason) => self.not_compiled.push(NotLowered {
                rule_id,
                title,
                reason,
            }),
        }
    }

    /// Lowers every standalone detection rule of `set` with `query` (rules the context keeps
    /// native-only are filed with its reason). Rules consumed only by correlations give no query
    /// of their own: the native engine reports none of their matches.
    pub(crate) fn lower_rules(
        &mut self,
        set: &RuleSet,
        ctx: &dyn LowerContext,
        query: impl Fn(&RuleSet, usize, &dyn LowerContext) -> Result<String, String>,
    ) {
        for (r, rule) in set.rules().iter().enumerate() {
            if !rule.standalone() {
                continue;
            }
            let lowered = match ctx.native_only(r) {
                Some(reason) => Err(reason),
                None => query(set, r, ctx),
            };
            self.record(rule_key(set, r), lowered);
        }
    }
}

/// A test of one value, in a form independent of the native matcher.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueTest {
    /// String tests: needle lowercased unless `cased`.
    Exact(String, bool),
    Prefix(String, bool),
    Suffix(String, bool),
    Contains(String, bool),
    /// Any present non-null value.
    Any,
    /// A wildcard pattern as an anchored (Rust syntax) regex, on the lowercased value unless
    /// `cased`.
    Glob(String, bool),
    /// A user regex (Rust syntax) with its flags, on the value as it is.
    Regex(String, ReFlags),
    Num(f64),
    Bool(bool),
    /// Missing or null.
    Null,
    Exists(bool),
    Cmp(CmpOp, f64),
    /// A time part compared with a number.
    Time(TimePart, CmpOp, f64),
    /// IPv4 network as an inclusive integer range.
    Cidr4(u32, u32),
    /// IPv6 network as an inclusive integer range.
    Cidr6(u128, u128),
    FieldRef(String, StrMode),
}

impl ValueTest {
    /// The target-independent form of a compiled test; `Err` for tests no target lowers.
    pub(crate) fn of(t: &Test) -> Result<ValueTest, String> {
        Ok(match t {
            Test::Str(p) => {
                let c = p.cased;
                match &p.m {
                    StrMatch::Exact(n) => ValueTest::Exact(n.to_string(), c),
                    StrMatch::Prefix(n) => ValueTest::Prefix(n.to_string(), c),
                    StrMatch::Suffix(n) => ValueTest::Suffix(n.to_string(), c),
                    StrMatch::Contains(n) => ValueTest::Contains(n.to_string(), c),
                    StrMatch::Any => ValueTest::Any,
                    StrMatch::Glob(r) => ValueTest::Glob(r.as_str().to_string(), c),
                    StrMatch::Regex(r, f) => ValueTest::Regex(r.as_str().to_string(), *f),
                }
            }
            Test::Num(n) => ValueTest::Num(*n),
            Test::Bool(b) => ValueTest::Bool(*b),
            Test::Null => ValueTest::Null,
            Test::Exists(b) => ValueTest::Exists(*b),
            Test::Cmp(op, n) => ValueTest::Cmp(*op, *n),
            Test::Time(part, op, n) => ValueTest::Time(*part, *op, *n),
            Test::Cidr(net) => cidr(net)?,
            Test::FieldRef(f, mode) => ValueTest::FieldRef(f.name().to_string(), *mode),
        })
    }
}

fn cidr(net: &IpNet) -> Result<ValueTest, String> {
    if let Some((lo, hi)) = net.v4_range() {
        return Ok(ValueTest::Cidr4(lo, hi));
    }
    net.v6_range()
        .map(|(lo, hi)| ValueTest::Cidr6(lo, hi))
        .ok_or_else(|| "a 'cidr' network of no known family".to_string())
}

/// The id a finding of rule `r` carries (its id, else its title), as the native runner reports.
pub(crate) fn rule_key(set: &RuleSet, r: usize) -> (String, String, String) {
    let rule = &set.rules()[r];
    let id = rule.id().unwrap_or_else(|| rule.title()).to_string();
    let level = rule.level().map_or("medium", |l| l.as_str()).to_string();
    (id, rule.title().to_string(), level)
}

/// The id, title and level of correlation `c`'s findings.
pub(crate) fn correlation_key(c: &Correlation) -> (String, String, String) {
    let r = c.rule();
    let id =
        r.id.clone()
            .or_else(|| r.name.clone())
            .unwrap_or_else(|| r.title.clone());
    let level = r.level.map_or("medium", |l| l.as_str()).to_string();
    (id, r.title.clone(), level)
}

/// Boolean connectives of a target language.
pub(crate) struct BoolSyntax {
    pub and: &'static str,
    pub or: &'static str,
    pub not: &'static str,
    pub true_: &'static str,
    pub false_: &'static str,
    /// The conditional function (`IF` / `iff`).
    pub if_fn: &'static str,
}

/// Lowers a rule's boolean program; `leaf` lowers one predicate.
pub(crate) fn prog_text(
    p: &Prog,
    syn: &BoolSyntax,
    leaf: &mut dyn FnMut(u32) -> Result<String, String>,
) -> Result<String, String> {
    let join = |xs: &[Prog],
                op: &str,
                empty: &str,
                leaf: &mut dyn FnMut(u32) -> Result<String, String>| {
        if xs.is_empty() {
            return Ok(empty.to_string());
        }
        let parts: Result<Vec<String>, String> =
            xs.iter().map(|x| prog_text(x, syn, leaf)).collect();
        Ok(format!("({})", parts?.join(&format!(" {op} "))))
    };
    match p {
        Prog::Pred(i) => leaf(*i),
        Prog::Not(x) => Ok(format!("{}({})", syn.not, prog_text(x, syn, leaf)?)),
        Prog::And(xs) => join(xs, syn.and, syn.true_, leaf),
        Prog::Or(xs) => join(xs, syn.or, syn.false_, leaf),
        Prog::AtLeast(n, xs) => {
            if *n == 0 {
                return Ok(syn.true_.to_string());
            }
            if *n > xs.len() {
                return Ok(syn.false_.to_string());
            }
            // At least n of xs: the OR over the n-element combinations would explode; both
            // targets count instead.
            let parts: Result<Vec<String>, String> = xs
                .iter()
                .map(|x| prog_text(x, syn, leaf).map(|t| format!("{}({t}, 1, 0)", syn.if_fn)))
                .collect();
            Ok(format!("(({}) >= {n})", parts?.join(" + ")))
        }
    }
}

/// The predicates of a rule set, by id.
pub(crate) fn predicates(set: &RuleSet) -> &[Predicate] {
    &set.preds
}

/// Translates a Rust-syntax regex (with its flags) to Java's `java.util.regex` (what Spark's
/// `RLIKE` runs): line terminators and Unicode classes as Rust has them (`(?dU)`), `$` as end of
/// text where Rust means that, named groups as plain groups. Constructs whose meaning differs and
/// that are not translated are refused with the reason.
pub(crate) fn java_regex(pat: &str, flags: ReFlags) -> Result<String, String> {
    let mut out = String::from("(?dU");
    for (on, c) in [(flags.i, 'i'), (flags.m, 'm'), (flags.s, 's')] {
        if on {
            out.push(c);
        }
    }
    out.push(')');
    let chars: Vec<char> = pat.chars().collect();
    let mut i = 0;
    let mut class_depth = 0usize;
    let refuse = |what: &str| Err(format!("regex {pat:?}: {what} has no Java equivalent"));
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return refuse("a trailing backslash");
                };
                match n {
                    '<' | '>' => return refuse("a word-edge assertion"),
                    'b' if chars.get(i + 2) == Some(&'{') => {
                        return refuse("a word-edge assertion");
                    }
                    'v' => out.push_str("\\x0B"),
                    'p' | 'P' => {
                        let (text, len) = unicode_class(&chars[i..]).ok_or_else(|| {
                            format!("regex {pat:?}: a Unicode class other than a general category has no Java equivalent")
                        })?;
                        out.push_str(&text);
                        i += len;
                        continue;
                    }
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                i += 2;
                continue;
            }
            '[' => {
                if chars.get(i + 1) == Some(&':') {
                    return refuse("a POSIX class");
                }
                class_depth += 1;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            ']' if class_depth > 0 => class_depth -= 1,
            '-' | '~' if class_depth > 0 && chars.get(i + 1) == Some(&c) => {
                return refuse("a class difference");
            }
            '$' if class_depth == 0 && !flags.m => {
                out.push_str("\\z");
                i += 1;
                continue;
            }
            '(' if class_depth == 0 && chars.get(i + 1) == Some(&'?') => {
                let len = group_opening(&chars[i..], &mut out)
                    .map_err(|w| format!("regex {pat:?}: {w} has no Java equivalent"))?;
                i += len;
                continue;
            }
            '{' if class_depth == 0 && chars.get(i + 1) == Some(&',') => {
                return refuse("a repetition without a lower bound");
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// `\pX` or `\p{Xy}` for a general category: (Java text, chars consumed).
fn unicode_class(chars: &[char]) -> Option<(String, usize)> {
    let kind = chars.get(1)?;
    let (name, len): (String, usize) = if chars.get(2) == Some(&'{') {
        let end = chars.iter().position(|c| *c == '}')?;
        (chars[3..end].iter().collect(), end + 1)
    } else {
        (chars.get(2)?.to_string(), 3)
    };
    let category = name.len() <= 2
        && name.chars().next()?.is_ascii_uppercase()
        && name.chars().all(|c| c.is_ascii_alphabetic());
    category.then(|| (format!("\\{kind}{{{name}}}"), len))
}

/// A group opening `(?…`: named groups become plain groups, inline flags are kept except those
/// whose meaning differs. Returns the chars consumed, or what has no Java equivalent.
fn group_opening(chars: &[char], out: &mut String) -> Result<usize, &'static str> {
    let rest: String = chars.iter().take(4).collect();
    if rest.starts_with("(?P<")
        || (rest.starts_with("(?<") && !rest.starts_with("(?<=") && !rest.starts_with("(?<!"))
    {
        let end = chars
            .iter()
            .position(|c| *c == '>')
            .ok_or("an unterminated group name")?;
        out.push_str("(?:");
        return Ok(end + 1);
    }
    // Inline flags: (?flags) or (?flags:
    let mut j = 2;
    while let Some(c) = chars.get(j) {
        match c {
            'i' | 's' | 'x' | '-' => j += 1,
            'm' => return Err("an inline multi-line flag"),
            'U' => return Err("the swap-greed flag"),
            'u' => j += 1,
            ':' | ')' => break,
            _ => return Err("a group construct"),
        }
    }
    let text: String = chars[..=j.min(chars.len() - 1)]
        .iter()
        .filter(|c| **c != 'u')
        .collect();
    out.push_str(&text);
    Ok(j + 1)
}

/// A Spark SQL string literal of `s` (backslashes and quotes escaped).
pub(crate) fn sql_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A SQL `LIKE` pattern matching `s` literally (`\`, `%` and `_` escaped with `\`).
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
