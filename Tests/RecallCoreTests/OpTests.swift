import Foundation
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

@Suite struct MemoryLayerTests {
  func entry(_ size: Int) -> MemoryLayer.Entry {
    let cid = ContentID(Digest.sha256("x"))
    return .init(
      value: size, cid: cid, hid: HistoryID(external: cid), size: size, duration: 0, storedAt: 0)
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

  @Test func behavesAsALeastRecentlyUsedListByBytes() {
    // 20,000 random puts, gets and removals of 12 keys against a list from
    // least to most recently used: the same entries are found, the same
    // bytes used.
    let layer = MemoryLayer(budget: 100)
    var list: [(key: Int, size: Int)] = []
    var random = SplitMix(seed: 3)
    for _ in 0..<20_000 {
      let k = Int(random.next() % 12)
      switch random.next() % 5 {
      case 0, 1:
        let found = layer.get(key(k))
        if let at = list.firstIndex(where: { $0.key == k }) {
          #expect(found?.value as? Int == list[at].size)
          list.append(list.remove(at: at))
        } else {
          #expect(found == nil)
        }
      case 2:
        layer.remove(key(k))
        list.removeAll { $0.key == k }
      default:
        let size = Int(random.next() % 110)
        layer.put(key(k), entry(size))
        list.removeAll { $0.key == k }
        if size <= 100 {
          list.append((k, size))
          while list.reduce(0, { $0 + $1.size }) > 100 { list.removeFirst() }
        }
      }
      #expect(layer.usedBytes == list.reduce(0) { $0 + $1.size })
    }
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
    let plain = Op.declared(
      at: OpSite(name: "f(_:)", fileID: "Module/File.swift", fingerprint: fingerprint),
      .untracked)
    let bumped = Op.declared(
      at: OpSite(
        name: "f(_:)", fileID: "Module/File.swift", fingerprint: fingerprint, version: "2"),
      .untracked)
    #expect(plain.id == "Module.f(_:)")
    #expect(plain.version.hex == "abc")
    #expect(bumped.id == plain.id)
    #expect(bumped.version != plain.version)
  }

  @Test func theGeneratedTableOverridesTheFingerprint() {
    let table = FingerprintTable(
      versions: ["g()\nown": ("own", "fromplugin")], isGenerated: true)
    let op = Op.declared(
      at: OpSite(name: "g()", fileID: "Other/File.swift", fingerprint: "own"), table)
    #expect(op.version.hex == "fromplugin")
  }

  @Test func overloadsWithTheSameLabelsHaveTheirOwnEntries() {
    // `f(x: Int)` and `f(x: Double)` share the name `f(x:)`: the table keys
    // entries by name and own fingerprint, so each finds its own version.
    let table = FingerprintTable(
      versions: ["f(x:)\nint": ("int", "v-int"), "f(x:)\ndouble": ("double", "v-double")],
      isGenerated: true)
    let int = Op.declared(
      at: OpSite(name: "f(x:)", fileID: "Over/File.swift", fingerprint: "int"), table)
    let double = Op.declared(
      at: OpSite(name: "f(x:)", fileID: "Over/File.swift", fingerprint: "double"), table)
    #expect(int.version.hex == "v-int")
    #expect(double.version.hex == "v-double")
  }

  @Test func overloadsAreDifferentOpsWhoseCallsKeepTheirLabelKeys() throws {
    // Issue 16, defect 2: `f(x: Int)` and `f(x: Double)` shared one op id,
    // so each made the other's results stale.
    let int = Op.declared(
      at: OpSite(
        name: "f(x:)", fileID: "Over/File.swift", fingerprint: "i1", typedName: "f(x: Int)"),
      .untracked)
    let double = Op.declared(
      at: OpSite(
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
    let table = FingerprintTable(
      versions: ["f()\nfp\nA.swift": ("fp", "v-a"), "f()\nfp\nB.swift": ("fp", "v-b")],
      isGenerated: true)
    let a = Op.declared(
      at: OpSite(name: "f()", fileID: "Files/A.swift", fingerprint: "fp"), table)
    let b = Op.declared(
      at: OpSite(name: "f()", fileID: "Files/B.swift", fingerprint: "fp"), table)
    #expect(a.version.hex == "v-a")
    #expect(b.version.hex == "v-b")
  }

  @Test func aTableEntryForOtherCodeIsIgnored() {
    // The plugin saw different code than the macro (a stale table): the op's own
    // fingerprint is safer than a version computed for other code.
    let table = FingerprintTable(
      versions: ["h()\nolder": ("older", "fromplugin")], isGenerated: true)
    let op = Op.declared(
      at: OpSite(name: "h()", fileID: "Other/File.swift", fingerprint: "newer"), table)
    #expect(op.version.hex == "newer")
  }

  @Test func theTableGivesTheCodeOfWhatAnOpReaches() {
    // As the plugin writes it: components numbered from 0, then each op's reach.
    let code: StaticString =
      "C10:func k(x:)3:own19:func k(x:) { s(x) }C10:func s(_:)1:s16:func s(_ x: …)O9:k(x:)\nown3:0,1"
    let table = FingerprintTable(
      versions: ["k(x:)\nown": ("own", "v")], code: code, isGenerated: true)
    let op = Op.declared(
      at: OpSite(
        name: "k(x:)", fileID: "Other/File.swift", fingerprint: "own", source: "ignored"), table)
    #expect(op.components().map(\.identity) == ["func k(x:)", "func s(_:)"])
    #expect(op.components().last?.source == "func s(_ x: …)")

    // Without the plugin: the op's own code, and a hand-written version.
    let own = Op.declared(
      at: OpSite(
        name: "m()", fileID: "Other/File.swift", fingerprint: "fp", version: "2",
        source: "func m() -> Int { 1 }",
        parameters: "a\nb", added: "b"),
      .untracked)
    #expect(own.components().map(\.identity) == ["func m()", "@Memoized(version:)"])
    #expect(own.components().first?.source == "func m() -> Int { 1 }")
    #expect(own.parameters == ["a", "b"])
    #expect(own.addedParameters == ["b"])
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
