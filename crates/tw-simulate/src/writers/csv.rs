//! CSV cells as the Microsoft exports write them: quoted when they hold a comma, a quote or a line
//! break, with quotes doubled.

/// Appends one cell (no separator).
pub fn cell(b: &mut Vec<u8>, v: &[u8]) {
    let needs = v.iter().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r'));
    if !needs {
        b.extend_from_slice(v);
        return;
    }
    b.push(b'"');
    for &c in v {
        if c == b'"' {
            b.push(b'"');
        }
        b.push(c);
    }
    b.push(b'"');
}

/// Appends a separator (when not the first cell) and a cell.
pub fn next(b: &mut Vec<u8>, first: &mut bool, v: &[u8]) {
    if !*first {
        b.push(b',');
    }
    *first = false;
    cell(b, v);
}
