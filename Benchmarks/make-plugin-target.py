#!/usr/bin/env python3
"""Writes a synthetic 30,000-line Swift target for timing RecallFingerprintTool.

60 files of 500 lines: globals, a type with a method per file, helpers calling
helpers across files, and a `@Memoized` op every seventh helper (540 ops).

    python3 Benchmarks/make-plugin-target.py /tmp/big
    swift build --product RecallFingerprintTool
    RECALL_PLUGIN_VERBOSE=1 .build/debug/RecallFingerprintTool --output /tmp/big/out.swift \
        --cache /tmp/big/cache.json --sources /tmp/big/Sources/*.swift --dependency-sources
    # then edit one function (for example File7.swift) and run the last command again
"""
import os
import random
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/big"
os.makedirs(f"{root}/Sources", exist_ok=True)
random.seed(1)
total = 0
for f in range(60):
    lines = ["import Foundation", "", f"let constant{f} = {f}",
             f"struct Record{f}: Codable, Sendable {{", "  var values: [Double] = []",
             f"  var scale = {f}.0", "  func total() -> Double { values.reduce(0, +) * scale }", "}"]
    h = 0
    while len(lines) < 500:
        callee = f"helper{random.randrange(60)}_{random.randrange(20)}"
        name = f"helper{f}_{h}"
        body = [f"func {name}(_ x: Double) -> Double {{", f"  var y = x * Double(constant{f})",
                "  for i in 0..<3 {", "    y += Double(i) * 0.5", "  }",
                f"  return y > 1e9 ? y : {callee}(y)" if h % 3 else "  return y", "}", ""]
        if h % 7 == 0:
            body = ["@Memoized", f"func op{f}_{h}(_ x: Double) -> Double {{",
                    f"  {name}(x) + Record{f}(values: [x]).total()", "}", ""] + body
        lines += body
        h += 1
    lines = lines[:500]
    while "\n".join(lines).count("{") != "\n".join(lines).count("}"):
        lines.pop()
    total += len(lines)
    with open(f"{root}/Sources/File{f}.swift", "w") as out:
        out.write("\n".join(lines) + "\n")
print(f"{total} lines in {root}/Sources")
