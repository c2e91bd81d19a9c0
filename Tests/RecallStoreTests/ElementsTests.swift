import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// Collections stored by element (``Elements``, ``KeyedElements``), on every
/// backend: elements are values of their own, shared between results, linked
/// one by one to the calls that take them.
@Suite struct ElementsTests {
  let batchOp = testOp("Tests.batch(n:)")
  let squareOp = testOp("Tests.square(_:)")
  let squaresOp = testOp("Tests.squares(_:)")

  /// A batch of `n` rows of 256 numbers (2 KB each): row `i` is the same in
  /// every batch.
  func batch(_ store: Store, _ n: Int) -> Elements<[Double]> {
    store.memoize(batchOp, [Argument("n", n)]) {
      Elements((0..<n).map { row in (0..<256).map { Double(row * 256 + $0) } })
    }
  }

  func square(_ store: Store, _ x: Int) -> Int {
    store.memoize(squareOp, [Argument("x", x)]) { x * x }
  }

  /// An op that maps element-wise: each element through a memoized call.
  func squares(_ store: Store, _ xs: Elements<Int>) -> Elements<Int> {
    store.memoize(squaresOp, [Argument("xs", xs)]) { Elements(xs.map { square(store, $0) }) }
  }

  @Test(arguments: Backend.allCases) func aListIsStoredByElementAndReadBackWhole(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    do {
      let store = place.open()
      #expect(batch(store, 3).count == 3)
      store.flush()
    }
    let store = place.open()
    let log = EventLog(store)
    let list = batch(store, 3)
    #expect(log.executed.isEmpty)
    #expect(list[2] == (512..<768).map(Double.init))
    let call = try #require(try store.calls(of: "Tests.batch(n:)").first)
    let elements = try store.outputs(of: call.outputCID)
    #expect(elements.map(\.label) == ["[0]", "[1]", "[2]"])
    #expect(elements.allSatisfy { $0.isElement })
    #expect(elements[1].cid == (try ValueCodec.contentID(of: list[1])))
    #expect(try store.value(elements[1].cid, as: [Double].self) == list[1])
    #expect(try store.value(call.outputCID, as: Elements<[Double]>.self) == list)
    // Tools show a list as an array.
    let json = try ValueCodec.renderJSON(
      store.encodedValue(call.outputCID)!, maximumElements: 2,
      part: { (try? store.encodedValue($0)) ?? nil })
    #expect(json.hasPrefix("[[0.0,1.0,"))
    #expect(json.hasSuffix(#""… 1 more"]"#))

    // A dictionary, by key.
    let byKeyOp = testOp("Tests.byKey(n:)")
    let expected: KeyedElements<[Int]> = ["a": [1], "b": [2, 2], "c": [1]]
    _ = store.memoize(byKeyOp, [Argument("n", 1)]) { expected }
    store.flush()
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    #expect(fresh.memoize(byKeyOp, [Argument("n", 1)]) { KeyedElements<[Int]>([:]) } == expected)
    #expect(freshLog.executed.isEmpty)
    let byKey = try #require(try fresh.calls(of: "Tests.byKey(n:)").first)
    let parts = try fresh.outputs(of: byKey.outputCID)
    #expect(parts.map(\.label) == ["[a]", "[b]", "[c]"])
    // Equal values under two keys are one value.
    #expect(parts[0].cid == parts[2].cid)
  }

  @Test(arguments: Backend.allCases) func anElementWiseOpComputesOnlyTheNewElements(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    #expect(squares(store, Elements(0..<900)).last == 899 * 899)
    #expect(log.executed.filter { $0 == "square(_:)" }.count == 900)
    store.flush()

    // A fresh process extends the list to 1,000: only 100 squares run.
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    let extended = squares(fresh, Elements(0..<1_000))
    #expect(extended.array == (0..<1_000).map { $0 * $0 })
    #expect(freshLog.executed.filter { $0 == "square(_:)" }.count == 100)
    #expect(freshLog.executed.filter { $0 == "squares(_:)" }.count == 1)
    fresh.flush()

    // A sweep over the elements, in a new process, computes only the rest.
    let third = place.open()
    let thirdLog = EventLog(third)
    let swept = try await third.map(Elements(0..<1_100), parallelism: 2, progress: .none) { x in
      square(third, x)
    }
    #expect(swept.count == 1_100 && swept[1_099] == 1_099 * 1_099)
    #expect(thirdLog.executed.count == 100)
  }

  @Test(arguments: Backend.allCases) func aCallTakingAnElementLinksToTheListsCall(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let sumOp = testOp("Tests.rowSum(_:)")
    let rowSum = { (store: Store, row: [Double]) -> Double in
      store.memoize(sumOp, [Argument("row", row)]) { row.reduce(0, +) }
    }
    for row in batch(store, 4) { _ = rowSum(store, row) }
    store.flush()
    let listCall = try #require(try store.calls(of: "Tests.batch(n:)").first)
    let sums = try store.calls(of: "Tests.rowSum(_:)")
    #expect(sums.count == 4)
    for sum in sums {
      let row = try #require(try store.value(sum.inputs[0].cid, as: [Double].self))
      let index = Int(row[0]) / 256
      #expect(sum.inputs[0].hid == HistoryID(output: "[\(index)]", of: listCall.outputHID))
      #expect(try store.upstream(of: sum.id).map(\.id) == [listCall.id])
    }
    #expect(Set(try store.downstream(of: listCall.id).map(\.id)) == Set(sums.map(\.id)))

    // A later process that reads the list links its new calls the same way.
    let fresh = place.open()
    let maxOp = testOp("Tests.rowMax(_:)")
    let rows = batch(fresh, 4)
    let largest: Double = fresh.memoize(maxOp, [Argument("row", rows[3])]) { rows[3].max()! }
    #expect(largest == 1_023)
    fresh.flush()
    let maxCall = try #require(try fresh.calls(of: "Tests.rowMax(_:)").first)
    #expect(maxCall.inputs[0].hid == HistoryID(output: "[3]", of: listCall.outputHID))

    // A frame expands from the sums through the elements to the list's call:
    // one row per sum, each with the list it came from.
    let frame = try ComputationFrame(op: "Tests.rowSum(_:)", in: fresh).expandBack()
    #expect(frame.calls.count == 5)
    let table = try frame.table().sorted(by: ["rowSum"])
    #expect(table.columns == ["n", "batch", "rowSum"])
    #expect(table.cids.count == 4)
    #expect(table.cids.allSatisfy { $0[1] == listCall.outputCID })
    #expect(frame.dot().contains(#""value Tests.batch(n:)" -> "op Tests.rowSum(_:)""#))
  }

  @Test(arguments: Backend.allCases) func aRefreshReplaysACallTakingAList(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let totalOp = Op(id: "Tests.total(_:)", version: CodeFingerprint(hex: "c1"), parameters: ["xs"])
    let listOp = { (version: String) in
      Op(id: "Tests.list(n:)", version: CodeFingerprint(hex: version), parameters: ["n"])
    }
    let list = { @Sendable (op: Op, n: Int, step: Double) -> Elements<Double> in
      store.memoize(op, [Argument("n", n)]) { Elements((0..<n).map { Double($0) * step }) }
    }
    let total = { @Sendable (xs: Elements<Double>) -> Double in
      store.memoize(totalOp, [Argument("xs", xs)]) { xs.reduce(0, +) }
    }
    #expect(total(list(listOp("a1"), 4, 1)) == 6)
    store.flush()
    // `list` now computes something else: `total` is replayed with the new
    // list, read back from the store by element.
    let new = listOp("a2")
    let versions = CodeVersions(ops: [new, totalOp])
    #expect(try store.outdated(current: versions).count == 2)
    let log = EventLog(store)
    let refreshed = try await store.refresh(
      [
        .op({ list(new, $0, 2) }, { MemoizedCall(op: new, arguments: [Argument("n", $0)]) }),
        .op({ total($0) }, { MemoizedCall(op: totalOp, arguments: [Argument("xs", $0)]) }),
      ], progress: .none)
    #expect(log.executed == ["list(n:)", "total(_:)"])
    #expect(refreshed.recomputed == 2 && refreshed.remaining.count == 0)
    #expect(try store.outdated(current: versions).count == 0)
    let rerun = EventLog(store)
    #expect(total(list(new, 4, 2)) == 12)
    #expect(rerun.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aBudgetEvictsNoResultStoredByParts(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    _ = batch(store, 40)  // 80 KB of rows, by element
    let plainOp = testOp("Tests.plain(n:)")
    _ = store.memoize(plainOp, [Argument("n", 1)]) { [Double](repeating: 1, count: 1_000) }
    store.flush()
    // Only the plain result can go: the list's manifest would free nothing.
    let report = try store.evict(toFit: 0)
    #expect(report.values == 1 && report.bytes > 8_000 && report.bytes < 9_000)
    let log = EventLog(store)
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    #expect(batch(fresh, 40).count == 40)
    #expect(freshLog.executed.isEmpty && log.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases) func collectingKeepsTheElementsAListStillNames(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    _ = batch(store, 10)
    _ = batch(store, 12)  // shares its first ten rows
    store.flush()
    #expect(try store.summary().values == 2 + 2 + 12)  // two n, two lists, twelve rows
    try store.forget(
      try store.calls(of: "Tests.batch(n:)").filter {
        try store.value($0.inputs[0].cid, as: Int.self) == 12
      }.map(\.id))
    // Its n, its list and the two rows only it had.
    #expect(try store.collectGarbage().values == 4)
    let fresh = place.open()
    let log = EventLog(fresh)
    #expect(batch(fresh, 10).count == 10)
    #expect(log.executed.isEmpty)
  }
}

/// Two results that share 1,000 elements store them once: measured on disk.
@Suite struct ElementsOnDiskTests {
  /// Bytes of every file of a store's directory.
  func bytesOnDisk(_ path: String) throws -> Int {
    let files = FileManager.default.enumerator(atPath: path)
    var total = 0
    while let file = files?.nextObject() as? String {
      let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + file)
      if attributes[.type] as? FileAttributeType == .typeRegular {
        total += (attributes[.size] as? Int) ?? 0
      }
    }
    return total
  }

  /// Stores a batch of `n` rows of 256 numbers (2 KB each; row `i` is the
  /// same in every batch) in a store of its own process, as elements or
  /// whole, and returns the store's bytes on disk once it is closed.
  func store<R: Codable & Sendable>(
    _ n: Int, in directory: TemporaryDirectory, _ make: ([[Double]]) -> R
  ) throws -> Int {
    do {
      let store = try openStore(directory.path)
      let _: R = store.memoize(testOp("Tests.batch(n:)"), [Argument("n", n)]) {
        make((0..<n).map { row in (0..<256).map { Double(row * 256 + $0) } })
      }
      store.flush()
    }
    return try bytesOnDisk(directory.path)
  }

  @Test func twoListsThatShareAThousandElementsStoreThemOnce() throws {
    let byElement = TemporaryDirectory()
    let first = try store(1_000, in: byElement) { Elements($0) }
    let second = try store(1_010, in: byElement) { Elements($0) }
    let whole = TemporaryDirectory()
    let firstWhole = try store(1_000, in: whole) { $0 }
    let secondWhole = try store(1_010, in: whole) { $0 }
    // Each list holds 2 MB of rows.
    #expect(first > 2_048_000 && firstWhole > 2_048_000)
    // Stored whole, the second list takes the room of its 1,010 rows again;
    // by element, that of its 10 new rows and its list of 1,010 ids.
    #expect(secondWhole - firstWhole > 2_048_000)
    #expect(second - first < 150_000, "grew by \(second - first) bytes")
  }
}
