#!/usr/bin/env python3
"""Connection limits under attack: how fast a well-behaved client gets its
run while hostile clients hold connections. Figures for docs/RELIABILITY.md.

    scripts/connection_flood.py [--server PATH] [--max-connections N]
                                [--body-timeout-secs N] [--gets N]

Starts `task-agent-server serve` (the release build unless --server says
otherwise) on SQLite with the development issuer, stores one run, then for
each scenario opens the hostile connections, lets them settle, and times
GETs of the run, each on a new connection (p50, p99, max), and reports the
server's open sockets and anonymous memory (RssAnon). Standard library
only; loopback only.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import uuid

ORG, PROJECT, AGENT, RUN = (str(uuid.uuid4()) for _ in range(4))
RUN_BODY = {
    "session_id": "flood", "input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
    "created": "2026-12-02T00:00:00Z", "completed": "2026-12-02T00:00:03Z", "status": "completed",
}
RUN_PATH = f"/api/v1/org/{ORG}/project/{PROJECT}/task-agent/{AGENT}/run/{RUN}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def request(port, method, path, token, body=b"", timeout=60.0):
    """One request on a new connection: (status, seconds)."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port), timeout
    )
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: flood\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    return int(answer.split(b" ", 2)[1]), time.perf_counter() - started


def server_state(pid):
    def is_socket(fd):
        try:
            return os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # closed since it was listed
            return False

    sockets = sum(map(is_socket, os.listdir(f"/proc/{pid}/fd")))
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return sockets, fields["RssAnon"].strip()


async def silent(port, count):
    """Connections that never send a byte."""
    return [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]


async def stalled_headers(port, count):
    """Connections that start a request and never finish its headers."""
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: flood\r\n")
        await writer.drain()
        connections.append((reader, writer))
    return connections


async def slow_bodies(port, count, token):
    """PUTs whose body arrives a byte a second."""
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        path = RUN_PATH.replace(RUN, str(uuid.uuid4()))
        writer.write(
            f"PUT {path} HTTP/1.1\r\nHost: flood\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n".encode()
        )
        await writer.drain()
        connections.append((reader, writer))

    async def dribble():
        while True:
            for _, writer in connections:
                if not writer.is_closing():
                    writer.write(b" ")
            await asyncio.sleep(1)

    return connections, asyncio.get_running_loop().create_task(dribble())


async def count_408(connections, within):
    """How many of the slow bodies' connections were answered 408."""

    async def answer(reader):
        try:
            return await asyncio.wait_for(reader.read(), within)
        except (asyncio.TimeoutError, OSError):
            return b""

    answers = await asyncio.gather(*(answer(reader) for reader, _ in connections))
    return sum(1 for text in answers if text.startswith(b"HTTP/1.1 408"))


async def measure(port, token, gets):
    times, statuses = [], set()
    for _ in range(gets):
        status, seconds = await request(port, "GET", RUN_PATH, token)
        statuses.add(status)
        times.append(seconds * 1000)
    times.sort()
    return {
        "gets": gets,
        "statuses": sorted(statuses),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="target/release/task-agent-server")
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--body-timeout-secs", type=int, default=30)
    parser.add_argument("--gets", type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    database = f"sqlite://{work}/runs.db"
    run = lambda *a: subprocess.run([args.server, *a], check=True, capture_output=True, text=True)
    run("members", "add", "--database", database, "--org", ORG, "--subject", "flood", "--role", "writer")
    token = run(
        "token", "--data-dir", work, "--sub", "flood", "--scope", "task_agent_runs:write",
        "--ttl-secs", "3600",
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [args.server, "serve", "--bind", f"127.0.0.1:{port}", "--database", database,
         "--dev-issuer", "--data-dir", work, "--log-level", "warn",
         "--max-connections", str(args.max_connections),
         "--request-body-timeout-secs", str(args.body_timeout_secs)],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                status, _ = await request(port, "PUT", RUN_PATH, token, json.dumps(RUN_BODY).encode())
                assert status in (200, 201), status
                break
            except OSError:
                await asyncio.sleep(0.1)
        n = args.max_connections
        # (name, attack, GETs to time): with every place held by a
        # connection that has spoken, a new one waits for the header
        # timeout (30 s) to free a place, so one GET tells it.
        scenarios = [
            ("no attack", None, args.gets),
            (f"{4 * n} silent connections", lambda: silent(port, 4 * n), args.gets),
            (f"{n // 2} bodies at a byte a second", lambda: slow_bodies(port, n // 2, token), args.gets),
            (f"{n // 2} requests stalled in their headers", lambda: stalled_headers(port, n // 2), args.gets),
            (f"{n} requests stalled in their headers", lambda: stalled_headers(port, n), 1),
        ]
        print(f"max connections {n}, body deadline {args.body_timeout_secs} s")
        for name, attack, gets in scenarios:
            held = await attack() if attack else None
            await asyncio.sleep(1)
            figures = await measure(port, token, gets)
            sockets, anon = server_state(server.pid)
            if isinstance(held, tuple):
                held[1].cancel()
                held = held[0]
                figures["slow_bodies_answered_408"] = await count_408(held, args.body_timeout_secs + 5)
            print(json.dumps({"scenario": name, **figures, "server_sockets": sockets, "rss_anon": anon}))
            for _, writer in held or []:
                writer.close()
            await asyncio.sleep(1)
    finally:
        server.terminate()
        server.wait()


asyncio.run(main())
