import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// Lazy results (``Lazy``), on every backend: a hit returns a handle that is
/// read only when its value is, and passing it on neither reads nor hashes it.
@Suite struct LazyTests {
  /// One step of a pipeline: the previous step's signal, each sample plus one.
  func step(_ store: Store, _ signal: Lazy<[Double]>, _ index: Int) throws -> Lazy<[Double]> {
    try store.memoize(
      testOp("Tests.step(_:index:)"), [Argument("signal", signal), Argument("index", index)]
    ) { () throws(RecallError) -> Lazy<[Double]> in
      Lazy(try signal.value.map { $0 + 1 })
    }
  }

  func pipeline(_ store: Store, steps: Int) throws -> [Lazy<[Double]>] {
    var signal = Lazy((0..<20_000).map(Double.init))  // 160 KB: a blob file on SQLite
    var results: [Lazy<[Double]>] = []
    for index in 0..<steps {
      signal = try step(store, signal, index)
      results.append(signal)
    }
    return results
  }

  @Test(arguments: Backend.allCases) func aReTracedPipelineReadsOnlyTheValueItUses(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    do {
      let store = place.open()
      let log = EventLog(store)
      let computed = try pipeline(store, steps: 30)
      #expect(log.executed.count == 30)
      #expect(try computed.last!.value[0] == 30)
      store.flush()
    }
    // A fresh process: every step is a hit, and none is read.
    let store = place.open()
    let log = EventLog(store)
    let traced = try pipeline(store, steps: 30)
    #expect(log.executed.isEmpty)
    #expect(traced.allSatisfy { !$0.isLoaded }, "no hit was decoded")
    // Its content id came with it, equal to the array's.
    let expected = (0..<20_000).map { Double($0) + 30 }
    #expect(try traced.last!.contentID == ValueCodec.contentID(of: expected))
    #expect(traced.dropLast().allSatisfy { !$0.isLoaded })
    #expect(try traced.last!.value == expected)
    #expect(traced.last!.isLoaded)
    // Provenance is exact: each step's input is the previous step's output.
    let input = { (call: CallRecord, name: String) in call.inputs.first { $0.name == name }! }
    let index = { (call: CallRecord) in
      try store.value(input(call, "index").cid, as: Int.self) ?? -1
    }
    let calls = try store.calls(of: "Tests.step(_:index:)").sorted { try index($0) < index($1) }
    #expect(calls.count == 30)
    for (previous, next) in zip(calls, calls.dropFirst()) {
      #expect(input(next, "signal").hid == previous.outputHID)
      #expect(input(next, "signal").cid == previous.outputCID)
    }
    // The memory layer serves the handle it kept: the same one, still not
    // read (the last one was).
    let memoryHits = { (log: EventLog) in
      log.all.filter { if case .didReuse(_, .memory, _) = $0 { true } else { false } }.count
    }
    let again = try step(store, traced[3], 4)
    #expect(log.executed.isEmpty)
    #expect(memoryHits(log) == 1)
    #expect(again.box === traced[4].box && !again.isLoaded)
  }

  @Test(arguments: Backend.allCases) func aLazyIsStoredAndKeyedExactlyAsItsValue(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let op = testOp("Tests.table(n:)")
    let plain: [Int] = store.memoize(op, [Argument("n", 3)]) { [1, 2, 3] }
    store.flush()
    let later = place.open()
    let laterLog = EventLog(later)
    // Read lazily, the array's result is found; read as an array, the
    // lazy one is.
    let lazy: Lazy<[Int]> = later.memoize(op, [Argument("n", 3)]) { Lazy([9]) }
    #expect(laterLog.executed.isEmpty)
    #expect(try lazy.value == plain)
    let lazyOp = testOp("Tests.lazyTable(n:)")
    _ = later.memoize(lazyOp, [Argument("n", 4)]) { Lazy([4, 5]) }
    #expect(laterLog.executed == ["lazyTable(n:)"])
    later.flush()
    let third = place.open()
    let thirdLog = EventLog(third)
    #expect(third.memoize(lazyOp, [Argument("n", 4)]) { [Int]() } == [4, 5])
    // As an argument, a Lazy hashes as its value: the same call.
    let sumOp = testOp("Tests.sum(values:)")
    #expect(third.memoize(sumOp, [Argument("values", [1, 2, 3])]) { 6 } == 6)
    let sum = third.memoize(sumOp, [Argument("values", Lazy([1, 2, 3]))]) { -1 }
    #expect(sum == 6)
    #expect(thirdLog.executed == ["sum(values:)"])
    #expect(thirdLog.reused.count == 2)
  }

  @Test(arguments: Backend.allCases) func aStoredLazyTakenByAnotherStoreIsStoredThere(
    _ kind: Backend
  ) throws {
    let source = try Reopenable(kind)
    let produce = testOp("Tests.produce(n:)")
    do {
      let store = source.open()
      let _: Lazy<[Double]> = store.memoize(produce, [Argument("n", 1)]) {
        Lazy((0..<10_000).map { Double($0) * 2 })
      }
      store.flush()
    }
    let store = source.open()
    let produced: Lazy<[Double]> = store.memoize(produce, [Argument("n", 1)]) { Lazy([]) }
    #expect(!produced.isLoaded)
    // Another store takes it as an input: its bytes are copied, not decoded.
    let other = try Reopenable(.memory).open()
    let count = other.memoize(testOp("Tests.count(of:)"), [Argument("values", produced)]) {
      10_000
    }
    #expect(count == 10_000)
    other.flush()
    #expect(!produced.isLoaded)
    let record = try #require(try other.calls(of: "Tests.count(of:)").first)
    #expect(record.inputs[0].cid == (try produced.contentID))
    let copied = try #require(try other.value(record.inputs[0].cid, as: [Double].self))
    #expect(copied == (0..<10_000).map { Double($0) * 2 })
  }

  @Test(arguments: Backend.allCases) func aLazyThatNoLongerDecodesIsForgottenAndComputedAgain(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let op = testOp("Tests.label(n:)")
    do {
      let store = place.open()
      _ = store.memoize(op, [Argument("n", 1)]) { [1.5, 2.5] }
      store.flush()
    }
    let store = place.open()
    let log = EventLog(store)
    let wrong: Lazy<String> = store.memoize(op, [Argument("n", 1)]) { Lazy("computed") }
    #expect(log.executed.isEmpty, "a hit: the type is not checked until it is read")
    let error = #expect(throws: RecallError.self) { try wrong.value }
    #expect(error?.code == RecallError.undecodableValue)
    #expect(log.warnings.map(\.kind) == [.undecodableResult])
    store.flush()
    let again: Lazy<String> = store.memoize(op, [Argument("n", 1)]) { Lazy("computed") }
    #expect(log.executed == ["label(n:)"])
    #expect(try again.value == "computed")
  }

  /// Where the tracked-file tests keep their file; removed with the test.
  let directory = TemporaryDirectory()

  /// Writes the tracked-file tests' file; returns its path.
  func write(_ text: String) throws -> String {
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let path = directory.path + "/data.txt"
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return path
  }

  struct Report: Codable, Sendable, Equatable {
    var source: TrackedFile
    var lines: Int
  }

  @Test(arguments: Backend.allCases) func aLazyHoldingATrackedFileIsCheckedAtItsHit(
    _ kind: Backend
  ) throws {
    let path = try write("a\nb\n")
    let place = try Reopenable(kind)
    let op = testOp("Tests.report(n:)")
    let report = { (store: Store) -> Lazy<Report> in
      store.memoize(op, [Argument("n", 1)]) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Lazy(Report(source: TrackedFile(path), lines: text.split(separator: "\n").count))
      }
    }
    do {
      let store = place.open()
      #expect(try report(store).value.lines == 2)
      store.flush()
    }
    let store = place.open()
    let log = EventLog(store)
    let hit = report(store)
    #expect(log.executed.isEmpty)
    #expect(hit.isLoaded, "decoded at the hit, to check its file")
    _ = try write("a\nb\nc\n")
    let later = place.open()
    let laterLog = EventLog(later)
    #expect(try report(later).value.lines == 3)
    #expect(laterLog.executed == ["report(n:)"])
  }

  @Test(arguments: Backend.allCases) func aLazyHoldingATrackedFileIsHashedAgainAsAnArgument(
    _ kind: Backend
  ) throws {
    let path = try write("a\n")
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let count = { (report: Lazy<Report>) in
      store.memoize(testOp("Tests.count(_:)"), [Argument("report", report)]) {
        (try? report.value.lines) ?? -1
      }
    }
    let produced: Lazy<Report> = store.memoize(testOp("Tests.produce()"), []) {
      Lazy(Report(source: TrackedFile(path), lines: 1))
    }
    _ = count(produced)
    _ = count(produced)
    #expect(log.executed == ["produce()", "count(_:)"])
    // The file changes: the same handle is another argument now.
    _ = try write("a\nb\n")
    _ = count(produced)
    #expect(log.executed == ["produce()", "count(_:)", "count(_:)"])
    withExtendedLifetime(place) {}
  }

  @Test func aLazyMadeInMemoryIsHashedOnce() throws {
    let values = (0..<1_000).map { Double($0) }
    let lazy = Lazy(values)
    #expect(lazy.isLoaded)
    let first = try lazy.contentID
    #expect(first == (try ValueCodec.contentID(of: values)))
    #expect(try lazy.hashed().cid == first)
    // Stored, encoded and decoded as its value, by Recall and by others.
    #expect(try ValueCodec.encode(lazy).bytes == ValueCodec.encode(values).bytes)
    let decoded = try ValueCodec.decode(Lazy<[Double]>.self, from: ValueCodec.encode(values).bytes)
    #expect(try decoded.value == values)
    let json = try JSONEncoder().encode(Lazy([1, 2]))
    #expect(String(decoding: json, as: UTF8.self) == "[1,2]")
    #expect(try JSONDecoder().decode(Lazy<[Int]>.self, from: json).value == [1, 2])
    #expect(Lazy([1, 2]).description == "Lazy([1, 2])")
  }
}
