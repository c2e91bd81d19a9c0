import ArgumentParser
import Foundation
import RecallCore
import RecallRows
import RecallSQLite

#if PostgreSQL
  import RecallPostgres
#endif

/// Where the store is, and how to print: the options every command takes,
/// before or after its name.
struct StoreOptions: ParsableArguments {
  @Option(
    name: .long,
    help: "The store's directory, or a postgres:// URL (default: $RECALL_STORE, else ./.recall).")
  var store: String?

  @Flag(name: .long, help: "Print JSON Lines instead of a table.")
  var json = false

  var path: String { Self.path(store) }

  /// The store `--store` names, else $RECALL_STORE's, else ./.recall.
  static func path(_ store: String?) -> String {
    store ?? ProcessEnvironment.defaultStorePath
  }

  /// Opens the store; read-only unless the command writes.
  func open(writing: Bool = false) throws -> Store {
    try Self.open(path, writing: writing)
  }

  /// Opens the store at `path`: as a reader (``Store/init(reading:configuration:)``,
  /// which refuses every change) unless `writing`. A store that does not
  /// exist is an error, unless `creating` (the store `export --to` copies
  /// into): a command that manages a store never makes one by mistake.
  /// SQLite's reader also opens the database read-only.
  static func open(_ path: String, writing: Bool, creating: Bool = false) throws -> Store {
    do {
      var quiet = Store.Configuration()
      quiet.printsWarnings = false
      if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
        #if PostgreSQL
          var configuration = PostgresBackend.Configuration()
          configuration.createsStore = creating
          let backend = try PostgresBackend(url: path, configuration: configuration)
          return writing
            ? Store(backend: backend, configuration: quiet)
            : Store(reading: backend, configuration: quiet)
        #else
          throw CommandFailure(
            """
            This recall was built without PostgreSQL support, so it cannot open \
            '\(redactingPassword(path))'. Build it with the PostgreSQL trait: \
            swift build -c release --product recall --traits PostgreSQL
            """)
        #endif
      }
      var configuration = SQLiteBackend.Configuration()
      configuration.readOnly = !writing
      configuration.createsStore = creating
      let backend = try SQLiteBackend(path: path, configuration: configuration)
      return writing
        ? Store(backend: backend, configuration: quiet)
        : Store(reading: backend, configuration: quiet)
    } catch let error as RecallError {
      throw CommandFailure(error.message)
    }
  }

  /// Prints rows as an aligned table for people, or as JSON Lines for programs.
  func print<Row: TableRow>(_ rows: [Row]) {
    Swift.print(json ? JSONLines.text(rows) : TextTable.text(rows), terminator: "")
  }
}

/// A PostgreSQL URL with its password left out, for messages.
func redactingPassword(_ url: String) -> String {
  guard var components = URLComponents(string: url), components.password != nil else { return url }
  components.password = "…"
  return components.string ?? url
}
