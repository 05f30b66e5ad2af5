//! Benchmark data for `tenantwatch audit`: writes a tenant snapshot of a given size in Graph's page
//! shape, or audits one with the library and prints the time.
//!
//! ```text
//! cargo run --release -p tw-audit --example audit_bench -- --generate /tmp/snap --sps 100000 --grants 500000
//! cargo run --release -p tw-audit --example audit_bench -- --audit /tmp/snap
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const TENANT: &str = "0b3d5c4e-1f2a-4b6c-8d9e-a0b1c2d3e4f5";
const GRAPH_SP: &str = "5f0e7c1a-0000-4000-8000-000000000003";
const PAGE: usize = 999;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

fn sp_id(i: usize) -> String {
    format!("{:08x}-5a5a-4000-8000-{:012x}", i, i)
}

fn pages(
    dir: &Path,
    name: &str,
    context: &str,
    n: usize,
    mut item: impl FnMut(usize) -> String,
) -> std::io::Result<()> {
    let mut i = 0;
    let mut page = 0;
    while i < n || (n == 0 && page == 0) {
        let mut w = BufWriter::new(File::create(
            dir.join(format!("{name}.page{page:04}.json")),
        )?);
        write!(
            w,
            "{{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#{context}\",\"value\":["
        )?;
        let end = (i + PAGE).min(n);
        for k in i..end {
            if k > i {
                w.write_all(b",")?;
            }
            w.write_all(item(k).as_bytes())?;
        }
        w.write_all(b"]}\n")?;
        i = end;
        page += 1;
    }
    Ok(())
}

fn generate(dir: &Path, sps: usize, grants: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    std::fs::write(
        dir.join("organization.json"),
        format!(
            "{{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#organization\",\"value\":[{{\"id\":\"{TENANT}\",\"displayName\":\"Bench Corp\",\"verifiedDomains\":[{{\"name\":\"bench.example\",\"type\":\"Managed\",\"isDefault\":true,\"isInitial\":false,\"capabilities\":\"Email\"}}]}}]}}"
        ),
    )?;
    let owners = [
        TENANT,
        "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
    ];
    pages(dir, "servicePrincipals", "servicePrincipals", sps, |i| {
        let id = if i == 0 {
            GRAPH_SP.to_string()
        } else {
            sp_id(i)
        };
        let app_id = if i == 0 {
            "00000003-0000-0000-c000-000000000000".to_string()
        } else {
            rng.guid()
        };
        let owner = if i == 0 {
            owners[1]
        } else {
            owners[(rng.next() % 4) as usize]
        };
        let creds = if rng.next() % 20 < 1 {
            format!(
                "[{{\"customKeyIdentifier\":null,\"displayName\":\"secret\",\"endDateTime\":\"2027-01-01T00:00:00Z\",\"hint\":\"abc\",\"keyId\":\"{}\",\"secretText\":null,\"startDateTime\":\"2025-01-01T00:00:00Z\"}}]",
                rng.guid()
            )
        } else {
            "[]".into()
        };
        format!(
            "{{\"id\":\"{id}\",\"accountEnabled\":true,\"appDisplayName\":\"App {i}\",\"appId\":\"{app_id}\",\"appOwnerOrganizationId\":\"{owner}\",\"appRoleAssignmentRequired\":false,\"displayName\":\"App {i}\",\"servicePrincipalNames\":[\"{app_id}\"],\"servicePrincipalType\":\"Application\",\"signInAudience\":\"AzureADMultipleOrgs\",\"tags\":[\"WindowsAzureActiveDirectoryIntegratedApp\"],\"verifiedPublisher\":{{\"displayName\":null,\"verifiedPublisherId\":null,\"addedDateTime\":null}},\"keyCredentials\":[],\"passwordCredentials\":{creds},\"appRoles\":[],\"oauth2PermissionScopes\":[]}}"
        )
    })?;
    let scopes = [
        "User.Read",
        "openid profile offline_access",
        "Mail.Read",
        "Files.Read.All",
        "User.Read Calendars.Read",
        "Mail.ReadWrite Mail.Send",
    ];
    pages(
        dir,
        "oauth2PermissionGrants",
        "oauth2PermissionGrants",
        grants,
        |_| {
            let client = sp_id(1 + (rng.next() as usize % sps.saturating_sub(1).max(1)));
            let all = rng.next() % 5 < 1;
            let scope = scopes[(rng.next() % scopes.len() as u64) as usize];
            let principal = if all {
                "null".to_string()
            } else {
                format!("\"{}\"", rng.guid())
            };
            format!(
                "{{\"clientId\":\"{client}\",\"consentType\":\"{}\",\"id\":\"{}\",\"principalId\":{principal},\"resourceId\":\"{GRAPH_SP}\",\"scope\":\" {scope}\"}}",
                if all { "AllPrincipals" } else { "Principal" },
                rng.guid()
            )
        },
    )?;
    let roles = [
        "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
        "df021288-bdef-4463-88db-98f22de89214",
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    ];
    pages(
        dir,
        "appRoleAssignments",
        "servicePrincipals('x')/appRoleAssignedTo",
        sps / 10,
        |_| {
            let p = sp_id(1 + (rng.next() as usize % sps.saturating_sub(1).max(1)));
            format!(
                "{{\"id\":\"{}\",\"deletedDateTime\":null,\"appRoleId\":\"{}\",\"createdDateTime\":\"2024-05-01T10:00:00Z\",\"principalDisplayName\":\"App\",\"principalId\":\"{p}\",\"principalType\":\"ServicePrincipal\",\"resourceDisplayName\":\"Microsoft Graph\",\"resourceId\":\"{GRAPH_SP}\"}}",
                rng.guid(),
                roles[(rng.next() % 3) as usize]
            )
        },
    )?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let num = |name: &str, d: usize| get(name).and_then(|v| v.parse().ok()).unwrap_or(d);
    if let Some(dir) = get("--generate") {
        let t = Instant::now();
        if let Err(e) = generate(
            Path::new(dir),
            num("--sps", 100_000),
            num("--grants", 500_000),
        ) {
            eprintln!("audit_bench: {e}");
            std::process::exit(1);
        }
        eprintln!("generated {dir} in {:.2} s", t.elapsed().as_secs_f64());
    } else if let Some(dir) = get("--audit") {
        let t = Instant::now();
        let r = tw_audit::audit(&[PathBuf::from(dir)], &tw_audit::Options::default());
        eprintln!(
            "audited in {:.2} s: {} doors {:?}, {} problems",
            t.elapsed().as_secs_f64(),
            r.doors.len(),
            r.summary,
            r.problems.len()
        );
    } else {
        eprintln!("usage: audit_bench --generate DIR [--sps N] [--grants N] | --audit DIR");
        std::process::exit(1);
    }
}
