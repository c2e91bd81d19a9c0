import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// A call of `op` with one argument, to seed with a result that took a
/// chosen time (``MemoizedCall/store(_:computedIn:in:)``).
private func call(_ op: Op, _ name: String, _ value: some Encodable & Sendable) -> MemoizedCall<
  [Double]
> {
  MemoizedCall(op: op, arguments: [Argument(name, value)])
}

/// The `x` of `op`'s calls whose results are evicted.
private func evicted(_ store: Store, _ op: OpID) throws -> Set<Int> {
  Set(
    try store.calls(of: op).filter { $0.evictedAt != nil }.map { record in
      try store.value(record.inputs[0].cid, as: Int.self) ?? -1
    })
}

private func evictions(_ log: EventLog) -> [EvictionReport] {
  log.all.compactMap { if case .didEvict(let report) = $0 { report } else { nil } }
}

/// A disk budget (``Store/evict(toFit:)``, ``Store/Configuration/diskBudget``):
/// what is evicted, in which order, what never is, and what an evicted call
/// becomes, on every backend.
@Suite struct DiskBudgetTests {
  @Test(arguments: Backend.allCases) func theCheapestResultsPerByteGoFirstAndKeepTheirRecords(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let fit = testOp("Lab.fit(x:)")
    // x: (elements, seconds). 1 and 4 are large and quick (4 computed later),
    // 2 large and slow, 3 small and quick but dearer per byte than 1 and 4.
    for (x, count, seconds) in [
      (1, 1_000, 1.0), (2, 1_000, 1_000.0), (3, 10, 1.0), (4, 1_000, 1.0),
    ] {
      try call(fit, "x", x).store(
        [Double](repeating: Double(x), count: count), computedIn: .seconds(seconds), in: store)
      Thread.sleep(forTimeInterval: 0.01)
    }
    let sizes = Dictionary(
      uniqueKeysWithValues: try store.calls(of: "Lab.fit(x:)").map { record in
        (try store.value(record.inputs[0].cid, as: Int.self)!, record.outputSize)
      })
    #expect(try store.evict(toFit: try store.summary().bytes).values == 0, "within the budget")
    var expected: Set<Int> = []
    for next in [1, 4, 3] {
      let report = try store.evict(toFit: try store.summary().bytes - 1)
      #expect(report.values == 1 && report.isWithinBudget)
      #expect(report.bytes == sizes[next])
      expected.insert(next)
      #expect(try evicted(store, "Lab.fit(x:)") == expected)
    }
    // With nothing left to evict but the inputs, the report says it is over.
    let last = try store.evict(toFit: 0)
    #expect(last.values == 1 && !last.isWithinBudget)
    #expect(try evicted(store, "Lab.fit(x:)") == [1, 2, 3, 4])
    #expect(evictions(log).map(\.values) == [1, 1, 1, 1])
    #expect(try store.calls(of: "Lab.fit(x:)").count == 4, "evicted calls keep their records")
    #expect(
      try store.evictions()
        == [OpEvictions(op: "Lab.fit(x:)", calls: 4, bytes: sizes.values.reduce(0, +))])

    // Another process finds them not stored, computes the one it calls and
    // stores it again: no longer evicted.
    let other = place.open()
    let otherLog = EventLog(other)
    #expect(try call(fit, "x", 1).isStored(in: other) == false)
    let computed: [Double] = other.memoize(fit, [Argument("x", 1)]) { [7] }
    #expect(computed == [7])
    #expect(otherLog.executed == ["fit(x:)"])
    other.flush()
    #expect(try evicted(other, "Lab.fit(x:)") == [2, 3, 4])
    #expect(try call(fit, "x", 1).storedResult(in: place.open()) == [7])
    #expect(try other.evictions().first?.calls == 3)
  }

  @Test(arguments: Backend.allCases) func inputsAndTaggedResultsAreNeverEvicted(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let (load, train, report) = (
      testOp("Lab.load()"), testOp("Lab.train(data:)"), testOp("Lab.report(x:)")
    )
    let data = [Double](repeating: 2, count: 1_000)
    try MemoizedCall<[Double]>(op: load, arguments: []).store(
      data, computedIn: .milliseconds(1), in: store)
    try call(train, "data", data).store(
      [Double](repeating: 3, count: 1_000), computedIn: .milliseconds(1), in: store)
    for x in 0..<2 {
      try call(report, "x", x).store(
        [Double](repeating: 4 + Double(x), count: 1_000), computedIn: .milliseconds(1), in: store)
    }
    let tagged = try #require(
      try store.calls(of: "Lab.report(x:)").first {
        try store.value($0.inputs[0].cid, as: Int.self) == 0
      })
    try store.tag("baseline", call: tagged.id)
    let loaded = try #require(try store.calls(of: "Lab.load()").first)
    try store.tag("raw", value: loaded.outputCID)
    try store.removeTag("raw")

    let result = try store.evict(toFit: 0)
    #expect(result.values == 2 && !result.isWithinBudget)
    // Evicted: the trained result and the untagged report. Kept: the loaded
    // data (an input of train) and the tagged report.
    let fresh = place.open()
    #expect(try MemoizedCall<[Double]>(op: load, arguments: []).storedResult(in: fresh) == data)
    #expect(try call(report, "x", 0).isStored(in: fresh))
    #expect(try call(report, "x", 1).isStored(in: fresh) == false)
    #expect(try call(train, "data", data).isStored(in: fresh) == false)
    #expect(try fresh.calls(of: "Lab.load()").first?.evictedAt == nil)
  }

  @Test(arguments: Backend.allCases) func aStoreWithABudgetKeepsItselfWithinIt(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open { $0.diskBudget = 40_000 }
    let log = EventLog(store)
    let simulate = testOp("Lab.simulate(x:)")
    // Thirty results of about 8 KB: six times the budget.
    for x in 0..<30 {
      _ = store.memoize(simulate, [Argument("x", x)]) {
        [Double](repeating: Double(x), count: 1_000)
      }
    }
    store.flush()
    store.diskBudget.waitForChecks()
    #expect(try store.summary().bytes <= 40_000)
    #expect(!evictions(log).isEmpty)
    #expect(evictions(log).allSatisfy { $0.budget == 40_000 })
    let gone = try evicted(store, "Lab.simulate(x:)")
    #expect(gone.count >= 25 && gone.count < 30, "\(gone.count) evicted")
    #expect(try store.calls(of: "Lab.simulate(x:)").count == 30)
    // A process without a budget computes again exactly what was evicted.
    let other = place.open()
    let otherLog = EventLog(other)
    for x in 0..<30 {
      let result: [Double] = other.memoize(simulate, [Argument("x", x)]) {
        [Double](repeating: Double(x), count: 1_000)
      }
      #expect(result.first == Double(x))
    }
    #expect(otherLog.executed.count == gone.count)
    #expect(otherLog.reused.count == 30 - gone.count)
  }
}
