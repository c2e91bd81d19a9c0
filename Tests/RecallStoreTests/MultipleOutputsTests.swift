import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// A data set split in two: a result of several outputs.
struct Split: MultipleOutputs, Equatable {
  var train: [Double]
  var test: [Double]
}

/// A model and its score: two calls that fit the same model share it.
struct Fitted: MultipleOutputs, Equatable {
  var model: [Double]
  var score: Double
  var note: String?
}

/// Results of several outputs (``MultipleOutputs``), on every backend: each
/// output is a value of its own, with its own history, that downstream calls
/// link to and frames show as columns.
@Suite struct MultipleOutputsTests {
  let splitOp = testOp("Tests.split(_:fraction:)")
  let meanOp = testOp("Tests.mean(_:)")

  func split(_ store: Store, _ rows: [Double], fraction: Double = 0.75) -> Split {
    store.memoize(splitOp, [Argument("rows", rows), Argument("fraction", fraction)]) {
      let cut = Int(Double(rows.count) * fraction)
      return Split(train: Array(rows[..<cut]), test: Array(rows[cut...]))
    }
  }

  func mean(_ store: Store, _ values: [Double]) -> Double {
    store.memoize(meanOp, [Argument("values", values)]) {
      values.reduce(0, +) / Double(values.count)
    }
  }

  let rows = (0..<10_000).map(Double.init)  // 80 KB: a blob file on SQLite

  @Test(arguments: Backend.allCases) func eachOutputIsAValueOfItsOwn(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let expected = Split(train: Array(rows[..<7_500]), test: Array(rows[7_500...]))
    do {
      let store = place.open()
      let log = EventLog(store)
      #expect(split(store, rows) == expected)
      #expect(log.executed == ["split(_:fraction:)"])
      store.flush()
    }
    // A fresh process: a hit, read from its outputs.
    let store = place.open()
    let log = EventLog(store)
    #expect(split(store, rows) == expected)
    #expect(log.executed.isEmpty)
    let call = try #require(try store.calls(of: "Tests.split(_:fraction:)").first)
    let outputs = try store.outputs(of: call.outputCID)
    #expect(outputs.map(\.label) == ["test", "train"])
    #expect(outputs[1].cid == (try ValueCodec.contentID(of: expected.train)))
    #expect(outputs[0].cid == (try ValueCodec.contentID(of: expected.test)))
    #expect(try store.value(outputs[1].cid, as: [Double].self) == expected.train)
    #expect(try store.value(call.outputCID, as: Split.self) == expected)
    // The whole is a small list of its outputs; the call's size counts them.
    #expect(try store.encodedValue(call.outputCID)!.count < 200)
    #expect(call.outputSize > 80_000)
    // As an argument, the whole is keyed by that list: the call's output.
    #expect(try ValueCodec.contentID(of: expected) == call.outputCID)
    // Tools render it by output.
    let json = try ValueCodec.renderJSON(
      store.encodedValue(call.outputCID)!, maximumElements: 2,
      part: { (try? store.encodedValue($0)) ?? nil })
    #expect(json.hasPrefix(#"{"test":[7500.0,7501.0,"#))
    #expect(json.contains(#""train":[0.0,1.0,"#))
  }

  @Test(arguments: Backend.allCases) func aCallTakingOneOutputLinksToThatOutput(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    do {
      let store = place.open()
      let parts = split(store, rows)
      _ = mean(store, parts.train)
      _ = mean(store, parts.test)
      store.flush()
    }
    let store = place.open()
    let splitCall = try #require(try store.calls(of: "Tests.split(_:fraction:)").first)
    let means = try store.calls(of: "Tests.mean(_:)")
    #expect(means.count == 2)
    let train = try #require(
      means.first { $0.inputs[0].cid == (try? ValueCodec.contentID(of: Array(rows[..<7_500]))) })
    let test = try #require(means.first { $0.id != train.id })
    #expect(train.inputs[0].hid == HistoryID(output: "train", of: splitCall.outputHID))
    #expect(test.inputs[0].hid == HistoryID(output: "test", of: splitCall.outputHID))
    #expect(train.inputs[0].hid != test.inputs[0].hid)
    // Provenance follows each output to its call, and the call to both.
    #expect(try store.upstream(of: train.id).map(\.id) == [splitCall.id])
    #expect(Set(try store.downstream(of: splitCall.id).map(\.id)) == [train.id, test.id])
    #expect(try store.producers(of: train.inputs[0]).map(\.id) == [splitCall.id])
    #expect(try store.producers(of: train.inputs[0].cid).map(\.id) == [splitCall.id])
    #expect(Set(try store.consumers(of: splitCall).map(\.id)) == [train.id, test.id])

    // A hit (from the store, then from memory) links as the computed call
    // did: a new consumer of each output records its history.
    let log = EventLog(store)
    for name in ["largest", "smallest"] {
      let parts = split(store, rows)
      let found: Double = store.memoize(
        testOp("Tests.\(name)(_:)"), [Argument("values", parts.test)]
      ) {
        name == "largest" ? parts.test.max()! : parts.test.min()!
      }
      #expect(found == (name == "largest" ? 9_999 : 7_500))
    }
    #expect(log.executed == ["largest(_:)", "smallest(_:)"])
    #expect(log.all.contains { if case .didReuse(_, .store, _) = $0 { true } else { false } })
    #expect(log.all.contains { if case .didReuse(_, .memory, _) = $0 { true } else { false } })
    store.flush()
    for name in ["largest", "smallest"] {
      let call = try #require(try store.calls(of: OpID("Tests.\(name)(_:)")).first)
      #expect(call.inputs[0].hid == HistoryID(output: "test", of: splitCall.outputHID))
    }
  }

  @Test(arguments: Backend.allCases) func aBodyTakingTheWholeResultLinksWhatItDoesWithAnOutput(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let summaryOp = testOp("Tests.summary(_:)")
    let parts = split(store, rows)
    let summary: Double = store.memoize(summaryOp, [Argument("split", parts)]) {
      mean(store, parts.test)
    }
    #expect(summary == 8_749.5)
    store.flush()
    let splitCall = try #require(try store.calls(of: "Tests.split(_:fraction:)").first)
    let summaryCall = try #require(try store.calls(of: "Tests.summary(_:)").first)
    let meanCall = try #require(try store.calls(of: "Tests.mean(_:)").first)
    // The whole result is the input it was: the call's output.
    #expect(summaryCall.inputs[0].cid == splitCall.outputCID)
    #expect(summaryCall.inputs[0].hid == splitCall.outputHID)
    // Inside the body, the output it took is linked to the call too.
    #expect(meanCall.inputs[0].hid == HistoryID(output: "test", of: splitCall.outputHID))
  }

  @Test(arguments: Backend.allCases) func aCallTakingAnOutputIsOutdatedWithItsCallAndRefreshed(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let sumOp = Op(id: "Tests.total(_:)", version: CodeFingerprint(hex: "c1"), parameters: ["xs"])
    let splitOp = { (version: String) in
      Op(id: "Tests.halves(n:)", version: CodeFingerprint(hex: version), parameters: ["n"])
    }
    let halves = { @Sendable (op: Op, n: Int, scale: Double) -> Split in
      store.memoize(op, [Argument("n", n)]) {
        let all = (0..<n).map { Double($0) * scale }
        return Split(train: Array(all[..<(n / 2)]), test: Array(all[(n / 2)...]))
      }
    }
    let total = { @Sendable (xs: [Double]) -> Double in
      store.memoize(sumOp, [Argument("xs", xs)]) { xs.reduce(0, +) }
    }
    #expect(total(halves(splitOp("a1"), 4, 1).train) == 1)
    store.flush()

    // The same result under new code: the call taking `train` is cut off.
    let same = splitOp("a2")
    var versions = CodeVersions(ops: [same, sumOp])
    #expect(try store.outdated(current: versions).count == 2)
    let log = EventLog(store)
    let refreshable = { (op: Op, scale: Double) -> [RefreshableOp] in
      [
        .op({ halves(op, $0, scale) }, { MemoizedCall(op: op, arguments: [Argument("n", $0)]) }),
        .op({ total($0) }, { MemoizedCall(op: sumOp, arguments: [Argument("xs", $0)]) }),
      ]
    }
    var refreshed = try await store.refresh(refreshable(same, 1), progress: .none)
    #expect(log.executed == ["halves(n:)"])
    #expect(refreshed.recomputed == 1 && refreshed.revalidated == 1)
    #expect(try store.outdated(current: versions).count == 0)

    // A different `train` under newer code: the call taking it runs again.
    let other = splitOp("a3")
    versions = CodeVersions(ops: [other, sumOp])
    #expect(
      try store.outdated(current: versions).count == 3,
      "its old and newer calls, and the call taking train")
    refreshed = try await store.refresh(refreshable(other, 2), progress: .none)
    #expect(log.executed == ["halves(n:)", "halves(n:)", "total(_:)"])
    #expect(refreshed.recomputed == 2 && refreshed.remaining.count == 0)
    #expect(try store.outdated(current: versions).count == 0)
    let rerun = EventLog(store)
    #expect(total(halves(other, 4, 2).train) == 2)
    #expect(rerun.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases) func equalOutputsOfTwoCallsAreStoredOnceAndCollectedLast(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let fitOp = testOp("Tests.fit(seed:)")
    let model = (0..<20_000).map { Double($0) / 3 }  // 160 KB
    let fit = { (seed: Int) -> Fitted in
      store.memoize(fitOp, [Argument("seed", seed)]) {
        Fitted(model: model, score: Double(seed), note: seed == 1 ? "first" : nil)
      }
    }
    #expect(fit(1).note == "first")
    #expect(fit(2).note == nil)
    store.flush()
    let before = try store.summary()
    // Two seeds, two manifests, two scores, one note, and one model.
    #expect(before.values == 8)
    #expect(before.bytes < 2 * model.count * 8)
    #expect(try store.calls(of: "Tests.fit(seed:)").map(\.outputSize).allSatisfy { $0 > 160_000 })
    // The call with no note has no such output.
    let calls = try store.calls(of: "Tests.fit(seed:)")
    let labels = try Set(calls.map { try store.outputs(of: $0.outputCID).map(\.label) })
    #expect(labels == [["model", "score"], ["model", "note", "score"]])

    // Forgetting one call keeps the model the other one names.
    let first = try #require(calls.first { try store.outputs(of: $0.outputCID).count == 3 })
    try store.forget([first.id])
    let collected = try store.collectGarbage()
    #expect(collected.values == 4)  // its seed, manifest, score and note
    #expect(try store.summary().values == 4)
    let log = EventLog(store)
    let reopened = place.open()
    let reopenedLog = EventLog(reopened)
    let fitted: Fitted = reopened.memoize(fitOp, [Argument("seed", 2)]) {
      Fitted(model: [], score: -1)
    }
    #expect(fitted == Fitted(model: model, score: 2))
    #expect(reopenedLog.executed.isEmpty && log.executed.isEmpty)
    // Forgetting the other one lets the model go too.
    try reopened.forget(try reopened.calls(of: "Tests.fit(seed:)").map(\.id))
    #expect(try reopened.collectGarbage().values == 4)
    #expect(try reopened.summary().values == 0)
  }

  @Test(arguments: Backend.allCases) func aFrameHasAColumnPerOutput(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let parts = split(store, [1, 2, 3, 4])
    _ = mean(store, parts.train)
    _ = mean(store, parts.test)
    store.flush()
    let frame = try ComputationFrame(op: "Tests.mean(_:)", in: store).expandBack()
    #expect(frame.calls.count == 3)
    let table = try frame.table()
    #expect(table.columns == ["fraction", "rows", "test", "train", "mean"])
    let rendered = table.sorted(by: ["mean"]).renderedCells()
    #expect(
      rendered == [
        ["0.75", "[1.0,2.0,3.0,4.0]", "[4.0]", "[1.0,2.0,3.0]", "2.0"],
        ["0.75", "[1.0,2.0,3.0,4.0]", "[4.0]", "[1.0,2.0,3.0]", "4.0"],
      ])
    // The graph draws each output, and each consumer from the one it took.
    let dot = frame.dot()
    #expect(dot.contains(#""value Tests.split(_:fraction:)#train" -> "op Tests.mean(_:)""#))
    #expect(dot.contains(#""value Tests.split(_:fraction:)#test" -> "op Tests.mean(_:)""#))
    // Growing forward from the split reaches both means.
    let forward = try ComputationFrame(op: "Tests.split(_:fraction:)", in: store).expandForward()
    #expect(forward.calls.count == 3)
  }

  @Test(arguments: Backend.allCases) func anOptionalResultIsStoredWholeAndFoundAgain(
    _ kind: Backend
  ) throws {
    // A `Split?` is not stored by parts (only the type itself is), the same
    // way whether it is made, hashed or read.
    let place = try Reopenable(kind)
    let maybeOp = testOp("Tests.maybe(n:)")
    let expected = Split(train: [1], test: [2])
    do {
      let store = place.open()
      let made = store.memoize(maybeOp, [Argument("n", 1)]) { () -> Split? in expected }
      #expect(made == expected)
      store.flush()
      let call = try #require(try store.calls(of: "Tests.maybe(n:)").first)
      #expect(try store.outputs(of: call.outputCID).isEmpty)
      #expect(try ValueCodec.contentID(of: Optional(expected)) == call.outputCID)
    }
    let store = place.open()
    let log = EventLog(store)
    let found = store.memoize(maybeOp, [Argument("n", 1)]) { () -> Split? in nil }
    #expect(found == expected)
    #expect(log.executed.isEmpty && log.warnings.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aLazyOfSeveralOutputsIsStoredWholeAndPassedOn(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let lazyOp = testOp("Tests.lazySplit(n:)")
    let countOp = testOp("Tests.count(_:)")
    let expected = Split(train: [1, 2], test: [3])
    let run = { (store: Store) -> Int in
      let parts = store.memoize(lazyOp, [Argument("n", 1)]) { Lazy(expected) }
      return store.memoize(countOp, [Argument("split", parts)]) {
        (try? parts.value.train.count) ?? -1
      }
    }
    do {
      let store = place.open()
      let log = EventLog(store)
      #expect(run(store) == 2)
      #expect(log.warnings.isEmpty, "\(log.warnings)")
      store.flush()
      let call = try #require(try store.calls(of: "Tests.lazySplit(n:)").first)
      #expect(try store.outputs(of: call.outputCID).isEmpty)
      let count = try #require(try store.calls(of: "Tests.count(_:)").first)
      #expect(count.inputs[0].cid == call.outputCID)
      #expect(count.inputs[0].hid == call.outputHID)
    }
    let store = place.open()
    let log = EventLog(store)
    #expect(run(store) == 2)
    #expect(log.executed.isEmpty && log.warnings.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aCopyCarriesTheOutputs(_ kind: Backend) throws {
    let source = try Reopenable(.memory)
    let store = source.open()
    let expected = split(store, rows)
    store.flush()
    let target = try Reopenable(kind)
    let copy = target.open()
    let report = try store.copy(to: copy)
    // Rows, fraction, the split and its two outputs.
    #expect(report.calls == 1 && report.values == 5)
    copy.flush()
    let reopened = target.open()
    let log = EventLog(reopened)
    #expect(split(reopened, rows) == expected)
    #expect(log.executed.isEmpty)
  }

  @Test func aTypeThatIsNotKeyedIsReturnedButNotStored() throws {
    struct Pair: MultipleOutputs, Equatable {
      var first: Int
      var second: Int
      init(_ first: Int, _ second: Int) { (self.first, self.second) = (first, second) }
      init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        (first, second) = (try container.decode(Int.self), try container.decode(Int.self))
      }
      func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(first)
        try container.encode(second)
      }
    }
    let store = quietStore()
    let log = EventLog(store)
    let pairOp = testOp("Tests.pair(n:)")
    #expect(store.memoize(pairOp, [Argument("n", 1)]) { Pair(1, 2) } == Pair(1, 2))
    #expect(store.memoize(pairOp, [Argument("n", 1)]) { Pair(1, 2) } == Pair(1, 2))
    #expect(log.executed == ["pair(n:)", "pair(n:)"])
    #expect(log.warnings.map(\.kind) == [.unencodableResult, .unencodableResult])
    #expect(log.warnings[0].message.contains("must encode as a keyed container"))

    // An output stored by parts itself, or a list of such: refused, said.
    struct Nested: MultipleOutputs {
      var rows: Elements<Int>
      var total: Int
    }
    let nestedOp = testOp("Tests.nested(n:)")
    #expect(
      store.memoize(nestedOp, [Argument("n", 1)]) { Nested(rows: [1, 2], total: 3) }.total == 3)
    let listOp = testOp("Tests.splits(n:)")
    let splits = store.memoize(listOp, [Argument("n", 1)]) {
      Elements([Split(train: [], test: [])])
    }
    #expect(splits.count == 1)
    #expect(log.warnings.count == 4)
    #expect(log.warnings[2].message.contains("output 'rows' of Nested is itself stored by parts"))
    #expect(log.warnings[3].message.contains("are themselves stored by parts"))
    #expect(try store.summary().calls == 0)
  }

  @Test func aFullScopeLetsItsOldestValuesGoNotItsNewest() {
    // Lists of elements fill a scope fast: 150,000 values, then the newest
    // still link, the oldest do not, and one read again is kept.
    let map = HistoryMap()
    func cid(_ n: Int) -> ContentID { ContentID(Digest.sha256("value \(n)")) }
    func hid(_ n: Int) -> HistoryID { HistoryID(Digest.sha256("history \(n)")) }
    for n in 0..<150_000 {
      map.record(cid(n), hid(n), in: nil)
      if n % 10_000 == 0 {
        map.record(cid(1), hid(1), in: nil)
        _ = map.hid(for: cid(3), in: nil)
      }
    }
    #expect(map.hid(for: cid(149_999), in: nil) == hid(149_999))
    #expect(map.hid(for: cid(110_000), in: nil) == hid(110_000))
    #expect(map.hid(for: cid(2), in: nil) == HistoryID(external: cid(2)))
    #expect(map.hid(for: cid(1), in: nil) == hid(1))
    #expect(map.hid(for: cid(3), in: nil) == hid(3), "read again, it is kept")
  }

  @Test func theHistoryMapLinksAsItsReferenceDoesThroughTurns() {
    // 160,000 random records and reads of 60,000 values with three
    // histories each, through the top level's turns: each read answers as
    // the map's first form did (which probed up to five times a record).
    enum Known: Equatable {
      case history(Int)
      case ambiguous
    }
    struct Reference {
      var current: [Int: Known] = [:]
      var previous: [Int: Known] = [:]
      mutating func set(_ value: Int, _ known: Known) {
        if current[value] == nil, current.count >= HistoryMap.scopeLimit / 2 {
          previous = current
          current = [:]
        }
        current[value] = known
      }
      mutating func record(_ value: Int, _ history: Int) {
        if current[value] == .history(history) { return }
        switch current[value] ?? previous[value] {
        case .history(let known):
          if known != history {
            set(value, .ambiguous)
          } else if current[value] == nil {
            set(value, .history(history))
          }
        case .ambiguous: if current[value] == nil { set(value, .ambiguous) }
        case nil: set(value, .history(history))
        }
      }
      mutating func read(_ value: Int) -> Known? {
        if let known = current[value] { return known }
        guard let known = previous[value] else { return nil }
        set(value, known)
        return known
      }
    }
    let cids = (0..<60_000).map { ContentID(Digest.sha256("value \($0)")) }
    let hids = (0..<3).map { HistoryID(Digest.sha256("history \($0)")) }
    let map = HistoryMap()
    var reference = Reference()
    var random = SplitMix(seed: 25)
    var mismatches = 0
    for step in 0..<160_000 {
      // Mostly the recent values, so that both generations are met.
      let value = (step / 2 + Int(random.next() % 20_000)) % cids.count
      if random.next() % 4 == 0 {
        let expected = reference.read(value)
        let found = map.hid(for: cids[value], in: nil)
        switch expected {
        case .history(let history): if found != hids[history] { mismatches += 1 }
        case .ambiguous, nil: if found != HistoryID(external: cids[value]) { mismatches += 1 }
        }
      } else {
        let history = Int(random.next() % 3)
        reference.record(value, history)
        map.record(cids[value], hids[history], in: nil)
      }
    }
    #expect(mismatches == 0)
    #expect(map.topLevelTurnCount >= 1)
  }

  @Test func anOpFindsAResultTypesTraitsAgainWhenItsCallsAskForAnother() {
    // A generic function's op looks its calls up as several types: each
    // is looked up by its own traits, however they alternate.
    let details = testOp("generic").details
    for _ in 0..<2 {
      #expect(details.resultTraits([Double].self) == [.known, .decodesAnyBytes, .holdsNoFiles])
      #expect(details.resultTraits(Lazy<[Double]>.self) == [.known, .lazy])
      #expect(details.resultTraits(Split.self) == [.known, .storedByParts])
      #expect(details.resultTraits(String.self) == [.known, .holdsNoFiles])
      #expect(details.resultTraits(TrackedFile.self) == [.known])
    }
  }

  @Test func aRepeatedHitLinksAgainOnceTheTopLevelTurnedOver() {
    // A hit outside any call records its entry only when the top level's
    // newer values turned older since: it links however many values came
    // between, and another history of its value since leaves it ambiguous.
    let map = HistoryMap()
    func cid(_ n: Int) -> ContentID { ContentID(Digest.sha256("value \(n)")) }
    func hid(_ n: Int) -> HistoryID { HistoryID(Digest.sha256("history \(n)")) }
    let entry = MemoryLayer.Entry(
      value: 0, cid: cid(-1), hid: hid(-1), size: 8, duration: 1, storedAt: 0)
    map.recordAtTopLevel(entry)
    #expect(map.hid(for: entry.cid, in: nil) == entry.hid)
    // Two turns: the entry's value is let go.
    for n in 0..<HistoryMap.scopeLimit { map.record(cid(n), hid(n), in: nil) }
    #expect(map.hid(for: entry.cid, in: nil) == HistoryID(external: entry.cid))
    map.recordAtTopLevel(entry)
    #expect(map.hid(for: entry.cid, in: nil) == entry.hid, "recorded again")
    map.record(entry.cid, hid(-2), in: nil)
    map.recordAtTopLevel(entry)
    #expect(map.hid(for: entry.cid, in: nil) == HistoryID(external: entry.cid), "ambiguous")
  }

  @Test func aRepeatedHitLinksAgainAfterOneTurnOrAReadsTurn() {
    // One turn leaves the entry's value among the older values: the next
    // hit brings it back among the newer ones, so that it outlives the
    // following turn. A read can make the turn too.
    let map = HistoryMap()
    func cid(_ n: Int) -> ContentID { ContentID(Digest.sha256("value \(n)")) }
    func hid(_ n: Int) -> HistoryID { HistoryID(Digest.sha256("history \(n)")) }
    let half = HistoryMap.scopeLimit / 2
    let entry = MemoryLayer.Entry(
      value: 0, cid: cid(-1), hid: hid(-1), size: 8, duration: 1, storedAt: 0)
    map.recordAtTopLevel(entry)
    for n in 0..<half { map.record(cid(n), hid(n), in: nil) }  // one turn
    map.recordAtTopLevel(entry)
    for n in half..<2 * half { map.record(cid(n), hid(n), in: nil) }  // another
    #expect(map.hid(for: entry.cid, in: nil) == entry.hid)

    // The newer values full, with the entry among them; a read of an older
    // value turns them over.
    // (Another store's map, and its own entry.)
    let other = HistoryMap()
    let its = MemoryLayer.Entry(
      value: 0, cid: cid(-1), hid: hid(-1), size: 8, duration: 1, storedAt: 0)
    for n in 0..<2 * half - 1 { other.record(cid(n), hid(n), in: nil) }  // one turn
    other.recordAtTopLevel(its)  // the newer values are full
    #expect(other.hid(for: cid(0), in: nil) == hid(0), "a read of an older value: a turn")
    other.recordAtTopLevel(its)
    for n in 2 * half..<3 * half { other.record(cid(n), hid(n), in: nil) }  // another
    #expect(other.hid(for: its.cid, in: nil) == its.hid)
  }
}
