"""A later version of the server, as far as clients generated today can tell.

A proxy on loopback in front of a real server: it forwards every request
unchanged and rewrites the JSON answers into what a later server might send.
Each change is one kind that the compatibility gate classifies (see
docs/CONTRIBUTING.md), so that clients generated from today's openapi.yaml
can be run against it.

    python3 later_server.py --upstream http://127.0.0.1:8080 --change later

prints `listening on http://127.0.0.1:PORT` once it accepts connections.
"""

import argparse
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The nested objects of a run: lists of objects, and one object.
NESTED_LISTS = (
    "task_tools_invoked",
    "mcp_tools_invoked",
    "integration_tools_invoked",
    "skills_activated",
    "phase_timings",
    "model_usages",
    "files",
)
NESTED_OBJECTS = ("context_usage",)


def nested_items(run):
    """Every nested object of a run."""
    for name in NESTED_LISTS:
        yield from run.get(name) or []
    for name in NESTED_OBJECTS:
        if run.get(name) is not None:
            yield run[name]


def field_added_top(run):
    run["later_field"] = {"added_in": "a later version", "level": 3}


def field_added_nested(run):
    for item in nested_items(run):
        item["later_field"] = "added in a later version"


def status_value_added(run):
    run["status"] = "paused"


def file_source_value_added(run):
    for item in run.get("files") or []:
        item["source"] = "emailed"


def type_widened(run):
    """An integer field that may now hold a fraction."""
    if run.get("duration_ms") is not None:
        run["duration_ms"] += 0.5


def nullable_added(run):
    """A field that was never null becomes null."""
    run["session_id"] = None


def field_removed(run):
    run.pop("invocation_id", None)


def later(run):
    """Every compatible change at once: what the forward-compatibility step uses."""
    for change in (field_added_top, field_added_nested, status_value_added, file_source_value_added):
        change(run)


# Changes to each run in an answer, by name; `none` forwards as it is.
RUN_CHANGES = {
    "none": None,
    "later": later,
    "field-added-top": field_added_top,
    "field-added-nested": field_added_nested,
    "status-value-added": status_value_added,
    "file-source-value-added": file_source_value_added,
    "type-widened": type_widened,
    "nullable-added": nullable_added,
    "field-removed": field_removed,
}


def rewrite(body, change):
    """The answer `body` (parsed JSON) as the later server sends it."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        for run in body["results"]:
            change(run)
        if change in (later, field_added_top):
            body["later_field"] = "added in a later version"
            body["pagination"]["later_field"] = "added in a later version"
    elif isinstance(body, dict) and "task_agent_id" in body:
        change(body)
    return body


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None
    change = None

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            # The body goes upstream whole, and answers must come back
            # uncompressed to be rewritten.
            if name.lower() not in ("host", "connection", "content-length", "transfer-encoding", "accept-encoding")
        }
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            answer_headers = answer.getheaders()
            status = answer.status
        finally:
            connection.close()
        content_type = dict((k.lower(), v) for k, v in answer_headers).get("content-type", "")
        if self.change is not None and 200 <= status < 300 and content_type.startswith("application/json"):
            payload = json.dumps(rewrite(json.loads(payload), self.change)).encode()
        self.send_response(status)
        for name, value in answer_headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = forward


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the real server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--change", required=True, choices=sorted(RUN_CHANGES))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    Proxy.upstream = urllib.parse.urlsplit(args.upstream)
    Proxy.change = staticmethod(RUN_CHANGES[args.change]) if RUN_CHANGES[args.change] else None
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
