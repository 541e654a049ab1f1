//! What the baselines share: their command line and the recorded answers.
//!
//! `BINARY --bind ADDR --responses FILE` answers `GET PATH` with the bytes
//! recorded for `PATH` (FILE holds `PATH<TAB>BODY` lines, as the real server
//! answered them): the same requests and the same response bytes as the
//! real server, without its work.

use std::collections::HashMap;
use std::net::SocketAddr;

/// The recorded answers, by request path.
pub type Recorded = HashMap<String, hyper::body::Bytes>;

/// The address to listen on and the recorded answers, from the command
/// line (exits with a usage message when it is wrong).
pub fn arguments(name: &str) -> (SocketAddr, Recorded) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: {name} --bind ADDR --responses FILE");
        std::process::exit(2)
    };
    let [flag_bind, bind, flag_responses, responses] = args.as_slice() else {
        usage()
    };
    if flag_bind != "--bind" || flag_responses != "--responses" {
        usage()
    }
    let bind = bind.parse().unwrap_or_else(|_| usage());
    let text = std::fs::read_to_string(responses).unwrap_or_else(|error| {
        eprintln!("{name}: reading {responses}: {error}");
        std::process::exit(1)
    });
    let recorded = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(path, body)| (path.to_owned(), body.to_owned().into()))
        .collect();
    (bind, recorded)
}
