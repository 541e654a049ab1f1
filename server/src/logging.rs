//! Structured logs: one JSON object per line on stderr.
//!
//! Dropshot logs every answered request once ("request completed", with its
//! id, method, status and latency, also when an extractor refused the
//! request before any handler ran). [`RequestObserver`] sees those records
//! before the level filter: it counts them in the metrics and adds the
//! operation, the path template and the latency in milliseconds, so that the
//! record is the request's one log line. Request headers are not logged, so
//! tokens never reach the log.

use std::fmt;
use std::sync::Arc;

use dropshot::ConfigLoggingLevel;
use slog::{Drain, KV, Key, Level, Never, OwnedKVList, Record, RecordStatic, Serializer, SingleKV};

use crate::metrics::Metrics;
use crate::routes::Routes;

/// The message of dropshot's per-request record.
const REQUEST_COMPLETED: &str = "request completed";

/// The root logger of the server.
pub fn logger(level: &ConfigLoggingLevel, metrics: Arc<Metrics>, routes: Routes) -> slog::Logger {
    let json = slog_json::Json::new(std::io::stderr())
        .add_default_keys()
        .build()
        .fuse();
    let filtered = slog::LevelFilter::new(json, Level::from(level)).fuse();
    let observed = RequestObserver {
        inner: filtered,
        metrics,
        routes,
    };
    // Formatting and writing happen on a thread of their own, off the
    // request path.
    let drain = slog_async::Async::new(observed)
        .chan_size(8_192)
        .build()
        .fuse();
    slog::Logger::root(drain, slog::o!())
}

/// Counts and annotates dropshot's per-request records.
pub struct RequestObserver<D> {
    inner: D,
    metrics: Arc<Metrics>,
    routes: Routes,
}

/// The fields of a per-request record this observer needs.
#[derive(Default)]
struct RequestFields {
    method: Option<String>,
    uri: Option<String>,
    status: Option<u16>,
    latency_us: Option<u64>,
}

impl Serializer for RequestFields {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments) -> slog::Result {
        match key.as_ref() {
            "method" => self.method = Some(value.to_string()),
            "uri" => self.uri = Some(value.to_string()),
            "response_code" => self.status = value.to_string().parse().ok(),
            "latency_us" => self.latency_us = value.to_string().parse().ok(),
            _ => {}
        }
        Ok(())
    }
}

impl<D: Drain<Ok = (), Err = Never>> Drain for RequestObserver<D> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), Never> {
        // Behind the asynchronous drain the message is no longer a static
        // string, so it is compared as text.
        let is_request = match record.msg().as_str() {
            Some(message) => message == REQUEST_COMPLETED,
            None => record.msg().to_string() == REQUEST_COMPLETED,
        };
        if !is_request {
            return self.inner.log(record, values);
        }
        let mut fields = RequestFields::default();
        let _ = values.serialize(record, &mut fields);
        let _ = record.kv().serialize(record, &mut fields);
        let (Some(method), Some(uri), Some(status)) = (&fields.method, &fields.uri, fields.status)
        else {
            return self.inner.log(record, values);
        };
        let seconds = fields.latency_us.unwrap_or_default() as f64 / 1e6;
        let (operation, route) = self.routes.label(method, uri, status);
        self.metrics.observe_request(&operation, status, seconds);
        let extra = (
            SingleKV(Key::from("operation"), operation.as_str()),
            (
                SingleKV(Key::from("route"), route.as_str()),
                SingleKV(Key::from("latency_ms"), seconds * 1e3),
            ),
        );
        let both = (extra, record.kv());
        let location = record.location();
        let rstatic = RecordStatic {
            location,
            tag: record.tag(),
            level: record.level(),
        };
        self.inner.log(
            &Record::new(&rstatic, record.msg(), slog::BorrowedKV(&both)),
            values,
        )
    }
}
