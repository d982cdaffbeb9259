//! `comity bench http`: a bounded load test of `POST /v1/requests` on loopback. It sends
//! synthetic requests (unique ids; half a Columbus sheriff, half the NYC Department of
//! Correction) one per HTTP call from several concurrent clients, and reports decisions per
//! second and latency percentiles.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

use crate::{Failure, outln};

/// `comity bench http` options.
#[derive(Args)]
pub struct HttpBench {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// A clerk's bearer token.
    #[arg(long, env = "COMITY_TOKEN")]
    token: String,
    /// Requests to send in all (the test stops after them, or after --seconds).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Clients sending at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The longest the test may run.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// A prefix for the synthetic request ids (run twice with different prefixes).
    #[arg(long, default_value = "bench")]
    prefix: String,
}

fn request(prefix: &str, i: usize) -> Value {
    let (place, agency, kind) = if i.is_multiple_of(2) {
        (
            "ocd-division/country:us/state:oh/place:columbus",
            "FRANKLIN-CO-SHERIFF",
            "sheriff",
        )
    } else {
        (
            "ocd-division/country:us/state:ny/place:new_york",
            "NYC-DOC",
            "corrections",
        )
    };
    json!({
        "id": format!("{prefix}-{i:08}"),
        "received_at": "2019-03-01T09:00:00-05:00",
        "jurisdiction": place,
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": agency, "kind": kind },
        "form": "I-247A",
        "basis": ["biometric-match"],
        "purpose": "civil-immigration",
        "warrant": { "kind": "administrative", "form": "I-200" },
        "acts": ["hold", "notify-release"],
        "subject": { "id": format!("synthetic-person-{i}"),
                     "convictions": [{ "offense": "NY PL 160.15", "class": "B-felony", "date": "2015-05-01" }] },
        "custody": { "status": "in-custody", "arrested_at": "2019-02-27T22:10:00-05:00",
                     "release_at": "2019-03-04T10:00:00-05:00" }
    })
}

/// Runs the load test.
pub fn http(args: HttpBench) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Finding(format!("error: starting the runtime: {e}")))?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()
            .map_err(|e| Failure::Input(format!("--url: {e}")))?;
        let endpoint = format!("{}/v1/requests", args.url.trim_end_matches('/'));
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..args.concurrency {
            let (client, endpoint, token, prefix, next) =
                (client.clone(), endpoint.clone(), args.token.clone(), args.prefix.clone(), next.clone());
            let total = args.requests;
            workers.spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total || Instant::now() > deadline {
                        return (latencies, failures);
                    }
                    let body = request(&prefix, i);
                    let t = Instant::now();
                    let sent = client.post(&endpoint).bearer_auth(&token).json(&body).send().await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(t.elapsed());
                        }
                        _ => failures += 1,
                    }
                }
            });
        }
        let mut latencies = Vec::new();
        let mut failures = 0;
        while let Some(done) = workers.join_next().await {
            let (l, f) = done.map_err(|e| Failure::Finding(format!("error: a client failed: {e}")))?;
            latencies.extend(l);
            failures += f;
        }
        let took = started.elapsed();
        latencies.sort();
        let at = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or_default();
        outln!(
            "{} decisions in {:.2?}: {:.0}/s; latency p50 {:.2?}, p99 {:.2?}, max {:.2?}; {} failed; {} clients",
            latencies.len(),
            took,
            latencies.len() as f64 / took.as_secs_f64(),
            at(0.50),
            at(0.99),
            latencies.last().copied().unwrap_or_default(),
            failures,
            args.concurrency
        );
        if failures > 0 {
            return Err(Failure::Finding(format!("{failures} requests failed")));
        }
        Ok(())
    })
}
