//! `tw-emulator`: serves a simulated world on a loopback port for measurements by hand.
//! `tw-emulator [tenants=N] [days=D] [scale=X] [seed=S] [throttle_every=N] [retry_after=S]
//! [slow_every=N] [slow_ms=MS] [drop_every=N] [error_every=N] [duplicate_blobs=1]`; prints the
//! URL, the tenant ids and the time range, and serves until standard input closes.

use std::io::Read;

fn main() {
    let mut o = tw_simulate::SimulateOptions {
        tenants: 4,
        compromised: 2,
        days: 7,
        scale: 1.0,
        ..Default::default()
    };
    let mut f = tw_emulator::Faults::default();
    for a in std::env::args().skip(1) {
        let Some((k, v)) = a.split_once('=') else {
            eprintln!("tw-emulator: arguments are key=value (got {a:?})");
            std::process::exit(1);
        };
        let n = || v.parse::<u64>().unwrap_or(0);
        match k {
            "tenants" => o.tenants = n() as usize,
            "days" => o.days = n() as u32,
            "scale" => o.scale = v.parse().unwrap_or(1.0),
            "seed" => o.seed = n(),
            "throttle_every" => f.throttle_every = n(),
            "retry_after" => f.retry_after_secs = n(),
            "slow_every" => f.slow_every = n(),
            "slow_ms" => f.slow_ms = n(),
            "drop_every" => f.drop_every = n(),
            "error_every" => f.error_every = n(),
            "duplicate_blobs" => f.duplicate_blobs = n() > 0,
            _ => {
                eprintln!("tw-emulator: unknown argument {k}");
                std::process::exit(1);
            }
        }
    }
    let data = tw_emulator::data::generate(&o);
    f.now = data.end;
    let (start, end) = (data.start, data.end);
    let ids: Vec<String> = data.tenants.iter().map(|t| t.id.clone()).collect();
    let secret = std::env::var("TENANTWATCH_CLIENT_SECRET").unwrap_or_default();
    let id = std::env::var("TENANTWATCH_CLIENT_ID").unwrap_or_default();
    let emu = match tw_emulator::Emulator::start(data, f, tw_emulator::secret_auth(&id, &secret)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("tw-emulator: {e}");
            std::process::exit(1);
        }
    };
    println!("url {}", emu.url());
    println!(
        "range {} {}",
        tw_emulator::format_time(start),
        tw_emulator::format_time(end)
    );
    for i in ids {
        println!("tenant {i}");
    }
    let _ = std::io::stdout().lock();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(emu);
}
