//! Runs the simulation: builds the world, then writes every tenant's files in parallel (one
//! thread per tenant at a time, results merged in tenant order so the output never depends on
//! scheduling), zips the tenant that arrived as an archive, and writes `truth.json`.
//!
//! Each tenant's activities are produced hour by hour — the background of the hour plus the
//! storyline acts that fall in it — sorted, and streamed to the writers; acts that spill into a
//! later hour wait in a small carry-over buffer. Memory does not grow with `--scale`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::background::Background;
use crate::story::{Act, storyline};
use crate::truth::{self, Generated, MaliciousRecord};
use crate::world::{self, HOUR, Tenant, World};
use crate::writers::{Placement, TenantFiles};
use crate::{Error, SimulateOptions, Summary};

struct TenantResult {
    files: Vec<(String, u64)>,
    malicious: Vec<MaliciousRecord>,
    mailboxes: Vec<String>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The prefix of the truth paths of tenant `t`'s files (relative to `logs/`, ending in `/`).
pub(crate) fn truth_prefix(t: &Tenant) -> String {
    let folder = t.folder();
    if t.profile.zipped {
        format!("{folder}.zip!{}/", t.slug)
    } else {
        format!("{folder}/")
    }
}

fn run_tenant(w: &World, index: usize, scale: f64, logs: &Path) -> Result<TenantResult, Error> {
    let t = &w.tenants[index];
    let folder = t.folder();
    let prefix = truth_prefix(t);
    let dir = if t.profile.zipped {
        logs.join(format!(".{}.zip.parts", t.slug))
    } else {
        logs.join(&folder)
    };
    let mut files = TenantFiles::new(
        w,
        t,
        Placement {
            dir: dir.clone(),
            truth_prefix: prefix,
        },
    );
    let story = storyline(w, index);
    let mut bg = Background::new(w, index, scale);
    let hours = i64::from(w.days) * 24;
    let mut next_story = 0usize;
    let mut buf: Vec<Act> = Vec::new();
    let mut carry: Vec<Act> = Vec::new();
    for h in 0..hours {
        let end = w.start + (h + 1) * HOUR;
        buf.clear();
        buf.append(&mut carry);
        bg.hour(h, &mut buf);
        while next_story < story.len() && story[next_story].t < end {
            buf.push(story[next_story]);
            next_story += 1;
        }
        buf.sort_unstable_by_key(|a| (a.t, a.seq));
        for a in buf.iter() {
            if a.t < t.log_start {
                continue;
            }
            if a.t < end {
                files.emit(a).map_err(io_err(&dir))?;
            } else {
                carry.push(*a);
            }
        }
    }
    let written = files.finish().map_err(io_err(&dir))?;
    if t.profile.zipped {
        let archive = logs.join(format!("{folder}.zip"));
        zip_folder(&dir, &archive, &t.slug)?;
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
    }
    Ok(TenantResult {
        files: written.files,
        malicious: written.malicious,
        mailboxes: written.mailboxes_read,
    })
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, out)?;
        } else {
            let rel = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, p));
        }
    }
    Ok(())
}

/// Zips `dir` into `archive`, members under `root/`, with fixed timestamps (byte-identical runs).
fn zip_folder(dir: &Path, archive: &Path, root: &str) -> Result<(), Error> {
    use zip::write::SimpleFileOptions;
    let zerr = |e: zip::result::ZipError| Error::Io {
        path: archive.to_path_buf(),
        source: io::Error::other(e),
    };
    let mut members = Vec::new();
    walk(dir, dir, &mut members).map_err(io_err(dir))?;
    crate::writers::ensure_parent(archive).map_err(io_err(archive))?;
    let f = File::create(archive).map_err(io_err(archive))?;
    let mut z = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, f));
    let stamp = zip::DateTime::from_date_and_time(2024, 1, 1, 0, 0, 0).map_err(|e| Error::Io {
        path: archive.to_path_buf(),
        source: io::Error::other(e.to_string()),
    })?;
    for (rel, path) in members {
        let size = fs::metadata(&path).map_err(io_err(&path))?.len();
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .last_modified_time(stamp)
            .unix_permissions(0o644)
            .large_file(size >= u64::from(u32::MAX));
        z.start_file(format!("{root}/{rel}"), opts).map_err(zerr)?;
        let mut r = BufReader::with_capacity(1 << 20, File::open(&path).map_err(io_err(&path))?);
        io::copy(&mut r, &mut z).map_err(io_err(archive))?;
    }
    let mut w = z.finish().map_err(zerr)?;
    w.flush().map_err(io_err(archive))?;
    Ok(())
}

fn dir_is_empty(p: &Path) -> bool {
    match fs::read_dir(p) {
        Ok(mut rd) => rd.next().is_none(),
        Err(_) => true,
    }
}

fn disk_bytes(dir: &Path) -> u64 {
    let mut v = Vec::new();
    if walk(dir, dir, &mut v).is_err() {
        return 0;
    }
    v.iter()
        .filter_map(|(_, p)| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// See [`crate::simulate`].
pub fn simulate(opts: &SimulateOptions, out_dir: &Path) -> Result<Summary, Error> {
    opts.validate()?;
    let logs = out_dir.join("logs");
    let truth_path = out_dir.join("truth.json");
    if !dir_is_empty(&logs) || truth_path.exists() {
        return Err(Error::Exists(out_dir.to_path_buf()));
    }
    fs::create_dir_all(&logs).map_err(io_err(&logs))?;
    let w = world::build(opts);
    let n = w.tenants.len();
    let threads = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(1)
        .min(n)
        .max(1);
    // Biggest tenants first, so that no thread is left with a big one at the end.
    let mut schedule: Vec<usize> = (0..n).collect();
    schedule.sort_by_key(|&i| std::cmp::Reverse(w.tenants[i].users.len()));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<TenantResult, Error>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= n {
                        break;
                    }
                    let i = schedule[k];
                    let r = run_tenant(&w, i, opts.scale, &logs);
                    let failed = r.is_err();
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(r);
                    }
                    if failed {
                        next.store(n, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| Error::Internal("a worker panicked".into()))?;
    let mut files = BTreeMap::new();
    let mut malicious = Vec::new();
    let mut mailboxes = BTreeMap::new();
    for (i, r) in results.into_iter().enumerate() {
        let r = r.ok_or_else(|| Error::Internal(format!("tenant {i} was not generated")))??;
        for (p, c) in r.files {
            files.insert(p, c);
        }
        malicious.extend(r.malicious);
        if !r.mailboxes.is_empty() {
            mailboxes.insert(w.tenants[i].id.clone(), r.mailboxes);
        }
    }
    let records: u64 = files.values().sum();
    let n_files = files.len() as u64;
    let n_mal = malicious.len() as u64;
    let truth = truth::assemble(
        &w,
        Generated {
            seed: opts.seed,
            tenants: opts.tenants,
            compromised: opts.compromised,
            days: opts.days,
            scale: opts.scale,
        },
        malicious,
        files,
        mailboxes,
    );
    let mut text =
        serde_json::to_vec_pretty(&truth).map_err(|e| Error::Internal(format!("truth: {e}")))?;
    text.push(b'\n');
    fs::write(&truth_path, text).map_err(io_err(&truth_path))?;
    if w.vary.tenant_map {
        let map = out_dir.join(crate::truth_vary::TENANT_MAP);
        fs::write(&map, crate::truth_vary::tenant_map(&w)).map_err(io_err(&map))?;
    }
    Ok(Summary {
        files: n_files,
        records,
        malicious: n_mal,
        bytes: disk_bytes(&logs),
        compromised_tenants: truth.compromised_tenants.len(),
        logs_dir: logs,
        truth_path,
    })
}
