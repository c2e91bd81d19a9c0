import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RecallCore

/// One connection to the server, used by one thread at a time. Its calls block
/// until the server answers (the backend protocol is synchronous); they never
/// run on an event loop's thread.
final class Connection: Sendable {
  let raw: PostgresConnection

  /// postgres-nio logs every query at debug level: keep it quiet.
  static let logger = Logger(label: "Recall.Postgres") { _ in SwiftLogNoOpLogHandler() }

  init(_ raw: PostgresConnection) {
    self.raw = raw
  }

  /// Runs a statement and returns its rows.
  @discardableResult
  func query(_ query: PostgresQuery) throws -> [PostgresRow] {
    try raw.query(query, logger: Self.logger).wait().rows
  }

  /// Runs SQL without parameters: one statement, or several separated by
  /// semicolons (none may contain a semicolon of its own).
  func run(_ sql: String) throws {
    for statement in sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
      try query(PostgresQuery(unsafeSQL: String(statement)))
    }
  }

  /// Runs a statement and returns how many rows it changed.
  func changes(_ query: PostgresQuery) throws -> Int {
    try raw.query(query, logger: Self.logger).wait().metadata.rows ?? 0
  }
}

/// The connections one backend holds open, at most `maximum`; a thread that
/// needs one when all are in use waits for one.
final class ConnectionPool: @unchecked Sendable {
  private let server: PostgresURL
  private let schema: String
  private let maximum: Int
  private let connectTimeout: Duration
  // Guarded by `condition`.
  private let condition = NSCondition()
  private var idle: [Connection] = []
  private var open = 0
  private var nextID = 0

  init(server: PostgresURL, schema: String, maximum: Int, connectTimeout: Duration) {
    self.server = server
    self.schema = schema
    self.maximum = max(1, maximum)
    self.connectTimeout = connectTimeout
  }

  func with<T>(_ body: (Connection) throws -> T) throws -> T {
    let connection = try checkOut()
    do {
      let result = try body(connection)
      checkIn(connection)
      return result
    } catch {
      checkIn(connection)
      throw error
    }
  }

  func closeAll() {
    condition.lock()
    let connections = idle
    idle = []
    open -= connections.count
    condition.unlock()
    for connection in connections { _ = try? connection.raw.close().wait() }
  }

  private func checkOut() throws -> Connection {
    condition.lock()
    while idle.isEmpty && open >= maximum { condition.wait() }
    if let connection = idle.popLast() {
      condition.unlock()
      return connection
    }
    open += 1
    nextID += 1
    let id = nextID
    condition.unlock()
    do {
      return try connect(id: id)
    } catch {
      condition.lock()
      open -= 1
      condition.signal()
      condition.unlock()
      throw error
    }
  }

  private func checkIn(_ connection: Connection) {
    condition.lock()
    if connection.raw.isClosed {
      open -= 1
    } else {
      idle.append(connection)
    }
    condition.signal()
    condition.unlock()
  }

  private func connect(id: Int) throws -> Connection {
    let tls: PostgresConnection.Configuration.TLS
    switch server.sslMode {
    case "disable":
      tls = .disable
    case "prefer", "require":
      let context = try NIOSSLContext(configuration: .makeClientConfiguration())
      tls = server.sslMode == "require" ? .require(context) : .prefer(context)
    default:
      throw RecallError.storeUnavailable(
        path: server.location,
        detail: "sslmode must be disable, prefer or require, not \(server.sslMode)")
    }
    var configuration = PostgresConnection.Configuration(
      host: server.host, port: server.port, username: server.user, password: server.password,
      database: server.database, tls: tls)
    configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout.inSeconds * 1000))
    let raw = try PostgresConnection.connect(
      on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id,
      logger: Connection.logger
    ).wait()
    let connection = Connection(raw)
    try connection.run("SET search_path TO \(Self.quoted(schema))")
    return connection
  }

  /// An SQL identifier, quoted.
  static func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
