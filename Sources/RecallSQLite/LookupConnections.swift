import Foundation
import GRDBSQLite
import RecallCore
import Synchronization

/// Connections to a store's database opened with SQLite's C API, for the
/// lookup every call makes (`loadResult`), and for the small reads and
/// writes that must not open GRDB's pool: usage counts, versions seen,
/// values read, and a miss's claim, known version and environment
/// (decisions 0123, 0124).
///
/// A hit through GRDB's reader pool spent about a quarter of its time in the
/// pool itself (taking a reader, a runtime key path, a lock, a schema version
/// check); these connections are taken from a plain list. Each thread that
/// looks up at the same moment gets its own connection; up to
/// ``keptIdle`` stay open between lookups.
///
/// A lookup keeps its read transaction open for the next lookups on its
/// connection, for up to ``snapshotLifetime`` (decision 0113): beginning and
/// ending one took a fifth of a cached sweep's time (scenario H). A kept
/// snapshot ends sooner when this process writes to any store (``Commits``),
/// and a lookup that finds nothing in a kept snapshot looks again in a new
/// one, so a process always sees its own writes and every call stored before
/// it looks; what another process deletes may be seen up to the lifetime
/// later.
final class LookupConnections: Sendable {
  /// How long a lookup's snapshot is kept for the next lookups: 1 ms.
  static let snapshotLifetime: UInt64 = 1_000_000

  /// Connections kept open while no lookup runs: as many as lookups can run
  /// at once on this machine's cores, and at least 4.
  /// (`sysconf` rather than Foundation's `ProcessInfo`, which is slow the
  /// first time in a fresh process: scenario C.)
  static let keptIdle = max(4, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

  private let path: String
  private let readOnly: Bool
  private let busyTimeout: Duration
  /// How long a kept snapshot lives, in nanoseconds (tests lengthen it).
  let snapshotLifetime: UInt64
  /// The commits that end kept snapshots (``Commits/process``; tests count
  /// their own).
  private let commits: Commits
  private let idle = Mutex<Idle>(Idle())

  private struct Idle {
    var connections: [LookupConnection] = []
    var closed = false
    /// Whether the idle connections' snapshots are to be ended soon.
    var endingScheduled = false
  }

  /// `readOnly` opens the connections for reading only (a store opened
  /// read-only). Otherwise they may write: they save usage counts (and the
  /// other small writes above), and the
  /// last connection to a database that closes removes its WAL, which a
  /// read-only connection cannot (a process that only hits closes no other).
  init(
    path: String, readOnly: Bool, busyTimeout: Duration,
    snapshotLifetime: UInt64 = LookupConnections.snapshotLifetime, commits: Commits = .process
  ) {
    self.path = path
    self.readOnly = readOnly
    self.busyTimeout = busyTimeout
    self.snapshotLifetime = snapshotLifetime
    self.commits = commits
  }

  /// Runs `body` with a connection no other thread uses meanwhile, outside
  /// any transaction: it sees everything committed before it, and may write.
  func withConnection<T>(_ body: (LookupConnection) throws -> T) throws -> T {
    try withIdleConnection { connection in
      connection.endSnapshot()
      return try body(connection)
    }
  }

  /// Runs `body`, a lookup, in the connection's kept snapshot, or in a new
  /// one; when it finds nothing in a kept snapshot, runs it again in a new
  /// one (the call may have been stored since the snapshot began).
  func lookUp<T>(_ body: (LookupConnection) throws -> T?) throws -> T? {
    try withIdleConnection { connection in
      do {
        let kept = try connection.enterSnapshot(lifetime: snapshotLifetime, commits: commits)
        if let found = try body(connection) { return found }
        guard kept else { return nil }
        connection.endSnapshot()
        _ = try connection.enterSnapshot(lifetime: snapshotLifetime, commits: commits)
        return try body(connection)
      } catch {
        connection.endSnapshot()
        throw error
      }
    }
  }

  private func withIdleConnection<T>(_ body: (LookupConnection) throws -> T) throws -> T {
    let connection =
      try idle.withLock { $0.connections.popLast() }
      ?? LookupConnection(
        path: path, readOnly: readOnly, busyTimeout: busyTimeout, commits: commits)
    defer {
      let (extra, scheduling): (LookupConnection?, Bool) = idle.withLock { state in
        guard !state.closed, state.connections.count < Self.keptIdle else {
          return (connection, false)
        }
        state.connections.append(connection)
        guard connection.hasSnapshot, !state.endingScheduled else { return (nil, false) }
        state.endingScheduled = true
        return (nil, true)
      }
      extra?.close()
      if scheduling { scheduleEndingSnapshots() }
    }
    return try body(connection)
  }

  /// Ends the idle connections' snapshots after their lifetime, so that an
  /// idle process holds no read transaction (which would keep checkpoints
  /// from emptying the WAL) and its next lookup sees the latest data.
  private func scheduleEndingSnapshots() {
    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(snapshotLifetime))) {
      [weak self] in
      self?.endIdleSnapshots()
    }
  }

  /// Ends the idle connections' snapshots now.
  func endIdleSnapshots() {
    idle.withLock { state in
      state.endingScheduled = false
      for connection in state.connections { connection.endSnapshot() }
    }
  }

  /// Closes the idle connections; connections in use close when their
  /// lookup ends. GRDB's connections, if open, close after these, so that
  /// its writer is the last to close (and removes the WAL) even when these
  /// are read-only.
  func close() {
    let connections = idle.withLock { state in
      state.closed = true
      defer { state.connections = [] }
      return state.connections
    }
    for connection in connections { connection.close() }
  }
}

/// One SQLite connection and its prepared statements, for lookups. Used by
/// one thread at a time: the one that took it from the idle list
/// (``LookupConnections/withConnection(_:)``, ``LookupConnections/lookUp(_:)``),
/// or, while it is idle, the one holding that list's lock.
final class LookupConnection: @unchecked Sendable {
  let handle: OpaquePointer
  private var statements: [String: OpaquePointer] = [:]
  /// The statement used last, and its SQL.
  private var recent: (sql: String, statement: OpaquePointer)?
  /// The statements of ``LookupStatement``, once prepared.
  private var known = [OpaquePointer?](repeating: nil, count: LookupStatement.allCases.count)
  private let busyMilliseconds: Int32
  private let commits: Commits
  /// The read transaction kept open between lookups: when it began
  /// (monotonic nanoseconds), and ``Commits/current`` then.
  private var snapshot: (began: UInt64, commits: UInt64)?
  /// The accept count read in the current snapshot, which a snapshot's
  /// later reads would find unchanged (``SQLiteBackend/acceptCount()``; every
  /// miss reads it).
  var acceptCountInSnapshot: Int?

  init(path: String, readOnly: Bool, busyTimeout: Duration, commits: Commits = .process) throws {
    var handle: OpaquePointer?
    let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
    let code = sqlite3_open_v2(
      path, &handle, access | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
    guard code == SQLITE_OK, let handle else {
      let message =
        handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
      sqlite3_close_v2(handle)
      throw RecallError.storeUnavailable(
        path: path, detail: "could not open it for lookups: \(message)")
    }
    self.handle = handle
    busyMilliseconds = Int32(clamping: Int(busyTimeout.inSeconds * 1000))
    sqlite3_busy_timeout(handle, busyMilliseconds)
    // Held, so that the hook's counter lives as long as the connection.
    self.commits = commits
    if !readOnly {
      commits.count(on: handle)
      // It may be the connection that starts the WAL over (a claim, usage
      // counts): it cuts the file back as GRDB's writer does.
      sqlite3_exec(
        handle, "PRAGMA journal_size_limit = \(SQLiteBackend.walSizeLimit)", nil, nil, nil)
      // Its commits sync, as the writer's do; a claim turns that down for
      // its own commit (`SQLiteBackend.claim`).
      sqlite3_exec(handle, "PRAGMA synchronous = FULL", nil, nil, nil)
    }
    // As GRDB's readers (SQLiteBackend's pool): hits read a few pages each.
    sqlite3_exec(handle, "PRAGMA cache_size = -16384", nil, nil, nil)
  }

  /// The prepared statement for `sql`, prepared on first use.
  func statement(_ sql: String) throws -> OpaquePointer {
    // A statement run many times in a row (saving usage counts, reading
    // versions) comes with the same string each time: `==` finds it by its
    // storage, where the dictionary hashes the whole text. (The statements
    // every call runs are found by case: `statement(_:)` of a
    // `LookupStatement`.)
    if let recent, recent.sql == sql { return recent.statement }
    let statement = try prepared(sql)
    recent = (sql, statement)
    return statement
  }

  /// One of the statements every call runs, prepared on first use.
  func statement(_ kind: LookupStatement) throws -> OpaquePointer {
    if let statement = known[kind.rawValue] { return statement }
    let statement = try prepared(kind.sql)
    known[kind.rawValue] = statement
    return statement
  }

  private func prepared(_ sql: String) throws -> OpaquePointer {
    if let statement = statements[sql] { return statement }
    var statement: OpaquePointer?
    let code = sqlite3_prepare_v3(
      handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
    guard code == SQLITE_OK, let statement else {
      throw FastStatement.error(code, handle, sql)
    }
    statements[sql] = statement
    return statement
  }

  /// Whether a read transaction is kept open between lookups.
  var hasSnapshot: Bool { snapshot != nil }

  /// Keeps the open snapshot if it is younger than `lifetime` and this
  /// process committed nothing since it began; otherwise begins a new one
  /// (deferred: it takes its snapshot at its first read).
  ///
  /// - Returns: Whether the snapshot was kept from an earlier lookup.
  func enterSnapshot(lifetime: UInt64, commits counter: Commits) throws -> Bool {
    // The count is read before the snapshot is taken: a commit after it
    // changes the count, and ends the snapshot at the next lookup.
    let commits = counter.current
    let now = DispatchTime.now().uptimeNanoseconds
    if let snapshot {
      // Without a transaction (an error rolled it back), there is nothing to keep.
      if sqlite3_get_autocommit(handle) == 0, snapshot.commits == commits,
        now &- snapshot.began < lifetime
      {
        return true
      }
      endSnapshot()
    }
    try run(.begin)
    snapshot = (now, commits)
    acceptCountInSnapshot = nil
    return false
  }

  /// Ends the kept snapshot, if any (rolled back if it cannot commit, so
  /// that the connection is never left in a transaction).
  func endSnapshot() {
    guard snapshot != nil else { return }
    snapshot = nil
    acceptCountInSnapshot = nil
    guard sqlite3_get_autocommit(handle) == 0 else { return }
    if (try? run(.commit)) == nil { rollBack() }
  }

  /// Runs a statement of no rows (a transaction's `BEGIN`, `COMMIT`), found
  /// by its case.
  private func run(_ kind: LookupStatement) throws {
    let statement = try statement(kind)
    defer { sqlite3_reset(statement) }
    let code = sqlite3_step(statement)
    guard code == SQLITE_DONE else { throw FastStatement.error(code, handle, kind.sql) }
  }

  /// Runs `body` in a read transaction of its own, begun now: one snapshot
  /// for several reads. The connection must have no kept snapshot
  /// (``LookupConnections/withConnection(_:)`` ends it).
  func readTransaction<T>(_ body: () throws -> T) throws -> T {
    try run(.begin)
    defer { if (try? run(.commit)) == nil { rollBack() } }
    return try body()
  }

  /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`, which waits up
  /// to the busy timeout for the write lock), committed if it returns and
  /// rolled back if it throws. Only for small writes that must not open
  /// GRDB's pool (usage counts, versions seen, a process's environment, a
  /// claim, or a version the program has not run last, recorded before the
  /// pool opened, filling an empty WAL); a store opened read-only fails
  /// here.
  func writeTransaction<T>(_ body: () throws -> T) throws -> T {
    try run(.beginImmediate)
    let result: T
    do {
      result = try body()
      try run(.commit)
    } catch {
      rollBack()
      throw error
    }
    return result
  }

  /// Writes one page to the WAL if the WAL file is there and empty, without
  /// changing the schema (`PRAGMA user_version`, set to what it is). GRDB's
  /// pool, when it opens for writing, makes an empty WAL non-empty for its
  /// readers by creating and dropping a table: a schema change, which made
  /// every connection to the store, of every process, parse the whole schema
  /// again at its next statement (about a million instructions each;
  /// decision 0118). A WAL is empty after every process that wrote exits
  /// (decision 0114).
  ///
  /// Best effort, and it never waits: when another connection holds the
  /// write lock (the WAL is about to be non-empty anyway), or anything
  /// fails, GRDB does as before. It syncs as GRDB's change did (the WAL's
  /// header only: `synchronous = NORMAL`, as GRDB sets it); the page it
  /// writes holds nothing that needs to survive a power cut.
  func fillEmptyWAL(_ walPath: String) {
    var status = stat()
    // No WAL file: not in WAL mode yet (a new database), which GRDB sets up
    // under `migrate.lock`.
    guard stat(walPath, &status) == 0, status.st_size == 0,
      let synchronous = try? integerPragma("synchronous")
    else { return }
    sqlite3_exec(handle, "PRAGMA synchronous = NORMAL", nil, nil, nil)
    defer { sqlite3_exec(handle, "PRAGMA synchronous = \(synchronous)", nil, nil, nil) }
    withoutWaiting {
      _ = try? writeTransaction {
        let version = try integerPragma("user_version") ?? 0
        let code = sqlite3_exec(handle, "PRAGMA user_version = \(version)", nil, nil, nil)
        guard code == SQLITE_OK else {
          throw FastStatement.error(code, handle, "PRAGMA user_version")
        }
      }
    }
  }

  /// Copies the WAL into the database and empties the WAL file, unless
  /// another connection (of any process) is reading or writing: then it
  /// leaves the WAL as it is, at once, without waiting.
  func checkpointIfUnused() {
    withoutWaiting {
      _ = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
    }
  }

  /// Runs `body` with no busy timeout: what would wait for another
  /// connection's lock fails at once instead.
  private func withoutWaiting<T>(_ body: () throws -> T) rethrows -> T {
    sqlite3_busy_timeout(handle, 0)
    defer { sqlite3_busy_timeout(handle, busyMilliseconds) }
    return try body()
  }

  /// The value of an integer pragma (`PRAGMA name`), if it has one.
  func integerPragma(_ name: String) throws -> Int64? {
    try FastStatement.run(self, "PRAGMA \(name)", []) { try $0.step() ? $0.int64(0) : nil }
  }

  /// Rolls the open transaction back (its error, if any, is the one the
  /// caller reports).
  private func rollBack() { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }

  func close() {
    endSnapshot()
    for statement in statements.values { sqlite3_finalize(statement) }
    statements = [:]
    recent = nil
    known = known.map { _ in nil }
    sqlite3_close_v2(handle)
  }
}

/// The statements every call's lookup runs, found by their case: finding a
/// statement by its SQL hashes the SQL, about 750 instructions for the 300
/// bytes of a lookup's.
enum LookupStatement: Int, CaseIterable {
  case begin, beginImmediate, commit, loadResult, acceptCount, value

  /// Its SQL, made once.
  var sql: String { Self.texts[rawValue] }

  private static let texts = allCases.map(\.text)

  private var text: String {
    switch self {
    case .begin: "BEGIN"
    case .beginImmediate: "BEGIN IMMEDIATE"
    case .commit: "COMMIT"
    case .loadResult: SQLiteBackend.loadResultSQL
    case .acceptCount: "SELECT value FROM store_count WHERE name = 'accept_count'"
    case .value:
      "SELECT bytes, checksum, size IS NOT NULL FROM value WHERE \(SQLiteBackend.matches("cid", "?1"))"
    }
  }
}
