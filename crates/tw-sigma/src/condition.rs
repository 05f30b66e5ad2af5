//! The condition language: tokenizer and recursive-descent parser.
//!
//! Grammar (precedence from least to most binding: `or`, `and`, `not`, `x of`, brackets):
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | quant "of" ("them" | pattern) | identifier
//! quant   := "1" | "any" | "all" | N
//! ```
//!
//! Patterns may contain `*` (any sequence) and `?` (one character). `them` covers every
//! identifier that does not begin with `_`. A pattern that matches no identifier, an
//! unknown identifier and the obsolete aggregation syntax (`| count() ...`) are errors.

/// A parsed condition, referring to search identifiers by index.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// One search identifier.
    Ident(usize),
    /// Negation.
    Not(Box<Cond>),
    /// Conjunction.
    And(Vec<Cond>),
    /// Disjunction.
    Or(Vec<Cond>),
    /// At least `n` of the identifiers (`1 of x*`, `any of x*`).
    AtLeast(usize, Vec<usize>),
    /// All of the identifiers (`all of x*`).
    All(Vec<usize>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    Them,
    All,
    Any,
    Num(usize),
    Word(String),
    Pipe,
}

const MAX_DEPTH: usize = 128;

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        match c {
            '(' => {
                out.push(Tok::LParen);
                chars.next();
            }
            ')' => {
                out.push(Tok::RParen);
                chars.next();
            }
            '|' => {
                // Everything after a pipe is the obsolete aggregation syntax.
                out.push(Tok::Pipe);
                break;
            }
            _ if c.is_alphanumeric() || matches!(c, '_' | '*' | '?' | '-' | '.' | '$') => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || matches!(d, '_' | '*' | '?' | '-' | '.' | '$') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let w = &s[i..end];
                let tok = match w.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "of" => Tok::Of,
                    "them" => Tok::Them,
                    "all" => Tok::All,
                    "any" => Tok::Any,
                    _ => match w.parse::<usize>() {
                        Ok(n) => Tok::Num(n),
                        Err(_) => Tok::Word(w.to_string()),
                    },
                };
                out.push(tok);
            }
            _ => return Err(format!("unexpected character {c:?} in condition")),
        }
    }
    Ok(out)
}

/// Matches an identifier against a pattern with `*` and `?` wildcards.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    idents: &'a [String],
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("condition nested too deeply".into());
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Cond, String> {
        self.enter()?;
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.next();
            parts.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.next();
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.next();
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn resolve_pattern(&self, pattern: &str) -> Result<Vec<usize>, String> {
        let found: Vec<usize> = self
            .idents
            .iter()
            .enumerate()
            .filter(|(_, name)| pattern_matches(pattern, name))
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            return Err(format!(
                "condition pattern '{pattern}' matches no search identifier"
            ));
        }
        Ok(found)
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("missing closing parenthesis in condition".into()),
                }
            }
            Some(q @ (Tok::All | Tok::Any | Tok::Num(_))) => {
                if self.peek() != Some(&Tok::Of) {
                    return match q {
                        Tok::Num(n) => Err(format!("unexpected number {n} in condition")),
                        _ => Err("expected 'of' after quantifier in condition".into()),
                    };
                }
                self.next();
                let targets = match self.next() {
                    Some(Tok::Them) => {
                        let v: Vec<usize> = self
                            .idents
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| !n.starts_with('_'))
                            .map(|(i, _)| i)
                            .collect();
                        if v.is_empty() {
                            return Err("'them' covers no search identifier".into());
                        }
                        v
                    }
                    Some(Tok::Word(p)) => self.resolve_pattern(&p)?,
                    _ => return Err("expected 'them' or a pattern after 'of'".into()),
                };
                Ok(match q {
                    Tok::All => Cond::All(targets),
                    Tok::Num(0) => return Err("'0 of' is not a valid quantifier".into()),
                    Tok::Num(n) => Cond::AtLeast(n, targets),
                    _ => Cond::AtLeast(1, targets),
                })
            }
            Some(Tok::Word(w)) => {
                if w.contains(['*', '?']) {
                    return Err(format!(
                        "wildcard identifier '{w}' must be used with '1 of' or 'all of'"
                    ));
                }
                match self.idents.iter().position(|n| *n == w) {
                    Some(i) => Ok(Cond::Ident(i)),
                    None => Err(format!(
                        "condition refers to unknown search identifier '{w}'"
                    )),
                }
            }
            Some(Tok::Pipe) => Err(
                "aggregation expressions ('| count() ...') are not supported; use a correlation rule"
                    .into(),
            ),
            Some(t) => Err(format!("unexpected token {t:?} in condition")),
            None => Err("unexpected end of condition".into()),
        }
    }
}

/// Parses a condition against the rule's search identifiers (in definition order).
pub fn parse_condition(text: &str, idents: &[String]) -> Result<Cond, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty condition".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        idents,
        depth: 0,
    };
    let c = p.expr()?;
    match p.peek() {
        None => Ok(c),
        Some(Tok::Pipe) => Err(
            "aggregation expressions ('| count() ...') are not supported; use a correlation rule"
                .into(),
        ),
        Some(t) => Err(format!("unexpected token {t:?} in condition")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        ["sel", "sel_b", "filter_1", "_hidden"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn precedence() {
        let c = parse_condition("sel or sel_b and not filter_1", &ids()).unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Ident(0),
                Cond::And(vec![Cond::Ident(1), Cond::Not(Box::new(Cond::Ident(2)))])
            ])
        );
    }

    #[test]
    fn quantifiers() {
        assert_eq!(
            parse_condition("1 of them", &ids()).unwrap(),
            Cond::AtLeast(1, vec![0, 1, 2])
        );
        assert_eq!(
            parse_condition("all of sel*", &ids()).unwrap(),
            Cond::All(vec![0, 1])
        );
        assert_eq!(
            parse_condition("any of _*", &ids()).unwrap(),
            Cond::AtLeast(1, vec![3])
        );
        assert!(parse_condition("1 of nothing*", &ids()).is_err());
        assert!(parse_condition("unknown", &ids()).is_err());
        assert!(parse_condition("sel | count() > 5", &ids()).is_err());
        assert!(parse_condition("(sel", &ids()).is_err());
        let deep = format!("{}sel{}", "(".repeat(1000), ")".repeat(1000));
        assert!(parse_condition(&deep, &ids()).is_err());
    }
}
