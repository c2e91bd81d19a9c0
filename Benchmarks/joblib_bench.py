"""The scenarios of recall-bench, run with Python's joblib (the anchor).

    python joblib_bench.py [--json] [--quick]
    python joblib_bench.py --chain N   (L alone)
    python joblib_bench.py --elements  (M alone)
    python joblib_bench.py --sweep     (H alone, 10,000 points)

Prints one line per scenario (or one JSON object per line with --json):
the same scenario names as recall-bench, with medians in nanoseconds. Each
timed call checks its result inside the timed part, as recall-bench does.
Benchmarks/compare runs it in a virtualenv it creates, next to recall-bench.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from joblib import Memory

QUICK = "--quick" in sys.argv


def report(name, value, note="", unit="ns"):
    """One result: a time in nanoseconds, or a number of bytes or executions."""
    row = {"scenario": name, "value": value, "unit": unit, "note": note}
    if "--json" in sys.argv:
        print(json.dumps(row), flush=True)
    else:
        shown = "           —" if value is None else (
            f"{value / 1000:12.1f} µs" if unit == "ns" else f"{value:12.0f} {unit}")
        print(f"{name:52} {shown}  {note}", flush=True)


def median_per_call(batches, size, body):
    samples = []
    i = 0
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(size):
            body(i)
            i += 1
        samples.append((time.perf_counter_ns() - start) / size)
    return statistics.median(samples)


def check(condition, message):
    if not condition:
        sys.stderr.write(f"joblib_bench: wrong result: {message}\n")
        sys.exit(1)


def disk_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def square(x):
    return x * x


def double_sum(values):
    return float(values.sum())


def make_large(seed):
    return np.arange(12_500_000, dtype=np.float64) * 0.5 + seed


def slow(x):
    # G: a 2-second call; the marker file counts executions across processes.
    with open(os.environ["JOBLIB_BENCH_MARKER"], "a") as marker:
        marker.write("ran\n")
    time.sleep(2)
    return x + 1


def step(signal, index):
    # L: one step of a chain of 1 MiB arrays, each sample plus one.
    return signal + 1


def row(id):
    # M: one row of 256 numbers (2 KB) for an id.
    return np.sin(np.arange(id * 256, id * 256 + 256, dtype=np.float64))


# M: the cached `row` the child process sets, which `rows` calls.
cached_row = None


def rows(ids):
    # M: the rows of a list of ids, through one cached call per row.
    return [cached_row(i) for i in ids]


ROWS_CHILD = r"""
import sys, time, json
sys.path.insert(0, {here!r})
from joblib import Memory
import joblib_bench as jb
memory = Memory({location!r}, verbose=0)
jb.cached_row = memory.cache(jb.row)
rows = memory.cache(jb.rows)
ids = list(range(1_000)) + [1_000 + {run} * 10 + k for k in range(10)]
start = time.perf_counter_ns()
value = rows(ids)
elapsed = time.perf_counter_ns() - start
print(json.dumps({{"time": elapsed, "ok": len(value) == 1_010 and bool(value[-1][0] == jb.row(ids[-1])[0])}}))
"""


def elements_scenario(root):
    """M: a fresh process extends a list of 1,000 rows (one cached call per
    row) to 1,010 through a cached function of the whole list: joblib caches
    each row, and the list again, whole."""
    here = os.path.dirname(os.path.abspath(__file__))
    location = os.path.join(root, "elements")

    def child(run):
        code = ROWS_CHILD.format(here=here, location=location, run=run)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        check(result["ok"], "M rows")
        return result["time"]

    # The first 1,000 rows, cached as the list of 1,000 and row by row.
    populate = ROWS_CHILD.replace("ids = list(range(1_000)) + [1_000 + {run} * 10 + k for k in range(10)]",
                                  "ids = list(range(1_000))").replace("len(value) == 1_010", "len(value) == 1_000")
    output = subprocess.run([sys.executable, "-c", populate.format(here=here, location=location)],
                            capture_output=True, text=True, check=True).stdout
    check(json.loads(output.strip().splitlines()[-1])["ok"], "M populate")
    hits = []
    for _ in range(3):
        output = subprocess.run([sys.executable, "-c", populate.format(here=here, location=location)],
                                capture_output=True, text=True, check=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        check(result["ok"], "M list")
        hits.append(result["time"])
    report("M hit of a list of 1,000 rows", statistics.median(hits), "fresh process; one pickle")
    before = disk_bytes(location)
    runs = [child(run) for run in range(3)]
    report("M extend a list of 1,000 rows to 1,010", statistics.median(runs),
           "fresh process; 10 rows computed, 1,000 read back; the list cached whole")
    report("M bytes the store grows by, per extension", (disk_bytes(location) - before) / 3, unit="bytes")
    shutil.rmtree(location, ignore_errors=True)


CHAIN_CHILD = r"""
import sys, time, json
sys.path.insert(0, {here!r})
from joblib import Memory
import numpy as np
import joblib_bench as jb
memory = Memory({location!r}, mmap_mode={mmap!r}, verbose=0)
cached = memory.cache(jb.step)
start = time.perf_counter_ns()
signal = np.zeros(131_072)
for index in range({steps}):
    signal = cached(signal, index)
last = float(signal[131_071])
print(json.dumps({{"time": time.perf_counter_ns() - start, "ok": last == {steps}}}))
"""


def chain_scenario(root, steps):
    """L: a fresh process re-traces a chain of memoized calls whose results are
    1 MiB arrays: memory-mapped (joblib's way not to copy a result), and
    loaded (its default) for at most 1,000 of them."""
    here = os.path.dirname(os.path.abspath(__file__))
    location = os.path.join(root, "chain")
    memory = Memory(location, verbose=0)
    cached = memory.cache(step)
    signal = np.zeros(131_072)
    for index in range(steps):
        signal = cached(signal, index)
    check(signal[0] == steps, "L populate")

    def rerun(count, mmap):
        code = CHAIN_CHILD.format(here=here, location=location, mmap=mmap, steps=count)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        check(result["ok"], "L re-trace")
        return result["time"]

    report(f"L re-trace {steps} chained 1 MB results, lazy",
           statistics.median(rerun(steps, "r") for _ in range(3)), "mmap_mode='r'; hashes each argument")
    decoded = min(steps, 1_000)
    report(f"L re-trace {decoded} chained 1 MB results, decoded",
           statistics.median(rerun(decoded, None) for _ in range(3)))
    shutil.rmtree(location, ignore_errors=True)


CHILD = r"""
import sys, time, json
t0 = time.perf_counter_ns()
from joblib import Memory
import numpy as np
sys.path.insert(0, {here!r})
import joblib_bench as jb
t1 = time.perf_counter_ns()
memory = Memory({location!r}, verbose=0)
cached = memory.cache(getattr(jb, {function!r}))
t2 = time.perf_counter_ns()
value = cached({argument})
t3 = time.perf_counter_ns()
ok = {check}
print(json.dumps({{"import": t1 - t0, "open": t2 - t1, "first": t3 - t2, "ok": bool(ok)}}))
"""


SWEEP_CHILD = r"""
import sys, time, json
sys.path.insert(0, {here!r})
from joblib import Memory
import joblib_bench as jb
score = Memory({location!r}, verbose=0).cache(jb.score)
points = list(range({count})) + [10_000_000 + {run} * {new} + k for k in range({new})]
start = time.perf_counter_ns()
scores = [score(x) for x in points]
elapsed = time.perf_counter_ns() - start
print(json.dumps({{"time": elapsed / len(points), "ok": scores[{count} - 1] == ({count} - 1) * 0.5 + 1}}))
"""


def score(x):
    return x * 0.5 + 1


def sweep_scenario(root, points):
    """H: a fresh process re-runs a sweep whose points are all cached (a loop
    of cached calls: joblib has no sweep), and with 10% new points."""
    here = os.path.dirname(os.path.abspath(__file__))
    location = os.path.join(root, "sweep")

    def child(count, new, run):
        code = SWEEP_CHILD.format(here=here, location=location, count=count, new=new, run=run)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        check(result["ok"], "H sweep")
        return result["time"]

    child(points, 0, 0)  # populate
    cached = [child(points, 0, 0) for _ in range(3)]
    report("H fully cached sweep, per point", statistics.median(cached),
           f"fresh process; a loop over {points} cached points")
    extended = [child(points, points // 10, run) for run in range(3)]
    report("H sweep with 10% new points, per point", statistics.median(extended),
           f"fresh process; {points} cached and {points // 10} new points")
    shutil.rmtree(location, ignore_errors=True)


def fresh_process(location, function, argument, check_expression):
    here = os.path.dirname(os.path.abspath(__file__))
    code = CHILD.format(here=here, location=location, function=function, argument=argument, check=check_expression)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    check(result["ok"], f"fresh process {function}")
    return result


def main():
    root = tempfile.mkdtemp(prefix="joblib-bench-")
    if "--elements" in sys.argv:
        try:
            elements_scenario(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    if "--sweep" in sys.argv:
        try:
            sweep_scenario(root, 10_000)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    if "--chain" in sys.argv:
        try:
            chain_scenario(root, int(sys.argv[sys.argv.index("--chain") + 1]))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    try:
        calls = 2_000 if QUICK else 10_000
        memory = Memory(os.path.join(root, "small"), verbose=0)
        cached_square = memory.cache(square)

        # B: miss + store, small call.
        b = median_per_call(20, calls // 20, lambda x: check(cached_square(x) == x * x, f"miss {x}"))
        report("B miss + store, small call", b)

        # A: warm hit, small call (joblib reads its disk store on every call).
        a = median_per_call(20, 500, lambda i: check(cached_square(i % 1000) == (i % 1000) ** 2, "warm"))
        report("A warm hit, small call", a)

        # C: store open and first hit in a fresh process.
        runs = [fresh_process(os.path.join(root, "small"), "square", "7", "value == 49") for _ in range(5)]
        report("C store open (fresh process)", statistics.median(r["open"] for r in runs),
               f"plus {statistics.median(r['import'] for r in runs) / 1e6:.0f} ms to import joblib and numpy")
        report("C first hit after open (fresh process)", statistics.median(r["first"] for r in runs))

        # D: hit with a 100 MB float64 argument.
        large_memory = Memory(os.path.join(root, "large"), verbose=0)
        cached_sum = large_memory.cache(double_sum)
        data = make_large(0)
        expected = float(data.sum())
        check(cached_sum(data) == expected, "D first call")
        samples = []
        for _ in range(5):
            copy = data.copy()
            start = time.perf_counter_ns()
            check(cached_sum(copy) == expected, "D copy")
            samples.append(time.perf_counter_ns() - start)
        report("D hit, 100 MB [Double] argument, fresh copy", statistics.median(samples))
        samples = []
        for _ in range(5):
            start = time.perf_counter_ns()
            check(cached_sum(data) == expected, "D same")
            samples.append(time.perf_counter_ns() - start)
        report("D hit, 100 MB [Double] argument, same array", statistics.median(samples), "joblib hashes it again")

        # E: a hit returning 100 MB in a fresh process.
        cached_large = large_memory.cache(make_large)
        check(cached_large(3)[1] == 3.5, "E store")
        runs = [fresh_process(os.path.join(root, "large"), "make_large", "3", "value[1] == 3.5") for _ in range(5)]
        report("E hit returning 100 MB [Double], fresh process", statistics.median(r["first"] for r in runs))
        mapped = Memory(os.path.join(root, "large"), mmap_mode="r", verbose=0)
        check(mapped.cache(make_large)(3)[1] == 3.5, "E mmap")
        code = (
            "import sys, time, json\n"
            f"sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            "from joblib import Memory\nimport joblib_bench as jb\n"
            f"m = Memory({os.path.join(root, 'large')!r}, mmap_mode='r', verbose=0)\n"
            "f = m.cache(jb.make_large)\nt = time.perf_counter_ns()\nv = f(3)\n"
            "print(json.dumps({'first': time.perf_counter_ns() - t, 'ok': bool(v[1] == 3.5)}))\n"
        )
        samples = []
        for _ in range(5):
            out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                            check=True).stdout.strip().splitlines()[-1])
            check(out["ok"], "E mmap fresh")
            samples.append(out["first"])
        report("E hit returning 100 MB [Double], memory-mapped", statistics.median(samples))

        chain_scenario(root, 1_000 if QUICK else 10_000)
        elements_scenario(root)
        sweep_scenario(root, 1_000 if QUICK else 10_000)

        # F: hit latency and disk per entry by store size.
        sizes = [1_000, 10_000] if QUICK else [1_000, 100_000]
        for size in sizes:
            location = os.path.join(root, f"f{size}")
            fmemory = Memory(location, verbose=0)
            fsquare = fmemory.cache(square)
            for x in range(size):
                fsquare(x)
            hit = median_per_call(10, 200, lambda i: check(fsquare((i * 7919) % size) == ((i * 7919) % size) ** 2, "F"))
            report(f"F hit with {size} entries stored", hit)
            report(f"F disk bytes per entry, {size} entries", disk_bytes(location) / size, unit="bytes")
            if size == sizes[-1]:
                # P: a tenth of the entries out (joblib: least recently used first).
                start = time.perf_counter_ns()
                fmemory.reduce_size(items_limit=size - size // 10)
                report(f"P evict 10% of {size} stored calls", time.perf_counter_ns() - start,
                       "Memory.reduce_size(items_limit=)")
            shutil.rmtree(location)
        report("F hit with 1000000 entries stored", None, "not run: joblib writes a directory per entry (hours, ~8 GB)")

        # G: two processes make the same new 2-second call at once.
        marker = os.path.join(root, "marker")
        open(marker, "w").close()
        code = (
            "import sys\n"
            f"sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            "from joblib import Memory\nimport joblib_bench as jb\n"
            f"m = Memory({os.path.join(root, 'g')!r}, verbose=0)\n"
            "assert m.cache(jb.slow)(41) == 42\n"
        )
        environment = dict(os.environ, JOBLIB_BENCH_MARKER=marker)
        start = time.perf_counter_ns()
        children = [subprocess.Popen([sys.executable, "-c", code], env=environment) for _ in range(2)]
        check(all(child.wait() == 0 for child in children), "G children")
        elapsed = time.perf_counter_ns() - start
        executions = open(marker).read().count("ran")
        report("G executions, two processes, same 2 s call", executions, f"{elapsed / 1e9:.1f} s wall", unit="runs")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
