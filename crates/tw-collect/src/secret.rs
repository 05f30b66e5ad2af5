//! Credentials of the collecting application: the client id, and a client secret or a PEM
//! certificate with its private key, read from the environment (`TENANTWATCH_CLIENT_ID`,
//! `TENANTWATCH_CLIENT_SECRET`, `TENANTWATCH_CERTIFICATE`) or from a JSON or YAML file with the
//! same three names. A secret never shows in `Debug`, `Display` or an error message.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Error;

/// A value that must never be printed, logged or written to the output folder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the application proves who it is.
#[derive(Clone, Debug)]
pub enum Proof {
    /// A client secret.
    Secret(Secret),
    /// A PEM file holding the private key and the certificate (a signed client assertion).
    Certificate(PathBuf),
}

/// The application's credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Application (client) id.
    pub client_id: String,
    /// Secret or certificate.
    pub proof: Proof,
}

/// Environment variable of the client id.
pub const ENV_CLIENT_ID: &str = "TENANTWATCH_CLIENT_ID";
/// Environment variable of the client secret.
pub const ENV_SECRET: &str = "TENANTWATCH_CLIENT_SECRET";
/// Environment variable of the certificate (PEM path).
pub const ENV_CERTIFICATE: &str = "TENANTWATCH_CERTIFICATE";

/// The three values, from wherever they come.
#[derive(Default)]
struct Raw {
    client_id: Option<String>,
    secret: Option<String>,
    certificate: Option<String>,
}

impl Credentials {
    /// From `file` when given, else from the environment (`get` reads a variable).
    pub fn load(
        file: Option<&Path>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, Error> {
        let raw = match file {
            Some(p) => read_file(p)?,
            None => Raw {
                client_id: get(ENV_CLIENT_ID),
                secret: get(ENV_SECRET),
                certificate: get(ENV_CERTIFICATE),
            },
        };
        let from = match file {
            Some(p) => format!("{}", p.display()),
            None => "the environment".to_string(),
        };
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let client_id = nonempty(raw.client_id).ok_or_else(|| {
            Error::Usage(format!(
                "no client id in {from} ({ENV_CLIENT_ID} or client_id/TENANTWATCH_CLIENT_ID in --credentials)"
            ))
        })?;
        let proof = match (nonempty(raw.certificate), nonempty(raw.secret)) {
            (Some(c), _) => Proof::Certificate(PathBuf::from(c.trim())),
            (None, Some(s)) => Proof::Secret(Secret(s)),
            (None, None) => {
                return Err(Error::Usage(format!(
                    "no client secret or certificate in {from} ({ENV_SECRET} or {ENV_CERTIFICATE})"
                )));
            }
        };
        Ok(Credentials {
            client_id: client_id.trim().to_string(),
            proof,
        })
    }
}

/// Reads a credentials file: a JSON object, or YAML `key: value` lines.
fn read_file(p: &Path) -> Result<Raw, Error> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| Error::Usage(format!("--credentials {}: {e}", p.display())))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut raw = Raw::default();
    let mut put = |k: &str, v: String| match normalise_key(k).as_str() {
        "clientid" => raw.client_id = Some(v),
        "clientsecret" => raw.secret = Some(v),
        "certificate" => raw.certificate = Some(v),
        _ => {}
    };
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            // The parser's message names a line and column, never the text.
            Error::Usage(format!(
                "--credentials {}: not valid JSON ({e})",
                p.display()
            ))
        })?;
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                if let Some(s) = v.as_str() {
                    put(k, s.to_string());
                }
            }
        }
    } else {
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line == "---" {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                put(k.trim(), unquote(v.trim()));
            }
        }
    }
    Ok(raw)
}

/// `client_id`, `clientId`, `TENANTWATCH_CLIENT_ID` → `clientid`.
fn normalise_key(k: &str) -> String {
    let k = k.trim().trim_matches('"').to_ascii_lowercase();
    let k = k.strip_prefix("tenantwatch_").unwrap_or(&k).to_string();
    k.replace(['_', '-'], "")
}

fn unquote(v: &str) -> String {
    let v = v.split(" #").next().unwrap_or(v).trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |k| v.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn environment_secret_and_certificate() {
        let c =
            Credentials::load(None, env(&[(ENV_CLIENT_ID, "app"), (ENV_SECRET, "s3")])).unwrap();
        assert_eq!(c.client_id, "app");
        assert!(matches!(c.proof, Proof::Secret(ref s) if s.expose() == "s3"));
        assert!(!format!("{c:?}").contains("s3"));
        let c = Credentials::load(
            None,
            env(&[(ENV_CLIENT_ID, "app"), (ENV_CERTIFICATE, "/k.pem")]),
        )
        .unwrap();
        assert!(matches!(c.proof, Proof::Certificate(ref p) if p == Path::new("/k.pem")));
        let e = Credentials::load(None, env(&[(ENV_CLIENT_ID, "app")])).unwrap_err();
        assert!(e.to_string().contains(ENV_SECRET));
    }

    #[test]
    fn json_and_yaml_files() {
        let d = std::env::temp_dir().join(format!("tw-collect-creds-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let j = d.join("c.json");
        std::fs::write(
            &j,
            r#"{"TENANTWATCH_CLIENT_ID":"a1","TENANTWATCH_CLIENT_SECRET":"x:y"}"#,
        )
        .unwrap();
        let c = Credentials::load(Some(&j), |_| None).unwrap();
        assert!(matches!(c.proof, Proof::Secret(ref s) if s.expose() == "x:y"));
        let y = d.join("c.yaml");
        std::fs::write(&y, "# test\nclient_id: \"a2\"\ncertificate: /tmp/k.pem\n").unwrap();
        let c = Credentials::load(Some(&y), |_| None).unwrap();
        assert_eq!(c.client_id, "a2");
        assert!(matches!(c.proof, Proof::Certificate(_)));
        std::fs::remove_dir_all(&d).ok();
    }
}
