// recall-bench: release-mode measurements of Recall's core paths.
//
//   swift run -c release recall-bench [--calls N]
//
// It calls the runtime exactly as a `@Memoized` expansion does (`Op.__resolve`
// of the op's site, then `Store.memoize`), without depending on the macro
// target, so that a release build does not compile swift-syntax. Scenarios:
//
//   A  warm hit of a small call (memory layer)
//   B  miss + store of a small call (SQLite, one transaction per call)
//   C  store open, and the first hits in a fresh process (SQLite, memory layer cold)
//
// Every timed call checks its result inside the timed part.

import Foundation
import RecallCore
import RecallSQLite

let site = __RecallOpSite(name: "square(_:)", fileID: "Bench/main.swift", fingerprint: "b1")

@inline(never)
func square(_ store: Store, _ x: Int) -> Int {
  store.memoize(Op.__resolve(site, .untracked), [Argument("x", x)]) { x * x }
}

func nanoseconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) * 1e-9
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted[sorted.count / 2]
}

func format(_ ns: Double) -> String {
  ns < 1_000 ? String(format: "%.0f ns", ns)
    : ns < 1_000_000 ? String(format: "%.2f µs", ns / 1_000) : String(format: "%.2f ms", ns / 1e6)
}

func quietSQLite(_ path: String) throws -> Store {
  var configuration = SQLiteBackend.Configuration()
  configuration.store.printsWarnings = false
  return try Store.sqlite(at: path, configuration: configuration)
}

/// Times `batches` batches of `size` calls; returns the median time per call.
func perCall(batches: Int, size: Int, _ body: (Int) -> Void) -> Double {
  let clock = ContinuousClock()
  var samples: [Double] = []
  var i = 0
  for _ in 0..<batches {
    let start = clock.now
    for _ in 0..<size {
      body(i)
      i += 1
    }
    samples.append(nanoseconds(clock.now - start) / Double(size))
  }
  return median(samples)
}

func check(_ condition: Bool, _ message: String) {
  if !condition {
    FileHandle.standardError.write(Data("recall-bench: wrong result: \(message)\n".utf8))
    exit(1)
  }
}

let arguments = CommandLine.arguments

// The fresh-process half of scenario C: open the store, then hit calls that
// this process has never seen.
if arguments.count >= 4, arguments[1] == "--fresh-process" {
  let path = arguments[2]
  let calls = Int(arguments[3])!
  let clock = ContinuousClock()
  let openStart = clock.now
  let store = try quietSQLite(path)
  let open = nanoseconds(clock.now - openStart)
  let firstStart = clock.now
  check(square(store, 0) == 0, "first hit")
  let first = nanoseconds(clock.now - firstStart)
  let hit = perCall(batches: 20, size: max(1, (calls - 1) / 20)) { i in
    let x = i + 1
    check(square(store, x) == x * x, "fresh hit \(x)")
  }
  let stats = try store.stats()
  check(stats.misses == 0, "a fresh-process hit executed")
  print("\(open) \(first) \(hit)")
  exit(0)
}

// Q: queries over a store of many calls (`--queries N`, N = 100000 by
// default): populates a store with N calls of a two-op pipeline, then times
// the listings the `recall` tool makes. Population runs one transaction per
// call, so it takes a while.
if let index = arguments.firstIndex(of: "--queries") {
  let count = index + 1 < arguments.count ? Int(arguments[index + 1]) ?? 100_000 : 100_000
  let directory = NSTemporaryDirectory() + "recall-bench-queries-\(UUID().uuidString)"
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let store = try quietSQLite(directory)
  let make = Op(id: "Bench.make(i:)", version: CodeFingerprint(hex: "m1"))
  let use = Op(id: "Bench.use(_:)", version: CodeFingerprint(hex: "u1"))
  let clock = ContinuousClock()
  let populateStart = clock.now
  for i in 0..<count / 2 {
    let made = store.memoize(make, [Argument("i", i)]) { i * 3 }
    _ = store.memoize(use, [Argument("value", made)]) { made + 1 }
  }
  print("Q  populate \(count) calls: \(clock.now - populateStart)\n")
  func time(_ name: String, _ body: () throws -> Int) rethrows {
    var samples: [Double] = []
    var result = 0
    for _ in 0..<5 {
      let start = clock.now
      result = try body()
      samples.append(nanoseconds(clock.now - start))
    }
    print("Q  \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(format(median(samples)).padding(toLength: 10, withPad: " ", startingAt: 0))  (\(result) rows)")
  }
  try time("ops() over \(count) calls") { try store.ops().count }
  try time("calls(of:) one op, all \(count / 2)") { try store.calls(of: make.id).count }
  try time("calls(of:limit: 50)") { try store.calls(of: make.id, limit: 50).count }
  try time("calls(of:inputs:) one argument value") { try store.calls(of: make.id, inputs: ["i": 777]).count }
  try time("staleCalls() (none stale)") { try store.staleCalls().count }
  let sample = try store.calls(of: use.id, limit: 1)[0]
  try time("upstream(of:) one call") { try store.upstream(of: sample.id).count }
  try time("ComputationFrame(op:).expandBack(), 100 calls") {
    try ComputationFrame(calls: store.calls(of: use.id, limit: 100), in: store).expandBack().table().cids.count
  }
  exit(0)
}

var calls = 10_000
if let index = arguments.firstIndex(of: "--calls"), index + 1 < arguments.count {
  calls = Int(arguments[index + 1])!
}

let directory = NSTemporaryDirectory() + "recall-bench-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: directory) }

print("recall-bench (release): \(calls) small calls, store at \(directory)\n")
print("scenario                                   median      target")

// B: miss + store, one committed transaction per call.
let store = try quietSQLite(directory)
let miss = perCall(batches: 20, size: calls / 20) { x in
  check(square(store, x) == x * x, "miss \(x)")
}
print("B  miss + store, small call (SQLite)        \(format(miss).padding(toLength: 10, withPad: " ", startingAt: 0))  —")

// A: warm hits from the memory layer.
let warm = perCall(batches: 50, size: 20_000) { i in
  let x = i % 1_000
  check(square(store, x) == x * x, "warm \(x)")
}
print("A  warm hit, small call (memory layer)      \(format(warm).padding(toLength: 10, withPad: " ", startingAt: 0))  ≤ 5 µs")

// C: a fresh process opens the store and hits calls it has never seen.
var opens: [Double] = []
var firsts: [Double] = []
var hits: [Double] = []
for _ in 0..<5 {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
  process.arguments = ["--fresh-process", directory, "\(min(calls, 2_000))"]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  check(process.terminationStatus == 0, "fresh process failed")
  let numbers = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  opens.append(numbers[0])
  firsts.append(numbers[1])
  hits.append(numbers[2])
}
print("C  store open (fresh process)               \(format(median(opens)).padding(toLength: 10, withPad: " ", startingAt: 0))  ≤ 5 ms")
print("C  first hit after open (fresh process)     \(format(median(firsts)).padding(toLength: 10, withPad: " ", startingAt: 0))  ≤ 100 µs")
print("C  hit from SQLite, memory layer cold       \(format(median(hits)).padding(toLength: 10, withPad: " ", startingAt: 0))  ≤ 100 µs")
