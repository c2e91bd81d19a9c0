import Foundation
import GRDB
import RecallCore
import RecallTestSupport
import Testing

@testable import RecallSQLite

/// The counts SQLite keeps as calls and values change (migration v15), which
/// `summary()`, `ops()` and versions read instead of scanning: after every
/// kind of change, they equal what a scan of the tables counts.
@Suite struct CountsTests {
  let directory = TemporaryDirectory()

  /// What the tables hold, counted the slow way.
  func scanned() throws -> (calls: Int, values: Int, bytes: Int, perOp: [String: [Double]]) {
    let database = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    return try database.read { db in
      let calls = try Int.fetchOne(db, sql: "SELECT count(*) FROM call") ?? 0
      let values = try Row.fetchOne(
        db, sql: "SELECT count(size), coalesce(sum(size), 0) FROM value WHERE size IS NOT NULL")
      var perOp: [String: [Double]] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT op_name.name, count(*), coalesce(sum(output_size), 0), max(started_at), total(duration)
          FROM call JOIN op_name ON op_name.id = call.op GROUP BY call.op
          """)
      {
        perOp[row[0]] = [row[1], row[2], row[3], row[4]]
      }
      return (calls, values?[0] ?? 0, values?[1] ?? 0, perOp)
    }
  }

  func expectCounts(_ store: Store, _ when: String) throws {
    store.flush()
    let truth = try scanned()
    let summary = try store.summary()
    #expect(summary.calls == truth.calls, "\(when): calls")
    #expect(summary.values == truth.values, "\(when): values")
    #expect(summary.bytes == truth.bytes, "\(when): bytes")
    let ops = try store.ops().filter { $0.calls > 0 }
    #expect(Set(ops.map(\.op.name)) == Set(truth.perOp.keys), "\(when): ops")
    for op in ops {
      let expected = try #require(truth.perOp[op.op.name])
      #expect(Double(op.calls) == expected[0], "\(when): \(op.op) calls")
      #expect(Double(op.outputBytes) == expected[1], "\(when): \(op.op) bytes")
      #expect(op.lastCall?.timeIntervalSince1970 == expected[2], "\(when): \(op.op) last call")
      #expect(abs(op.computeTime.inSeconds - expected[3]) < 1e-6, "\(when): \(op.op) time")
      let versions = try store.versions(of: op.op)
      #expect(versions.reduce(0) { $0 + $1.calls } == op.calls, "\(when): \(op.op) versions")
    }
  }

  func op(_ version: String) -> Op {
    Op(id: "Lab.square(x:)", version: CodeFingerprint(hex: version), parameters: ["x"])
  }

  @Test func keptCountsEqualWhatTheTablesHoldAfterEveryChange() throws {
    let store = try openStore(directory.path, inlineThreshold: 64)
    // Values inline and in blob files (over 64 bytes).
    for x in 0..<20 {
      _ = store.memoize(op("a1"), [Argument("x", x)]) { [Double](repeating: Double(x), count: x) }
    }
    try expectCounts(store, "recorded")

    let calls = try store.calls(of: "Lab.square(x:)")
    _ = try store.forget(Array(calls.prefix(5).map(\.id)))
    try expectCounts(store, "forgotten")

    // A second version, then accepted as the first: its calls are re-filed.
    for x in 0..<3 {
      _ = store.memoize(op("b2"), [Argument("x", x)]) { [Double](repeating: 1, count: x + 30) }
    }
    try expectCounts(store, "a second version")
    try store.accept(
      "Lab.square(x:)", version: CodeFingerprint(hex: "b2"), as: CodeFingerprint(hex: "a1"))
    try expectCounts(store, "accepted")

    _ = try store.evict(toFit: 200)
    try expectCounts(store, "evicted")

    _ = try store.forgetStaleCalls(unusedFor: .zero)
    _ = try store.collectGarbage(keepingFilesNewerThan: Date())
    try expectCounts(store, "collected")

    // Computed again after eviction: the value's bytes are stored again.
    for x in 0..<20 {
      _ = store.memoize(op("a1"), [Argument("x", x)]) { [Double](repeating: Double(x), count: x) }
    }
    try expectCounts(store, "recomputed")
  }

  @Test func garbageCollectionCountsAgainWhatAnOlderWriterLeftUncounted() throws {
    let store = try openStore(directory.path, inlineThreshold: 64)
    for x in 0..<10 {
      _ = store.memoize(op("a1"), [Argument("x", x)]) { [Double](repeating: 1, count: x) }
    }
    store.flush()
    // As if a process of an older Recall had added rows without counting.
    let database = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try database.write { db in
      try db.execute(sql: "UPDATE filing SET calls = calls - 3, output_bytes = 7")
      try db.execute(
        sql: "UPDATE store_count SET value = 1 WHERE name IN ('values', 'value_bytes')")
    }
    #expect(try store.summary().calls == 7)
    _ = try store.collectGarbage(keepingFilesNewerThan: Date())
    try expectCounts(store, "counted again")
    #expect(try store.summary().calls == 10)
  }

  @Test func staleCountsFollowTheFilingNotTheVersion() throws {
    let store = try openStore(directory.path, inlineThreshold: 64)
    for x in 0..<4 { _ = store.memoize(op("a1"), [Argument("x", x)]) { x } }
    _ = store.memoize(op("b2"), [Argument("x", 9)]) { 9 }
    store.flush()
    #expect(try store.staleCallCount(of: "Lab.square(x:)") == 4)
    #expect(try store.staleCallCount(of: "Lab.square(x:)") == store.staleCalls().count)
  }
}
