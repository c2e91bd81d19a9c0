// recall-bench-open: scenario C's fresh process, as a user's program is built.
//
//   recall-bench-open DIR
//
// Opens the SQLite store in DIR, then hits a call this process has never
// seen (`square(0)`, which `recall-bench` stored there), and prints the two
// times in nanoseconds. `recall-bench` runs it for C. It is a program of its
// own because a program that memoizes links Recall's core and its SQLite
// store, not the viewer's web server that `recall-bench` links too: a
// process's start and its runtime's first lookups of protocol conformances
// scale with what it links.

import BenchCalls
import Foundation
import RecallCore
import RecallSQLite

// As `recall-bench` does at its start (decision 0112).
SQLiteBackend.turnOffMemoryStatistics()
// The op has no build plugin's table: keep the one-time note quiet.
setenv("RECALL_QUIET", "1", 1)

guard CommandLine.arguments.count == 2 else {
  FileHandle.standardError.write(Data("usage: recall-bench-open DIR\n".utf8))
  exit(2)
}
let clock = ContinuousClock()
let openStart = clock.now
let store = try quietSQLite(CommandLine.arguments[1])
let opening = nanoseconds(clock.now - openStart)
let firstStart = clock.now
check(square(store, 0) == 0, "first hit")
let first = nanoseconds(clock.now - firstStart)
check(try store.stats().misses == 0, "a fresh-process hit executed")
print("\(opening) \(first)")
