import Foundation
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

struct NotEncodable: Codable, Sendable {
  var value: Int
  func encode(to encoder: any Encoder) throws {
    throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "refused"))
  }
}

struct Failure: Error, Equatable {}

@Suite struct MemoizeTests {
  @Test func theSameCallRunsOnce() throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("square")
    func square(_ x: Int) -> Int { store.memoize(op, [Argument("x", x)]) { x * x } }
    #expect(square(3) == 9)
    #expect(square(3) == 9)
    #expect(square(4) == 16)
    #expect(log.executed == ["square", "square"])
    #expect(log.reused == ["square"])
    let stats = try store.stats()
    #expect(stats.calls == 2)
    #expect(stats.hits == 1)
    #expect(stats.misses == 2)
  }

  @Test func versionsAndNamesSeparateCalls() {
    let store = quietStore()
    let log = EventLog(store)
    _ = store.memoize(testOp("f", version: "a"), [Argument("x", 1)]) { 1 }
    _ = store.memoize(testOp("f", version: "b"), [Argument("x", 1)]) { 2 }
    _ = store.memoize(testOp("g", version: "a"), [Argument("x", 1)]) { 3 }
    _ = store.memoize(testOp("f", version: "a"), [Argument("y", 1)]) { 4 }
    #expect(log.executed.count == 4)
    #expect(store.memoize(testOp("f", version: "b"), [Argument("x", 1)]) { 0 } == 2)
  }

  @Test func typesEnterTheKey() {
    let store = quietStore()
    let log = EventLog(store)
    _ = store.memoize(testOp("zero"), [], types: [Int.self]) { "Int" }
    _ = store.memoize(testOp("zero"), [], types: [Double.self]) { "Double" }
    #expect(store.memoize(testOp("zero"), [], types: [Int.self]) { "?" } == "Int")
    #expect(log.executed.count == 2)
  }

  @Test func aThrowingBodyStoresNothingAndRethrows() throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("fails")
    #expect(throws: Failure.self) {
      try store.memoize(op, [Argument("x", 1)]) { () throws(Failure) -> Int in throw Failure() }
    }
    #expect(try store.stats().calls == 0)
    let value = try store.memoize(op, [Argument("x", 1)]) { () throws(Failure) -> Int in 5 }
    #expect(value == 5)
    #expect(log.executed.count == 2)
    #expect(log.all.contains { if case .didFail = $0 { true } else { false } })
  }

  @Test func anUnencodableResultIsReturnedNotStored() throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("unencodable")
    #expect(store.memoize(op, []) { NotEncodable(value: 1) }.value == 1)
    #expect(store.memoize(op, []) { NotEncodable(value: 2) }.value == 2)
    #expect(log.executed.count == 2)
    #expect(log.warnings.map(\.kind) == [.unencodableResult, .unencodableResult])
    #expect(try store.stats().calls == 0)
  }

  @Test func anUnencodableArgumentRunsUnmemoizedWithAWarning() {
    let store = quietStore()
    let log = EventLog(store)
    let result = store.memoize(testOp("f"), [Argument("x", NotEncodable(value: 1))]) { 7 }
    #expect(result == 7)
    #expect(log.warnings.map(\.kind) == [.unhashableArgument])
  }

  @Test func disabledRunsTheBodyEveryTime() {
    let store = quietStore()
    let log = EventLog(store)
    let counter = Mutex(0)
    let op = testOp("count")
    for _ in 0..<3 {
      Memoization.disabled {
        _ = store.memoize(op, []) {
          counter.withLock {
            $0 += 1
            return $0
          }
        }
      }
    }
    #expect(counter.withLock { $0 } == 3)
    #expect(log.all.isEmpty)
  }

  @Test func aCallInFlightInTwoTasksRunsOnce() async throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("slow")
    let results = try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<8 {
        group.addTask {
          await store.memoize(op, [Argument("x", 1)]) { () async -> Int in
            try? await Task.sleep(for: .milliseconds(200))
            return 42
          }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results == Array(repeating: 42, count: 8))
    #expect(log.executed == ["slow"])
  }

  @Test func aCallInFlightOnTwoThreadsRunsOnce() {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("slowSync")
    DispatchQueue.concurrentPerform(iterations: 6) { _ in
      let value = store.memoize(op, [Argument("x", 2)]) { () -> Int in
        Thread.sleep(forTimeInterval: 0.2)
        return 4
      }
      #expect(value == 4)
    }
    #expect(log.executed == ["slowSync"])
  }

  @Test func aCallThatCallsItselfDoesNotDeadlock() {
    let store = quietStore()
    let op = testOp("recursive")
    func recurse(_ depth: Int) -> Int {
      store.memoize(op, [Argument("depth", 0)]) { depth >= 3 ? depth : recurse(depth + 1) }
    }
    #expect(recurse(0) == 3)
  }

  @Test func inputsTakeTheHistoryOfAnEqualOutputInTheirScope() throws {
    let store = quietStore()
    let first = testOp("first")
    let other = testOp("other")
    let second = testOp("second")
    func input(_ call: Int) throws -> CallInput {
      let calls = try store.calls(of: "second").sorted { $0.startedAt < $1.startedAt }
      return try #require(calls[call].inputs.first)
    }
    func output(_ op: String) throws -> HistoryID {
      try #require(try store.calls(of: OpID(op)).first).outputHID
    }
    let tenCID = try ValueCodec.contentID(of: 10)

    // At top level: the value `first` returned.
    let a = store.memoize(first, [Argument("seed", 1)]) { 10 }
    _ = store.memoize(second, [Argument("value", a), Argument("tag", 0)]) { a + 1 }
    store.flush()
    #expect(try input(0).hid == output("first"))

    // In another op's body, where `first` did not run, equal content has
    // no history of its own: external.
    let wrapper = testOp("wrapper")
    _ = store.memoize(wrapper, []) {
      store.memoize(second, [Argument("value", 10), Argument("tag", 1)]) { 11 }
    }
    store.flush()
    #expect(try input(1).hid == HistoryID(external: tenCID))

    // In a body that reused `first` (a hit), its output's history again.
    let reuser = testOp("reuser")
    _ = store.memoize(reuser, []) {
      let again = store.memoize(first, [Argument("seed", 1)]) { 10 }
      return store.memoize(second, [Argument("value", again), Argument("tag", 2)]) { again + 1 }
    }
    store.flush()
    #expect(try input(2).hid == output("first"))

    // A body that calls into another store links nothing there, and leaves
    // no scope behind in it.
    let elsewhere = quietStore()
    _ = store.memoize(testOp("bridge"), []) {
      elsewhere.memoize(testOp("remote"), [Argument("value", 10)]) { 12 }
    }
    #expect(elsewhere.histories.scopeCount == 0)
    #expect(store.histories.scopeCount == 1)

    // Two different calls returned equal values in the scope: no guess.
    _ = store.memoize(other, [Argument("seed", 2)]) { 10 }
    _ = store.memoize(second, [Argument("value", 10), Argument("tag", 3)]) { 11 }
    store.flush()
    #expect(try input(3).hid == HistoryID(external: tenCID))
  }

  @Test func eventsAsAnAsyncStream() async {
    let store = quietStore()
    let stream = store.events()
    _ = store.memoize(testOp("e"), []) { 1 }
    var kinds: [String] = []
    for await event in stream {
      switch event {
      case .willExecute: kinds.append("willExecute")
      case .didExecute: kinds.append("didExecute")
      case .didStore: kinds.append("didStore")
      default: kinds.append("other")
      }
      if kinds.count == 3 { break }
    }
    #expect(kinds == ["willExecute", "didExecute", "didStore"])
  }
}

@Suite struct MemoryLayerTests {
  func entry(_ size: Int) -> MemoryLayer.Entry {
    let cid = ContentID(Digest.sha256("x"))
    return .init(value: size, cid: cid, hid: HistoryID(external: cid), size: size, duration: 0)
  }

  func key(_ i: Int) -> CallID { CallID(Digest.sha256("\(i)")) }

  @Test func evictsLeastRecentlyUsedByBytes() {
    let layer = MemoryLayer(budget: 100)
    layer.put(key(1), entry(40))
    layer.put(key(2), entry(40))
    _ = layer.get(key(1))
    layer.put(key(3), entry(40))
    #expect(layer.get(key(1)) != nil)
    #expect(layer.get(key(2)) == nil)
    #expect(layer.get(key(3)) != nil)
    #expect(layer.usedBytes == 80)
  }

  @Test func skipsValuesLargerThanTheBudget() {
    let layer = MemoryLayer(budget: 100)
    layer.put(key(1), entry(101))
    #expect(layer.get(key(1)) == nil)
    #expect(layer.usedBytes == 0)
  }

  @Test func replacingAnEntryKeepsTheCount() {
    let layer = MemoryLayer(budget: 100)
    for _ in 0..<10 { layer.put(key(1), entry(30)) }
    #expect(layer.usedBytes == 30)
  }
}

@Suite struct OpResolutionTests {
  @Test func theManualVersionChangesTheOpVersion() {
    let fingerprint: StaticString = "abc"
    let plain = Op.__resolve(
      __RecallOpSite(name: "f(_:)", fileID: "Module/File.swift", fingerprint: fingerprint),
      .untracked)
    let bumped = Op.__resolve(
      __RecallOpSite(
        name: "f(_:)", fileID: "Module/File.swift", fingerprint: fingerprint, version: "2"),
      .untracked)
    #expect(plain.id == "Module.f(_:)")
    #expect(plain.version.hex == "abc")
    #expect(bumped.id == plain.id)
    #expect(bumped.version != plain.version)
  }

  @Test func theGeneratedTableOverridesTheFingerprint() {
    let table = __RecallFingerprintTable(
      versions: ["g()\nown": ("own", "fromplugin")], isGenerated: true)
    let op = Op.__resolve(
      __RecallOpSite(name: "g()", fileID: "Other/File.swift", fingerprint: "own"), table)
    #expect(op.version.hex == "fromplugin")
  }

  @Test func overloadsWithTheSameLabelsHaveTheirOwnEntries() {
    // `f(x: Int)` and `f(x: Double)` share the name `f(x:)`: the table keys
    // entries by name and own fingerprint, so each finds its own version.
    let table = __RecallFingerprintTable(
      versions: ["f(x:)\nint": ("int", "v-int"), "f(x:)\ndouble": ("double", "v-double")],
      isGenerated: true)
    let int = Op.__resolve(
      __RecallOpSite(name: "f(x:)", fileID: "Over/File.swift", fingerprint: "int"), table)
    let double = Op.__resolve(
      __RecallOpSite(name: "f(x:)", fileID: "Over/File.swift", fingerprint: "double"), table)
    #expect(int.version.hex == "v-int")
    #expect(double.version.hex == "v-double")
  }

  @Test func overloadsAreDifferentOpsWhoseCallsKeepTheirLabelKeys() throws {
    // Issue 16, defect 2: `f(x: Int)` and `f(x: Double)` shared one op id,
    // so each made the other's results stale.
    let int = Op.__resolve(
      __RecallOpSite(
        name: "f(x:)", fileID: "Over/File.swift", fingerprint: "i1", typedName: "f(x: Int)"),
      .untracked)
    let double = Op.__resolve(
      __RecallOpSite(
        name: "f(x:)", fileID: "Over/File.swift", fingerprint: "d1", typedName: "f(x: Double)"),
      .untracked)
    #expect(int.id == "Over.f(x: Int)")
    #expect(double.id == "Over.f(x: Double)")
    #expect(int.id.labelName == "Over.f(x:)")

    let store = Store.inMemory()
    let log = EventLog(store)
    for _ in 0..<2 {
      _ = store.memoize(int, [Argument("x", 2)]) { 4 }
      _ = store.memoize(double, [Argument("x", 2.5)]) { 5.0 }
    }
    let executed = log.all.compactMap { event in
      if case .willExecute(let call) = event { call.op.name } else { nil }
    }
    #expect(executed == ["Over.f(x: Int)", "Over.f(x: Double)"])
    #expect(try store.versions(of: "Over.f(x: Int)").map(\.version.hex) == ["i1"])
    #expect(try store.versions(of: "Over.f(x: Double)").map(\.version.hex) == ["d1"])
    #expect(try store.staleCalls().isEmpty)
    // The name with labels only stands for both: ambiguous.
    #expect(throws: RecallError.self) { try store.versions(of: "Over.f(x:)") }

    // Keys are made with the name with labels only, as before names had
    // types: a call recorded by an op named that way is found.
    let legacy = Op(id: "Over.f(x:)", version: CodeFingerprint(hex: "i1"))
    let older = Store.inMemory()
    _ = older.memoize(legacy, [Argument("x", 7)]) { 14 }
    let copy = Store(backend: older.backend)
    let copyLog = EventLog(copy)
    #expect(copy.memoize(int, [Argument("x", 7)]) { 0 } == 14)
    #expect(copyLog.executed.isEmpty)
  }

  @Test func labelNamesDropTheParametersTypes() {
    let cases: [(String, String)] = [
      ("M.train(_: Dataset, epochs: Int)", "M.train(_:epochs:)"),
      ("M.f(x: [String: Int], y: (Int, Double) -> [Int], z: Set<Array<Int>>)", "M.f(x:y:z:)"),
      ("M.T.g(values: Int..., tag: some Collection<Int>)", "M.T.g(values:tag:)"),
      ("M.h()", "M.h()"),
      ("M.train(_:epochs:)", "M.train(_:epochs:)"),
      ("M.block name", "M.block name"),
      ("M.loss (try 2)", "M.loss (try 2)"),
      ("M.f(`in`: Int, x: Int)", "M.f(`in`:x:)"),
    ]
    for (name, label) in cases { #expect(OpID(name).labelName == label, "\(name)") }
  }

  @Test func identicalDeclarationsInTwoFilesFindTheirFilesEntries() {
    let table = __RecallFingerprintTable(
      versions: ["f()\nfp\nA.swift": ("fp", "v-a"), "f()\nfp\nB.swift": ("fp", "v-b")],
      isGenerated: true)
    let a = Op.__resolve(
      __RecallOpSite(name: "f()", fileID: "Files/A.swift", fingerprint: "fp"), table)
    let b = Op.__resolve(
      __RecallOpSite(name: "f()", fileID: "Files/B.swift", fingerprint: "fp"), table)
    #expect(a.version.hex == "v-a")
    #expect(b.version.hex == "v-b")
  }

  @Test func aTableEntryForOtherCodeIsIgnored() {
    // The plugin saw different code than the macro (a stale table): the op's own
    // fingerprint is safer than a version computed for other code.
    let table = __RecallFingerprintTable(
      versions: ["h()\nolder": ("older", "fromplugin")], isGenerated: true)
    let op = Op.__resolve(
      __RecallOpSite(name: "h()", fileID: "Other/File.swift", fingerprint: "newer"), table)
    #expect(op.version.hex == "newer")
  }

  @Test func theTableGivesTheCodeOfWhatAnOpReaches() {
    // As the plugin writes it: components numbered from 0, then each op's reach.
    let code: StaticString =
      "C10:func k(x:)3:own19:func k(x:) { s(x) }C10:func s(_:)1:s16:func s(_ x: …)O9:k(x:)\nown3:0,1"
    let table = __RecallFingerprintTable(
      versions: ["k(x:)\nown": ("own", "v")], code: code, isGenerated: true)
    let op = Op.__resolve(
      __RecallOpSite(
        name: "k(x:)", fileID: "Other/File.swift", fingerprint: "own", source: "ignored"), table)
    #expect(op.components().map(\.identity) == ["func k(x:)", "func s(_:)"])
    #expect(op.components().last?.source == "func s(_ x: …)")

    // Without the plugin: the op's own code, and a hand-written version.
    let own = Op.__resolve(
      __RecallOpSite(
        name: "m()", fileID: "Other/File.swift", fingerprint: "fp", version: "2",
        source: "func m() -> Int { 1 }",
        parameters: "a\nb", added: "b"),
      .untracked)
    #expect(own.components().map(\.identity) == ["func m()", "@Memoized(version:)"])
    #expect(own.components().first?.source == "func m() -> Int { 1 }")
    #expect(own.parameters == ["a", "b"])
    #expect(own.addedParameters == ["b"])
  }

  @Test func malformedTableCodeIsIgnored() {
    for text in ["C3:abc", "X", "C99:x", "O1:a1:7", "C1:a1:b1:cO1:o3:0,9"] {
      let bytes = Array(text.utf8)
      #expect(bytes.withUnsafeBufferPointer { CodeTableReader.parse($0) } == nil, "\(text)")
    }
  }
}

@Suite struct KeyCompletenessTests {
  @Test func keyedTypesSeparateValuesThatEncodeAlike() throws {
    #expect(
      try ValueCodec.contentID(of: Data([1, 2])) == ValueCodec.contentID(of: [UInt8]([1, 2])))
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("describe")
    let a = store.memoize(op, [Argument("v", Data([1, 2]), keyingType: true)]) { "Data" }
    let b = store.memoize(op, [Argument("v", [UInt8]([1, 2]), keyingType: true)]) { "[UInt8]" }
    #expect(a == "Data")
    #expect(b == "[UInt8]")
    #expect(log.executed.count == 2)
  }

  @Test func blocksKeyTheirResultType() {
    let store = quietStore()
    let log = EventLog(store)
    let block = Op(id: "Tests.block", version: CodeFingerprint(hex: "1"), keysResultType: true)
    let int: Int = store.memoize(block, []) { 1 }
    let int64: Int64 = store.memoize(block, []) { 2 }
    #expect(int == 1)
    #expect(int64 == 2)
    #expect(log.executed.count == 2)
  }
}

@Suite struct TypeNameTests {
  private struct Secret {}

  @Test func namesCarryNoAddresses() {
    #expect(
      TypeName.withoutAddresses("a.(unknown context at $558f887a2138).(unknown context at $55ca).L")
        == "a.(local).(local).L")
    #expect(TypeName.withoutAddresses("Swift.Array<Swift.Int>") == "Swift.Array<Swift.Int>")
    struct Local {}
    #expect(!TypeName.stable(Local.self).contains("$"))
    #expect(TypeName.stable(Secret.self).hasSuffix("Secret"))
    #expect(!TypeName.stable(Secret.self).contains("$"))
    #expect(TypeName.stable([Int].self) == "Swift.Array<Swift.Int>")
  }
}
