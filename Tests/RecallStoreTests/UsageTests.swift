import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

@Suite struct UsageTests {
  static let other = Op(
    id: "Tests.other(x:)", version: CodeFingerprint(hex: "0c"), parameters: ["x"])

  @Test(arguments: Backend.allCases) func hitsAndMissesAreAddedUpPerOpAcrossProcesses(
    _ kind: Backend
  ) throws {
    let backend = try Reopenable(kind)
    let op = scaledOp("a1", helper: "1")
    let before = OpUsage.hour(of: Date())
    do {
      // A process: two misses, then a memory hit; its counts are saved when
      // the store is released.
      let store = backend.open()
      _ = scaled(store, op, 1, factor: 2)
      _ = scaled(store, op, 2, factor: 2)
      _ = scaled(store, op, 1, factor: 2)
      _ = store.memoize(Self.other, [Argument("x", 1)]) { 7 }
    }
    let second = backend.open()
    #expect(scaled(second, op, 1, factor: 2) == 2)  // a hit from the store
    #expect(scaled(second, op, 1, factor: 2) == 2)  // then from memory
    _ = scaled(second, op, 3, factor: 2)
    let usage = try second.usage()
    let after = OpUsage.hour(of: Date())
    #expect(Set(usage.map(\.op)) == ["Tests.scaled(x:)", "Tests.other(x:)"])
    #expect(usage.allSatisfy { $0.period == before || $0.period == after })
    var scaledTotal = OpUsage(op: "Tests.scaled(x:)", period: .distantPast)
    for count in usage where count.op == "Tests.scaled(x:)" { scaledTotal.add(count) }
    #expect(scaledTotal.misses == 3)
    #expect(scaledTotal.memoryHits == 2)
    #expect(scaledTotal.storeHits == 1)
    #expect(scaledTotal.hits == 3)
    #expect(scaledTotal.timeSaved >= .zero)
    #expect(try second.usage(of: "Tests.other(x:)").map(\.misses).reduce(0, +) == 1)
    // Saving again adds nothing twice.
    try second.saveUsage()
    #expect(try second.usage() == usage)
    // Periods are filtered by the hour they end in.
    #expect(try second.usage(since: Date().addingTimeInterval(3700)).isEmpty)
    #expect(try second.usage(since: before).count == usage.count)
  }

  @Test(arguments: Backend.allCases) func countsOfTheSameHourAreAddedTogether(_ kind: Backend)
    throws
  {
    let reopenable = try Reopenable(kind)
    let backend = reopenable.backend
    let hour = OpUsage.hour(of: Date(timeIntervalSince1970: 1_800_000_123))
    #expect(hour == Date(timeIntervalSince1970: 1_800_000_000))
    let count = OpUsage(
      op: "Tests.op", period: hour, memoryHits: 1, storeHits: 2, misses: 3,
      timeSaved: .seconds(1.5),
      computeTime: .seconds(0.25), notStored: 2, notStoredBytes: 100)
    try backend.addUsage([count])
    try backend.addUsage([
      count, OpUsage(op: "Tests.op", period: hour.addingTimeInterval(3600), misses: 1),
    ])
    let stored = try backend.usage(of: nil, since: nil)
    #expect(stored.count == 2)
    #expect(stored.first?.memoryHits == 2)
    #expect(stored.first?.storeHits == 4)
    #expect(stored.first?.misses == 6)
    #expect(stored.first?.timeSaved == .seconds(3))
    #expect(stored.first?.computeTime == .seconds(0.5))
    #expect(stored.first?.notStored == 4)
    #expect(stored.first?.notStoredBytes == 200)
    #expect(
      try backend.usage(of: "Tests.op", since: hour.addingTimeInterval(3600)).map(\.period) == [
        hour.addingTimeInterval(3600)
      ])
    #expect(try backend.usage(of: "Tests.none", since: nil).isEmpty)
  }

  @Test func countsThatCouldNotBeSavedWaitForTheNextSave() throws {
    let directory = TemporaryDirectory()
    let writable = try SQLiteBackend(path: directory.path)
    let store = Store(backend: writable)
    _ = store.memoize(Self.other, [Argument("x", 1)]) { 7 }
    store.flush()  // stored before the read-only store looks for it
    try store.saveUsage()
    var configuration = SQLiteBackend.Configuration()
    configuration.readOnly = true
    let readOnly = Store(
      backend: try SQLiteBackend(path: directory.path, configuration: configuration))
    _ = readOnly.memoize(Self.other, [Argument("x", 1)]) { 7 }
    #expect(throws: RecallError.self) { try readOnly.saveUsage() }
    #expect(throws: RecallError.self) { try readOnly.saveUsage() }
    #expect(try readOnly.stats().hits == 1)
    #expect(try writable.usage(of: nil, since: nil).map(\.hits).reduce(0, +) == 0)
  }
}
