"""Runs Recall's benchmark suite and the same scenarios with Python's joblib,
in one run, and prints both side by side with ratios.

    python3 Benchmarks/compare.py [--quick] [--full]

It builds recall-bench in release mode, creates a virtualenv under
.build/bench-venv with joblib and numpy from PyPI (once), runs both suites
one after the other on this machine, and prints a Markdown table:
joblib's median ÷ Recall's median (above 1: Recall is faster; for disk and
executions, less is better the same way).
"""

import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "bench-venv")
FLAGS = [flag for flag in sys.argv[1:] if flag in ("--quick", "--full")]


def run(command, **options):
    return subprocess.run(command, cwd=ROOT, check=True, **options)


def lines(output):
    return {row["scenario"]: row for row in map(json.loads, output.strip().splitlines())}


def shown(row):
    if row is None or row.get("value") is None:
        return "—"
    value, unit = row["value"], row["unit"]
    if unit == "ns":
        return f"{value:.0f} ns" if value < 1e3 else f"{value / 1e3:.2f} µs" if value < 1e6 else f"{value / 1e6:.2f} ms"
    return f"{value:.0f} {unit}"


def main():
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", VENV])
    run([python, "-m", "pip", "install", "-q", "joblib", "numpy"])
    versions = subprocess.run(
        [python, "-c", "import joblib, numpy, sys; print(joblib.__version__, numpy.__version__, sys.version.split()[0])"],
        capture_output=True, text=True, check=True).stdout.split()
    print("building recall-bench (release)…", file=sys.stderr)
    run(["swift", "build", "-c", "release", "--product", "recall-bench"], stdout=subprocess.DEVNULL)
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip() + "/recall-bench"
    print("running recall-bench…", file=sys.stderr)
    recall = lines(run([binary, "--json", *FLAGS], capture_output=True, text=True).stdout)
    print("running joblib_bench.py…", file=sys.stderr)
    joblib = lines(run([python, os.path.join(ROOT, "Benchmarks", "joblib_bench.py"), "--json",
                        *[flag for flag in FLAGS if flag == "--quick"]], capture_output=True, text=True).stdout)

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
          f"joblib {versions[0]}, numpy {versions[1]}, Python {versions[2]}\n")
    print("| scenario | Recall | joblib | joblib ÷ Recall | target | note |")
    print("|---|---|---|---|---|---|")
    for name, row in recall.items():
        other = joblib.get(name)
        ratio = "—"
        if other and other.get("value") and row.get("value"):
            ratio = f"{other['value'] / row['value']:.1f}×"
        note = "; ".join(filter(None, [row.get("note"), other and other.get("note") and f"joblib: {other['note']}"]))
        print(f"| {name} | {shown(row)} | {shown(other)} | {ratio} | {row.get('target', '—')} | {note} |")


if __name__ == "__main__":
    main()
