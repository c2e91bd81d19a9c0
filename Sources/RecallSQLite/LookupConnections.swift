import Foundation
import GRDBSQLite
import RecallCore
import Synchronization

/// Connections to a store's database opened with SQLite's C API, for the
/// lookup every call makes (`loadResult`) and for saving usage counts (a
/// small write that must not open GRDB's pool).
///
/// A hit through GRDB's reader pool spent about a quarter of its time in the
/// pool itself (taking a reader, a runtime key path, a lock, a schema version
/// check); these connections are taken from a plain list. Each thread that
/// looks up at the same moment gets its own connection; up to
/// ``keptIdle`` stay open between lookups.
final class LookupConnections: Sendable {
  /// Connections kept open while no lookup runs: as many as lookups can run
  /// at once on this machine's cores, and at least 4.
  /// (`sysconf` rather than Foundation's `ProcessInfo`, which is slow the
  /// first time in a fresh process: scenario C.)
  static let keptIdle = max(4, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

  private let path: String
  private let readOnly: Bool
  private let busyTimeout: Duration
  private let idle = Mutex<(connections: [LookupConnection], closed: Bool)>(([], false))

  /// `readOnly` opens the connections for reading only (a store opened
  /// read-only). Otherwise they may write: they save usage counts, and the
  /// last connection to a database that closes removes its WAL, which a
  /// read-only connection cannot (a process that only hits closes no other).
  init(path: String, readOnly: Bool, busyTimeout: Duration) {
    self.path = path
    self.readOnly = readOnly
    self.busyTimeout = busyTimeout
  }

  /// Runs `body` with a connection no other thread uses meanwhile.
  func withConnection<T>(_ body: (LookupConnection) throws -> T) throws -> T {
    let connection =
      try idle.withLock { $0.connections.popLast() }
      ?? LookupConnection(path: path, readOnly: readOnly, busyTimeout: busyTimeout)
    defer {
      let extra: LookupConnection? = idle.withLock { state in
        guard !state.closed, state.connections.count < Self.keptIdle else { return connection }
        state.connections.append(connection)
        return nil
      }
      extra?.close()
    }
    return try body(connection)
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
/// one thread at a time (``LookupConnections/withConnection(_:)``).
final class LookupConnection: @unchecked Sendable {
  let handle: OpaquePointer
  private var statements: [String: OpaquePointer] = [:]

  init(path: String, readOnly: Bool, busyTimeout: Duration) throws {
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
    sqlite3_busy_timeout(handle, Int32(clamping: Int(busyTimeout.inSeconds * 1000)))
    // As GRDB's readers (SQLiteBackend's pool): hits read a few pages each.
    sqlite3_exec(handle, "PRAGMA cache_size = -16384", nil, nil, nil)
  }

  /// The prepared statement for `sql`, prepared on first use.
  func statement(_ sql: String) throws -> OpaquePointer {
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

  /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`, which waits up
  /// to the busy timeout for the write lock), committed if it returns and
  /// rolled back if it throws. Only for small writes that must not open
  /// GRDB's pool (usage counts); a store opened read-only fails here.
  func writeTransaction<T>(_ body: () throws -> T) throws -> T {
    try execute("BEGIN IMMEDIATE")
    let result: T
    do {
      result = try body()
      try execute("COMMIT")
    } catch {
      sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
      throw error
    }
    return result
  }

  private func execute(_ sql: String) throws {
    let code = sqlite3_exec(handle, sql, nil, nil, nil)
    guard code == SQLITE_OK else { throw FastStatement.error(code, handle, sql) }
  }

  func close() {
    for statement in statements.values { sqlite3_finalize(statement) }
    statements = [:]
    sqlite3_close_v2(handle)
  }
}
