//! The service's metrics, in the Prometheus text exposition format (version 0.0.4):
//!
//! - `comity_http_requests_total{route, method, status}`: calls answered;
//! - `comity_http_request_duration_seconds{route}`: how long they took (a histogram);
//! - `comity_decisions_total{act, outcome}`: acts decided in newly recorded decisions;
//! - `comity_requests_recorded_total`: requests recorded (a request received again is not
//!   counted twice);
//! - `comity_events_total{event}`: events recorded on requests, by kind;
//! - `comity_event_violations_total{event}`: violations of decisions those events showed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use comity_model::Decision;

use crate::feeds::FeedStatus;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound, not cumulative (summed when written).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    decisions: BTreeMap<(String, String), u64>,
    recorded: u64,
    /// Events recorded, and the violations they showed, by kind.
    events: BTreeMap<String, (u64, u64)>,
}

/// The metrics of one server process.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Metrics {
    /// Counts one call to `route` (the route's template, such as `/v1/decisions/{id}`).
    pub fn observe_call(&self, route: &str, method: &str, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut c = self.counters.lock().expect("metrics lock");
        *c.requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let h = c.latency.entry(route.to_owned()).or_default();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            h.counts[i] += 1;
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Counts a newly recorded decision: one request, and each act by its outcome.
    pub fn observe_decision(&self, decision: &Decision) {
        let mut c = self.counters.lock().expect("metrics lock");
        c.recorded += 1;
        for act in &decision.acts {
            *c.decisions
                .entry((act.act.as_str().to_owned(), act.outcome.as_str().to_owned()))
                .or_default() += 1;
        }
    }

    /// Counts a newly recorded event, and the violations of its decision it showed.
    pub fn observe_event(&self, event: &comity_store::EventRecord) {
        let mut c = self.counters.lock().expect("metrics lock");
        let counts = c.events.entry(event.kind.as_str().to_owned()).or_default();
        counts.0 += 1;
        counts.1 += event.violations.len() as u64;
    }

    /// Everything, as Prometheus text.
    pub fn render(&self, feeds: &[FeedStatus]) -> String {
        let c = self.counters.lock().expect("metrics lock");
        let mut out = String::new();
        c.render_http(&mut out);
        c.render_decisions(&mut out);
        c.render_events(&mut out);
        render_feeds(&mut out, feeds);
        out
    }
}

impl Counters {
    /// HTTP calls answered, and the time they took.
    fn render_http(&self, w: &mut String) {
        header(
            w,
            "comity_http_requests_total",
            "counter",
            "HTTP calls answered, by route, method and status.",
        );
        for ((route, method, status), n) in &self.requests {
            line(
                w,
                "comity_http_requests_total",
                &[
                    ("route", route),
                    ("method", method),
                    ("status", &status.to_string()),
                ],
                *n as f64,
            );
        }
        header(
            w,
            "comity_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP call, by route.",
        );
        for (route, h) in &self.latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                line(
                    w,
                    "comity_http_request_duration_seconds_bucket",
                    &[("route", route), ("le", &bound.to_string())],
                    cumulative as f64,
                );
            }
            line(
                w,
                "comity_http_request_duration_seconds_bucket",
                &[("route", route), ("le", "+Inf")],
                h.count as f64,
            );
            line(
                w,
                "comity_http_request_duration_seconds_sum",
                &[("route", route)],
                h.sum,
            );
            line(
                w,
                "comity_http_request_duration_seconds_count",
                &[("route", route)],
                h.count as f64,
            );
        }
    }

    /// Acts decided, and requests recorded.
    fn render_decisions(&self, w: &mut String) {
        header(
            w,
            "comity_decisions_total",
            "counter",
            "Acts decided in newly recorded decisions, by act and outcome.",
        );
        for ((act, outcome), n) in &self.decisions {
            line(
                w,
                "comity_decisions_total",
                &[("act", act), ("outcome", outcome)],
                *n as f64,
            );
        }
        header(
            w,
            "comity_requests_recorded_total",
            "counter",
            "Requests decided and recorded in the ledger by this process.",
        );
        line(
            w,
            "comity_requests_recorded_total",
            &[],
            self.recorded as f64,
        );
    }

    fn render_events(&self, w: &mut String) {
        header(
            w,
            "comity_events_total",
            "counter",
            "Events recorded on requests by this process, by kind.",
        );
        for (event, (n, _)) in &self.events {
            line(w, "comity_events_total", &[("event", event)], *n as f64);
        }
        header(
            w,
            "comity_event_violations_total",
            "counter",
            "Violations of decisions shown by the events recorded, by the event's kind: a hold or transfer the decision forbade, custody past a hold's binding deadline, an answer the decision forbade.",
        );
        for (event, (_, v)) in &self.events {
            line(
                w,
                "comity_event_violations_total",
                &[("event", event)],
                *v as f64,
            );
        }
    }
}

/// Which expected sources have gone silent, and when each was last heard.
fn render_feeds(w: &mut String, feeds: &[FeedStatus]) {
    if feeds.is_empty() {
        return;
    }
    header(
        w,
        "comity_feed_silent",
        "gauge",
        "1 when an expected source has sent no request for longer than it may, by feed.",
    );
    for f in feeds {
        line(
            w,
            "comity_feed_silent",
            &[("feed", &f.name)],
            f64::from(u8::from(f.silent)),
        );
    }
    header(
        w,
        "comity_feed_last_seen_seconds",
        "gauge",
        "When a request from an expected source was last recorded (Unix seconds), by feed.",
    );
    for f in feeds {
        if let Some(at) = f.last_seen {
            line(
                w,
                "comity_feed_last_seen_seconds",
                &[("feed", &f.name)],
                at.as_second() as f64,
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}").expect("write to String");
}

fn line(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        write!(out, "{{{}}}", labels.join(",")).expect("write to String");
    }
    writeln!(out, " {value}").expect("write to String");
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.observe_call("/v1/requests", "POST", 201, Duration::from_micros(800));
        m.observe_call("/v1/requests", "POST", 201, Duration::from_millis(30));
        m.observe_call("a\"b", "GET", 404, Duration::from_secs(60));
        let text = m.render(&[]);
        assert!(text.contains(
            "comity_http_requests_total{route=\"/v1/requests\",method=\"POST\",status=\"201\"} 2"
        ));
        assert!(text.contains(
            "comity_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "comity_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"0.05\"} 2"
        ));
        // Slower than every bound: only in +Inf.
        assert!(
            text.contains(
                "comity_http_request_duration_seconds_bucket{route=\"a\\\"b\",le=\"10\"} 0"
            )
        );
        assert!(text.contains(
            "comity_http_request_duration_seconds_bucket{route=\"a\\\"b\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("comity_requests_recorded_total 0"));
    }
}
