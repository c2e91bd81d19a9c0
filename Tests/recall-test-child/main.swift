// A child process for Recall's cross-process tests. Each command opens the
// store given on the command line and reports what happened on stdout.
//
//   recall-test-child run STORE         memoized calls; prints "executed N reused M"
//   recall-test-child default           the same calls on the process default store
//   recall-test-child unmemoized-default  calls that must still run when the default store
//                                       cannot be opened; prints their results
//   recall-test-child cid               prints the cid of hash-order-sensitive values
//   recall-test-child hammer STORE      stores large values forever, printing "stored I"
//   recall-test-child verify STORE N    checks payload(0..<N); prints "executed N reused M"
//   recall-test-child reread STORE N    checks payload(0..<N) over and over, each round in a
//                                       new store (no memory layer); prints "round R executed N
//                                       reused M" per round, "wrong [I, …]" and exits on a
//                                       wrong value
//   recall-test-child evict STORE BYTES evicts results until the values fit BYTES; prints
//                                       "evicted N" (BYTES may be a fraction of the store's
//                                       bytes, such as 0.5)
//   recall-test-child marked STORE      prints how many payload calls are marked evicted
//   recall-test-child gc STORE          collects garbage (no grace); prints "deleted N files"
//   (STORE may be a PostgreSQL URL for stress and sweep)
//   recall-test-child stress STORE N SEED  200 tasks ask for stressed(0..<N) in an order given
//                                       by SEED; prints "began I" and "ran I" per body, then
//                                       "executed I,J,… reused M waited W". Environment:
//                                       RECALL_TEST_LEASE (seconds), RECALL_TEST_BODY_MS.
//   recall-test-child printing-sweep STORE  a sweep with a progress bar whose bodies print
//                                       "line I" (run it on a terminal)
//   recall-test-child sweep STORE N     store.map over stressed(0..<N), two at a time; prints
//                                       "executed I,J,… reused M waited W", or "cancelled kept K"
//                                       and exits with 130 when interrupted

import Foundation
import Recall
import RecallPostgres
import Synchronization

@Memoized
func square(_ x: Int) -> Int { x * x }

@Memoized
func summary(of values: [Double], label: String) -> String {
  "\(label): \(values.reduce(0, +))"
}

/// A private type as a generic argument: its name in the key must be the same
/// in every process (`_typeName` would print an address for it).
private struct Secret: Codable, Sendable { var code = 7 }

@Memoized
func tagged<T: Codable & Sendable>(_ value: T) -> Int { 1 }

/// A deterministic large value (80 KB to 2.4 MB: stored as blob files).
@Memoized
func payload(index: Int) -> [Double] {
  expectedPayload(index)
}

func expectedPayload(_ index: Int) -> [Double] {
  let count = 10_000 + (index * 7_919) % 290_000
  return (0..<count).map { Double(index) * 0.5 + Double($0) }
}

/// A call that takes a while, for the claim tests.
@Memoized
func stressed(_ index: Int) async -> Int {
  let milliseconds = Int(ProcessInfo.processInfo.environment["RECALL_TEST_BODY_MS"] ?? "") ?? 5
  print("began \(index)")
  fflush(nil)
  try? await Task.sleep(for: .milliseconds(milliseconds))
  ranStressed(index)
  return expectedStressed(index)
}

func expectedStressed(_ index: Int) -> Int { index * 31 + 7 }

let ran = Mutex<[Int]>([])

func ranStressed(_ index: Int) {
  ran.withLock { $0.append(index) }
  print("ran \(index)")
  fflush(nil)
}

/// Counts a store's reused and waited-for calls, for `stress` and `sweep`.
final class StressCounts: Sendable {
  final class Tally: Sendable {
    let counts = Mutex((reused: 0, waited: 0))
  }

  let tally = Tally()
  let token: ObservationToken

  init(_ store: Store) {
    let tally = tally
    token = store.observe { event in
      switch event {
      case .didReuse: tally.counts.withLock { $0.reused += 1 }
      case .willWait: tally.counts.withLock { $0.waited += 1 }
      default: break
      }
    }
  }

  /// "executed I,J,… reused M waited W"
  func report() -> String {
    let executed = ran.withLock { $0 }.sorted().map(String.init).joined(separator: ",")
    let (reused, waited) = tally.counts.withLock { ($0.reused, $0.waited) }
    return "executed \(executed) reused \(reused) waited \(waited)"
  }
}

struct Counts: Sendable {
  var executed = 0
  var reused = 0
}

/// Opens the store: a directory, or a PostgreSQL URL (for `stress` and `sweep`).
func open(_ location: String) -> Store {
  var options = Store.Configuration()
  if let lease = Double(ProcessInfo.processInfo.environment["RECALL_TEST_LEASE"] ?? "") {
    options.claims.lease = .milliseconds(Int(lease * 1000))
  }
  do {
    if location.hasPrefix("postgres") {
      return try Store.postgres(url: location, configuration: options)
    }
    return try Store.sqlite(at: location, configuration: options)
  } catch {
    FileHandle.standardError.write(Data("recall-test-child: \(error)\n".utf8))
    exit(2)
  }
}

func counting(_ store: Store, activating: Bool = true, _ body: () -> Void) -> Counts {
  let counts = Mutex(Counts())
  let token = store.observe { event in
    switch event {
    case .willExecute: counts.withLock { $0.executed += 1 }
    case .didReuse: counts.withLock { $0.reused += 1 }
    default: break
    }
  }
  if activating { store.activate(body) } else { body() }
  token.cancel()
  return counts.withLock { $0 }
}

/// Checks payload(0..<count) in `store`, exits on a wrong value, and
/// returns once every result computed is stored.
func verifyPayloads(_ store: Store, _ count: Int) -> Counts {
  var wrong: [Int] = []
  let counts = counting(store) {
    for index in 0..<count where payload(index: index) != expectedPayload(index) {
      wrong.append(index)
    }
  }
  if !wrong.isEmpty {
    print("wrong \(wrong)")
    exit(1)
  }
  store.flush()
  return counts
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "run", "exit-open":
  // `exit-open` exits while the store is open, as a program whose store is
  // a global does: the process's exit stores, saves and empties the WAL.
  let store = open(arguments.dropFirst().first!)
  let counts = counting(store) {
    for x in 1...3 { _ = square(x) }
    _ = summary(of: [1, 2, 3], label: "sum")
    _ = tagged(Secret())
  }
  print("executed \(counts.executed) reused \(counts.reused)")
  if arguments.first == "exit-open" { withExtendedLifetime(store) { exit(0) } }

case "default":
  // No store is activated: calls use `Store.default` ($RECALL_STORE or ./.recall).
  let counts = counting(try! Store.default, activating: false) {
    for x in 1...3 { _ = square(x) }
    _ = summary(of: [1, 2, 3], label: "sum")
  }
  print("executed \(counts.executed) reused \(counts.reused) at \(Store.defaultPath)")

case "unmemoized-default":
  // Twice the same calls: with no store they run, and report nothing but one message.
  let results = (0..<2).flatMap { _ in (1...3).map { square($0) } }
  print("results", results.map(String.init).joined(separator: " "))

case "cid":
  // Dictionaries and sets iterate in an order seeded per process.
  var dictionary: [String: Int] = [:]
  for i in 0..<200 { dictionary["key\(i)"] = i }
  let set = Set((0..<200).map { "element\($0)" })
  let structKeyed = Dictionary(uniqueKeysWithValues: (0..<50).map { (Set([$0, $0 + 1]), $0) })
  print(try ValueCodec.contentID(of: dictionary).hex)
  print(try ValueCodec.contentID(of: set).hex)
  print(try ValueCodec.contentID(of: structKeyed).hex)

case "hammer":
  let store = open(arguments.dropFirst().first!)
  // "Stored" once the store says so (didStore, after the commit): calls are
  // committed in order, so the n-th report is payload n - 1.
  let committed = Mutex(0)
  let token = store.observe { event in
    guard case .didStore = event else { return }
    let index = committed.withLock { count in
      defer { count += 1 }
      return count
    }
    print("stored \(index)")
    fflush(nil)
  }
  store.activate {
    var index = 0
    while true {
      _ = payload(index: index)
      index += 1
    }
  }
  token.cancel()

case "prune":
  // Prunes every stale call (until killed, in the test).
  let store = open(arguments.dropFirst().first!)
  do {
    let report = try store.prune(unusedFor: .zero)
    print("pruned \(report.calls) calls, \(report.garbage.values) values")
  } catch {
    print("failed \(error)")
    exit(1)
  }

case "evict":
  // Evicts down to the budget (until killed, in the test).
  let rest = Array(arguments.dropFirst())
  let store = open(rest[0])
  do {
    let budget =
      try Int(rest[1]) ?? Int(Double(store.summary().bytes) * Double(rest[1])!)
    let report = try store.evict(toFit: budget)
    print("evicted \(report.values)")
  } catch {
    print("failed \(error)")
    exit(1)
  }

case "marked":
  let store = open(arguments.dropFirst().first!)
  do {
    let op = try store.ops().first { $0.op.name.contains("payload(") }?.op
    print(try op.map { try store.calls(of: $0).count { $0.evictedAt != nil } } ?? 0)
  } catch {
    print("failed \(error)")
    exit(1)
  }

case "gc":
  let store = open(arguments.dropFirst().first!)
  do {
    let report = try store.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: 10))
    print("deleted \(report.orphanFiles) files")
  } catch {
    print("failed \(error)")
    exit(1)
  }

case "reread":
  let rest = Array(arguments.dropFirst())
  var round = 0
  while true {
    let counts = verifyPayloads(open(rest[0]), Int(rest[1])!)
    print("round \(round) executed \(counts.executed) reused \(counts.reused)")
    fflush(nil)
    round += 1
  }

case "verify":
  let rest = Array(arguments.dropFirst())
  let counts = verifyPayloads(open(rest[0]), Int(rest[1])!)
  print("executed \(counts.executed) reused \(counts.reused)")

case "sweep":
  let rest = Array(arguments.dropFirst())
  let store = open(rest[0])
  let count = Int(rest[1])!
  let counts = StressCounts(store)
  do {
    let results = try await store.map(0..<count, parallelism: 2) { await stressed($0) }
    guard results == (0..<count).map(expectedStressed) else {
      print("wrong results")
      exit(1)
    }
  } catch let error as SweepError {
    print("cancelled kept \(error.results.count { $0 != nil })")
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(130)
  }
  print(counts.report())

case "printing-sweep":
  let store = open(Array(arguments.dropFirst())[0])
  print("starting")
  _ = try await store.map(0..<12, parallelism: 2, progress: .bar) { index in
    try await Task.sleep(for: .milliseconds(120))
    print("line \(index)")
    return index
  }
  print("done")

case "stress":
  let rest = Array(arguments.dropFirst())
  let store = open(rest[0])
  let count = Int(rest[1])!
  // A permutation of 0..<count (7,919 is prime) that differs by seed.
  let seed = Int(rest[2])!
  let order = (0..<count).map { ($0 * 7_919 + seed * 104_729) % count }
  let counts = StressCounts(store)
  let wrong = await store.activate { () async -> [Int] in
    await withTaskGroup(of: [Int].self) { group in
      let tasks = 200
      for task in 0..<tasks {
        group.addTask {
          var wrong: [Int] = []
          for index in stride(from: task, to: order.count, by: tasks)
          where await stressed(order[index]) != expectedStressed(order[index]) {
            wrong.append(order[index])
          }
          return wrong
        }
      }
      var wrong: [Int] = []
      for await found in group { wrong += found }
      return wrong
    }
  }
  if !wrong.isEmpty {
    print("wrong \(wrong.sorted())")
    exit(1)
  }
  print(counts.report())

default:
  FileHandle.standardError.write(Data("usage: recall-test-child run|cid|hammer|verify ...\n".utf8))
  exit(64)
}
