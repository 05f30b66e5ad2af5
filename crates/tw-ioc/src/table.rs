//! CSV and TSV indicator lists with a header row naming the value column and, usually, a type
//! column: the common headers of agency and vendor exports (`indicator,type,description`,
//! `Indicator type,Indicator,Description`, MISP's `uuid,event_id,category,type,value,comment,…`,
//! `ioc_value,ioc_type,…`, `Type\tValue\tDescription`, `valid_from`/`valid_until`).

use std::sync::Arc;

use tw_event::Timestamp;

use crate::kind::{IocType, type_from_name};
use crate::load::Loaded;

/// The columns found in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    delimiter: u8,
    value: usize,
    /// The type a value column named after a type gives (`ip_address`, `domain`).
    value_hint: Option<IocType>,
    kind: Option<usize>,
    description: Vec<usize>,
    valid_from: Option<usize>,
    valid_until: Option<usize>,
}

/// A header name lower case, letters and digits only.
fn norm(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

const VALUE: [&str; 12] = [
    "indicator",
    "indicatorvalue",
    "ioc",
    "iocvalue",
    "value",
    "observable",
    "observablevalue",
    "observabledata",
    "artifact",
    "artefact",
    "data",
    "ioccontent",
];
const KIND: [&str; 7] = [
    "type",
    "indicatortype",
    "ioctype",
    "observabletype",
    "datatype",
    "kind",
    "attributetype",
];
const DESCRIPTION: [&str; 10] = [
    "description",
    "comment",
    "comments",
    "context",
    "notes",
    "note",
    "threattype",
    "malware",
    "info",
    "title",
];

/// The columns of the first non-comment line when it is a header naming a value column.
pub fn header(text: &str) -> Option<Columns> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let delimiter = [b'\t', b',', b';', b'|']
        .into_iter()
        .max_by_key(|d| line.bytes().filter(|b| b == d).count())?;
    if !line.as_bytes().contains(&delimiter) {
        return None;
    }
    // A first line holding an indicator is data, not a header (`ipv4,203.0.113.7`).
    if line
        .split(delimiter as char)
        .any(|c| crate::kind::recognise(c.trim_matches('"'), None).is_ok())
    {
        return None;
    }
    let names: Vec<String> = line
        .split(delimiter as char)
        .map(|h| norm(h.trim_matches('"')))
        .collect();
    let find = |set: &[&str]| set.iter().find_map(|w| names.iter().position(|n| n == w));
    let kind = find(&KIND);
    let (value, value_hint) = match find(&VALUE) {
        Some(v) => (v, None),
        // A value column named after its type: `ip_address`, `domain`, `url`.
        None => names.iter().enumerate().find_map(|(i, n)| {
            if [
                "ip",
                "ipaddress",
                "ipaddr",
                "address",
                "cidr",
                "iprange",
                "network",
            ]
            .contains(&n.as_str())
            {
                return Some((i, None));
            }
            let hint = type_from_name(n).ok().flatten()?;
            Some((i, Some(hint)))
        })?,
    };
    Some(Columns {
        delimiter,
        value,
        value_hint,
        kind,
        description: DESCRIPTION
            .iter()
            .filter_map(|w| names.iter().position(|n| n == w))
            .collect(),
        valid_from: names.iter().position(|n| n == "validfrom"),
        valid_until: names
            .iter()
            .position(|n| n == "validuntil" || n == "expiration" || n == "expirationdatetime"),
    })
}

/// Reads the rows after the header.
pub fn load(file: &Arc<str>, text: &str, cols: &Columns, out: &mut Loaded) {
    let skipped_lines = text
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim().starts_with('#'))
        .count() as u64;
    let body: String = text
        .lines()
        .skip(skipped_lines as usize)
        .collect::<Vec<_>>()
        .join("\n");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(cols.delimiter)
        .flexible(true)
        .has_headers(true)
        .comment(Some(b'#'))
        .from_reader(body.as_bytes());
    for rec in r.records() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) + skipped_lines;
                out.skip(file, line, "-", "", format!("bad CSV row: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line()) + skipped_lines;
        row(file, line, &rec, cols, out);
    }
}

fn row(file: &Arc<str>, line: u64, rec: &csv::StringRecord, cols: &Columns, out: &mut Loaded) {
    let value = rec.get(cols.value).unwrap_or("").trim();
    let type_name = cols.kind.and_then(|k| rec.get(k)).unwrap_or("").trim();
    if value.is_empty() {
        if rec.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        out.skip(
            file,
            line,
            type_name,
            "",
            "no value in the value column".into(),
        );
        return;
    }
    let hint = match type_from_name(type_name) {
        Ok(h) => h.or(cols.value_hint),
        Err(reason) => {
            out.skip(file, line, type_name, value, reason);
            return;
        }
    };
    let description: Vec<&str> = cols
        .description
        .iter()
        .filter_map(|&i| rec.get(i))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let desc = (!description.is_empty()).then(|| description.join("; "));
    let shown = if type_name.is_empty() { "-" } else { type_name };
    if let Some(i) = out.add(file, line, shown, hint, value, desc) {
        let time = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .and_then(|t| Timestamp::parse(t.trim()))
        };
        out.indicators[i].valid_from = time(cols.valid_from);
        out.indicators[i].valid_until = time(cols.valid_until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;

    #[test]
    fn headers_of_common_lists() {
        let h = header("Indicator type,Indicator,Description\n").unwrap();
        assert_eq!((h.value, h.kind), (1, Some(0)));
        let h = header("uuid,event_id,category,type,value,comment,to_ids,date\n").unwrap();
        assert_eq!(
            (h.value, h.kind, h.description.clone()),
            (4, Some(3), vec![5])
        );
        let h = header("Type\tValue\tDescription\n").unwrap();
        assert_eq!((h.delimiter, h.value), (b'\t', 1));
        let h = header("first_seen,ip_address\n").unwrap();
        assert_eq!((h.value, h.value_hint), (1, None));
        let h = header("domain,first_seen\n").unwrap();
        assert_eq!((h.value, h.value_hint), (0, Some(IocType::Domain)));
        assert!(header("1.2.3.4\nevil.com\n").is_none());
        assert!(header("evil.com,phishing kit\n").is_none());
        assert!(header("ipv4,203.0.113.7\n").is_none());
    }

    #[test]
    fn rows_with_line_numbers_and_multi_line_cells() {
        let f: Arc<str> = Arc::from("x.csv");
        let text = "# exported\nindicator,type,description\n203.0.113[.]7,IPv4,\"relay,\nsecond line\"\nevil.com,FileHash-SHA256,x\n,domain,\nhxxps://evil[.]com/x,URL,phish\n";
        let l = load_text(&f, text);
        let got: Vec<(u64, String)> = l.indicators.iter().map(|i| (i.line, i.label())).collect();
        assert_eq!(
            got,
            vec![
                (3, "ipv4 203.0.113.7".into()),
                (7, "url https://evil.com/x".into())
            ]
        );
        assert_eq!(
            l.indicators[0].description.as_deref(),
            Some("relay,\nsecond line")
        );
        let bad: Vec<u64> = l.skipped.iter().map(|s| s.line).collect();
        assert_eq!(bad, vec![5, 6]);
    }
}
