//! Request counts and latency histograms per route, method and status, rendered in the
//! Prometheus text format by `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Statistics of one (method, status) of a route.
type Slot = (&'static str, u16, Histogram);

/// The label of a request method: any token is a valid HTTP method, so those outside the
/// standard set share one label, and a client cannot grow the metrics.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// Per route pattern, then per (method, status), request statistics.
#[derive(Default)]
pub struct HttpMetrics {
    routes: Mutex<std::collections::HashMap<String, Vec<Slot>>>,
}

impl HttpMetrics {
    /// Counts a request; `route` is a route pattern (or a fixed label), never a raw path.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Allocates only the first time a route, method and status are seen.
        let slots = match routes.get_mut(route) {
            Some(slots) => slots,
            None => routes.entry(route.to_owned()).or_default(),
        };
        let index = match slots
            .iter()
            .position(|(m, s, _)| *m == method && *s == status)
        {
            Some(index) => index,
            None => {
                slots.push((method, status, Histogram::default()));
                slots.len() - 1
            }
        };
        let entry = &mut slots[index].2;
        entry.count += 1;
        entry.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                entry.counts[i] += 1;
            }
        }
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

impl HttpMetrics {
    /// Appends the request counters and latency histograms to `out`.
    pub fn render(&self, out: &mut String) -> std::fmt::Result {
        let grouped = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut routes: BTreeMap<(&str, &str, u16), &Histogram> = BTreeMap::new();
        for (route, slots) in grouped.iter() {
            for (method, status, histogram) in slots {
                routes.insert((method, route, *status), histogram);
            }
        }
        writeln!(
            out,
            "# HELP salve_http_requests_total Requests by route and status."
        )?;
        writeln!(out, "# TYPE salve_http_requests_total counter")?;
        for ((method, route, status), h) in routes.iter() {
            writeln!(
                out,
                "salve_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                h.count
            )?;
        }
        writeln!(
            out,
            "# HELP salve_http_request_duration_seconds Request latency by route."
        )?;
        writeln!(out, "# TYPE salve_http_request_duration_seconds histogram")?;
        let mut by_route: BTreeMap<(&str, &str), Histogram> = BTreeMap::new();
        for ((method, route, _), h) in routes.iter() {
            let merged = by_route.entry((method, route)).or_default();
            merged.count += h.count;
            merged.sum += h.sum;
            for (i, c) in h.counts.iter().enumerate() {
                merged.counts[i] += c;
            }
        }
        for ((method, route), h) in by_route {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                writeln!(
                    out,
                    "salve_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                )?;
            }
            writeln!(
                out,
                "salve_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            )?;
            writeln!(
                out,
                "salve_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            )?;
            writeln!(
                out,
                "salve_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            )?;
        }
        Ok(())
    }
}
