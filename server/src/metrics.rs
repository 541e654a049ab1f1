//! Prometheus metrics: requests by operation and status, request latency,
//! the database pool and the token cache.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a counted request.
#[derive(Clone, Debug, EncodeLabelSet, Eq, Hash, PartialEq)]
pub struct RequestLabels {
    pub operation: String,
    pub status: u16,
}

/// Labels of a timed request.
#[derive(Clone, Debug, EncodeLabelSet, Eq, Hash, PartialEq)]
pub struct OperationLabels {
    pub operation: String,
}

/// Labels of a pool gauge.
#[derive(Clone, Debug, EncodeLabelSet, Eq, Hash, PartialEq)]
pub struct PoolLabels {
    pub state: &'static str,
}

/// How the database pool is doing.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct PoolStatus {
    /// Open connections, idle or in use.
    pub open: usize,
    /// Open connections waiting for work.
    pub idle: usize,
    /// Most connections the pool opens.
    pub max: usize,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    pool: Family<PoolLabels, Gauge>,
    cached_tokens: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("task_agent");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by operation and status",
            requests.clone(),
        );
        // 0.25 ms to 16 s, doubling.
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.000_25, 2.0, 17,
            ))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from the request's arrival to its response, by operation",
            latency.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections by state (idle, in_use, max)",
            pool.clone(),
        );
        let cached_tokens = Gauge::default();
        registry.register(
            "token_cache_entries",
            "Verified tokens held in the cache",
            cached_tokens.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool,
            cached_tokens,
        }
    }

    /// Counts and times one answered request.
    pub fn observe_request(&self, operation: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .observe(seconds);
    }

    /// The metrics in Prometheus' text format, with the gauges set to `pool`
    /// and `cached_tokens` now.
    pub fn render(&self, pool: PoolStatus, cached_tokens: usize) -> String {
        let gauge = |state| self.pool.get_or_create(&PoolLabels { state });
        gauge("idle").set(pool.idle as i64);
        gauge("in_use").set(pool.open.saturating_sub(pool.idle) as i64);
        gauge("max").set(pool.max as i64);
        self.cached_tokens.set(cached_tokens as i64);
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
