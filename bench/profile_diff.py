"""CPU per request of two profiled servers, by area and by function.

Used by profile_get.sh: DIR holds NAME.data (`perf record -F 2999`) and
NAME.rps (the requests/s of the same load) for both names.

    python3 profile_diff.py DIR SECONDS NAME_A NAME_B
"""

import collections
import re
import subprocess
import sys

SAMPLE_HZ = 2999

# Areas by the names of their functions, the first match wins; kernel
# functions are one area of their own.
AREAS = [
    ("SQLite", ["sqlite3", "btree", "Btree", "getPageMMap", "pager", "Pager",
                "vdbe", "Vdbe", "moveTo", "getAndInit", "unixShm", "walIndex",
                "pcache", "rusqlite", "r2d2", "releaseMem", "allocateCursor"]),
    ("libc memcpy/memcmp", ["memmove", "memcmp", "memcpy", "memset", "strlen"]),
    ("allocation", ["mi_", "malloc", "free"]),
    ("token and membership", ["sha2", "sha256", "Digest", "authorize",
                              "quick_cache", "bearer"]),
    ("log record and metrics", ["slog", "logging", "metrics", "routes",
                                "CharSearcher"]),
    ("hyper and http", ["hyper", "httparse", "http::"]),
    ("dropshot", ["dropshot"]),
    ("tokio", ["tokio", "mio"]),
    ("UTF-8 and serde", ["from_utf8", "serde"]),
]


def area(function):
    if function.startswith("[k]"):
        return "kernel"
    for name, patterns in AREAS:
        if any(pattern in function for pattern in patterns):
            return name
    return "other"


def by_area(per_function):
    areas = collections.Counter()
    for function, cost in per_function.items():
        areas[area(function)] += cost
    return areas


def microseconds_per_request(directory, seconds, name):
    with open(f"{directory}/{name}.rps") as rps_file:
        rps = float(rps_file.read())
    report = subprocess.run(
        ["perf", "report", "-i", f"{directory}/{name}.data", "--no-children",
         "--sort", "dso,symbol", "--stdio", "-g", "none",
         "-F", "sample,dso,symbol"],
        capture_output=True, text=True, check=True).stdout
    per_function = collections.Counter()
    for line in report.splitlines():
        row = re.match(r"\s*(\d+)\s+\S+\s+\[(.)\]\s+(.*?)(\s+-\s+-)?\s*$", line)
        if line.startswith("#") or not row:
            continue
        samples, kind, function = int(row[1]), row[2], row[3]
        key = f"[k] {function}" if kind == "k" else function
        per_function[key] += samples * 1e6 / SAMPLE_HZ / (rps * seconds)
    return rps, per_function


def main():
    directory, seconds, a_name, b_name = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    a_rps, a = microseconds_per_request(directory, seconds, a_name)
    b_rps, b = microseconds_per_request(directory, seconds, b_name)
    print(f"{a_name}: {a_rps:,.0f} requests/s, {sum(a.values()):.1f} µs of CPU per request; "
          f"{b_name}: {b_rps:,.0f} requests/s, {sum(b.values()):.1f} µs")
    a_areas, b_areas = by_area(a), by_area(b)
    print(f"\n| area | {a_name} µs | {b_name} µs | difference |\n|---|---:|---:|---:|")
    for name in sorted(set(a_areas) | set(b_areas), key=lambda n: b_areas[n] - a_areas[n]):
        print(f"| {name} | {a_areas[name]:.2f} | {b_areas[name]:.2f} | "
              f"{a_areas[name] - b_areas[name]:+.2f} |")
    print(f"\n| function | {a_name} µs | {b_name} µs | difference |\n|---|---:|---:|---:|")
    functions = sorted(set(a) | set(b), key=lambda f: b[f] - a[f])
    for function in functions[:30]:
        print(f"| `{function[:90]}` | {a[function]:.2f} | {b[function]:.2f} | "
              f"{a[function] - b[function]:+.2f} |")


if __name__ == "__main__":
    main()
