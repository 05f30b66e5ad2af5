//! The signed client assertion of certificate authentication (Microsoft identity platform
//! "certificate credentials"): a JWT with header `{"alg":"RS256","typ":"JWT","x5t":…}` (x5t: the
//! base64url SHA-1 thumbprint of the certificate) and claims `aud` (the token endpoint), `iss` and
//! `sub` (the client id), `jti`, `nbf`, `iat`, `exp`, signed RS256 with the private key, using
//! `ring` (the crypto provider rustls already brings) and the PEM reader of `rustls-pki-types`.

use std::path::Path;

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A loaded certificate: signing key and thumbprint.
pub struct Signer {
    key: RsaKeyPair,
    x5t: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer(x5t {})", self.x5t)
    }
}

impl Signer {
    /// Reads the RSA private key (PKCS#8 or PKCS#1) and the first certificate of a PEM file.
    pub fn from_pem_file(path: &Path) -> Result<Signer, Error> {
        let bad = |what: String| Error::Usage(format!("certificate {}: {what}", path.display()));
        let key = PrivateKeyDer::from_pem_file(path)
            .map_err(|e| bad(format!("no readable private key ({e})")))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(bad("the private key is not an RSA key".into())),
        }
        .map_err(|e| bad(format!("the RSA key is not usable ({e})")))?;
        let cert = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(format!("unreadable ({e})")))?
            .next()
            .ok_or_else(|| bad("no CERTIFICATE block next to the key".into()))?
            .map_err(|e| bad(format!("bad CERTIFICATE block ({e})")))?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
        Ok(Signer {
            key,
            x5t: b64url(sha1.as_ref()),
            rng: SystemRandom::new(),
        })
    }

    /// The certificate's thumbprint as `x5t` carries it.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A client assertion for `client_id` at token endpoint `aud`, valid 10 minutes from `now`
    /// (Unix seconds).
    pub fn assertion(&self, client_id: &str, aud: &str, now: u64) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        self.rng
            .fill(&mut jti)
            .map_err(|_| Error::Auth("no random bytes for the assertion id".into()))?;
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = serde_json::json!({
            "aud": aud, "iss": client_id, "sub": client_id, "jti": hex(&jti),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        let mut msg = b64url(header.to_string().as_bytes());
        msg.push('.');
        msg.push_str(&b64url(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, msg.as_bytes(), &mut sig)
            .map_err(|_| Error::Auth("signing the client assertion failed".into()))?;
        msg.push('.');
        msg.push_str(&b64url(&sig));
        Ok(msg)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Base64url without padding (RFC 7515 §2).
pub fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_of_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(b64url(i.as_bytes()), o);
        }
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }
}
