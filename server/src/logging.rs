//! Structured logs: one JSON object per line on stderr.
//!
//! Dropshot logs every answered request once ("request completed", with its
//! id, method, status and latency, also when an extractor refused the
//! request before any handler ran). [`RequestObserver`] sees those records
//! before the level filter, on the request's thread: it counts them in the
//! metrics and adds the operation, the path template and the latency in
//! milliseconds, so that the record is the request's one log line. Only
//! records that pass the level filter cross to the logging thread, so a
//! level above `info` costs the hot path no hand-off at all. Request headers
//! are not logged, so tokens never reach the log.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use dropshot::ConfigLoggingLevel;
use slog::{Drain, KV, Key, Level, Never, OwnedKVList, Record, RecordStatic, Serializer, SingleKV};

use crate::metrics::Metrics;
use crate::routes::Routes;

/// The message of dropshot's per-request record.
const REQUEST_COMPLETED: &str = "request completed";

/// The root logger of the server.
pub fn logger(level: &ConfigLoggingLevel, metrics: Arc<Metrics>, routes: Routes) -> slog::Logger {
    // Buffered, and flushed once per record: serde_json writes a record in
    // dozens of small pieces, each a system call on unbuffered stderr.
    let json = slog_json::Json::new(std::io::BufWriter::new(std::io::stderr()))
        .add_default_keys()
        .set_flush(true)
        .build()
        .fuse();
    // Formatting and writing happen on a thread of their own, off the
    // request path.
    let written = slog_async::Async::new(json).chan_size(8_192).build().fuse();
    let filtered = slog::LevelFilter::new(written, Level::from(level)).fuse();
    let observed = RequestObserver {
        inner: filtered,
        metrics: AssertUnwindSafe(metrics),
        routes,
    };
    slog::Logger::root(observed, slog::o!())
}

/// Counts and annotates dropshot's per-request records.
pub struct RequestObserver<D> {
    inner: D,
    // A logger must be unwind safe. The metrics are counters and histograms
    // updated atomically, so a panic cannot leave them half-updated.
    metrics: AssertUnwindSafe<Arc<Metrics>>,
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
    // Dropshot gives the method and the URI as strings and the status and
    // the latency as numbers: taken as they are, without formatting.
    fn emit_str(&mut self, key: Key, value: &str) -> slog::Result {
        match key.as_ref() {
            "method" => self.method = Some(value.to_owned()),
            "uri" => self.uri = Some(value.to_owned()),
            _ => {}
        }
        Ok(())
    }

    // Without this, slog would hand the status to `emit_arguments` to be
    // formatted.
    fn emit_u16(&mut self, key: Key, value: u16) -> slog::Result {
        if key.as_ref() == "response_code" {
            self.status = Some(value);
        }
        Ok(())
    }

    fn emit_u64(&mut self, key: Key, value: u64) -> slog::Result {
        if key.as_ref() == "latency_us" {
            self.latency_us = Some(value);
        }
        Ok(())
    }

    // Every field this observer needs comes typed (above); the others are
    // not formatted at all.
    fn emit_arguments(&mut self, _: Key, _: &fmt::Arguments) -> slog::Result {
        Ok(())
    }
}

impl<D: Drain<Ok = (), Err = Never>> Drain for RequestObserver<D> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), Never> {
        let is_request = record.msg().as_str() == Some(REQUEST_COMPLETED);
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
        let (operation, route) = self.routes.label(method, uri);
        self.metrics.observe_request(operation, status, seconds);
        let extra = (
            SingleKV(Key::from("operation"), operation),
            (
                SingleKV(Key::from("route"), route),
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
