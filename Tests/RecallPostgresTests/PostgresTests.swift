import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallPostgres
@testable import RecallSQLite

/// A value threads share.
private final class Shared<Value: Sendable>: Sendable {
  let value: Mutex<Value>
  init(_ value: Value) { self.value = Mutex(value) }
}

/// What only the PostgreSQL store does; the behaviour all stores share runs in
/// the parameterized suites. Skipped unless `RECALL_TEST_POSTGRES_URL` names
/// a database (`.ci/start-postgres` starts one).
@Suite(
  .enabled(
    if: postgresURL != nil,
    "set RECALL_TEST_POSTGRES_URL to run the PostgreSQL tests (see .ci/start-postgres)"))
struct PostgresTests {
  func open(_ schema: PostgresSchema, blobs: String? = nil) throws -> Store {
    var configuration = PostgresBackend.Configuration()
    configuration.blobDirectory = blobs
    var quiet = Store.Configuration()
    quiet.printsWarnings = false
    return Store(backend: try schema.open(configuration), configuration: quiet)
  }

  static let seriesOp = Op(id: "Tests.series(n:)", version: CodeFingerprint(hex: "1"))

  /// `n` doubles: 300,000 of them are 2.4 MB, past the inline threshold.
  func series(_ store: Store, _ n: Int) -> [Double] {
    store.memoize(Self.seriesOp, [Argument("n", n)]) { (0..<n).map { Double($0) / 3 } }
  }

  func count(_ backend: any StoreWriter, _ sql: String) throws -> Int {
    try (backend as! PostgresBackend).withConnection { try $0.rows(sql).first?.int(0) ?? -1 }
  }

  func files(in directory: TemporaryDirectory) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: directory.path + "/blobs").filter {
      $0.count > 3
    }
  }

  @Test func aVersion3StoreKeepsItsCurrentVersionAndResults() throws {
    // Written by the runtime, then taken back to `v5.usage` (what a store
    // from before program locations holds): its latest version stays
    // current, its results are served, and the first program to run records
    // its own location in place of the migrated one.
    let schema = PostgresSchema()
    let v1 = scaledOp("a1", helper: "double")
    let v2 = scaledOp("b2", helper: "triple")
    do {
      let store = try open(schema)
      _ = scaled(store, v1, 1, factor: 2)
      _ = scaled(store, v2, 1, factor: 3)
      try (store.backend as! PostgresBackend).withConnection { connection in
        try connection.run(
          """
          DROP TABLE op_location;
          DELETE FROM setting WHERE name = 'accept_count';
          DELETE FROM recall_migration WHERE identifier = 'v8.version-locations'
          """)
      }
    }
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.program = "host:/checkout/.build/debug/run"
    let store = Store(backend: try schema.open(), configuration: configuration)
    #expect(
      try store.versions(of: "Tests.scaled(x:)").filter(\.isCurrent).map(\.version.hex) == ["b2"])
    #expect(try store.staleCalls().map(\.opVersion.hex) == ["a1"])
    let log = EventLog(store)
    #expect(scaled(store, v2, 1, factor: 3) == 3)
    #expect(log.executed.isEmpty)
    #expect(scaled(store, v2, 2, factor: 3) == 6)
    #expect(
      try count(store.backend, "SELECT count(*)::bigint FROM op_location WHERE location = ''") == 0)
    #expect(try count(store.backend, "SELECT count(*)::bigint FROM op_location") == 1)
    #expect(try store.backend.acceptCount() == 0)
  }

  @Test func largeValuesCanLiveInASharedBlobDirectory() throws {
    let (schema, directory) = (PostgresSchema(), TemporaryDirectory())
    do {
      let store = try open(schema, blobs: directory.path)
      #expect(series(store, 10).count == 10)
      #expect(series(store, 300_000).count == 300_000)
      #expect(try files(in: directory).count == 1)
      #expect(
        try count(store.backend, "SELECT count(*)::bigint FROM value WHERE bytes IS NULL") == 1)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/tmp").isEmpty)
    }
    // Another worker that mounts the directory reads it.
    let worker = try open(schema, blobs: directory.path)
    let log = EventLog(worker)
    #expect(series(worker, 300_000) == (0..<300_000).map { Double($0) / 3 })
    #expect(log.executed.isEmpty)

    // A worker opened without it says what to add, recomputes, and stores the
    // value in the database, where every worker can read it from then on.
    let without = try open(schema)
    let withoutLog = EventLog(without)
    #expect(series(without, 10).count == 10)
    #expect(series(without, 300_000).count == 300_000)
    #expect(withoutLog.executed == ["series(n:)"])
    #expect(withoutLog.warnings.map(\.kind) == [.storeFailure])
    #expect(withoutLog.warnings.first?.message.contains("?blobs=PATH") == true)
    #expect(
      try count(without.backend, "SELECT count(*)::bigint FROM value WHERE bytes IS NULL") == 0)
    let again = try open(schema)
    let againLog = EventLog(again)
    #expect(series(again, 300_000).count == 300_000)
    #expect(againLog.executed.isEmpty)

    // Its file is nobody's now: a collection removes it.
    let report = try worker.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: 60))
    #expect(report.orphanFiles == 1)
    #expect(try files(in: directory).isEmpty)
    #expect(series(worker, 300_000).count == 300_000)
    #expect(log.executed.isEmpty)
  }

  @Test func aBlobDirectoryMustBeTheStoresOwn() throws {
    let (schema, directory) = (PostgresSchema(), TemporaryDirectory())
    _ = series(try open(schema, blobs: directory.path), 300_000)

    // Another store's directory.
    let other = #expect(throws: RecallError.self) {
      try open(PostgresSchema(), blobs: directory.path)
    }
    #expect(other?.message.contains("belongs to another store") == true, "\(other?.message ?? "")")
    // An empty directory where the store already keeps values: not mounted.
    let empty = TemporaryDirectory()
    let unmounted = #expect(throws: RecallError.self) { try open(schema, blobs: empty.path) }
    #expect(unmounted?.message.contains("Is the shared directory mounted here?") == true)
    // A directory with files of a store that never marked it (an SQLite store's).
    let sqlite = TemporaryDirectory()
    _ = series(try Store.sqlite(at: sqlite.path), 300_000)
    let foreign = #expect(throws: RecallError.self) {
      try open(PostgresSchema(), blobs: sqlite.path)
    }
    #expect(foreign?.message.contains("already holds another store's blob files") == true)
    // And an SQLite store does not move into a PostgreSQL store's directory.
    let moved = #expect(throws: RecallError.self) { try Store.sqlite(at: directory.path) }
    #expect(moved?.message.contains("PostgreSQL store's blob directory") == true)
  }

  @Test func aCorruptBlobIsQuarantinedAndRecomputed() throws {
    let (schema, directory) = (PostgresSchema(), TemporaryDirectory())
    _ = series(try open(schema, blobs: directory.path), 300_000)
    try damageABlob(in: directory)

    let store = try open(schema, blobs: directory.path)
    let log = EventLog(store)
    #expect(series(store, 300_000) == (0..<300_000).map { Double($0) / 3 })
    #expect(log.executed.count == 1)
    #expect(log.warnings.map(\.kind) == [.corruptValue])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.path + "/quarantine").count == 1
    )
    let again = try open(schema, blobs: directory.path)
    let againLog = EventLog(again)
    #expect(series(again, 300_000).count == 300_000)
    #expect(againLog.executed.isEmpty)
  }

  @Test func aDamagedInlineValueIsRecomputedAndStoredAgain() throws {
    let schema = PostgresSchema()
    do {
      let store = try open(schema)
      _ = series(store, 10)
      _ = series(store, 11)
      store.flush()
      // Every value has its checksum; one output's bytes change by a bit.
      #expect(
        try count(store.backend, "SELECT count(*)::bigint FROM value WHERE checksum IS NULL") == 0)
      let damaged = try ValueCodec.encode((0..<11).map { Double($0) / 3 })
      var bytes = damaged.bytes
      bytes[bytes.count / 2] ^= 0x08
      try (store.backend as! PostgresBackend).withConnection { connection in
        try connection.execute(
          "UPDATE value SET bytes = $1 WHERE cid = $2",
          [.bytes(Data(bytes)), SQLValue(damaged.cid.digest)])
      }
    }
    let store = try open(schema)
    let log = EventLog(store)
    #expect(series(store, 10) == (0..<10).map { Double($0) / 3 })
    #expect(series(store, 11) == (0..<11).map { Double($0) / 3 })
    #expect(log.executed.count == 1)
    #expect(log.warnings.map(\.kind) == [.corruptValue])
    store.flush()
    let again = try open(schema)
    let againLog = EventLog(again)
    #expect(series(again, 11).count == 11)
    #expect(againLog.executed.isEmpty && againLog.warnings.isEmpty)
  }

  @Test func aValueFromANewerRecallIsReplacedSaidOncePerOp() throws {
    let schema = PostgresSchema()
    do {
      let store = try open(schema)
      for n in 10...12 { _ = series(store, n) }
      store.flush()
      // Every output in a newer Recall's format, its checksum matching.
      try (store.backend as! PostgresBackend).withConnection { connection in
        for n in 10...12 {
          let value = try ValueCodec.encode((0..<n).map { Double($0) / 3 })
          var bytes = value.bytes
          bytes[0] = 99
          try connection.execute(
            "UPDATE value SET bytes = $1, checksum = $2 WHERE cid = $3",
            [
              .bytes(Data(bytes)), .int(Int(Int64(bitPattern: Checksum.xxh64(bytes)))),
              SQLValue(value.cid.digest),
            ])
        }
      }
    }
    let store = try open(schema)
    let log = EventLog(store)
    for n in 10...12 { #expect(series(store, n) == (0..<n).map { Double($0) / 3 }) }
    #expect(log.executed.count == 3)
    #expect(log.warnings.map(\.kind) == [.valueFromNewerVersion])
    store.flush()
    let again = try open(schema)
    let againLog = EventLog(again)
    for n in 10...12 { _ = series(again, n) }
    #expect(againLog.executed.isEmpty && againLog.warnings.isEmpty)
  }

  @Test func aSchemaWithoutAStoreIsRefusedWhenNoneMayBeCreated() throws {
    let schema = PostgresSchema()
    var configuration = PostgresBackend.Configuration()
    configuration.createsStore = false
    let error = #expect(throws: RecallError.self) { try schema.open(configuration) }
    #expect(error?.code == RecallError.notFound)
    #expect(error?.message.contains("schema '\(schema.name)' has no recall_migration") == true)
    // Nothing was created: the default opening still finds no store, and makes it.
    #expect(throws: RecallError.self) { try schema.open(configuration) }
    _ = try schema.open()
    _ = try schema.open(configuration)
  }

  @Test func resultsAndLargeValuesSurviveReopening() throws {
    let schema = PostgresSchema()
    do {
      let store = try open(schema)
      let log = EventLog(store)
      #expect(series(store, 10).count == 10)
      #expect(series(store, 300_000).count == 300_000)  // 2.4 MB
      #expect(log.executed.count == 2)
    }
    let reopened = try open(schema)
    let log = EventLog(reopened)
    #expect(series(reopened, 10) == (0..<10).map { Double($0) / 3 })
    #expect(series(reopened, 300_000) == (0..<300_000).map { Double($0) / 3 })
    #expect(log.executed.isEmpty)
    let stats = try reopened.stats()
    #expect(stats.calls == 2)
    #expect(stats.bytes > 2_400_000)
  }

  @Test func migrationsRecordedUnderTheirFormerNamesAreNotRunAgain() throws {
    // Stores migrated before the migrations took the SQLite store's names
    // (`v1.store` … `v4.version-locations`) keep their records, which older
    // Recalls sharing the store still know.
    let schema = PostgresSchema()
    do {
      let store = try open(schema)
      _ = series(store, 10)
      store.flush()
      try (store.backend as! PostgresBackend).withConnection { connection in
        for (former, identifier) in PostgresBackend.formerIdentifiers {
          try connection.execute(
            "UPDATE recall_migration SET identifier = $1 WHERE identifier = $2",
            [.text(former), .text(identifier)])
        }
      }
    }
    let store = try open(schema)
    let log = EventLog(store)
    #expect(series(store, 10) == (0..<10).map { Double($0) / 3 })
    #expect(log.executed.isEmpty)
    let identifiers = try (store.backend as! PostgresBackend).withConnection { connection in
      try connection.rows("SELECT identifier FROM recall_migration ORDER BY identifier").map {
        try $0.text(0)
      }
    }
    // The former names, and the migrations added since (which never had another).
    let renamed = Set(PostgresBackend.formerIdentifiers.values)
    let added = PostgresBackend.migrations.map(\.identifier).filter { !renamed.contains($0) }
    #expect(!added.isEmpty)
    #expect(identifiers == (PostgresBackend.formerIdentifiers.keys + added).sorted())
  }

  @Test func aStoreFromANewerRecallIsRefused() throws {
    let schema = PostgresSchema()
    let backend = try schema.open()
    try backend.withConnection { connection in
      try connection.execute(
        "INSERT INTO recall_migration (identifier, applied_at) VALUES ($1, 0)",
        [.text("v9.from-the-future")])
    }
    let error = #expect(throws: RecallError.self) { try schema.open() }
    #expect(error?.code == RecallError.storeFromNewerVersion)
    #expect(error?.message.contains("v9.from-the-future") == true)
  }

  @Test func storesInOtherSchemasAreSeparate() throws {
    let (first, second) = (PostgresSchema(), PostgresSchema())
    let op = Op(id: "Tests.f(x:)", version: CodeFingerprint(hex: "1"))
    let a = try open(first)
    let b = try open(second)
    #expect(a.memoize(op, [Argument("x", 1)]) { 1 } == 1)
    #expect(b.memoize(op, [Argument("x", 1)]) { 2 } == 2)
    #expect(try a.stats().calls == 1)
  }

  @Test func aTransactionTheServerAbortsToBreakADeadlockIsRetried() throws {
    let schema = PostgresSchema()
    let backend = try schema.open()
    try backend.withConnection {
      try $0.run(
        "CREATE TABLE pair (id int PRIMARY KEY, n int); INSERT INTO pair VALUES (1, 0), (2, 0)")
    }
    // Two transactions lock the rows in opposite orders; the server aborts one
    // of them (deadlock_timeout, 1 s by default), which must run again.
    let bothLocked = DispatchGroup()
    bothLocked.enter()
    bothLocked.enter()
    let attempts = Shared(0)
    @Sendable func swap(_ first: Int, _ second: Int) -> (any Error)? {
      do {
        try backend.transaction { connection in
          let attempt = attempts.value.withLock {
            $0 += 1
            return $0
          }
          try connection.execute("UPDATE pair SET n = n + 1 WHERE id = $1", [.int(first)])
          if attempt <= 2 {
            bothLocked.leave()
            bothLocked.wait()
          }
          try connection.execute("UPDATE pair SET n = n + 1 WHERE id = $1", [.int(second)])
        }
        return nil
      } catch {
        return error
      }
    }
    let errors = Shared<[String]>([])
    let done = DispatchGroup()
    for (first, second) in [(1, 2), (2, 1)] {
      done.enter()
      Thread {
        let error = swap(first, second)
        if let error { errors.value.withLock { $0.append("\(error)") } }
        done.leave()
      }.start()
    }
    done.wait()
    #expect(errors.value.withLock { $0 } == [])
    #expect(attempts.value.withLock { $0 } == 3)
    let total = try backend.withConnection {
      try $0.rows("SELECT sum(n)::bigint FROM pair").first?.int(0)
    }
    #expect(total == 4)
  }

  @Test func badURLsAndUnreachableServersSayWhatToDo() throws {
    let malformed = #expect(throws: RecallError.self) {
      try PostgresBackend(url: "mysql://user:secret@host/db")
    }
    #expect(malformed?.message.contains("postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE") == true)
    #expect(malformed?.message.contains("secret") == false)
    var configuration = PostgresBackend.Configuration()
    configuration.connectTimeout = .seconds(2)
    // Nothing listens on port 1.
    let unreachable = #expect(throws: RecallError.self) {
      try PostgresBackend(
        url: "postgres://nobody:secret@127.0.0.1:1/none", configuration: configuration)
    }
    #expect(unreachable?.code == RecallError.storeUnavailable)
    #expect(
      unreachable?.message.contains("could not connect") == true, "\(unreachable?.message ?? "")")
    #expect(unreachable?.message.contains("secret") == false)
  }
}
