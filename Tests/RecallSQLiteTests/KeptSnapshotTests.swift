import Foundation
import GRDB
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// A lookup keeps its read transaction for the next lookups (decision 0113):
/// what a process writes ends it at once, a miss looks again in a new one,
/// a snapshot ends with its lifetime, and an idle process holds none.
///
/// The lookups here count the commits of their own connections, not the
/// process's (``Commits/process``), which the tests running alongside
/// change at any moment.
@Suite struct KeptSnapshotTests {
  /// A database in WAL mode with one table, and a connection to it whose
  /// commits are counted by no lookups here, as another process's.
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

  private func lookups(_ path: String, lifetime: UInt64, commits: Commits = Commits())
    -> LookupConnections
  {
    LookupConnections(
      path: path, readOnly: false, busyTimeout: .seconds(5), snapshotLifetime: lifetime,
      commits: commits)
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
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 1_000_000)
    defer { lookups.close() }
    #expect(try value(lookups, 1) == 10)
    try other.write { try $0.execute(sql: "DELETE FROM t WHERE k = 1") }
    Thread.sleep(forTimeInterval: 0.01)
    #expect(try value(lookups, 1) == nil)
  }

  @Test func aSnapshotIsKeptForItsLifetimeOnly() throws {
    let directory = TemporaryDirectory()
    let (path, _) = try database(directory)
    let commits = Commits()
    let connection = try LookupConnection(
      path: path, readOnly: true, busyTimeout: .seconds(5), commits: commits)
    defer { connection.close() }
    let lifetime: UInt64 = 1_000_000_000
    #expect(try connection.enterSnapshot(lifetime: lifetime, commits: commits) == false)
    #expect(try connection.enterSnapshot(lifetime: lifetime, commits: commits))
    Thread.sleep(forTimeInterval: 1.2)
    #expect(try connection.enterSnapshot(lifetime: lifetime, commits: commits) == false)
  }

  @Test func aCommitOfThisProcessEndsKeptSnapshots() throws {
    let directory = TemporaryDirectory()
    let (path, _) = try database(directory)
    let commits = Commits()
    let lookups = lookups(path, lifetime: 60_000_000_000, commits: commits)
    defer { lookups.close() }
    #expect(try value(lookups, 1) == 10)
    // A connection of "this process": its commits are counted.
    let counted = try DatabaseQueue(path: path)
    try counted.inDatabase { db in commits.count(on: try #require(db.sqliteConnection)) }
    try counted.write { try $0.execute(sql: "DELETE FROM t WHERE k = 1") }
    #expect(try value(lookups, 1) == nil)
    withExtendedLifetime(commits) {}  // counted's hook points at it
  }

  @Test func anIdleProcessHoldsNoSnapshotPastItsLifetime() throws {
    let directory = TemporaryDirectory()
    let (path, other) = try database(directory)
    let lookups = lookups(path, lifetime: 500_000_000)
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
    while try !checkpoint(), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    #expect(try checkpoint())
    #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int == 0)
  }

  @Test func emptyingTheWALAtExitEndsThisProcessesKeptSnapshots() throws {
    let directory = TemporaryDirectory()
    var keeping = SQLiteBackend.Configuration()
    keeping.snapshotLifetime = 60_000_000_000
    let backend = try SQLiteBackend(path: directory.path, configuration: keeping)
    var quiet = Store.Configuration()
    quiet.printsWarnings = false
    let store = Store(backend: backend, configuration: quiet)
    #expect(store.memoize(testOp("f"), [Argument("x", 1)]) { 10 } == 10)
    store.flush()
    // Two lookups at once: two connections, each keeping its snapshot.
    let read = { (connection: LookupConnection) throws -> Int? in
      try FastStatement.run(connection, "SELECT count(*) FROM call", []) { row in
        try row.step() ? Int(row.int64(0)) : nil
      }
    }
    let calls = try backend.lookups.lookUp { outer in
      _ = try read(outer)
      return try backend.lookups.lookUp(read)
    }
    #expect(calls == 1)
    backend.emptyWALBeforeExit()
    let wal = directory.path + "/recall.sqlite-wal"
    #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int == 0)
  }

  /// GRDB's pool, opening for writing on the empty WAL a process leaves at
  /// exit, changes no schema (decision 0118): the connections already open,
  /// of every process, keep the schema they parsed.
  @Test func openingThePoolAfterTheWALWasEmptiedChangesNoSchema() throws {
    let directory = TemporaryDirectory()
    let first = try SQLiteBackend(path: directory.path)
    var quiet = Store.Configuration()
    quiet.printsWarnings = false
    let store = Store(backend: first, configuration: quiet)
    #expect(store.memoize(testOp("f"), [Argument("x", 1)]) { 10 } == 10)
    store.flush()
    first.emptyWALBeforeExit()
    let wal = directory.path + "/recall.sqlite-wal"
    #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int == 0)
    let pragma = { (name: String, backend: SQLiteBackend) throws -> Int? in
      try backend.lookups.withConnection { connection in
        try FastStatement.run(connection, "PRAGMA \(name)", []) { row in
          try row.step() ? Int(row.int64(0)) : nil
        }
      }
    }
    let schema = try pragma("schema_version", first)
    let userVersion = try pragma("user_version", first)

    let next = try SQLiteBackend(path: directory.path)
    #expect(!next.hasOpenedPool)
    // A setting other than the fill's (NORMAL), whatever this SQLite's default.
    try next.lookups.withConnection { connection in
      _ = try FastStatement.run(connection, "PRAGMA synchronous = EXTRA", []) { try $0.step() }
    }
    let synchronous = try pragma("synchronous", next)
    #expect(synchronous == 3)
    let calls = try next.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM call") }
    #expect(calls == 1)
    #expect(try pragma("schema_version", first) == schema)
    #expect(try pragma("user_version", first) == userVersion)
    // The lookup connection that wrote (the only one `next` has) keeps its setting.
    #expect(try pragma("synchronous", next) == synchronous)
    // What GRDB's readers need (its own fix would have made it otherwise).
    #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0 > 0)
  }

  /// The accept count every miss reads comes from the kept snapshot: what
  /// this process commits is seen at once, what another process commits
  /// once the snapshot ends.
  @Test func theAcceptCountSeesThisProcessesChangeAtOnce() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    var keeping = SQLiteBackend.Configuration()
    keeping.snapshotLifetime = 60_000_000_000
    let backend = try SQLiteBackend(path: directory.path, configuration: keeping)
    #expect(try backend.acceptCount() == 0)  // the snapshot is kept from here
    #expect(try backend.acceptCount() == 0)
    let raise = "UPDATE store_count SET value = value + 1 WHERE name = 'accept_count'"
    try backend.pool.write { try $0.execute(sql: raise) }
    #expect(try backend.acceptCount() == 1, "this process's commit ends the kept snapshot")

    let brief = try SQLiteBackend(path: directory.path)
    #expect(try brief.acceptCount() == 1)
    let other = try DatabaseQueue(path: backend.pool.path)  // commits no hook counts
    try other.write { try $0.execute(sql: raise) }
    Thread.sleep(forTimeInterval: 0.01)
    #expect(try brief.acceptCount() == 2, "another process's, once the snapshot ended")
  }

  /// Through a store's `forget`. (Other tests' commits end kept snapshots
  /// too, so this one fails without the commit count only when it runs
  /// alone; `aCommitOfThisProcessEndsKeptSnapshots` does not depend on it.)
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
