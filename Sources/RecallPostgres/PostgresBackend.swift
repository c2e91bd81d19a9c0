import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import RecallCore
import Synchronization

/// A store in a PostgreSQL database, shared by many processes on many
/// machines: calls, inputs, values (in `bytea` columns), code versions, tags
/// and claims, in one schema.
///
/// ```swift
/// let store = try Store.postgres(url: "postgres://recall@db.lab.internal/experiments")
/// ```
///
/// Large values (model weights, datasets) can live in a directory every
/// worker mounts instead (``Configuration/blobDirectory``, or `?blobs=PATH` in
/// the URL), which keeps them out of the database's backups and its memory.
///
/// Every statement that changes the store runs in a transaction, so a call's
/// row is visible only with every value it names. Many processes may use one
/// store at once; claims (`ClaimPolicy`) make a call that several
/// of them miss at once run once.
public final class PostgresBackend: StoreWriter {
  /// Options of a PostgreSQL store.
  public struct Configuration: Sendable {
    /// The schema that holds the store's tables, created if needed. Several
    /// stores can share one database under different schemas. Default:
    /// `recall`.
    public var schema = "recall"

    /// The most connections one process opens. Default: 8.
    public var maximumConnections = 8

    /// How long opening a connection may take. Default: 10 seconds.
    public var connectTimeout: Duration = .seconds(10)

    /// A directory every process of the store reaches (a shared file system:
    /// NFS, a cluster file system), for values larger than
    /// ``inlineThreshold``; `nil` keeps every value in the database. The URL's
    /// `blobs=PATH` sets it. Default: `nil`.
    ///
    /// Each machine gives the path under which it sees the one shared
    /// directory. The directory is marked as the store's on first use; opening
    /// the store fails when it belongs to another store, or when it is empty
    /// while the store already keeps values in it (the share is not mounted).
    /// A process opened without it still reads and writes every value kept in
    /// the database.
    public var blobDirectory: String?

    /// Values whose encoding is larger than this many bytes go to
    /// ``blobDirectory`` when one is set. Default: 64 KiB.
    public var inlineThreshold = 64 << 10

    /// Whether opening creates the store (its schema and tables) when the
    /// database has none. Tools that look at or manage an existing store
    /// turn it off: a mistyped URL or schema is then an error
    /// (`RecallError.notFound`), not a new empty store. Default: `true`.
    public var createsStore = true

    /// Creates the default configuration.
    public init() {}
  }

  /// The server and database, without the password, for messages.
  public let location: String
  /// The store's options.
  public let configuration: Configuration

  let connections: ConnectionPool
  /// Where values larger than the inline threshold go, if anywhere.
  let blobs: BlobDirectory?
  /// Run by `record` between writing blob files and starting its
  /// transaction: lets tests put a garbage collection exactly there.
  let beforeCommit = Mutex<(@Sendable () -> Void)?>(nil)

  /// Connects to the database at `url` and creates (or upgrades) the store's
  /// tables.
  ///
  /// The URL has the form `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
  /// with `?sslmode=disable` (the default), `prefer` or `require`,
  /// `schema=NAME` to choose the schema (it overrides
  /// ``Configuration/schema``) and `blobs=PATH` for a shared blob directory
  /// (``Configuration/blobDirectory``):
  /// `postgres://recall@db/lab?schema=team_a&blobs=/mnt/lab/recall-blobs`.
  ///
  /// - Throws: `RecallError.notFound` when the schema has no store and
  ///   ``Configuration/createsStore`` is off,
  ///   `RecallError.storeUnavailable` when the URL is malformed, the
  ///   server cannot be reached or the blob directory is not the store's,
  ///   `RecallError.storeFromNewerVersion` when a newer version of Recall
  ///   wrote the store.
  public init(url: String, configuration: Configuration = Configuration()) throws {
    let server = try PostgresURL(url)
    var configuration = configuration
    if let schema = server.schema { configuration.schema = schema }
    if let blobs = server.blobDirectory { configuration.blobDirectory = blobs }
    self.location = server.location + " (schema \(configuration.schema))"
    self.configuration = configuration
    let connections = ConnectionPool(
      server: server, schema: configuration.schema, maximum: configuration.maximumConnections,
      connectTimeout: configuration.connectTimeout)
    self.connections = connections
    do {
      if !configuration.createsStore {
        try Self.requireStore(connections, schema: configuration.schema, location: location)
      }
      self.blobs = try configuration.blobDirectory.map { path in
        var directory = try BlobDirectory(root: path)
        directory.mapsFiles = false  // a network file system: read, never map
        return directory
      }
    } catch {
      // No deinit runs for a backend not yet whole: its connections close here.
      connections.closeAll()
      throw error
    }
    try migrate()
    if let blobs { try adopt(blobs) }
  }

  deinit {
    connections.closeAll()
  }

  /// Runs `body` on a connection, turning PostgreSQL's errors into
  /// `RecallError`s that say what to do.
  @discardableResult
  func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
    do {
      return try connections.with(body)
    } catch let error as RecallError {
      throw error
    } catch {
      throw RecallError.storeUnavailable(path: location, detail: Self.describe(error))
    }
  }

  /// Runs `body` in a transaction, retried when the server aborts it to break
  /// a deadlock or a serialization conflict.
  @discardableResult
  func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
    var attempt = 0
    while true {
      do {
        // Not `withConnection`: it would turn the server's error into a
        // RecallError before it could be retried.
        return try connections.with { connection in
          try connection.run("BEGIN")
          do {
            let result = try body(connection)
            try connection.run("COMMIT")
            return result
          } catch {
            try? connection.run("ROLLBACK")
            throw error
          }
        }
      } catch let error as RecallError {
        throw error
      } catch  where Self.isRetryable(error) && attempt < 8 {
        attempt += 1
        Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.01) * Double(attempt))
      } catch {
        throw RecallError.storeUnavailable(path: location, detail: Self.describe(error))
      }
    }
  }

  static func isRetryable(_ error: any Error) -> Bool {
    guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else {
      return false
    }
    return state == "40001" || state == "40P01"
  }

  static func describe(_ error: any Error) -> String {
    guard let error = error as? PSQLError else { return "\(error)" }
    if let message = error.serverInfo?[.message] {
      let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
      return message + detail
    }
    if error.code == .connectionError || error.code == .serverClosedConnection {
      return
        "could not connect (\(error.underlying.map { "\($0)" } ?? "\(error.code)")); check that the server "
        + "runs and that the URL's host, port and credentials are right"
    }
    return String(reflecting: error)
  }
}

extension Store {
  /// Opens (or creates) a store in a PostgreSQL database, for many processes
  /// on many machines.
  ///
  /// ```swift
  /// let store = try Store.postgres(url: "postgres://recall@db.lab.internal/experiments")
  /// ```
  ///
  /// - Parameters:
  ///   - url: The database's `postgres://` URL (`?schema=`, `?blobs=` …).
  ///   - configuration: What every store has (memory layer, warnings, claims).
  ///   - backend: What the PostgreSQL backend has (schema, connections, blob
  ///     directory, …).
  /// - Throws: `RecallError` when the store cannot be opened; see
  ///   ``PostgresBackend/init(url:configuration:)``.
  public static func postgres(
    url: String, configuration: Store.Configuration = .init(),
    backend: PostgresBackend.Configuration = .init()
  ) throws -> Store {
    Store(
      backend: try PostgresBackend(url: url, configuration: backend), configuration: configuration)
  }
}

/// The parts of a `postgres://` URL.
struct PostgresURL: Sendable {
  var host: String
  var port: Int
  var user: String
  var password: String?
  var database: String?
  var sslMode: String
  var schema: String?
  var blobDirectory: String?

  var location: String {
    "postgres://\(user)@\(host):\(port)/\(database ?? "")"
  }

  init(_ url: String) throws {
    guard let components = URLComponents(string: url),
      components.scheme == "postgres" || components.scheme == "postgresql",
      let host = components.host, !host.isEmpty
    else {
      throw RecallError.storeUnavailable(
        path: url.replacingOccurrences(
          of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression),
        detail: "not a PostgreSQL URL; write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
    }
    self.host = host
    self.port = components.port ?? 5432
    self.user = components.user ?? ProcessEnvironment.value("USER") ?? "postgres"
    self.password = components.password
    let path =
      components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
    self.database = path.isEmpty ? nil : path
    func parameter(_ name: String) -> String? {
      components.queryItems?.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }
    self.sslMode = parameter("sslmode") ?? "disable"
    self.schema = parameter("schema")
    self.blobDirectory = parameter("blobs")
  }
}
