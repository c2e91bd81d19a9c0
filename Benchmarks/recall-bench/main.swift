// recall-bench: release-mode measurements of Recall's paths, by scenario.
//
//   swift run -c release recall-bench [--json] [--quick] [--full]
//   swift run -c release recall-bench --queries [N [DIR]]
//   swift run -c release recall-bench --chain [N [DIR]]   (L alone)
//   swift run -c release recall-bench --elements [DIR]   (M alone)
//   swift run -c release recall-bench --sweep [N [DIR]]   (H alone; H_PARALLELISM=P sets the
//                                                         sweep's parallelism)
//   swift run -c release recall-bench --warm-loop DIR [N]   (A alone, to profile)
//   swift run -c release recall-bench --miss-loop DIR [N]   (B alone, to profile)
//   swift run -c release recall-bench --writer-only DIR [N]  (B's background writer alone)
//   swift run -c release recall-bench --edited-miss DIR VERSION  (a fresh process's first miss
//                                                               of a version never seen)
//   swift run -c release recall-bench --hit-loop DIR N [HITS]  (F's hit alone, on a store --miss-loop DIR N filled)
//
// It calls the runtime exactly as a `@Memoized` expansion does (`Op.declared(at:_:)`
// of the op's site, then `Store.memoize`), without depending on the macro
// target, so that a release build does not compile swift-syntax. Scenarios
// (the names are stable; Benchmarks/joblib_bench.py runs the same ones):
//
//   A  warm hit of a small call (memory layer)
//   B  miss + store of a small call (SQLite; committed in groups, the time
//      includes waiting for the last commit)
//   C  store open, and the first hit, in a fresh process (`recall-bench-open`,
//      linked as a user's program is)
//   D  hit with a 100 MB [Double] argument: a fresh equal copy, and the same array
//   E  hit returning a 100 MB [Double] in a fresh process, copied into an
//      array and as a MappedArray (the blob file's pages, no copy)
//   F  hit latency (memory layer cold) and disk bytes per entry with 1k and 100k
//      small calls stored (and 1M with --full)
//   G  two processes make the same new 2-second call at once: executions
//   P  evict a tenth of the results of F's largest store (a disk budget)
//   R  one number from RandomSource and from SystemRandomNumberGenerator
//   L  a fresh process re-traces a chain of 10,000 calls (1,000 with --quick)
//      whose results are 1 MiB arrays, with lazy results; and 1,000 of them
//      decoded at every hit
//   M  a fresh process extends a list of 1,000 rows (2 KB each, one memoized
//      call per row) to 1,010 through an op over the whole list: the time,
//      and the bytes the store grows by (the list stored by element); and a
//      fresh process's hit of the list of 1,000 rows
//   H  a fresh process sweeps (`store.map`) over 100,000 points (10,000 with
//      --quick) whose results are all stored, and over them and 10% new ones
//   N  a fresh process's first call of an op whose version the store has not
//      seen (an edit), alone: `--edited-miss` (no joblib counterpart)
//
// It turns SQLite's memory statistics off at its start
// (`SQLiteBackend.turnOffMemoryStatistics()`), as a program that sweeps over
// stored calls should. Every timed call checks its result inside the timed
// part. --json prints one JSON object per scenario: {"scenario", "value",
// "unit" (ns, bytes, runs), "note"}.

import BenchCalls
import Foundation
import RecallCore
import RecallSQLite
import RecallViewer
import Synchronization

// Before anything uses SQLite, as the API asks (decision 0112).
SQLiteBackend.turnOffMemoryStatistics()

let scoreSite = OpSite(name: "score(_:)", fileID: "Bench/main.swift", fingerprint: "h1")

/// H: one point of a sweep, a small call.
@inline(never)
func score(_ store: Store, _ x: Int) -> Double {
  store.memoize(Op.declared(at: scoreSite, .untracked), [Argument("x", x)]) {
    Double(x) * 0.5 + 1
  }
}

let noisySite = OpSite(name: "noisy(_:)", fileID: "Bench/main.swift", fingerprint: "n1")

/// A small random call: it draws one number from its source.
@inline(never)
func noisy(_ store: Store, _ x: Int) -> Double {
  store.memoize(Op.declared(at: noisySite, .untracked), [Argument("x", x)]) {
    var random = RandomSource.current
    return Double(x) + random.nextDouble()
  }
}

let sumSite = OpSite(name: "sum(_:)", fileID: "Bench/main.swift", fingerprint: "d1")

@inline(never)
func sum(_ store: Store, _ values: [Double]) -> Double {
  store.memoize(Op.declared(at: sumSite, .untracked), [Argument("values", values)]) {
    values.reduce(0, +)
  }
}

let largeSite = OpSite(name: "large(seed:)", fileID: "Bench/main.swift", fingerprint: "e1")

/// 100 MB of doubles.
func makeLarge(_ seed: Int) -> [Double] {
  (0..<12_500_000).map { Double($0) * 0.5 + Double(seed) }
}

@inline(never)
func large(_ store: Store, seed: Int) -> [Double] {
  store.memoize(Op.declared(at: largeSite, .untracked), [Argument("seed", seed)]) {
    makeLarge(seed)
  }
}

let mappedSite = OpSite(
  name: "largeMapped(seed:)", fileID: "Bench/main.swift", fingerprint: "e2")

/// The same 100 MB, returned as a `MappedArray`: a hit maps the blob file.
@inline(never)
func largeMapped(_ store: Store, seed: Int) -> MappedArray<Double> {
  store.memoize(Op.declared(at: mappedSite, .untracked), [Argument("seed", seed)]) {
    MappedArray(makeLarge(seed))
  }
}

let chainSite = OpSite(name: "step(_:index:)", fileID: "Bench/main.swift", fingerprint: "l1")

/// L: one step of a chain of 1 MiB arrays (131,072 doubles), each sample of the
/// previous step's plus one, with lazy results: a hit reads nothing.
@inline(never)
func step(_ store: Store, _ signal: Lazy<[Double]>, index: Int) throws -> Lazy<[Double]> {
  try store.memoize(
    Op.declared(at: chainSite, .untracked),
    [Argument("signal", signal), Argument("index", index)]
  ) { () throws(RecallError) -> Lazy<[Double]> in
    Lazy(try signal.value.map { $0 + 1 })
  }
}

/// L without `Lazy`: the same op, stored the same, decoded at every hit (and
/// its argument hashed at every call).
@inline(never)
func stepDecoded(_ store: Store, _ signal: [Double], index: Int) -> [Double] {
  store.memoize(
    Op.declared(at: chainSite, .untracked),
    [Argument("signal", signal), Argument("index", index)]
  ) { signal.map { $0 + 1 } }
}

let chainStart = [Double](repeating: 0, count: 131_072)

let rowSite = OpSite(name: "row(_:)", fileID: "Bench/main.swift", fingerprint: "m1")
let rowsSite = OpSite(name: "rows(_:)", fileID: "Bench/main.swift", fingerprint: "m2")

/// M: one row of 256 numbers (2 KB) for an id.
@inline(never)
func row(_ store: Store, _ id: Int) -> [Double] {
  store.memoize(Op.declared(at: rowSite, .untracked), [Argument("id", id)]) {
    (0..<256).map { sin(Double(id * 256 + $0)) }
  }
}

/// M: the rows of a list of ids, through one memoized call per row; the
/// list is stored by element.
@inline(never)
func rows(_ store: Store, _ ids: Elements<Int>) -> Elements<[Double]> {
  store.memoize(Op.declared(at: rowsSite, .untracked), [Argument("ids", ids)]) {
    Elements(ids.map { row(store, $0) })
  }
}

/// M's ids: the first 1,000, and ten more that run `run` adds.
func extendedIDs(run: Int) -> Elements<Int> {
  Elements(Array(0..<1_000) + (0..<10).map { 1_000 + run * 10 + $0 })
}

let slowSite = OpSite(name: "slow(_:)", fileID: "Bench/main.swift", fingerprint: "g1")

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted[sorted.count / 2]
}

func format(_ ns: Double) -> String {
  ns < 1_000
    ? String(format: "%.0f ns", ns)
    : ns < 1_000_000 ? String(format: "%.2f µs", ns / 1_000) : String(format: "%.2f ms", ns / 1e6)
}

/// Times `batches` batches of `size` calls; returns the median time per call.
func perCall(batches: Int, size: Int, endingWith finish: () -> Void = {}, _ body: (Int) -> Void)
  -> Double
{
  let clock = ContinuousClock()
  var samples: [Double] = []
  var i = 0
  for _ in 0..<batches {
    let start = clock.now
    for _ in 0..<size {
      body(i)
      i += 1
    }
    finish()
    samples.append(nanoseconds(clock.now - start) / Double(size))
  }
  return median(samples)
}

/// The median time of `runs` runs of `body`.
func timed(runs: Int, _ body: () throws -> Void) rethrows -> Double {
  var samples: [Double] = []
  for _ in 0..<runs {
    let start = ContinuousClock.now
    try body()
    samples.append(nanoseconds(ContinuousClock.now - start))
  }
  return median(samples)
}

/// Runs asynchronous work from this synchronous program, and waits for it.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
  let done = DispatchSemaphore(value: 0)
  let result = Mutex<Result<T, any Error>?>(nil)
  Task.detached {
    let outcome: Result<T, any Error>
    do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
    result.withLock { $0 = outcome }
    done.signal()
  }
  done.wait()
  return try result.withLock { $0! }.get()
}

/// The processor time all of this process's threads have spent in the
/// kernel and in the program, in nanoseconds.
func processorTimes() -> (kernel: Double, user: Double) {
  var usage = rusage()
  #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
  #else
    getrusage(RUSAGE_SELF, &usage)
  #endif
  func nanoseconds(_ time: timeval) -> Double {
    Double(time.tv_sec) * 1e9 + Double(time.tv_usec) * 1e3
  }
  return (nanoseconds(usage.ru_stime), nanoseconds(usage.ru_utime))
}

/// Disk space of a directory's files, as `du` counts it.
func diskBytes(_ path: String) -> Int {
  var total = 0
  let enumerator = FileManager.default.enumerator(atPath: path)
  while let name = enumerator?.nextObject() as? String {
    var status = stat()
    if lstat(path + "/" + name, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
      total += Int(status.st_blocks) * 512
    }
  }
  return total
}

/// A process of this program with `arguments` (or of `program`, built next to
/// it).
func child(
  _ arguments: [String], environment: [String: String] = [:], program: String? = nil
) throws -> Process {
  let process = Process()
  // The running executable itself (on Linux, /proc/self/exe): `arguments[0]`
  // is whatever the shell was given, which need not be a path to it.
  let this = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
  process.executableURL =
    program.map { this.deletingLastPathComponent().appendingPathComponent($0) } ?? this
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  return process
}

func runChild(_ arguments: [String], program: String? = nil) throws -> [Double] {
  let process = try child(arguments, program: program)
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  check(
    process.terminationStatus == 0,
    "child \(program ?? "recall-bench") \(arguments.joined(separator: " ")) failed")
  return output.split(separator: " ").compactMap {
    Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
  }
}

// The ops here have no build plugin's table: keep the one-time note quiet.
setenv("RECALL_QUIET", "1", 1)
let arguments = CommandLine.arguments
let json = arguments.contains("--json")
let quick = arguments.contains("--quick")

/// Prints one result.
func report(
  _ scenario: String, _ value: Double?, unit: String = "ns", target: String = "—", note: String = ""
) {
  if json {
    var object: [String: Any] = [
      "scenario": scenario, "unit": unit, "note": note, "target": target,
    ]
    object["value"] = value ?? NSNull()
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  } else {
    let shown = value.map { unit == "ns" ? format($0) : String(format: "%.0f \(unit)", $0) } ?? "—"
    print(
      "\(scenario.padding(toLength: 50, withPad: " ", startingAt: 0)) \(shown.padding(toLength: 10, withPad: " ", startingAt: 0))  \(target.padding(toLength: 11, withPad: " ", startingAt: 0))  \(note)"
    )
  }
  fflush(nil)
}

// Children: the fresh-process half of E, and the two processes of G (C's
// fresh process is `recall-bench-open`; L, M and H run theirs further down).
if arguments.count >= 3, arguments[1] == "--fresh-large" {
  // E: a hit returning 100 MB.
  // Prints the time, then the processor time all threads spent in the
  // kernel and in the program during it (getrusage): faulting in and zeroing
  // the copy's fresh pages is the kernel's, so a regression in Recall's own
  // work cannot hide behind a slow host's page faults, nor the reverse.
  let store = try quietSQLite(arguments[2])
  let before = processorTimes()
  let start = ContinuousClock.now
  let values = large(store, seed: 3)
  check(values.count == 12_500_000 && values[1] == 3.5, "large hit")
  let elapsed = nanoseconds(ContinuousClock.now - start)
  let after = processorTimes()
  check(try store.stats().misses == 0, "the large hit executed")
  print("\(elapsed) \(after.kernel - before.kernel) \(after.user - before.user)")
  exit(0)
}
if arguments.count >= 3, arguments[1] == "--fresh-mapped" {
  // E, memory-mapped: the same hit returning a MappedArray. The check reads
  // elements at both ends and in the middle.
  let store = try quietSQLite(arguments[2])
  let start = ContinuousClock.now
  let values = largeMapped(store, seed: 3)
  check(
    values.isMapped && values.count == 12_500_000 && values[1] == 3.5
      && values[6_250_000] == 3_125_003
      && values[12_499_999] == 6_250_002.5, "mapped hit")
  let elapsed = nanoseconds(ContinuousClock.now - start)
  check(try store.stats().misses == 0, "the mapped hit executed")
  print("\(elapsed)")
  exit(0)
}
if arguments.count >= 5, arguments[1] == "--fresh-sweep" {
  // H: a sweep over N stored points, and NEW points not stored yet
  // (numbered after every call the store holds, so that each run's are
  // new), in a fresh process; prints the time per point. Each point's
  // result is checked inside the timed part. H_PARALLELISM sets the sweep's
  // parallelism (default: the cores).
  let store = try quietSQLite(arguments[2])
  let (count, new) = (max(1, Int(arguments[3])!), max(0, Int(arguments[4])!))
  let first = try 10_000_000 + store.stats().calls
  let points = Array(0..<count) + (0..<new).map { first + $0 }
  let parallelism =
    ProcessInfo.processInfo.environment["H_PARALLELISM"].flatMap { Int($0) }
    ?? ProcessInfo.processInfo.activeProcessorCount
  let start = ContinuousClock.now
  let scores = try blocking {
    try await store.map(points, parallelism: parallelism, progress: .none) { x in
      let value = score(store, x)
      check(value == Double(x) * 0.5 + 1, "H point \(x)")
      return value
    }
  }
  store.flush()
  let elapsed = nanoseconds(ContinuousClock.now - start)
  check(scores.count == points.count, "H")
  let misses = try store.stats().misses
  check(misses == new, "H ran \(misses) bodies, not \(new)")
  print("\(elapsed / Double(points.count))")
  exit(0)
}
if arguments.count >= 3, arguments[1] == "--fresh-list" {
  // M: the stored list of 1,000 rows, a hit.
  let store = try quietSQLite(arguments[2])
  let start = ContinuousClock.now
  let list = rows(store, Elements(0..<1_000))
  check(list.count == 1_000 && list[999][1] == sin(Double(999 * 256 + 1)), "M list")
  let elapsed = nanoseconds(ContinuousClock.now - start)
  check(try store.stats().misses == 0, "M's list hit executed")
  print("\(elapsed)")
  exit(0)
}
if arguments.count >= 4, arguments[1] == "--fresh-extend" {
  // M: extend the stored list of 1,000 rows by ten new ones.
  let store = try quietSQLite(arguments[2])
  let run = Int(arguments[3])!
  let start = ContinuousClock.now
  let extended = rows(store, extendedIDs(run: run))
  check(
    extended.count == 1_010 && extended[1_009][0] == sin(Double((1_009 + run * 10) * 256)), "M rows"
  )
  store.flush()
  let elapsed = nanoseconds(ContinuousClock.now - start)
  let misses = try store.stats().misses
  check(misses == 11, "M ran \(misses) bodies, not 11")
  print("\(elapsed)")
  exit(0)
}
if arguments.count >= 4, arguments[1] == "--fresh-chain" || arguments[1] == "--fresh-chain-decoded"
{
  // L: re-trace a stored chain of N steps to its last result, and read it.
  let store = try quietSQLite(arguments[2])
  let steps = Int(arguments[3])!
  let start = ContinuousClock.now
  let last: Double
  if arguments[1] == "--fresh-chain" {
    var signal = Lazy(chainStart)
    for index in 0..<steps { signal = try step(store, signal, index: index) }
    last = try signal.value[131_071]
  } else {
    var signal = chainStart
    for index in 0..<steps { signal = stepDecoded(store, signal, index: index) }
    last = signal[131_071]
  }
  check(last == Double(steps), "chain's last value \(last)")
  let elapsed = nanoseconds(ContinuousClock.now - start)
  check(try store.stats().misses == 0, "a step of the chain executed")
  print("\(elapsed)")
  exit(0)
}
if arguments.count >= 4, arguments[1] == "--slow" {
  // G: a 2-second call; the marker file counts executions across processes.
  let store = try quietSQLite(arguments[2])
  let marker = arguments[3]
  let result = store.memoize(Op.declared(at: slowSite, .untracked), [Argument("x", 41)]) {
    () -> Int in
    let handle = FileHandle(forWritingAtPath: marker)!
    handle.seekToEndOfFile()
    handle.write(Data("ran\n".utf8))
    try? handle.close()
    Thread.sleep(forTimeInterval: 2)
    return 42
  }
  check(result == 42, "slow")
  exit(0)
}

// The first miss after an edit, alone: `--edited-miss DIR VERSION` makes one
// new call of an op whose version is VERSION (a version the store has not
// seen stands for an edit of the op's code), and prints the call's time on
// the calling thread and until it is stored.
if arguments.count >= 4, arguments[1] == "--edited-miss" {
  let store = try quietSQLite(arguments[2])
  let edited = Op(id: "Bench.edited(_:)", version: CodeFingerprint(hex: arguments[3]))
  let x = Int.random(in: 0..<Int.max)
  let start = ContinuousClock.now
  check(store.memoize(edited, [Argument("x", x)]) { x / 2 } == x / 2, "edited miss")
  let handedOver = ContinuousClock.now
  store.flush()
  let stored = ContinuousClock.now
  check(try store.stats().misses == 1, "the edited call did not execute")
  print(
    "\(format(nanoseconds(handedOver - start))) on the calling thread, "
      + "\(format(nanoseconds(stored - start))) until stored")
  exit(0)
}

// B's background writer alone: `--writer-only DIR [N]` prepares N (default
// 20,000) small calls as a miss would (encoded input and output, ids), then
// hands them all to the SQLite backend at once and waits until they are
// committed: the writer's cost per call with nothing else running.
if arguments.count >= 3, arguments[1] == "--writer-only" {
  let backend = try SQLiteBackend(path: arguments[2])
  let count = arguments.count >= 4 ? Int(arguments[3]) ?? 20_000 : 20_000
  let version = CodeFingerprint(hex: "b1")
  let calls = try (0..<count).map { i in
    let x = 1_000_000 + i
    let input = try ValueCodec.encode(x)
    let output = try ValueCodec.encode(x * x)
    let call = CallRecord(
      id: CallID(Digest.sha256("writer-only \(x)")), op: OpID("square(_:)"), opVersion: version,
      semanticVersion: version, trial: 0,
      inputs: [CallInput(name: "x", cid: input.cid, hid: HistoryID(input.cid.digest))],
      outputCID: output.cid, outputHID: HistoryID(Digest.sha256("writer-only hid \(x)")),
      outputSize: output.bytes.count, startedAt: Date(), duration: 1e-7, host: "bench", pid: 1)
    return (call, [output, input])
  }
  let failures = Mutex(0)
  let start = ContinuousClock.now
  for (call, values) in calls {
    backend.record(call, values: values) { error in
      if error != nil { failures.withLock { $0 += 1 } }
    }
  }
  backend.flush()
  check(failures.withLock { $0 } == 0, "writer-only: calls not stored")
  print(
    "\(format(nanoseconds(ContinuousClock.now - start) / Double(count))) per call stored (writer alone)"
  )
  exit(0)
}

// A or B alone, for a profiler: `--warm-loop DIR [N]` stores 1,000 small
// calls, then runs N (default 5,000,000) warm hits over them; `--miss-loop DIR
// [N]` makes N (default 100,000) new calls and waits until they are stored;
// `--hit-loop DIR N [HITS]` then hits HITS (default 20,000, at most N) of
// those N, each once, scattered over all of them (the memory layer cold, as
// in F).
let loops = [
  "--warm-loop": "warm hit", "--miss-loop": "miss + store", "--hit-loop": "hit, memory layer cold",
]
if arguments.count >= 3, let loop = loops[arguments[1]] {
  let store = try quietSQLite(arguments[2])
  let warm = arguments[1] == "--warm-loop"
  let count = arguments.count >= 4 ? Int(arguments[3]) ?? 0 : warm ? 5_000_000 : 100_000
  if warm { for x in 0..<1_000 { check(square(store, x) == x * x, "store \(x)") } }
  let scattered = arguments[1] == "--hit-loop"
  let calls = scattered ? min(count, arguments.count >= 5 ? Int(arguments[4]) ?? 0 : 20_000) : count
  let start = ContinuousClock.now
  for i in 0..<calls {
    // 7,919 is prime: distinct calls for any N it does not divide.
    let x = warm ? i % 1_000 : 1_000_000 + (scattered ? (i * 7_919) % count : i)
    check(square(store, x) == x * x, "call \(x)")
  }
  let handedOver = ContinuousClock.now
  store.flush()
  print("\(format(nanoseconds(ContinuousClock.now - start) / Double(calls))) per \(loop)")
  if arguments[1] == "--miss-loop" {
    // Where the time goes: the calling thread, or the writer behind it.
    print("  calling thread: \(format(nanoseconds(handedOver - start) / Double(calls))) per call")
  }
  if scattered, let stats = try? store.stats() {
    print("executed: \(stats.misses), from the store: \(stats.hits - stats.memoryHits)")
  }
  exit(0)
}

// Q: queries over a store of many calls (`--queries N`, N = 100000 by
// default): populates a store with N calls of a two-op pipeline, then times
// the listings the `recall` tool makes. Population runs one transaction per
// call, so it takes a while.
if let index = arguments.firstIndex(of: "--queries") {
  let count = index + 1 < arguments.count ? Int(arguments[index + 1]) ?? 100_000 : 100_000
  // A directory given after N is kept (and filled only when empty), to time
  // the queries again or under a profiler.
  let kept = index + 2 < arguments.count ? arguments[index + 2] : nil
  let directory = kept ?? NSTemporaryDirectory() + "recall-bench-queries-\(UUID().uuidString)"
  let store = try quietSQLite(directory)
  let make = Op(id: "Bench.make(i:)", version: CodeFingerprint(hex: "m1"))
  let use = Op(id: "Bench.use(_:)", version: CodeFingerprint(hex: "u1"))
  let clock = ContinuousClock()
  let populateStart = clock.now
  for i in 0..<(try store.stats().calls == 0 ? count / 2 : 0) {
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
    print(
      "Q  \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(format(median(samples)).padding(toLength: 10, withPad: " ", startingAt: 0))  (\(result) rows)"
    )
  }
  try time("ops() over \(count) calls") { try store.ops().count }
  try time("calls(of:) one op, all \(count / 2)") { try store.calls(of: make.id).count }
  try time("calls(of:limit: 50)") { try store.calls(of: make.id, limit: 50).count }
  try time("calls(of:inputs:) one argument value") {
    try store.calls(of: make.id, inputs: ["i": 777]).count
  }
  try time("staleCalls() (none stale)") { try store.staleCalls().count }
  let sample = try store.calls(of: use.id, limit: 1)[0]
  try time("upstream(of:) one call") { try store.upstream(of: sample.id).count }
  try time("ComputationFrame(op:).expandBack(), 100 calls") {
    try ComputationFrame(calls: store.calls(of: use.id, limit: 100), in: store).expandBack().table()
      .cids.count
  }
  // What a new version of one op makes outdated (`recall outdated`): `use`
  // alone (its calls stale), and `make` (its calls stale, and `use`'s
  // downstream of them). Read only: the versions are not recorded.
  try time("outdated(current:) use changed") {
    try store.outdated(
      current: CodeVersions([
        .init(op: make.id, version: make.version),
        .init(op: use.id, version: CodeFingerprint(hex: "u2")),
      ])
    ).count
  }
  try time("outdated(current:) make changed, use downstream") {
    try store.outdated(
      current: CodeVersions([
        .init(op: make.id, version: CodeFingerprint(hex: "m2")),
        .init(op: use.id, version: use.version),
      ])
    ).count
  }
  // The viewer's pages (`recall serve`), made from the store as a request
  // makes them: the overview, and the first page of one op's calls.
  let viewer = Viewer(store: store, location: directory)
  try time("viewer: overview page") { try viewer.overviewHTML().utf8.count }
  try time("viewer: op page, first 100 calls") { try viewer.opPageHTML(use.id.name).utf8.count }
  // `exit` runs no `defer`.
  if kept == nil { try? FileManager.default.removeItem(atPath: directory) }
  exit(0)
}

// L: a fresh process re-traces a chain of memoized calls whose results are
// 1 MiB arrays to reach the last one: with lazy results, and decoding each.
func chainScenario(in root: String, steps chainSteps: Int, keeping: Bool = false) throws {
  let decodedSteps = min(chainSteps, 1_000)
  let chainStore = try quietSQLite(root + "/chain")
  if try chainStore.stats().calls == 0 {
    var signal = Lazy(chainStart)
    for index in 0..<chainSteps { signal = try step(chainStore, signal, index: index) }
    check(try signal.value[0] == Double(chainSteps), "L populate")
    chainStore.flush()
    // The chain is re-traced later, not while the kernel still writes the
    // gigabytes just stored back to disk.
    sync()
  }
  let chainRuns = try (0..<3).map { _ in
    try runChild(["--fresh-chain", root + "/chain", "\(chainSteps)"])[0]
  }
  report(
    "L re-trace \(chainSteps) chained 1 MB results, lazy", median(chainRuns), target: "≤ 100 ms",
    note: "fresh process, total")
  let decodedRuns = try (0..<3).map { _ in
    try runChild(["--fresh-chain-decoded", root + "/chain", "\(decodedSteps)"])[0]
  }
  report(
    "L re-trace \(decodedSteps) chained 1 MB results, decoded", median(decodedRuns),
    note: "fresh process, total; [Double], no Lazy")
  if !keeping { try? FileManager.default.removeItem(atPath: root + "/chain") }
}

// M: a fresh process extends a list of 1,000 rows, stored by element, to
// 1,010 (ten new rows, different in each run); the store's growth is
// measured once.
func elementsScenario(in root: String, keeping: Bool = false) throws {
  let directory = root + "/elements"
  do {
    let store = try quietSQLite(directory)
    let first = rows(store, Elements(0..<1_000))
    check(first.count == 1_000, "M populate")
    store.flush()
  }
  // Bytes on disk once the store is closed (its log checkpointed into the
  // database, as the last connection's close does).
  func closedBytes() throws -> Int {
    do { _ = try quietSQLite(directory).stats() }
    return diskBytes(directory)
  }
  let hits = try (0..<3).map { _ in try runChild(["--fresh-list", directory])[0] }
  report(
    "M hit of a list of 1,000 rows", median(hits),
    note: "fresh process; 1,000 elements read in one transaction")
  let before = try closedBytes()
  let runs = try (0..<3).map { run in
    try runChild(["--fresh-extend", directory, "\(run)"])[0]
  }
  // The three runs each add their ten rows and their list: the mean.
  let grown = (try closedBytes() - before) / runs.count
  report(
    "M extend a list of 1,000 rows to 1,010", median(runs),
    note: "fresh process; 10 rows computed, 1,000 reused; by element")
  report(
    "M bytes the store grows by, per extension", Double(grown), unit: "bytes",
    note: "2 KB rows; the list of 1,010 ids and 10 new rows")
  if !keeping { try? FileManager.default.removeItem(atPath: directory) }
}

// H: a fresh process sweeps (`store.map`) over 100,000 points whose results
// are all stored; and over the same points with 10% new ones.
func sweepScenario(in root: String, points: Int, keeping: Bool = false) throws {
  let directory = root + "/sweep"
  do {
    // Every point stored (a kept store's are hits).
    let store = try quietSQLite(directory)
    for x in 0..<points { check(score(store, x) == Double(x) * 0.5 + 1, "H populate") }
    store.flush()
  }
  let cached = try (0..<5).map { _ in
    try runChild(["--fresh-sweep", directory, "\(points)", "0"])[0]
  }
  report(
    "H fully cached sweep, per point", median(cached), target: "≤ 5 µs",
    note: "fresh process; store.map over \(points) stored points, total ÷ points")
  let extended = try (0..<3).map { _ in
    try runChild(["--fresh-sweep", directory, "\(points)", "\(points / 10)"])[0]
  }
  report(
    "H sweep with 10% new points, per point", median(extended),
    note: "fresh process; \(points) stored and \(points / 10) new points, total ÷ points")
  if !keeping { try? FileManager.default.removeItem(atPath: directory) }
}

// H alone: `--sweep [N [DIR]]` (100,000 points by default; a directory given
// keeps the store).
if let index = arguments.firstIndex(of: "--sweep") {
  let points = max(1, index + 1 < arguments.count ? Int(arguments[index + 1]) ?? 100_000 : 100_000)
  let kept = index + 2 < arguments.count ? arguments[index + 2] : nil
  let root = kept ?? NSTemporaryDirectory() + "recall-bench-sweep-\(UUID().uuidString)"
  try sweepScenario(in: root, points: points, keeping: kept != nil)
  if kept == nil { try? FileManager.default.removeItem(atPath: root) }
  exit(0)
}

// M alone: `--elements [DIR]` (a directory given keeps the store).
if let index = arguments.firstIndex(of: "--elements") {
  let kept = index + 1 < arguments.count ? arguments[index + 1] : nil
  let root = kept ?? NSTemporaryDirectory() + "recall-bench-elements-\(UUID().uuidString)"
  try elementsScenario(in: root, keeping: kept != nil)
  if kept == nil { try? FileManager.default.removeItem(atPath: root) }
  exit(0)
}

// L alone: `--chain [N]` (10,000 steps by default).
if let index = arguments.firstIndex(of: "--chain") {
  let steps = index + 1 < arguments.count ? Int(arguments[index + 1]) ?? 10_000 : 10_000
  // A directory given after N keeps the chain's store (filled only when
  // empty), to time it again or under a profiler.
  let kept = index + 2 < arguments.count ? arguments[index + 2] : nil
  let root = kept ?? NSTemporaryDirectory() + "recall-bench-chain-\(UUID().uuidString)"
  try chainScenario(in: root, steps: steps, keeping: kept != nil)
  if kept == nil { try? FileManager.default.removeItem(atPath: root) }
  exit(0)
}

let calls = quick ? 2_000 : 10_000
let root = NSTemporaryDirectory() + "recall-bench-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: root) }
if !json {
  print("recall-bench (release), stores under \(root)\n")
  print("scenario                                           median      target       note")
}

// B: miss + store, one committed transaction per call.
let directory = root + "/small"
let store = try quietSQLite(directory)
// Each batch ends when every call it computed is committed (`flush`), so the
// time per call includes storing it durably.
let miss = perCall(batches: 20, size: calls / 20, endingWith: store.flush) { x in
  check(square(store, x) == x * x, "miss \(x)")
}
report("B miss + store, small call", miss, target: "≤ 10 µs")

// A: warm hits from the memory layer.
let warm = perCall(batches: 50, size: quick ? 2_000 : 20_000) { i in
  let x = i % 1_000
  check(square(store, x) == x * x, "warm \(x)")
}
report("A warm hit, small call", warm, target: "≤ 0.5 µs")

// A in a trial: warm hits of the same calls (shared by every trial), and of
// a random call (one that drew), in trial 3.
let sharedWarm = withTrial(3) {
  perCall(batches: 50, size: quick ? 2_000 : 20_000) { i in
    let x = i % 1_000
    check(square(store, x) == x * x, "warm \(x) in trial 3")
  }
}
report("A warm hit of a shared call, trial 3", sharedWarm, target: "as A")
withTrial(3) { for x in 0..<1_000 { check(noisy(store, x) >= Double(x), "store noisy \(x)") } }
store.flush()
let trialWarm = withTrial(3) {
  perCall(batches: 50, size: quick ? 2_000 : 20_000) { i in
    let x = i % 1_000
    check(noisy(store, x) >= Double(x), "warm noisy \(x)")
  }
}
report("A warm hit of a random call, trial 3", trialWarm, target: "as A")

// R: one random number, from Recall's generator and from the system's.
var drawn: UInt64 = 0
var source = RandomSource(seed: 1)
let draws = quick ? 200_000 : 2_000_000
let recallDraw = perCall(batches: 20, size: draws / 20) { _ in drawn &+= source.next() }
var system = SystemRandomNumberGenerator()
let systemDraw = perCall(batches: 20, size: draws / 20) { _ in drawn &+= system.next() }
check(drawn != 0, "draws")
report("R RandomSource.next()", recallDraw, target: "≤ system's")
report("R SystemRandomNumberGenerator.next()", systemDraw)

// C: a fresh process opens the store and hits a call it has never seen.
let fresh = try (0..<5).map { _ in try runChild([directory], program: "recall-bench-open") }
report(
  "C store open (fresh process)", median(fresh.map { $0[0] }), target: "≤ 1 ms",
  note: "with the first hit")
report("C first hit after open (fresh process)", median(fresh.map { $0[1] }))

// D: a 100 MB argument, as a fresh equal copy and as the same array.
let largeStore = try quietSQLite(root + "/large")
let data = makeLarge(0)
let expected = data.reduce(0, +)
check(sum(largeStore, data) == expected, "D first call")
var copyTimes: [Double] = []
for _ in 0..<5 {
  var copy = data
  copy.withUnsafeMutableBufferPointer { _ in }  // a buffer of its own, made before the clock starts
  copyTimes.append(timed(runs: 1) { check(sum(largeStore, copy) == expected, "D copy") })
}
report("D hit, 100 MB [Double] argument, fresh copy", median(copyTimes), target: "≤ 85 ms")
let sameTime = timed(runs: 5) { check(sum(largeStore, data) == expected, "D same") }
report("D hit, 100 MB [Double] argument, same array", sameTime, target: "≤ 1 ms")

// E: a fresh process hits a call that returns 100 MB.
check(large(largeStore, seed: 3)[1] == 3.5, "E store")
let largeRuns = try (0..<5).map { _ in try runChild(["--fresh-large", root + "/large"]) }
let largeKernel = median(largeRuns.map { $0[1] })
let largeUser = median(largeRuns.map { $0[2] })
report(
  "E hit returning 100 MB [Double], fresh process", median(largeRuns.map { $0[0] }),
  target: "≤ 25 ms",
  note: "processor time in the kernel \(format(largeKernel)), in the program \(format(largeUser))")
report(
  "E kernel time in that hit", largeKernel,
  note: "all threads (getrusage): faulting in and zeroing the copy's pages")
check(largeMapped(largeStore, seed: 3)[1] == 3.5, "E mapped store")
let mappedHits = try (0..<5).map { _ in try runChild(["--fresh-mapped", root + "/large"])[0] }
report(
  "E hit returning 100 MB [Double], memory-mapped", median(mappedHits), target: "≤ 2 ms",
  note: "MappedArray")

try chainScenario(in: root, steps: quick ? 1_000 : 10_000)
try elementsScenario(in: root)
try sweepScenario(in: root, points: quick ? 10_000 : 100_000)

// F: hit latency (memory layer cold) and disk per entry by store size.
var sizes = quick ? [1_000, 10_000] : [1_000, 100_000]
if arguments.contains("--full") { sizes.append(1_000_000) }
for size in sizes {
  let path = root + "/f\(size)"
  do {
    let filling = try quietSQLite(path)
    for x in 0..<size { check(square(filling, x) == x * x, "F fill") }
  }
  let reading = try quietSQLite(path)
  // 1,000 hits, each of another call (7,919 is prime), so none is answered
  // by the memory layer: 2,000 over the 1k store answered half from it.
  let hit = perCall(batches: 10, size: 100) { i in
    let x = (i * 7_919) % size
    check(square(reading, x) == x * x, "F hit")
  }
  report(
    "F hit with \(size) entries stored", hit, target: size == 1_000 ? "—" : "≤ 1.2× 1k",
    note: "memory layer cold")
  report(
    "F disk bytes per entry, \(size) entries", Double(diskBytes(path)) / Double(size),
    unit: "bytes", target: "≤ 200")
  // P: a disk budget that takes a tenth of the results away, in one eviction
  // (listing, ranking and evicting them), on the largest store.
  guard size == sizes.last, size >= 10_000 else { continue }
  let ranked = try reading.backend.evictionCandidates().sorted { $0.isEvicted(before: $1) }
  let tenth = ranked.prefix(size / 10).map(\.bytes).reduce(0, +)
  let budget = try reading.summary().bytes - tenth
  let evictStart = ContinuousClock.now
  let eviction = try reading.evict(toFit: budget)
  let evictTime = nanoseconds(ContinuousClock.now - evictStart)
  check(eviction.values == size / 10 && eviction.isWithinBudget, "P evicted \(eviction.values)")
  report(
    "P evict 10% of \(size) stored calls", evictTime, target: "seconds",
    note: "\(eviction.values) results, \(eviction.bytes) bytes")
}
if !arguments.contains("--full") {
  report(
    "F hit with 1000000 entries stored", nil, target: "≤ 1.2× 1k",
    note: "run with --full (fills 1M calls)")
}

// G: two processes make the same new 2-second call at once.
let marker = root + "/marker"
_ = FileManager.default.createFile(atPath: marker, contents: nil)
let gStart = ContinuousClock.now
let processes = try (0..<2).map { _ in try child(["--slow", root + "/g", marker]) }
for process in processes { try process.run() }
for process in processes {
  process.waitUntilExit()
  check(process.terminationStatus == 0, "G child failed")
}
let executions =
  (try String(contentsOfFile: marker, encoding: .utf8)).components(separatedBy: "ran").count - 1
report(
  "G executions, two processes, same 2 s call", Double(executions), unit: "runs", target: "1",
  note: String(format: "%.1f s wall", nanoseconds(ContinuousClock.now - gStart) / 1e9))
