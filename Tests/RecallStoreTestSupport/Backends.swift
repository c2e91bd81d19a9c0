import Foundation
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallPostgres
@testable import RecallSQLite

/// The PostgreSQL database the tests may use (`RECALL_TEST_POSTGRES_URL`);
/// without it, the PostgreSQL cases are left out.
public let postgresURL = ProcessInfo.processInfo.environment["RECALL_TEST_POSTGRES_URL"].flatMap {
  $0.isEmpty ? nil : $0
}

/// The backends the store tests run against: PostgreSQL (with values in the
/// database, and with every value in a blob directory) when a server is
/// configured.
public enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case memory, sqlite, postgres
  case postgresBlobs = "postgres+blobs"
  public var testDescription: String { rawValue }

  public static var allCases: [Backend] {
    postgresURL == nil ? [.memory, .sqlite] : [.memory, .sqlite, .postgres, .postgresBlobs]
  }
  /// The backends other processes can share.
  public static var shared: [Backend] { allCases.filter { $0 != .memory } }
}

/// A schema of its own in the test database, dropped when the test ends.
public final class PostgresSchema: Sendable {
  public let name = "recall_test_" + UUID().uuidString.prefix(8).lowercased()
  private let used = Atomic(false)

  public init() {}

  public func open(
    _ configuration: PostgresBackend.Configuration = .init(), blobs: TemporaryDirectory? = nil
  ) throws -> PostgresBackend {
    var configuration = configuration
    configuration.schema = name
    if let blobs {
      // Every value a file, to run the blob paths as often as possible.
      configuration.blobDirectory = blobs.path
      configuration.inlineThreshold = 0
    }
    used.store(true, ordering: .relaxed)
    return try PostgresBackend(url: postgresURL!, configuration: configuration)
  }

  deinit {
    guard used.load(ordering: .relaxed), let url = postgresURL else { return }
    var configuration = PostgresBackend.Configuration()
    configuration.schema = name
    let name = name
    try? PostgresBackend(url: url, configuration: configuration).withConnection {
      try $0.run("DROP SCHEMA \(ConnectionPool.quoted(name)) CASCADE")
    }
  }
}

/// A backend whose stores can be reopened, as a new process would.
public struct Reopenable {
  public let directory = TemporaryDirectory()
  public let schema = PostgresSchema()
  public let backend: any StoreWriter

  public init(_ kind: Backend) throws {
    switch kind {
    case .memory: backend = InMemoryBackend()
    case .sqlite: backend = try SQLiteBackend(path: directory.path)
    case .postgres: backend = try schema.open()
    case .postgresBlobs: backend = try schema.open(blobs: directory)
    }
  }

  /// A store with a fresh process's state (no memory layer, no resolved ops),
  /// run by `program` (``Store/Configuration/program``), with the rest of
  /// its configuration as `configuring` sets it (warnings not printed).
  public func open(
    program: String = "tests:/checkout/.build/debug/experiment",
    configuring: (inout Store.Configuration) -> Void = { _ in }
  ) -> Store {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.program = program
    configuring(&configuration)
    return Store(backend: backend, configuration: configuration)
  }
}
