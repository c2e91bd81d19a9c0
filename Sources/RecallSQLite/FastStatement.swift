import Foundation
import GRDB
import GRDBSQLite
import RecallCore

/// A cached statement run through SQLite's C API, for the statements every
/// call runs (its lookup, its write): GRDB's per-execution work (argument
/// validation, row objects, statement bookkeeping) cost more than the
/// statements themselves.
///
/// It resets the statement before and after it runs, so a statement never
/// holds a snapshot open by itself (a lookup keeps its snapshot in an
/// explicit transaction, decision 0113). A statement's SQL is used only through
/// this type, never through GRDB's execution methods (which would find its
/// bindings changed behind their back).
struct FastStatement {
  /// GRDB's statement, held while it runs: GRDB finalizes `raw` when it
  /// frees it (`nil` on a lookup connection, which keeps its own).
  private let statement: Statement?
  private let raw: SQLiteStatement
  private let handle: SQLiteConnection?
  private let sql: String

  /// Prepares `sql` (or takes it from the connection's cache), binds
  /// `arguments` in order, and runs `body` on it.
  static func run<T>(
    _ db: Database, _ sql: String, _ arguments: [FastArgument], _ body: (FastStatement) throws -> T
  ) throws -> T {
    try run(db, try db.cachedStatement(sql: sql), sql, arguments, body)
  }

  /// Runs `body` on a statement of GRDB's already prepared from `sql`, with
  /// `arguments` bound in order.
  static func run<T>(
    _ db: Database, _ statement: Statement, _ sql: String, _ arguments: [FastArgument],
    _ body: (FastStatement) throws -> T
  ) throws -> T {
    try FastStatement(
      statement: statement, raw: statement.sqliteStatement, handle: db.sqliteConnection, sql: sql
    ).run(arguments, body)
  }

  /// The same, on a lookup connection.
  static func run<T>(
    _ connection: LookupConnection, _ sql: String, _ arguments: [FastArgument],
    _ body: (FastStatement) throws -> T
  ) throws -> T {
    try FastStatement(
      statement: nil, raw: connection.statement(sql), handle: connection.handle, sql: sql
    )
    .run(arguments, body)
  }

  /// The same, with one of the statements every call runs.
  static func run<T>(
    _ connection: LookupConnection, _ kind: LookupStatement, _ arguments: [FastArgument],
    _ body: (FastStatement) throws -> T
  ) throws -> T {
    try FastStatement(
      statement: nil, raw: connection.statement(kind), handle: connection.handle, sql: kind.sql
    )
    .run(arguments, body)
  }

  private func run<T>(_ arguments: [FastArgument], _ body: (FastStatement) throws -> T) throws -> T
  {
    sqlite3_reset(raw)
    defer {
      sqlite3_reset(raw)
      sqlite3_clear_bindings(raw)
    }
    for (index, argument) in arguments.enumerated() {
      let code = argument.bind(raw, Int32(index + 1))
      guard code == SQLITE_OK else { throw Self.error(code, handle, sql) }
    }
    return try body(self)
  }

  /// Steps to the next row: `true` with a row, `false` when there are no more.
  func step() throws -> Bool {
    let code = sqlite3_step(raw)
    if code == SQLITE_ROW { return true }
    if code == SQLITE_DONE { return false }
    throw Self.error(code, handle, sql)
  }

  /// Runs a statement that returns no rows.
  func execute() throws {
    while try step() {}
  }

  func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }
  func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
  func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
  func double(_ column: Int32) -> Double { sqlite3_column_double(raw, column) }
  func text(_ column: Int32) -> String? {
    guard let text = sqlite3_column_text(raw, column) else { return nil }
    let count = Int(sqlite3_column_bytes(raw, column))  // after the text: it may convert
    return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
  }

  /// A blob column's bytes (`nil` for NULL), copied once.
  func bytes(_ column: Int32) -> [UInt8]? {
    guard !isNull(column) else { return nil }
    let count = Int(sqlite3_column_bytes(raw, column))
    guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return [] }
    return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
  }

  /// A 32-byte hash column.
  func digest(_ column: Int32) throws -> Digest {
    let count = Int(sqlite3_column_bytes(raw, column))
    guard count == 32, let bytes = sqlite3_column_blob(raw, column),
      let digest = Digest(bytes: UnsafeRawBufferPointer(start: bytes, count: count))
    else {
      throw RecallError.malformedStoredID
    }
    return digest
  }

  /// The error SQLite reported for `code` on a connection, as GRDB reports
  /// its own (so that `SQLiteBackend.mapErrors` tells a locked store).
  static func error(_ code: Int32, _ handle: SQLiteConnection?, _ sql: String) -> DatabaseError {
    DatabaseError(
      resultCode: ResultCode(rawValue: code),
      message: handle.map { String(cString: sqlite3_errmsg($0)) }
        ?? String(cString: sqlite3_errstr(code)), sql: sql)
  }
}

/// Where ``FastStatement``s run: a lookup connection, or GRDB's connection
/// inside one of its pool's accesses. For statements that run on either.
protocol FastStatementRunner {
  /// Runs `body` on the statement for `sql`, with `arguments` bound in order.
  func fastRun<T>(
    _ sql: String, _ arguments: [FastArgument], _ body: (FastStatement) throws -> T
  ) throws -> T

  /// How many rows the most recently completed `INSERT`, `UPDATE` or
  /// `DELETE` changed (0 when it matched none): `sqlite3_changes`, which
  /// GRDB's `Database` already reads as this property.
  var changesCount: Int { get }
}

extension Database: FastStatementRunner {
  func fastRun<T>(
    _ sql: String, _ arguments: [FastArgument], _ body: (FastStatement) throws -> T
  ) throws -> T {
    try FastStatement.run(self, sql, arguments, body)
  }
}

extension LookupConnection: FastStatementRunner {
  func fastRun<T>(
    _ sql: String, _ arguments: [FastArgument], _ body: (FastStatement) throws -> T
  ) throws -> T {
    try FastStatement.run(self, sql, arguments, body)
  }

  var changesCount: Int { Int(sqlite3_changes(handle)) }
}

/// A value bound to a ``FastStatement``.
enum FastArgument {
  case null
  case int(Int64)
  case double(Double)
  case text(String)
  case bytes([UInt8])
  case digest(Digest)

  /// A blob of bytes bound as they are (SQLite copies them), or NULL.
  static func bytes(_ bytes: [UInt8]?) -> FastArgument { bytes.map(FastArgument.bytes) ?? .null }
  static func int(_ value: Int) -> FastArgument { .int(Int64(value)) }
  static func int(_ value: Int64?) -> FastArgument { value.map(FastArgument.int) ?? .null }
  static func text(_ value: String?) -> FastArgument { value.map(FastArgument.text) ?? .null }

  /// SQLite copies what it binds (`SQLITE_TRANSIENT`).
  fileprivate func bind(_ statement: SQLiteStatement, _ index: Int32) -> Int32 {
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    switch self {
    case .null: return sqlite3_bind_null(statement, index)
    case .int(let value): return sqlite3_bind_int64(statement, index, value)
    case .double(let value): return sqlite3_bind_double(statement, index, value)
    case .text(let value):
      // By length: a NUL inside the string is kept.
      return sqlite3_bind_text(statement, index, value, Int32(value.utf8.count), transient)
    case .bytes(let bytes) where bytes.isEmpty:
      return sqlite3_bind_zeroblob(statement, index, 0)  // a NULL pointer would bind NULL
    case .bytes(let bytes):
      return bytes.withUnsafeBytes {
        sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient)
      }
    case .digest(let digest):
      return digest.withUnsafeBytes {
        sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient)
      }
    }
  }
}
