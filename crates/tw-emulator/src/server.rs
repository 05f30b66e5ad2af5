//! HTTP/1.1 on a loopback `TcpListener`, as much as the collector's client needs: one thread per
//! connection, keep-alive, `Content-Length` bodies, a read timeout on every socket, and a stop flag
//! that ends the accept loop and every connection within a second.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A parsed request.
#[derive(Debug, Default)]
pub struct Req {
    /// `GET`, `POST`.
    pub method: String,
    /// Path and query, percent-encoded as sent.
    pub target: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Req {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with a request.
pub enum Reply {
    /// Answer with status, extra headers and a JSON body.
    Send(u16, Vec<(String, String)>, String),
    /// Close the connection without answering.
    Drop,
}

/// Serves `listener` until `stop`, handing requests to `handle`.
pub fn serve(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    handle: Arc<dyn Fn(&Req) -> Reply + Send + Sync>,
) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                let (stop, handle) = (stop.clone(), handle.clone());
                std::thread::spawn(move || connection(s, &stop, handle.as_ref()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn connection(s: TcpStream, stop: &AtomicBool, handle: &(dyn Fn(&Req) -> Reply + Send + Sync)) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = s.set_nodelay(true);
    let Ok(mut w) = s.try_clone() else { return };
    let mut r = BufReader::new(s);
    loop {
        let req = match read_request(&mut r, stop) {
            Some(q) => q,
            None => return,
        };
        match handle(&req) {
            Reply::Drop => return,
            Reply::Send(status, headers, body) => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if w.write_all(head.as_bytes()).is_err() || w.write_all(body.as_bytes()).is_err() {
                    return;
                }
                let _ = w.flush();
                if req
                    .header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("close"))
                {
                    return;
                }
            }
        }
    }
}

/// Reads a request; `None` when the peer closed, the stop flag is set or the request is broken.
fn read_request(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<Req> {
    let mut line = String::new();
    loop {
        match r.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) if line.trim().is_empty() => line.clear(),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    let mut parts = line.split_whitespace();
    let mut req = Req {
        method: parts.next()?.to_string(),
        target: parts.next()?.to_string(),
        ..Default::default()
    };
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        req.headers
            .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    r.read_exact(&mut body).ok()?;
    req.body = String::from_utf8_lossy(&body).into_owned();
    Some(req)
}

fn reason(s: u16) -> &'static str {
    match s {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Percent-decoding of a URL component (`+` is a space in form bodies only: pass `plus`).
pub fn decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|x| u8::from_str_radix(x, 16).ok());
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `path?query` into the path and decoded query pairs.
pub fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (p, q) = target.split_once('?').unwrap_or((target, ""));
    let pairs = q
        .split('&')
        .filter(|x| !x.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k, false), decode(v, false))
        })
        .collect();
    (decode(p, false), pairs)
}
