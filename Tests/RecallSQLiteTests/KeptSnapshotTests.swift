import Foundation
import GRDB
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// A lookup keeps its read transaction for the next lookups (decision 0113):
/// what a process writes ends it at once, a miss looks again in a new one,
/// and an idle process holds none for long.
@Suite struct KeptSnapshotTests {
  /// A database in WAL mode with one table, and a connection to it whose
  /// commits are not counted (``Commits``), as another process's are not.
  private func database(_ directory: TemporaryDirectory) throws -> (String, DatabaseQueue) {
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let path = directory.path + "/kept.sqlite"
    let other = try DatabaseQueue(path: path)
    try other.writeWithoutTransaction { db in
      _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
      try db.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
      try db.execute(sql: "INSERT INTO t VALUES (1, 10), (2, 20)")
    }
    return (path, other)
  }

  private func value(_ lookups: LookupConnections, _ key: Int) throws -> Int? {
    try lookups.lookUp { connection in
      try FastStatement.run(connection, "SELECT v FROM t WHERE k = ?", [.int(key)]) { row in
        try row.step() ? Int(row.int64(0)) : nil
      }
    }
  }

  private func lookups(_ path: String, lifetime: UInt64) -> LookupConnections {
    LookupConnections(
      path: path, readOnly: false, busyTimeout: .seconds(5), snapshotLifetime: lifetime)
  }

  @Test func aRowAnotherProcessAddsIsFoundByTheNextLookup() throws {
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 60_000_000_000)
    defer { lookups.close() }
    #expect(try value(lookups, 1) == 10)  // the snapshot is kept from here
    #expect(try value(lookups, 3) == nil)
    try other.write { try $0.execute(sql: "INSERT INTO t VALUES (3, 30)") }
    // Not in the kept snapshot: looked up again in a new one.
    #expect(try value(lookups, 3) == 30)
  }

  @Test func whatAnotherProcessDeletesIsSeenOnceTheSnapshotEnds() throws {
    // (Whether the kept snapshot still shows the row before then depends on
    // the commits other tests make in this process meanwhile.)
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 1_000_000)
    defer { lookups.close() }
    #expect(try value(lookups, 1) == 10)
    try other.write { try $0.execute(sql: "DELETE FROM t WHERE k = 1") }
    Thread.sleep(forTimeInterval: 0.01)
    #expect(try value(lookups, 1) == nil)
  }

  @Test func aCommitOfThisProcessEndsKeptSnapshots() throws {
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 60_000_000_000)
    defer { lookups.close() }
    #expect(try value(lookups, 1) == 10)
    // This process's connections count their commits.
    let counted = try DatabaseQueue(path: path)
    try counted.inDatabase { db in Commits.count(on: try #require(db.sqliteConnection)) }
    try counted.write { try $0.execute(sql: "DELETE FROM t WHERE k = 1") }
    #expect(try value(lookups, 1) == nil)
    _ = other
  }

  @Test func anIdleProcessHoldsNoSnapshotPastItsLifetime() throws {
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 5_000_000)
    defer { lookups.close() }
    try other.write { try $0.execute(sql: "INSERT INTO t VALUES (4, 40)") }
    #expect(try value(lookups, 4) == 40)
    // A kept snapshot keeps a checkpoint from emptying the WAL.
    let checkpoint = { () throws -> Bool in
      try other.writeWithoutTransaction { db in
        try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] == 0
      }
    }
    #expect(try checkpoint() == false)
    let deadline = Date().addingTimeInterval(10)
    while try !checkpoint(), Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    #expect(try checkpoint())
    #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int == 0)
  }

  @Test func aStoreSeesWhatItsProcessForgetsAtOnce() throws {
    let directory = TemporaryDirectory()
    let writer = try openStore(directory.path)
    var keeping = SQLiteBackend.Configuration()
    keeping.snapshotLifetime = 60_000_000_000
    var quiet = Store.Configuration()
    quiet.printsWarnings = false
    let reader = Store(
      backend: try SQLiteBackend(path: directory.path, configuration: keeping),
      configuration: quiet)
    let f = testOp("f")
    #expect(writer.memoize(f, [Argument("x", 1)]) { 10 } == 10)
    #expect(writer.memoize(f, [Argument("x", 2)]) { 20 } == 20)
    writer.flush()
    #expect(reader.memoize(f, [Argument("x", 2)]) { 0 } == 20)  // a store hit: kept snapshot
    let first = try #require(writer.prepare(f, [Argument("x", 1)], [], result: Int.self))
    #expect(try writer.forget([first.id]) == [first.id])
    #expect(reader.memoize(f, [Argument("x", 1)]) { 11 } == 11)
  }
}
