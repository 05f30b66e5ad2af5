//! The emulated token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials): checks the
//! client id and either the client secret or the client assertion (RS256 signature verified with
//! the configured public key, `aud` the endpoint, `iss` = `sub` = client id, not expired, `x5t` the
//! configured thumbprint), and issues opaque tokens that expire after the configured lifetime.
//! Resources refuse an expired or unknown token with 401 and count the refusal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use crate::server::{Reply, Req, decode};

/// What the emulator accepts.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// Client id.
    pub client_id: String,
    /// Client secret (none: secrets are refused).
    pub secret: Option<String>,
    /// RSA public key (PKCS#1 DER) of certificate auth, and the certificate's `x5t`.
    pub public_key: Option<(Vec<u8>, String)>,
    /// Lifetime of issued tokens.
    pub lifetime: Duration,
}

/// Tokens issued.
#[derive(Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, (String, Instant)>>,
    n: Mutex<u64>,
}

fn oauth_error(code: &str, desc: &str) -> Reply {
    let body = serde_json::json!({"error": code, "error_description": desc}).to_string();
    Reply::Send(400, vec![], body)
}

impl Tokens {
    /// Tokens issued so far.
    pub fn count(&self) -> u64 {
        *self.n.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers a token request for `tenant`.
    pub fn issue(&self, exp: &Expect, tenant: &str, req: &Req) -> Reply {
        let form: HashMap<String, String> = req
            .body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (decode(k, true), decode(v, true)))
            .collect();
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if get("grant_type") != "client_credentials" {
            return oauth_error(
                "unsupported_grant_type",
                "AADSTS70003: grant type not supported.",
            );
        }
        if get("client_id") != exp.client_id {
            return oauth_error(
                "unauthorized_client",
                "AADSTS700016: Application not found in the directory.",
            );
        }
        let ok = match (get("client_secret"), get("client_assertion")) {
            (s, "") => exp
                .secret
                .as_deref()
                .is_some_and(|x| x == s && !s.is_empty()),
            ("", a) => self.assertion_ok(exp, tenant, req, a),
            _ => false,
        };
        if !ok {
            return oauth_error(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided.",
            );
        }
        let mut n = self.n.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        let token = format!(
            "emu-{tenant}-{n}-{:x}",
            Instant::now().elapsed().as_nanos() ^ 0x9e37
        );
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                token.clone(),
                (tenant.to_string(), Instant::now() + exp.lifetime),
            );
        let body = serde_json::json!({
            "token_type": "Bearer", "expires_in": exp.lifetime.as_secs(),
            "ext_expires_in": exp.lifetime.as_secs(), "access_token": token
        });
        Reply::Send(200, vec![], body.to_string())
    }

    fn assertion_ok(&self, exp: &Expect, tenant: &str, req: &Req, jwt: &str) -> bool {
        let Some((key, x5t)) = &exp.public_key else {
            return false;
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let [h, c, s] = parts[..] else { return false };
        let (Some(hb), Some(cb), Some(sig)) = (b64url(h), b64url(c), b64url(s)) else {
            return false;
        };
        let hv: serde_json::Value = serde_json::from_slice(&hb).unwrap_or_default();
        let cv: serde_json::Value = serde_json::from_slice(&cb).unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let aud_ok = cv["aud"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!("/{tenant}/oauth2/v2.0/token")));
        let _ = req;
        hv["alg"] == "RS256"
            && hv["x5t"].as_str() == Some(x5t.as_str())
            && aud_ok
            && cv["iss"] == exp.client_id.as_str()
            && cv["sub"] == exp.client_id.as_str()
            && cv["exp"].as_u64().is_some_and(|e| e > now)
            && UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
                .verify(format!("{h}.{c}").as_bytes(), &sig)
                .is_ok()
    }

    /// The tenant of a valid token; `Err(true)` when it expired, `Err(false)` when unknown.
    pub fn check(&self, bearer: Option<&str>) -> Result<String, bool> {
        let t = bearer
            .and_then(|b| b.strip_prefix("Bearer "))
            .ok_or(false)?;
        let m = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let (tenant, until) = m.get(t).ok_or(false)?;
        if Instant::now() >= *until {
            return Err(true);
        }
        Ok(tenant.clone())
    }
}

/// Base64url decoding, padding optional.
pub fn b64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}
