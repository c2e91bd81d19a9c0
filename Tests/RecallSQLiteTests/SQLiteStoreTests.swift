import Foundation
import GRDB
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// A store with two small (inline) values and one blob file, and its database.
func storeWithOneBlob() throws -> (TemporaryDirectory, DatabaseQueue) {
  let directory = TemporaryDirectory()
  do {
    let store = try openStore(directory.path, inlineThreshold: 1024)
    _ = series(store, 10)
    _ = series(store, 10_000)
  }
  return (directory, try DatabaseQueue(path: directory.path + "/recall.sqlite"))
}

@Suite struct SQLiteStoreTests {
  /// Once SQLite is in use, its memory statistics stay as they are, and
  /// the call says so (decision 0112).
  @Test func memoryStatisticsStayOnceSQLiteIsInUse() throws {
    let directory = TemporaryDirectory()
    let store = Store(backend: try SQLiteBackend(path: directory.path))
    #expect(store.memoize(testOp("f"), [Argument("x", 1)]) { 2 } == 2)
    #expect(SQLiteBackend.turnOffMemoryStatistics() == false)
    #expect(store.memoize(testOp("f"), [Argument("x", 1)]) { 3 } == 2)
  }

  @Test func recordsTheCallsProvenance() throws {
    let directory = TemporaryDirectory()
    let store = try openStore(directory.path)
    _ = series(store, 5)
    let backend = try #require(store.backend as? SQLiteBackend)
    let row = try backend.pool.read { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT op_name.name AS op, filing.op_version, call.* FROM call
          JOIN op_name ON op_name.id = call.op JOIN filing ON filing.id = call.filing
          """)
    }
    let call = try #require(row)
    #expect(call["op"] as String == "Tests.series(n:)")
    #expect(call["op_version"] as String == "1")
    #expect(call["trial"] as Int == 0)
    #expect(call["pid"] as Int == Int(getpid()))
    #expect((call["host"] as String).isEmpty == false)
    #expect(call["duration"] as Double >= 0)
    let inputs = try backend.pool.read { db in
      try Row.fetchAll(db, sql: "SELECT name FROM call_input")
    }
    #expect(inputs.map { $0["name"] as String } == ["n"])
    // The input value is stored too, by cid.
    #expect(try store.stats().values == 2)
  }

  @Test func anEnvironmentIsOneRowHoweverManyCallsAndProcessesNameIt() throws {
    let directory = TemporaryDirectory()
    for process in 0..<3 {
      let store = try openStore(directory.path)
      for x in 0..<4 { _ = store.memoize(builtOp(), [Argument("x", process * 10 + x)]) { x } }
      _ = store.memoize(testOp("Tests.plain(x:)"), [Argument("x", process)]) { process }
      store.flush()
    }
    let backend = try SQLiteBackend(path: directory.path)
    let counts = try backend.pool.read { db in
      try [
        "SELECT count(*) FROM environment", "SELECT count(*) FROM environment_changes",
        "SELECT count(DISTINCT environment) FROM call", "SELECT count(*) FROM call",
      ].map { try Int.fetchOne(db, sql: $0) ?? -1 }
    }
    #expect(counts == [2, 1, 2, 15], "environments, changes, named by calls, calls")

    // Collected a day after they were last saved, once no call names them,
    // with the changes only they named; a process still running saves its
    // own again (every ten minutes) before its calls name it.
    let store = try openStore(directory.path)
    _ = try store.forget(try store.calls(matching: CallQuery()).map(\.id))
    try backend.pool.write { db in
      try db.execute(sql: "UPDATE environment SET saved_at = saved_at - 2 * 86400")
    }
    #expect(try store.collectGarbage().environments == 2)
    let (environment, _) = CallEnvironment.current(build: builtOp().details.build)
    #expect(try store.environment(environment.id) == nil)
    #expect(try store.uncommittedChanges(of: environment) == nil)
    #expect(store.environmentID(recording: builtOp()) == environment.id)
    #expect(try store.environment(environment.id) == environment)
    #expect(try store.uncommittedChanges(of: environment) == builtChanges)
    // Saved again ten minutes later, not before.
    try backend.pool.write { db in try db.execute(sql: "DELETE FROM environment") }
    #expect(store.environmentID(recording: builtOp()) == environment.id)
    #expect(try store.environment(environment.id) == nil)
    let later = Date(timeIntervalSinceNow: Store.environmentRenewal + 1)
    #expect(store.environmentID(recording: builtOp(), at: later) == environment.id)
    #expect(try store.environment(environment.id) == environment)
  }

  @Test func anEvictionKilledBetweenItsStepsLeavesOnlyGarbage() throws {
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      for n in [10, 2_000, 3_000, 4_000] { _ = series(store, n) }
    }
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let backend = try #require(store.backend as? SQLiteBackend)
    let outputs = try store.calls(of: op.id).map(\.outputCID)
    // The rows lose their bytes; the process dies before the files go.
    let (evicted, files) = try backend.evictRows(outputs, at: Date())
    #expect(evicted.count == 4 && files.count == 3)
    #expect(try store.calls(of: op.id).allSatisfy { $0.evictedAt != nil })
    // A fresh process finds every call a miss, and computes it again.
    let other = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(other)
    #expect(series(other, 2_000).count == 2_000)
    #expect(log.executed == ["series(n:)"])
    other.flush()
    // The files left behind are garbage, but for the one stored again.
    let garbage = try other.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: 10))
    #expect(garbage.orphanFiles == 2)
    let fresh = try openStore(directory.path, inlineThreshold: 1024)
    let freshLog = EventLog(fresh)
    #expect(series(fresh, 2_000).count == 2_000)
    #expect(series(fresh, 3_000).count == 3_000)
    #expect(freshLog.executed == ["series(n:)"], "only the evicted 3,000 runs again")
    #expect(try fresh.evictions().first?.calls == 2)
  }

  @Test func largeValuesAreBlobFilesSmallOnesInline() throws {
    let directory = TemporaryDirectory()
    let store = try openStore(directory.path, inlineThreshold: 1024)
    _ = series(store, 10)
    _ = series(store, 10_000)
    store.flush()
    let blobs = try FileManager.default.subpathsOfDirectory(atPath: directory.path + "/blobs")
      .filter { $0.count > 3 }
    #expect(blobs.count == 1)
    let tmp = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/tmp")
    #expect(tmp.isEmpty)
  }

  @Test func aCorruptBlobIsQuarantinedAndRecomputed() throws {
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = series(store, 10_000)
    }
    try damageABlob(in: directory)

    let (_, warnings) = try expectSeriesRecomputedAsCorrupt(in: directory)
    #expect(warnings.first?.message.contains("checksum") == true)
    let quarantined = try FileManager.default.contentsOfDirectory(
      atPath: directory.path + "/quarantine")
    #expect(quarantined.count == 1)
    // The recomputed value was stored again and is served from now on.
    let again = try openStore(directory.path, inlineThreshold: 1024)
    let counterAgain = EventLog(again)
    #expect(series(again, 10_000).count == 10_000)
    #expect(counterAgain.executed.count == 0)
  }

  @Test func aLargeBlobCheckedWhileItDecodesIsNeverServedCorrupt() throws {
    // 9.6 MB: its checksum runs on another thread while the hit decodes it.
    let count = 1_200_000
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      _ = series(store, count)
    }
    // Intact, and without a stamp (as from before stamps): served, from the
    // store, its checksum checked alongside.
    try DatabaseQueue(path: directory.path + "/recall.sqlite").write {
      try $0.execute(sql: "UPDATE value SET stamp = NULL")
    }
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      let log = EventLog(store)
      #expect(series(store, count).count == count)
      #expect(log.executed.isEmpty)
      #expect(log.warnings.isEmpty)
    }
    try damageABlob(in: directory)
    let (store, warnings) = try expectSeriesRecomputedAsCorrupt(in: directory, count: count)
    #expect(warnings.first?.message.contains("checksum") == true)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.path + "/quarantine").count == 1
    )
    store.flush()
    let again = try openStore(directory.path, inlineThreshold: 1024)
    let againLog = EventLog(again)
    #expect(series(again, count).count == count)
    #expect(againLog.executed.isEmpty)
  }

  @Test func blobsAreCheckedByTheirChecksumOrElseByTheirContentID() throws {
    let (directory, database) = try storeWithOneBlob()
    // A checksum for the blob, and for the inline values too.
    let checksums = try database.read {
      try Int64?.fetchAll($0, sql: "SELECT checksum FROM value ORDER BY size")
    }
    #expect(checksums.count == 4)
    #expect(checksums.allSatisfy { $0 != nil })

    // A file from before checksums (and stamps) existed is still checked, by
    // its content id.
    try database.write { try $0.execute(sql: "UPDATE value SET checksum = NULL, stamp = NULL") }
    try damageABlob(in: directory)
    let (_, warnings) = try expectSeriesRecomputedAsCorrupt(in: directory)
    #expect(warnings.first?.message.contains("hash to") == true)
  }

  @Test func aBlobFileUnchangedSinceItWasWrittenIsNotReadThroughAgain() throws {
    let (directory, database) = try storeWithOneBlob()
    let stamps = try database.read {
      try String?.fetchAll($0, sql: "SELECT stamp FROM value ORDER BY size")
    }
    #expect(stamps.dropLast().allSatisfy { $0 == nil })
    #expect(stamps.last!?.split(separator: ":").count == 5)
    // With a wrong checksum recorded, the unchanged file is still served: its
    // checksum is not computed.
    try database.write {
      try $0.execute(sql: "UPDATE value SET checksum = 12345 WHERE stamp IS NOT NULL")
    }
    do {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      let log = EventLog(store)
      #expect(series(store, 10_000).count == 10_000)
      #expect(log.executed.isEmpty && log.warnings.isEmpty)
    }
    // Any change to the file (here only its permissions) moves its
    // status-change time: it is checked again, and fails.
    #expect(chmod(try aBlobFile(in: directory), 0o600) == 0)
    _ = try expectSeriesRecomputedAsCorrupt(in: directory)
  }

  @Test func aBlobFileReplacedByAnotherOfTheSameSizeIsCheckedAgain() throws {
    let (directory, _) = try storeWithOneBlob()
    let path = try aBlobFile(in: directory)
    var bytes = try #require(FileManager.default.contents(atPath: path))
    bytes[bytes.count - 1] ^= 0x40
    let replacement = directory.path + "/tmp/replacement"
    #expect(FileManager.default.createFile(atPath: replacement, contents: bytes))
    #expect(rename(replacement, path) == 0)
    _ = try expectSeriesRecomputedAsCorrupt(in: directory)
  }

  @Test func aBlobFileThatWasAlreadyThereGetsNoStamp() throws {
    let directory = TemporaryDirectory()
    let blobs = try BlobDirectory(root: directory.path)
    let value = try ValueCodec.encode((0..<5_000).map(Double.init))
    #expect(try blobs.write(value) != nil)
    #expect(try blobs.write(value) == nil)
  }

  @Test func listingOpsReadsOnlyAnIndex() throws {
    let directory = TemporaryDirectory()
    let backend = try SQLiteBackend(path: directory.path)
    let plan = try backend.pool.read { db in
      try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteBackend.opSummarySQL).map {
        $0["detail"] as String
      }
    }
    #expect(plan.contains { $0.contains("COVERING INDEX call_on_op_started") }, "\(plan)")
  }

  @Test func aStoreFromANewerVersionIsRefused() throws {
    let directory = TemporaryDirectory()
    _ = try openStore(directory.path)
    let queue = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try queue.write { db in
      try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99.from-the-future')")
    }
    #expect {
      _ = try openStore(directory.path)
    } throws: { error in
      guard case RecallError.storeFromNewerVersion = error else { return false }
      return "\(error)".contains("v99.from-the-future") && "\(error)".contains("Upgrade Recall")
    }
  }

  @Test func aLockedStoreGivesAClearErrorAndTheCallStillRuns() throws {
    let directory = TemporaryDirectory()
    var timeout = SQLiteBackend.Configuration()
    timeout.busyTimeout = .milliseconds(100)
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration, backend: timeout)
    let backend = try #require(store.backend as? SQLiteBackend)
    let counter = EventLog(store)

    let queue = try DatabaseQueue(path: directory.path + "/recall.sqlite")
    try queue.inDatabase { db in
      try db.execute(sql: "BEGIN EXCLUSIVE")
      #expect(series(store, 3).count == 3)
      let record = CallRecord(
        id: CallID(Digest.sha256("x")), op: "x", opVersion: .init(hex: "1"),
        semanticVersion: .init(hex: "1"), trial: 0, inputs: [],
        outputCID: ContentID(Digest.sha256("y")), outputHID: HistoryID(Digest.sha256("y")),
        outputSize: 0, startedAt: Date(), duration: 0, host: "h", pid: 1)
      #expect {
        try backend.record(record, values: [])
      } throws: { error in
        guard case RecallError.storeLocked = error else { return false }
        return "\(error)".contains("locked")
      }
      try db.execute(sql: "ROLLBACK")
    }
    #expect(counter.executed.count == 1)
    #expect(counter.warnings.map(\.kind).contains(.storeFailure))
  }

  @Test func aHitFromAFreshStoreIsFast() throws {
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path)
      for n in 0..<100 { _ = series(store, n) }
    }
    let clock = ContinuousClock()
    var store: Store!
    let open = try clock.measure { store = try openStore(directory.path) }
    let hits = clock.measure { for n in 0..<100 { _ = series(store, n) } }
    // Generous bounds for a debug build on a loaded machine; the release
    // benchmark measures the real numbers.
    #expect(open < .milliseconds(200))
    #expect(hits < .milliseconds(500))
  }
}
