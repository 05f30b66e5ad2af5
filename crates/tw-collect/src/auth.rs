//! App-only tokens (OAuth 2.0 client credentials grant on the Microsoft identity platform v2.0
//! endpoint): one token per tenant and resource (`{resource}/.default`), kept until shortly before
//! it expires and renewed then — or at once when a resource answers 401. Tokens and secrets stay
//! in memory; errors quote only the service's `error` code and the first line of its description.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::http::{Http, Request, Tally};
use crate::jwt::Signer;
use crate::secret::{Credentials, Proof, Secret};

struct Token {
    value: Secret,
    renew_at: Instant,
}

/// The token of one tenant and resource, locked while it is being renewed.
type Slot = Arc<Mutex<Option<Token>>>;

/// Where tokens come from, and the ones held.
pub struct Auth {
    client_id: String,
    secret: Option<Secret>,
    signer: Option<Signer>,
    login: String,
    tokens: Mutex<HashMap<(String, String), Slot>>,
    /// Refusals of the token endpoint: not asked again in this run.
    refused: Mutex<HashMap<(String, String), String>>,
    issued: std::sync::atomic::AtomicU64,
}

impl Auth {
    /// Loads the certificate, if any; `login` is the identity platform host.
    pub fn new(creds: &Credentials, login: &str) -> Result<Auth, Error> {
        let (secret, signer) = match &creds.proof {
            Proof::Secret(s) => (Some(s.clone()), None),
            Proof::Certificate(p) => (None, Some(Signer::from_pem_file(p)?)),
        };
        Ok(Auth {
            client_id: creds.client_id.clone(),
            secret,
            signer,
            login: login.trim_end_matches('/').to_string(),
            tokens: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            issued: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Tokens obtained so far.
    pub fn issued(&self) -> u64 {
        self.issued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A valid token for `resource` (a base URL such as `https://graph.microsoft.com`) in `tenant`.
    pub fn token(
        &self,
        http: &Http,
        tenant: &str,
        resource: &str,
        tally: &mut Tally,
    ) -> Result<Secret, Error> {
        let key = (tenant.to_string(), resource.to_string());
        if let Some(why) = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Err(Error::Auth(why.clone()));
        }
        let slot = {
            let mut m = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            m.entry((tenant.to_string(), resource.to_string()))
                .or_default()
                .clone()
        };
        // One request per tenant and resource at a time; the others wait for its token.
        let mut held = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = held.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let t = match self.request(http, tenant, resource, tally) {
            Ok(t) => t,
            Err(Error::Auth(why)) => {
                // The credentials were refused: asking again would be refused again.
                let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
                r.insert(key, why.clone());
                return Err(Error::Auth(why));
            }
            Err(e) => return Err(e),
        };
        let v = t.value.clone();
        *held = Some(t);
        Ok(v)
    }

    /// Forgets the token of `tenant` and `resource` (the resource refused it).
    pub fn invalidate(&self, tenant: &str, resource: &str) {
        let m = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = m.get(&(tenant.to_string(), resource.to_string())) {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    fn request(
        &self,
        http: &Http,
        tenant: &str,
        resource: &str,
        tally: &mut Tally,
    ) -> Result<Token, Error> {
        let url = format!("{}/{}/oauth2/v2.0/token", self.login, tenant);
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", format!("{resource}/.default")),
            ("grant_type", "client_credentials".to_string()),
        ];
        if let Some(s) = &self.secret {
            form.push(("client_secret", s.expose().to_string()));
        }
        if let Some(sig) = &self.signer {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            form.push((
                "client_assertion",
                sig.assertion(&self.client_id, &url, now)?,
            ));
        }
        let body = Secret::new(form_encode(&form));
        let started = Instant::now();
        let reply = http.send(
            &Request {
                post: true,
                url: &url,
                bearer: None,
                body: Some((body.expose(), "application/x-www-form-urlencoded")),
            },
            tally,
        )?;
        let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
        let access = v.get("access_token").and_then(|x| x.as_str());
        match (reply.status, access) {
            (200, Some(a)) => {
                self.issued
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let life = Duration::from_secs(v.get("expires_in").map_or(3599, as_u64));
                // Renew with a quarter of the lifetime left, at most 5 minutes before expiry.
                let margin = (life / 4).min(Duration::from_secs(300));
                Ok(Token {
                    value: Secret::new(a),
                    renew_at: started + life.saturating_sub(margin),
                })
            }
            (status, _) => Err(Error::Auth(format!(
                "tenant {tenant}: no token for {resource} (HTTP {status}: {})",
                token_error(&v)
            ))),
        }
    }
}

/// `expires_in` as a number or a numeric string.
fn as_u64(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(3599)
}

/// `error: first line of error_description`, printable characters only.
fn token_error(v: &serde_json::Value) -> String {
    let code = v
        .get("error")
        .and_then(|x| x.as_str())
        .unwrap_or("no error code");
    let desc = v
        .get("error_description")
        .and_then(|x| x.as_str())
        .and_then(|d| d.lines().next())
        .unwrap_or("");
    let clean: String = format!("{code}: {desc}")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    clean.trim_end_matches(": ").to_string()
}

/// `application/x-www-form-urlencoded`.
pub fn form_encode(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
pub fn pct(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_and_error_text() {
        assert_eq!(
            form_encode(&[("a", "x y&z".into()), ("s", "https://g/.default".into())]),
            "a=x%20y%26z&s=https%3A%2F%2Fg%2F.default"
        );
        let v = serde_json::json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: 1"});
        assert_eq!(
            token_error(&v),
            "invalid_client: AADSTS7000215: Invalid client secret."
        );
    }
}
