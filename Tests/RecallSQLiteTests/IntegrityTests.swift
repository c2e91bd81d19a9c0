import Foundation
import GRDB
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// A store with `series` of 10, 11 and 12 (small values, inline in the
/// database), and its database.
private func storeWithInlineValues() throws -> (TemporaryDirectory, DatabaseQueue) {
  let directory = TemporaryDirectory()
  do {
    let store = try openStore(directory.path)
    for n in 10...12 { _ = series(store, n) }
  }
  return (directory, try DatabaseQueue(path: directory.path + "/recall.sqlite"))
}

/// The row id of the value `series(n)` returned.
private func outputRow(of n: Int, in database: DatabaseQueue) throws -> Int64 {
  let cid = try ValueCodec.encode((0..<n).map { Double($0) / 3 }).cid
  return try #require(
    try database.read {
      try Int64.fetchOne(
        $0, sql: "SELECT id FROM value WHERE cid = ?", arguments: [cid.digest.data])
    })
}

/// Opens the store as the `recall` tool's listings do: read-only.
private func openReader(_ directory: TemporaryDirectory) throws -> Store {
  var readOnly = SQLiteBackend.Configuration()
  readOnly.readOnly = true
  return Store(reading: try SQLiteBackend(path: directory.path, configuration: readOnly))
}

/// Opens the store and runs `series` of 10, 11 and 12: returns which ran and
/// the warnings, after checking that every result is right.
private func runSeries(in directory: TemporaryDirectory) throws -> (
  executed: Int, warnings: [RecallWarning]
) {
  let store = try openStore(directory.path)
  let log = EventLog(store)
  for n in 10...12 { #expect(series(store, n) == (0..<n).map { Double($0) / 3 }) }
  store.flush()
  return (log.executed.count, log.warnings)
}

@Suite struct IntegrityTests {
  @Test func everyValueHasAChecksumAndEveryCallOne() throws {
    let (_, database) = try storeWithInlineValues()
    try database.read { db in
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM value WHERE checksum IS NULL") == 0)
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM call WHERE checksum IS NULL") == 0)
      for row in try Row.fetchAll(db, sql: "SELECT bytes, checksum FROM value") {
        let bytes = [UInt8](row["bytes"] as Data)
        #expect(Int64(bitPattern: Checksum.xxh64(bytes)) == row["checksum"] as Int64)
      }
    }
  }

  @Test func aDamagedInlineValueIsQuarantinedRecomputedAndStoredAgain() throws {
    let (directory, database) = try storeWithInlineValues()
    let row = try outputRow(of: 11, in: database)
    // One flipped bit in the middle of the value's bytes.
    try database.write { db in
      var bytes = try #require(
        try Data.fetchOne(db, sql: "SELECT bytes FROM value WHERE id = ?", arguments: [row]))
      bytes[bytes.count / 2] ^= 0x04
      try db.execute(sql: "UPDATE value SET bytes = ? WHERE id = ?", arguments: [bytes, row])
    }
    let damaged = try runSeries(in: directory)
    #expect(damaged.executed == 1)
    #expect(damaged.warnings.map(\.kind) == [.corruptValue])
    #expect(damaged.warnings.first?.message.contains("checksum") == true)
    let quarantined = try FileManager.default.contentsOfDirectory(
      atPath: directory.path + "/quarantine")
    #expect(quarantined.count == 1 && quarantined[0].hasSuffix(".inline"))
    // Stored again: served from now on.
    let again = try runSeries(in: directory)
    #expect(again.executed == 0 && again.warnings.isEmpty)
  }

  @Test func aCallWhoseRecordNamesAnotherValueIsRecomputedNotServed() throws {
    let (directory, database) = try storeWithInlineValues()
    // The call of 11 now names 12's output: what a flipped byte in its
    // `output` integer does.
    let other = try outputRow(of: 12, in: database)
    let own = try outputRow(of: 11, in: database)
    try database.write { db in
      try db.execute(sql: "UPDATE call SET output = ? WHERE output = ?", arguments: [other, own])
    }
    let damaged = try runSeries(in: directory)
    #expect(damaged.executed == 1)
    #expect(damaged.warnings.map(\.kind) == [.corruptValue])
    #expect(damaged.warnings.first?.message.contains("record of call") == true)
    let again = try runSeries(in: directory)
    #expect(again.executed == 0 && again.warnings.isEmpty)
  }

  @Test func valuesAndCallsFromBeforeChecksumsAreStillChecked() throws {
    let (directory, database) = try storeWithInlineValues()
    let row = try outputRow(of: 10, in: database)
    // As a store from before `v9.call-checksum` is: no checksums, and calls
    // below `checked_calls_from`.
    try database.write { db in
      try db.execute(sql: "UPDATE value SET checksum = NULL")
      try db.execute(sql: "UPDATE call SET checksum = NULL")
      try db.execute(
        sql: "UPDATE store_count SET value = 1000 WHERE name = 'checked_calls_from'")
    }
    let old = try runSeries(in: directory)
    #expect(old.executed == 0 && old.warnings.isEmpty)
    // A value without a checksum is checked by its content id.
    try database.write { db in
      var bytes = try #require(
        try Data.fetchOne(db, sql: "SELECT bytes FROM value WHERE id = ?", arguments: [row]))
      bytes[bytes.count - 2] ^= 0x10
      try db.execute(sql: "UPDATE value SET bytes = ? WHERE id = ?", arguments: [bytes, row])
    }
    let damaged = try runSeries(in: directory)
    #expect(damaged.executed == 1)
    #expect(damaged.warnings.first?.message.contains("hash to") == true)
    // A call recorded since the checksum exists must have one.
    try database.write { db in
      try db.execute(sql: "UPDATE call SET checksum = NULL")
      try db.execute(sql: "UPDATE store_count SET value = 1 WHERE name = 'checked_calls_from'")
    }
    let unchecked = try runSeries(in: directory)
    #expect(unchecked.executed == 3)
    #expect(unchecked.warnings.allSatisfy { $0.message.contains("no checksum") })
  }

  @Test func anInlineValueFromANewerRecallIsReplacedSaidOncePerOp() throws {
    let (directory, database) = try storeWithInlineValues()
    // Every output as a newer Recall's format, its checksum matching.
    try database.write { db in
      for row in try Row.fetchAll(
        db,
        sql: "SELECT call.output AS id, value.bytes FROM call JOIN value ON value.id = call.output")
      {
        var bytes = [UInt8](row["bytes"] as Data)
        bytes[0] = 99
        try db.execute(
          sql: "UPDATE value SET bytes = ?, checksum = ? WHERE id = ?",
          arguments: [Data(bytes), Int64(bitPattern: Checksum.xxh64(bytes)), row["id"] as Int64])
      }
    }
    let newer = try runSeries(in: directory)
    #expect(newer.executed == 3)
    #expect(newer.warnings.map(\.kind) == [.valueFromNewerVersion])
    #expect(newer.warnings.first?.message.contains("newer version of Recall") == true)
    // Stored again in this Recall's format: no more recomputing.
    let again = try runSeries(in: directory)
    #expect(again.executed == 0 && again.warnings.isEmpty)
    let versions = try database.read {
      try Data.fetchAll($0, sql: "SELECT bytes FROM value WHERE bytes IS NOT NULL").map { $0.first }
    }
    #expect(!versions.contains(99))
  }

  @Test func aBlobFromANewerRecallIsReplaced() throws {
    let (directory, database) = try storeWithOneBlob()
    let path = try aBlobFile(in: directory)
    var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
    bytes[0] = 99
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    try database.write { db in
      try db.execute(
        sql: "UPDATE value SET checksum = ?, stamp = NULL WHERE stamp IS NOT NULL",
        arguments: [Int64(bitPattern: Checksum.xxh64(bytes))])
    }
    func run() throws -> EventLog {
      let store = try openStore(directory.path, inlineThreshold: 1024)
      let log = EventLog(store)
      #expect(series(store, 10_000) == (0..<10_000).map { Double($0) / 3 })
      return log
    }
    let newer = try run()
    #expect(newer.executed.count == 1)
    #expect(newer.warnings.map(\.kind) == [.valueFromNewerVersion])
    let again = try run()
    #expect(again.executed.isEmpty && again.warnings.isEmpty)
    #expect(try FileManager.default.contents(atPath: aBlobFile(in: directory))?.first != 99)
  }

  @Test func aDirectoryWhereABlobFileBelongsIsMovedAsideOnce() throws {
    let (directory, _) = try storeWithOneBlob()
    let path = try aBlobFile(in: directory)
    #expect(unlink(path) == 0 && mkdir(path, 0o755) == 0)
    let (_, warnings) = try expectSeriesRecomputedAsCorrupt(in: directory)
    #expect(warnings.first?.message.contains("not a file") == true)
    let store = try openStore(directory.path, inlineThreshold: 1024)
    let log = EventLog(store)
    _ = series(store, 10_000)
    #expect(log.executed.isEmpty && log.warnings.isEmpty)
  }

  @Test func aFileWhereTheQuarantineBelongsIsRefusedAtOpen() throws {
    let directory = TemporaryDirectory()
    _ = try openStore(directory.path)
    let quarantine = directory.path + "/quarantine"
    #expect(rmdir(quarantine) == 0)
    #expect(FileManager.default.createFile(atPath: quarantine, contents: Data("x".utf8)))
    #expect {
      _ = try openStore(directory.path)
    } throws: { error in
      "\(error)".contains("\(quarantine) is not a directory") && "\(error)".contains("mv ")
    }
  }

  @Test func aValueWhoseBytesWereLostFromItsRowIsStoredAgain() throws {
    let (directory, database) = try storeWithInlineValues()
    let row = try outputRow(of: 12, in: database)
    // Bytes NULL with a size: the row says "a blob file", and there is none.
    try database.write { db in
      try db.execute(sql: "UPDATE value SET bytes = NULL WHERE id = ?", arguments: [row])
    }
    let lost = try runSeries(in: directory)
    #expect(lost.executed == 1)
    let again = try runSeries(in: directory)
    #expect(again.executed == 0 && again.warnings.isEmpty)
  }

  @Test func listingsExportsAndAcceptsLeaveOutADamagedCallRecord() throws {
    let (directory, database) = try storeWithInlineValues()
    let other = try outputRow(of: 12, in: database)
    let own = try outputRow(of: 11, in: database)
    try database.write { db in
      try db.execute(sql: "UPDATE call SET output = ? WHERE output = ?", arguments: [other, own])
    }
    let reader = try openReader(directory)
    #expect(try reader.calls(matching: CallQuery()).count == 2, "the damaged call is not listed")
    // A copy does not give the damage a checksum of its own.
    let copy = TemporaryDirectory()
    let report = try reader.copy(to: try openStore(copy.path), ops: nil)
    #expect(report.calls == 2)
    let copied = try runSeries(in: copy)
    #expect(copied.executed == 1 && copied.warnings.isEmpty, "11 is computed, never served as 12")
  }

  @Test func aLimitCountsIntactCalls() throws {
    let (directory, database) = try storeWithInlineValues()
    // The newest call (of 12) fails its checksum.
    let newest = try outputRow(of: 12, in: database)
    try database.write { db in
      try db.execute(
        sql: "UPDATE call SET checksum = checksum + 1 WHERE output = ?", arguments: [newest])
    }
    let reader = try openReader(directory)
    for limit in [1, 2, 2_000] {
      let listed = try reader.calls(matching: CallQuery(limit: limit))
      #expect(listed.count == min(limit, 2), "limit \(limit)")
    }
  }

  @Test func acceptingAChangeDropsADamagedCallRatherThanRefilingIt() throws {
    let (directory, database) = try storeWithInlineValues()
    let v2 = Op(id: "Tests.series(n:)", version: CodeFingerprint(hex: "2"))
    func series13(_ store: Store, _ op: Op) -> [Double] {
      store.memoize(op, [Argument("n", 13)]) { (0..<13).map { Double($0) / 3 } }
    }
    do { _ = series13(try openStore(directory.path), v2) }
    // Version 2's call of 13 now names 12's output.
    let other = try outputRow(of: 12, in: database)
    let own = try outputRow(of: 13, in: database)
    try database.write { db in
      try db.execute(sql: "UPDATE call SET output = ? WHERE output = ?", arguments: [other, own])
    }
    let store = try openStore(directory.path)
    try store.accept("Tests.series(n:)", version: v2.version, as: op.version)
    let log = EventLog(store)
    #expect(series13(store, op) == (0..<13).map { Double($0) / 3 })
    #expect(series13(store, v2) == (0..<13).map { Double($0) / 3 })
    #expect(log.executed.count == 1, "computed once, never served as 12's")
  }

  @Test func aDamagedValueIsLeftOutOfAnExportAndRefusedWhenShown() throws {
    let (directory, database) = try storeWithInlineValues()
    let row = try outputRow(of: 10, in: database)
    try database.write { db in
      try db.execute(
        sql: "UPDATE value SET bytes = substr(bytes, 1, length(bytes) - 1) || X'00' WHERE id = ?",
        arguments: [row])
    }
    let reader = try openReader(directory)
    let cid = try ValueCodec.encode((0..<10).map { Double($0) / 3 }).cid
    #expect(throws: RecallError.self) { try reader.encodedValue(cid) }
    let copy = TemporaryDirectory()
    let report = try reader.copy(to: try openStore(copy.path), ops: nil)
    #expect(report.calls == 2 && report.incomplete == 1)
    // Read-only, nothing was moved or forgotten: a writer still finds the
    // damage, and then quarantines it.
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.path + "/quarantine").isEmpty)
    let writer = try runSeries(in: directory)
    #expect(writer.executed == 1 && writer.warnings.map(\.kind) == [.corruptValue])
  }

  @Test func aDamagedRecordOfMigrationsIsDamageNotANewerRecall() throws {
    let (directory, database) = try storeWithInlineValues()
    try database.write { db in
      try db.execute(
        sql: "UPDATE grdb_migrations SET identifier = 'v5.usagf' WHERE identifier = 'v5.usage'")
    }
    let error = #expect(throws: RecallError.self) { _ = try openStore(directory.path) }
    #expect(error?.code == RecallError.storeDamaged)
    #expect(error?.message.contains("record of schema migrations is damaged") == true)
    #expect(error?.message.contains("recall export --store") == true)
  }
}
