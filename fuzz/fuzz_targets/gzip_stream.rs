#![no_main]
//! The gzip path: raw bytes behind the gzip magic, and valid gzip of fuzz bytes cut at a
//! fuzz-chosen point (truncated archives).

use std::io::Write;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut raw = vec![0x1f, 0x8b];
    raw.extend_from_slice(data);
    common::read_all("case/a.json.gz", raw);
    let Some((&cut, body)) = data.split_first() else { return };
    let mut enc = flate2_write(body);
    let keep = enc.len() * usize::from(cut) / 255;
    enc.truncate(keep.max(2));
    common::read_all("case/b.json.gz", enc);
});

fn flate2_write(body: &[u8]) -> Vec<u8> {
    // A stored (uncompressed) gzip member, written by hand: header, deflate stored blocks, trailer.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = body.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = c.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    let crc = crc32(body);
    let _ = out.write_all(&crc.to_le_bytes());
    let _ = out.write_all(&(body.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
