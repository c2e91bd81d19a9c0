import Foundation
import GRDB
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// Stores written by an older schema keep everything through an upgrade.
@Suite struct MigrationTests {
  static func digest(_ seed: String) -> Digest { Digest.sha256(seed) }
  // Real values: a store checks what it serves against its checksum, or
  // (recorded before there was one) its content id.
  static let inputValue = try! ValueCodec.encode([1, 2, 3])
  static let outputValue = try! ValueCodec.encode("output")
  static let lostValue = try! ValueCodec.encode(7)
  static let input = inputValue.cid
  static let output = outputValue.cid
  static let lost = lostValue.cid
  static let firstHID = HistoryID(digest("first output's history"))
  static let secondHID = HistoryID(digest("second output's history"))
  static let first = CallID(digest("first call"))
  static let second = CallID(digest("second call"))

  /// The two calls written below, as every backend returns them: the
  /// second's input is the first's output.
  static let calls = [
    CallRecord(
      id: second, op: OpID("M.g(y:)"), opVersion: CodeFingerprint(hex: "b2"),
      semanticVersion: CodeFingerprint(hex: "b1"), trial: 1,
      inputs: [CallInput(name: "y", cid: output, hid: firstHID)], outputCID: lost,
      outputHID: secondHID,
      outputSize: 9, startedAt: Date(timeIntervalSince1970: 200), duration: 0.25, host: "there",
      pid: 8),
    CallRecord(
      id: first, op: OpID("M.f(x:)"), opVersion: CodeFingerprint(hex: "a1"),
      semanticVersion: CodeFingerprint(hex: "a1"), trial: 0,
      inputs: [CallInput(name: "x", cid: input, hid: HistoryID(external: input))],
      outputCID: output,
      outputHID: firstHID, outputSize: 2, startedAt: Date(timeIntervalSince1970: 100),
      duration: 1.5,
      host: "here", pid: 7, keyFields: [9, 9]),
  ]

  /// A database at migration `v6.blob-stamp` holding `calls`, two values (the
  /// second call's output is lost: its row was dropped) and a tag.
  static func version6Store(at path: String) throws {
    let queue = try DatabaseQueue(path: path + "/recall.sqlite")
    try SQLiteBackend.migrator.migrate(queue, upTo: "v6.blob-stamp")
    try queue.write { db in
      for (cid, bytes) in [(input, Data(inputValue.bytes)), (output, Data(outputValue.bytes))] {
        try db.execute(
          sql: "INSERT INTO value (cid, size, bytes, created_at) VALUES (?, ?, ?, 0)",
          arguments: [cid.digest.data, bytes.count, bytes])
      }
      for call in calls {
        try db.execute(
          sql: """
            INSERT INTO call (id, op, op_version, semantic_version, trial, output_cid, output_hid,
              output_size, started_at, duration, host, pid, key_fields)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            call.id.digest.data, call.op.name, call.opVersion.hex, call.semanticVersion.hex,
            call.trial,
            call.outputCID.digest.data, call.outputHID.digest.data, call.outputSize,
            call.startedAt.timeIntervalSince1970, call.duration, call.host, call.pid,
            call.keyFields.map { Data($0) },
          ])
        for input in call.inputs {
          try db.execute(
            sql: "INSERT INTO call_input (call_id, name, cid, hid) VALUES (?, ?, ?, ?)",
            arguments: [
              call.id.digest.data, input.name, input.cid.digest.data, input.hid.digest.data,
            ])
        }
      }
      try db.execute(
        sql: "INSERT INTO tag (name, call_id, created_at) VALUES ('best', ?, 0)",
        arguments: [first.digest.data])
    }
  }

  @Test func aVersion6StoreKeepsItsCallsValuesHistoriesAndTags() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    try Self.version6Store(at: directory.path)
    let backend = try SQLiteBackend(path: directory.path)

    #expect(try backend.calls(CallQuery()) == Self.calls)
    #expect(try backend.calls(CallQuery(limit: 1)) == [Self.calls[0]])
    let hit = try #require(try backend.loadResult(Self.first))
    #expect(
      hit.bytes == Self.outputValue.bytes && hit.cid == Self.output && hit.hid == Self.firstHID
        && hit.duration == 1.5)
    #expect(try backend.loadResult(Self.second) == nil, "its output was lost before the upgrade")
    #expect(try backend.value(Self.input) == Self.inputValue.bytes)
    #expect(try backend.value(Self.lost) == nil)
    let summary = try backend.summary()
    #expect(
      summary.calls == 2 && summary.values == 2
        && summary.bytes == Self.inputValue.bytes.count + Self.outputValue.bytes.count)

    // Every way of finding a call.
    let ids = { (query: CallQuery) in try backend.calls(query).map(\.id) }
    #expect(try ids(CallQuery(op: OpID("M.f(x:)"))) == [Self.first])
    #expect(
      try ids(CallQuery(op: OpID("M.g(y:)"), semanticVersion: CodeFingerprint(hex: "b1"))) == [
        Self.second
      ])
    #expect(try ids(CallQuery(opVersion: CodeFingerprint(hex: "a1"))) == [Self.first])
    #expect(
      try ids(CallQuery(op: OpID("M.g(y:)"), semanticVersionOtherThan: CodeFingerprint(hex: "b1")))
        == [])
    #expect(try ids(CallQuery(op: OpID("M.nothing"))) == [])
    #expect(try ids(CallQuery(inputs: ["y": Self.output])) == [Self.second])
    #expect(try ids(CallQuery(inputs: ["x": Self.output])) == [])
    #expect(try ids(CallQuery(idPrefix: String(Self.second.hex.prefix(20)))) == [Self.second])
    #expect(try ids(CallQuery(outputCID: Self.output)) == [Self.first])
    #expect(try ids(CallQuery(outputHID: Self.secondHID)) == [Self.second])
    #expect(try ids(CallQuery(inputHID: Self.firstHID)) == [Self.second])
    #expect(
      try ids(CallQuery(inputHID: HistoryID(external: Self.input))) == [Self.first],
      "a history id that is its cid")
    #expect(try ids(CallQuery(inputCID: Self.output)) == [Self.second])
    #expect(try backend.call(Self.first) == Self.calls[1])

    #expect(try backend.tags().map(\.target) == [.call(Self.first)])
    #expect(
      try backend.collectGarbage(keepingFilesNewerThan: Date()).values == 0, "every value is named")
    #expect(try backend.ops().map { [$0.op.name: $0.calls] } == [["M.f(x:)": 1], ["M.g(y:)": 1]])

    // What an older Recall did to a value whose blob failed its check is
    // refused: the row's id could be reused, and a call would name another value.
    #expect(throws: DatabaseError.self) {
      try backend.pool.write {
        try $0.execute(sql: "DELETE FROM value WHERE cid = ?", arguments: [Self.output.digest.data])
      }
    }
    #expect(try backend.value(Self.output) == Self.outputValue.bytes)

    // Storing the lost output again brings the call back.
    try backend.record(Self.calls[0], values: [Self.lostValue])
    #expect(try backend.loadResult(Self.second)?.bytes == Self.lostValue.bytes)
    #expect(try backend.calls(CallQuery()) == Self.calls)
  }

  @Test func aVersion7StoreKeepsItsCurrentVersionAndResults() throws {
    // Written by the runtime, then taken back to `v7.compact` (what a store
    // from before program locations holds): its latest version stays
    // current, its results are served, and the first program to run records
    // its own location in place of the migrated one.
    let directory = TemporaryDirectory()
    let v1 = scaledOp("a1", helper: "double")
    let v2 = scaledOp("b2", helper: "triple")
    do {
      let store = Store(backend: try SQLiteBackend(path: directory.path))
      _ = scaled(store, v1, 1, factor: 2)
      _ = scaled(store, v2, 1, factor: 3)
      store.flush()
    }
    let queue = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try queue.write { db in
      try db.execute(
        sql: """
          DROP TABLE op_location; DROP TABLE store_count;
          DELETE FROM grdb_migrations WHERE identifier = 'v8.version-locations';
          """)
    }
    try queue.close()

    var configuration = Store.Configuration()
    configuration.program = "host:/checkout/.build/debug/run"
    let store = Store(
      backend: try SQLiteBackend(path: directory.path), configuration: configuration)
    let versions = try store.versions(of: "Tests.scaled(x:)")
    #expect(versions.filter(\.isCurrent).map(\.version.hex) == ["b2"])
    #expect(try store.staleCalls().map(\.opVersion.hex) == ["a1"])
    let log = EventLog(store)
    #expect(scaled(store, v2, 1, factor: 3) == 3)
    #expect(log.executed.isEmpty)
    // A miss records the program; the migrated location ('') is gone.
    #expect(scaled(store, v2, 2, factor: 3) == 6)
    let locations = try (store.backend as! SQLiteBackend).pool.read { db in
      try String.fetchAll(db, sql: "SELECT location FROM op_location")
    }
    #expect(locations == ["host:/checkout/.build/debug/run"])
    #expect(try (store.backend as! SQLiteBackend).acceptCount() == 0)
  }

  @Test func aStoreFromBeforeValuePartsKeepsItsResultsAndTakesOutputs() throws {
    // Written by the runtime, then taken back to `v15.counts` (a store from
    // before several outputs and collections by element): its calls are
    // found by the keys they had, and a result of several outputs is stored
    // by parts once upgraded.
    let directory = TemporaryDirectory()
    let v1 = scaledOp("a1", helper: "double")
    do {
      let store = Store(backend: try SQLiteBackend(path: directory.path))
      _ = scaled(store, v1, 1, factor: 2)
      store.flush()
    }
    let queue = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try queue.write { db in
      try db.execute(
        sql: """
          DROP TABLE value_part;
          DELETE FROM grdb_migrations WHERE identifier = 'v16.value-parts';
          """)
    }
    try queue.close()

    let store = Store(backend: try SQLiteBackend(path: directory.path))
    let log = EventLog(store)
    #expect(scaled(store, v1, 1, factor: 2) == 2)
    #expect(log.executed.isEmpty)
    let listOp = testOp("Tests.list(n:)")
    _ = store.memoize(listOp, [Argument("n", 2)]) { Elements([[1.0], [2.0]]) }
    store.flush()
    let call = try #require(try store.calls(of: "Tests.list(n:)").first)
    #expect(try store.outputs(of: call.outputCID).map(\.label) == ["[0]", "[1]"])
  }

  @Test func aStoreFromBeforeTrialsKeepsItsResultsInEveryTrial() throws {
    // Written by the runtime, then taken back to `v9.call-checksum` (a store
    // from before trials and audits): its calls keep their ids, which every
    // trial shares, and nothing runs again.
    let directory = TemporaryDirectory()
    let v1 = scaledOp("a1", helper: "double")
    do {
      let store = Store(backend: try SQLiteBackend(path: directory.path))
      _ = scaled(store, v1, 1, factor: 2)
      _ = scaled(store, v1, 2, factor: 2)
      store.flush()
    }
    let queue = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try queue.write { db in
      try db.execute(
        sql: """
          DROP TABLE audit;
          DELETE FROM grdb_migrations WHERE identifier = 'v10.audits';
          """)
    }
    try queue.close()

    let store = Store(backend: try SQLiteBackend(path: directory.path))
    let log = EventLog(store)
    #expect(scaled(store, v1, 1, factor: -1) == 2)
    #expect(withTrial(3) { scaled(store, v1, 2, factor: -1) } == 4)
    #expect(log.executed.isEmpty)
    // The ids a call every trial shares has always had (`recall.call.v2`,
    // trial 0): pinned, so that a change to the key is seen here first.
    #expect(
      try store.calls(of: "Tests.scaled(x:)").map(\.id.hex).sorted() == [
        "146d1c2bd27d297f10b656ad9836ba2b264e286caae2a4ff5178fc8222ca7326",
        "32f478a6b0ffff959503dfcb40765c43376906437b2211dc91b0821ff21f107c",
      ])
    #expect(try store.audits().isEmpty)
  }

  @Test func everyColumnRoundTripsThroughTheFastPath() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    var call = Self.calls[1]
    call.keyFields = []  // kept, and empty: not the NULL of a call recorded before keys were kept
    call.missCause = .expired
    // The high bit set: stored as a negative 64-bit integer, read back whole.
    call.environment = EnvironmentID(rawValue: 0xF123_4567_89AB_CDEF)
    try backend.record(call, values: [Self.outputValue])
    #expect(try backend.calls(CallQuery()) == [call])
    #expect(try backend.loadResult(Self.first)?.bytes == Self.outputValue.bytes)
    call.keyFields = nil
    call.host = "elsewhere"
    call.environment = nil
    try backend.record(call, values: [])
    #expect(try backend.calls(CallQuery()) == [call], "recording a call again replaces it")
    #expect(try backend.summary().calls == 1)
  }

  @Test func aValueNamedBeforeItsBytesArriveInTheSameCommitIsStored() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    // The second call's input is the first's output, whose bytes come with
    // the first call only: one transaction must still store them.
    let errors = backend.commit([
      (Self.calls[0], values: [Self.lostValue]),
      (Self.calls[1], values: [Self.outputValue]),
    ])
    #expect(errors.allSatisfy { $0 == nil })
    #expect(try backend.loadResult(Self.first)?.bytes == Self.outputValue.bytes)
    #expect(try backend.loadResult(Self.second)?.bytes == Self.lostValue.bytes)
    #expect(try backend.value(Self.output) == Self.outputValue.bytes)
  }

  @Test func keyFieldsAreStoredByReferenceToTheInputsAndComeBackWhole() {
    func field(_ bytes: [UInt8]) -> [UInt8] {
      withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) } + bytes
    }
    func bytes(_ digest: Digest) -> [UInt8] { digest.withUnsafeBytes { Array($0) } }
    let (a, b) = (Self.digest("a"), Self.digest("b"))
    // Arguments in their declared order (`z`, then `a`), a keyed type, a
    // 32-byte field that is no input's cid, and an empty field.
    let fields =
      field(Array("z".utf8)) + field(bytes(b)) + field(Array("Swift.Int".utf8))
      + field(Array("a".utf8))
      + field(bytes(a)) + field(bytes(Self.digest("not an input"))) + field([])
    let inputs = StoredKeyFields.order([(name: "z", cid: b), (name: "a", cid: a)])
    #expect(inputs == [a, b])
    let stored = StoredKeyFields.compact(fields, inputs: inputs)
    // 163 bytes: the form, a number per field, the bytes of the fields that
    // are not inputs' cids.
    #expect(fields.count == 163 && stored.count == 1 + 7 + 1 + 9 + 1 + 32)
    #expect(StoredKeyFields.expand(stored, inputs: inputs) == fields)
    #expect(StoredKeyFields.expand(StoredKeyFields.compact([], inputs: []), inputs: []) == [])
    // One input, as most calls: 4 bytes instead of 49.
    #expect(
      StoredKeyFields.compact(field(Array("x".utf8)) + field(bytes(a)), inputs: [a]).count == 4)
    // Bytes that are not a run of fields are kept whole.
    #expect(StoredKeyFields.compact([1, 2, 3], inputs: [a]) == [0, 1, 2, 3])
    #expect(StoredKeyFields.expand([0, 1, 2, 3], inputs: []) == [1, 2, 3])
    // Malformed: an unknown form, a missing input, a field past the end, a
    // number that never ends.
    #expect(StoredKeyFields.expand([2], inputs: []) == nil)
    #expect(StoredKeyFields.expand([1, 3], inputs: [a]) == nil)
    #expect(StoredKeyFields.expand([1, 8, 1], inputs: []) == nil)
    #expect(StoredKeyFields.expand([1, 0x80], inputs: []) == nil)
    #expect(StoredKeyFields.expand([], inputs: []) == nil)
  }
}
