//! One finding per line, exactly as `docs/findings.md` specifies.

use std::io::{self, Write};

use tw_event::Finding;

/// Writes findings as JSON lines.
pub fn write_jsonl<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *w, f)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
