//! `tw-bench`: writes realistic log exports of a given size, then measures ingest and hunt
//! throughput (MB/s and records/s per core, peak RSS) in a release build.
//!
//! ```text
//! tw-bench gen DIR --mb 1024          # DIR/ual.jsonl and DIR/purview.csv, half the size each
//! tw-bench ingest DIR... --threads 1  # reads them like `tenantwatch ingest`, prints figures
//! tw-bench gen-mixed DIR --mb 1024    # sign-ins, audit, Graph activity, risk, Azure activity, UAL
//! tw-bench gen-real CORPUS OUT --mb 100  # real samples: OUT/jsonl (one event a line), OUT/formats
//! tw-bench hunt PATH... --rules DIR --threads 1  # runs the rules in DIR, prints figures
//! tw-bench hunt PATH... --rules DIR --builtin     # the same with the built-in pack
//! tw-bench accuracy --truth T --findings F [--blast-actor B] [--blast-findings B] [--json]
//! tw-bench accuracy-total RESULTS.jsonl [--check]  # totals over worlds, targets checked
//! ```
//!
//! `accuracy` judges one simulated world (`tenantwatch simulate`): findings of `hunt --format
//! jsonl` and results of `blast --format json` against its `truth.json` (see `accuracy`);
//! `scripts/eval-accuracy.sh` runs it over many varied worlds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use tw_ingest::{IngestOptions, ingest};

mod accuracy;
mod accuracy_total;
mod hunt;
mod mixed;
mod realset;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

const USERS: [&str; 8] = [
    "adele", "alex", "diego", "grady", "isaiah", "johanna", "lynne", "megan",
];
const OPS: [&str; 6] = [
    "MailItemsAccessed",
    "UserLoggedIn",
    "New-InboxRule",
    "FileAccessed",
    "Add service principal credentials.",
    "Send",
];

fn ts(base: i64, r: &mut Rng) -> String {
    let t = tw_event::Timestamp(base + r.below(14 * 86_400_000) as i64).to_string();
    // The Management API writes CreationTime without a zone and without milliseconds.
    t[..19].to_string()
}

/// One realistic UAL record (Management Activity API shape) as JSON text.
fn ual_record(r: &mut Rng, tenants: &[String]) -> String {
    let tenant = &tenants[r.below(tenants.len() as u64) as usize];
    let user = format!(
        "{}@contoso{}.onmicrosoft.com",
        USERS[r.below(8) as usize],
        r.below(40)
    );
    let op = OPS[r.below(OPS.len() as u64) as usize];
    let ip = format!(
        "{}.{}.{}.{}",
        20 + r.below(200),
        r.below(256),
        r.below(256),
        1 + r.below(254)
    );
    let t = ts(1_607_904_000_000, r);
    let id = r.guid();
    let common = format!(
        r#""CreationTime":"{t}","Id":"{id}","Operation":"{op}","OrganizationId":"{tenant}","UserKey":"{key}","UserType":0,"Version":1,"UserId":"{user}","ClientIP":"{ip}:{port}""#,
        key = 10_000_000 + r.below(90_000_000),
        port = 1024 + r.below(60000)
    );
    match op {
        "MailItemsAccessed" => {
            let mut folders = String::new();
            for i in 0..(1 + r.below(4)) {
                if i > 0 {
                    folders.push(',');
                }
                folders.push_str(&format!(
                    r#"{{"FolderItems":[{{"InternetMessageId":"<{}@{}.prod.outlook.com>","SizeInBytes":{}}},{{"InternetMessageId":"<{}@{}.prod.outlook.com>","SizeInBytes":{}}}],"Id":"LgAAAAB{:x}","Path":"\\Inbox"}}"#,
                    r.guid(), r.below(9999), r.below(200_000), r.guid(), r.below(9999), r.below(200_000), r.next()
                ));
            }
            format!(
                r#"{{{common},"RecordType":50,"Workload":"Exchange","ResultStatus":"Succeeded","AppId":"00000003-0000-0000-c000-000000000000","ClientAppId":"{app}","ClientIPAddress":"{ip}","ClientInfoString":"Client=REST;Client=RESTSystem;;","ExternalAccess":false,"InternalLogonType":0,"LogonType":0,"LogonUserSid":"S-1-5-21-{s}","MailboxGuid":"{mg}","MailboxOwnerSid":"S-1-5-21-{s}","MailboxOwnerUPN":"{user}","OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}},{{"Name":"IsThrottled","Value":"False"}}],"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM6PR04MB{n} (15.20.4200.000)\r\n","Folders":[{folders}],"OperationCount":{oc}}}"#,
                app = r.guid(),
                s = r.below(u64::MAX >> 8),
                mg = r.guid(),
                n = r.below(9999),
                oc = 1 + r.below(20)
            )
        }
        "UserLoggedIn" => format!(
            r#"{{{common},"RecordType":15,"Workload":"AzureActiveDirectory","ResultStatus":"Success","ObjectId":"00000002-0000-0ff1-ce00-000000000000","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{{"Name":"ResultStatusDetail","Value":"Success"}},{{"Name":"UserAgent","Value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36"}},{{"Name":"RequestType","Value":"OAuth2:Authorize"}}],"ModifiedProperties":[],"Actor":[{{"ID":"{aid}","Type":0}},{{"ID":"{user}","Type":5}}],"ActorContextId":"{tenant}","ActorIpAddress":"{ip}","InterSystemsId":"{isid}","IntraSystemId":"{irid}","SupportTicketId":"","Target":[{{"ID":"00000002-0000-0ff1-ce00-000000000000","Type":0}}],"TargetContextId":"{tenant}","ApplicationId":"{app}","DeviceProperties":[{{"Name":"OS","Value":"Windows 10"}},{{"Name":"BrowserType","Value":"Chrome"}}],"ErrorNumber":"0"}}"#,
            aid = r.guid(),
            isid = r.guid(),
            irid = r.guid(),
            app = r.guid()
        ),
        "New-InboxRule" => format!(
            r#"{{{common},"RecordType":1,"Workload":"Exchange","ResultStatus":"True","ObjectId":"{user}\\Forward all","ExternalAccess":false,"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"DB7PR04MB{n} (15.20.4200.000)","Parameters":[{{"Name":"Mailbox","Value":"{user}"}},{{"Name":"Name","Value":"Forward all"}},{{"Name":"ForwardTo","Value":"archive{n}@example.net"}},{{"Name":"StopProcessingRules","Value":"True"}}]}}"#,
            n = r.below(9999)
        ),
        "FileAccessed" => format!(
            r#"{{{common},"RecordType":6,"Workload":"SharePoint","ObjectId":"https://contoso.sharepoint.com/sites/finance/Shared Documents/report-{n}.xlsx","Site":"{site}","ItemType":"File","EventSource":"SharePoint","SourceRelativeUrl":"Shared Documents","SourceFileName":"report-{n}.xlsx","SourceFileExtension":"xlsx","UserAgent":"Microsoft Office Excel 2014","ListItemUniqueId":"{li}","WebId":"{web}"}}"#,
            n = r.below(99999),
            site = r.guid(),
            li = r.guid(),
            web = r.guid()
        ),
        "Add service principal credentials." => format!(
            r#"{{{common},"RecordType":8,"Workload":"AzureActiveDirectory","ResultStatus":"Success","ObjectId":"{sp}","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{{"Name":"additionalDetails","Value":"{{}}"}},{{"Name":"extendedAuditEventCategory","Value":"ServicePrincipal"}}],"ModifiedProperties":[{{"Name":"KeyDescription","NewValue":"[\"[KeyIdentifier={kid},KeyType=Password,KeyUsage=Verify,DisplayName=]\"]","OldValue":"[]"}},{{"Name":"Included Updated Properties","NewValue":"KeyDescription","OldValue":""}}],"Actor":[{{"ID":"{user}","Type":5}}],"ActorContextId":"{tenant}","Target":[{{"ID":"ServicePrincipal_{sp}","Type":2}},{{"ID":"{sp}","Type":2}}],"TargetContextId":"{tenant}"}}"#,
            sp = r.guid(),
            kid = r.guid()
        ),
        _ => format!(
            r#"{{{common},"RecordType":2,"Workload":"Exchange","ResultStatus":"Succeeded","ClientIPAddress":"{ip}","ClientInfoString":"Client=OWA;Action=ViaProxy","ExternalAccess":false,"LogonType":0,"MailboxGuid":"{mg}","MailboxOwnerUPN":"{user}","Item":{{"Id":"RgAAAAD{x:x}","InternetMessageId":"<{g}@contoso.com>","ParentFolder":{{"Id":"LgAAAAB{x:x}","Path":"\\Sent Items"}},"SizeInBytes":{sz},"Subject":"Quarterly numbers {sz}"}}}}"#,
            mg = r.guid(),
            x = r.next(),
            g = r.guid(),
            sz = r.below(500_000)
        ),
    }
}

fn csv_escape(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn generate(dir: &PathBuf, mb: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut r = Rng(0x7e4a_47c4_11d0_5eed);
    let tenants: Vec<String> = (0..40).map(|_| r.guid()).collect();
    let half = mb * 1_000_000 / 2;
    let start = Instant::now();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join("ual.jsonl"))?);
    let (mut n, mut bytes) = (0u64, 0u64);
    while bytes < half {
        let rec = ual_record(&mut r, &tenants);
        w.write_all(rec.as_bytes())?;
        w.write_all(b"\n")?;
        bytes += rec.len() as u64 + 1;
        n += 1;
    }
    w.flush()?;
    eprintln!("ual.jsonl: {n} records, {bytes} bytes");
    let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join("purview.csv"))?);
    let header = "\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";
    w.write_all(header.as_bytes())?;
    let (mut n, mut bytes) = (0u64, header.len() as u64);
    while bytes < half {
        let rec = ual_record(&mut r, &tenants);
        let v: serde_json::Value = serde_json::from_str(&rec).map_err(std::io::Error::other)?;
        let s = |k: &str| {
            v.get(k)
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .unwrap_or_default()
        };
        let created = tw_event::parse_timestamp(&s("CreationTime"))
            .map(|t| {
                let days = t.millis().div_euclid(86_400_000);
                let (y, m, d) = tw_event::civil_from_days(days);
                let sod = t.millis().rem_euclid(86_400_000) / 1000;
                let h = sod / 3600;
                let (h12, ampm) = match h {
                    0 => (12, "AM"),
                    1..=11 => (h, "AM"),
                    12 => (12, "PM"),
                    _ => (h - 12, "PM"),
                };
                format!(
                    "{m}/{d}/{y} {h12}:{:02}:{:02} {ampm}",
                    (sod / 60) % 60,
                    sod % 60
                )
            })
            .unwrap_or_default();
        let line = format!(
            "{},{},{},{},{},{},,\r\n",
            s("Id"),
            created,
            match v.get("RecordType").and_then(|x| x.as_u64()) {
                Some(50) => "ExchangeItemAggregated",
                Some(15) => "AzureActiveDirectoryStsLogon",
                Some(1) => "ExchangeAdmin",
                Some(6) => "SharePointFileOperation",
                Some(8) => "AzureActiveDirectory",
                _ => "ExchangeItem",
            },
            s("Operation"),
            s("UserId"),
            csv_escape(&rec)
        );
        w.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        n += 1;
    }
    w.flush()?;
    eprintln!(
        "purview.csv: {n} records, {bytes} bytes; generated in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name
    (ticks(11) + ticks(12)) / 100.0
}

fn bench_ingest(paths: &[PathBuf], threads: usize) {
    let bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let opts = IngestOptions {
        threads,
        ..IngestOptions::default()
    };
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let report = ingest(paths, &opts, |_, _: &mut Vec<()>| {}, |_| {});
    let secs = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu0).max(0.01);
    let mb = bytes as f64 / 1e6;
    println!(
        "{{\"paths\":{:?},\"threads\":{threads},\"bytes\":{bytes},\"records\":{},\"rejected\":{},\"seconds\":{secs:.2},\"mb_per_s\":{:.1},\"cpu_seconds\":{cpu:.2},\"mb_per_cpu_s\":{:.1},\"records_per_s\":{:.0},\"records_per_cpu_s\":{:.0},\"peak_rss_mib\":{:.1}}}",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
        report.totals.records,
        report.totals.rejected,
        mb / secs,
        mb / cpu,
        report.totals.records as f64 / secs,
        report.totals.records as f64 / cpu,
        peak_rss_mib()
    );
}

fn exit_on_error(r: Result<u8, String>) {
    match r {
        Ok(0) => {}
        Ok(code) => std::process::exit(i32::from(code)),
        Err(e) => {
            eprintln!("tw-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn read_text(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn read_json(path: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(&read_text(path)?).map_err(|e| format!("{path}: {e}"))
}

/// `tw-bench accuracy`: one world judged against its truth.
fn run_accuracy(flag: &dyn Fn(&str) -> Option<String>, as_json: bool) -> Result<u8, String> {
    let truth_path = flag("--truth").ok_or("accuracy: --truth FILE is required")?;
    let findings_path = flag("--findings").ok_or("accuracy: --findings FILE is required")?;
    let truth = accuracy::Truth::from_json(&read_json(&truth_path)?)
        .map_err(|e| format!("{truth_path}: {e}"))?;
    let findings = accuracy::read_findings(&read_text(&findings_path)?, &truth)
        .map_err(|e| format!("{findings_path}: {e}"))?;
    let judge = |name: &str| -> Result<Option<accuracy::BlastScore>, String> {
        match flag(name) {
            None => Ok(None),
            Some(p) => accuracy::blast(&truth, &read_json(&p)?)
                .map(Some)
                .map_err(|e| format!("{p}: {e}")),
        }
    };
    let actor = judge("--blast-actor")?;
    let from_findings = judge("--blast-findings")?;
    let mut v = accuracy::world_json(&truth, &findings, actor.as_ref(), from_findings.as_ref());
    if let Some(w) = flag("--world") {
        v["world"] = serde_json::Value::String(w);
    }
    if as_json {
        println!("{v}");
    } else {
        print!("{}", accuracy::world_text(&v));
    }
    Ok(0)
}

/// `tw-bench accuracy-total`: totals over worlds; with `--check`, exit 3 when a target is missed.
fn run_accuracy_total(path: &str, check: bool) -> Result<u8, String> {
    let t = accuracy_total::totals(&read_text(path)?).map_err(|e| format!("{path}: {e}"))?;
    print!("{}", accuracy_total::text(&t));
    let missed = accuracy_total::missed(&t);
    if missed.is_empty() {
        println!("targets: all met");
        return Ok(0);
    }
    println!("targets missed:");
    for m in &missed {
        println!("  - {m}");
    }
    Ok(if check { 3 } else { 0 })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    match args.first().map(String::as_str) {
        Some("gen") if args.len() >= 2 => {
            let mb = flag("--mb").and_then(|s| s.parse().ok()).unwrap_or(1024);
            if let Err(e) = generate(&PathBuf::from(&args[1]), mb) {
                eprintln!("tw-bench: {e}");
                std::process::exit(1);
            }
        }
        Some("ingest") => {
            let threads = flag("--threads").and_then(|s| s.parse().ok()).unwrap_or(1);
            let paths: Vec<PathBuf> = args[1..]
                .iter()
                .take_while(|a| !a.starts_with("--"))
                .map(PathBuf::from)
                .collect();
            bench_ingest(&paths, threads);
        }
        Some("gen-mixed") if args.len() >= 2 => {
            let mb = flag("--mb").and_then(|s| s.parse().ok()).unwrap_or(1024);
            if let Err(e) = mixed::generate(&PathBuf::from(&args[1]), mb) {
                eprintln!("tw-bench: {e}");
                std::process::exit(1);
            }
        }
        Some("gen-real") if args.len() >= 3 => {
            let mb = flag("--mb").and_then(|s| s.parse().ok()).unwrap_or(100);
            match realset::generate(&PathBuf::from(&args[1]), &PathBuf::from(&args[2]), mb) {
                Ok(s) => println!(
                    "{{\"records\":{},\"files\":{},\"jsonl_events\":{},\"jsonl_bytes\":{},\"format_copies\":{},\"format_bytes\":{}}}",
                    s.records,
                    s.files,
                    s.jsonl_events,
                    s.jsonl_bytes,
                    s.format_copies,
                    s.format_bytes
                ),
                Err(e) => {
                    eprintln!("tw-bench: {e}");
                    std::process::exit(1);
                }
            }
        }
        Some(cmd @ ("hunt" | "prefilter")) => {
            let threads = flag("--threads").and_then(|s| s.parse().ok()).unwrap_or(1);
            let Some(rules) = flag("--rules") else {
                eprintln!("tw-bench {cmd}: --rules DIR is required");
                std::process::exit(1);
            };
            let paths: Vec<PathBuf> = args[1..]
                .iter()
                .take_while(|a| !a.starts_with("--"))
                .map(PathBuf::from)
                .collect();
            let rules = PathBuf::from(rules);
            let builtin = args.iter().any(|a| a == "--builtin");
            let done = if cmd == "hunt" {
                hunt::bench_hunt(&paths, &rules, threads, builtin)
            } else {
                hunt::bench_prefilter(&paths, &rules, builtin)
            };
            if let Err(e) = done {
                eprintln!("tw-bench: {e}");
                std::process::exit(1);
            }
        }
        Some("accuracy") => exit_on_error(run_accuracy(&flag, args.iter().any(|a| a == "--json"))),
        Some("accuracy-total") if args.len() >= 2 => exit_on_error(run_accuracy_total(
            &args[1],
            args.iter().any(|a| a == "--check"),
        )),
        _ => {
            eprintln!(
                "usage: tw-bench gen DIR [--mb N] | tw-bench ingest PATH... [--threads N]\n       \
                 tw-bench gen-mixed DIR [--mb N] | tw-bench gen-real CORPUS OUT [--mb N]\n       \
                 tw-bench hunt PATH... --rules DIR [--threads N] [--builtin]\n       \
                 tw-bench accuracy --truth FILE --findings FILE [--blast-actor FILE] [--blast-findings FILE] [--json]\n       \
                 tw-bench accuracy-total RESULTS.jsonl [--check]"
            );
            std::process::exit(1);
        }
    }
}
