import ArgumentParser
import Foundation
import RecallCore
import RecallSQLite

#if PostgreSQL
  import RecallPostgres
#endif

/// `recall`: look into and manage a Recall store from the command line.
@main
struct RecallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recall",
    abstract: "Look into and manage a Recall store.",
    discussion: """
      The store is the directory given with --store, else $RECALL_STORE, else ./.recall. \
      Commands that only read open it read-only. Tables are for people; --json prints \
      JSON Lines, one object per row, each with a "version" field. Exit status: 0 on \
      success; 1 when the store cannot be opened or what was named (an op, a call, a \
      version) is not in it; 64 for a command line that is not valid (with the usage).
      """,
    subcommands: [
      List.self, Calls.self, Show.self, Versions.self, Diff.self, Stale.self, Accept.self,
      Forget.self,
      CollectGarbage.self, TagCommand.self, TableCommand.self, Graph.self, Stats.self, Running.self,
      Export.self, Import.self,
    ])

  /// Runs the command line, with the store options also accepted before the
  /// subcommand (`recall --store PATH ls`), where people type them.
  static func main() {
    main(placingStoreOptions(Array(CommandLine.arguments.dropFirst())))
  }

  /// Moves `--store PATH` (or `--store=PATH`) and `--json` given before the
  /// subcommand to just after it, where the subcommands declare them.
  static func placingStoreOptions(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      if argument == "--store", index + 1 < arguments.endIndex {
        leading += [argument, arguments[index + 1]]
        index += 2
      } else if argument.hasPrefix("--store=") || argument == "--json" {
        leading.append(argument)
        index += 1
      } else {
        break
      }
    }
    guard !leading.isEmpty, index < arguments.endIndex, !arguments[index].hasPrefix("-") else {
      return arguments
    }
    return [arguments[index]] + leading + arguments[(index + 1)...]
  }
}

/// Where the store is, and how to print.
struct StoreOptions: ParsableArguments {
  @Option(
    name: .long,
    help: "The store's directory, or a postgres:// URL (default: $RECALL_STORE, else ./.recall).")
  var store: String?

  @Flag(name: .long, help: "Print JSON Lines instead of a table.")
  var json = false

  var path: String {
    store ?? ProcessInfo.processInfo.environment["RECALL_STORE"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ".recall"
  }

  /// Opens the store; read-only unless the command writes.
  func open(writing: Bool = false) throws -> Store {
    try Self.open(path, writing: writing)
  }

  /// Opens the store at `path` (read-only unless `writing`; a store opened for
  /// writing is created if needed, as `export` and `import` need).
  /// A PostgreSQL store has no read-only mode: it is opened as programs open it.
  static func open(_ path: String, writing: Bool) throws -> Store {
    do {
      var quiet = Store.Configuration()
      quiet.printsWarnings = false
      if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
        #if PostgreSQL
          return try Store.postgres(url: path, configuration: quiet)
        #else
          throw CommandFailure(
            """
            This recall was built without PostgreSQL support, so it cannot open '\(redactingPassword(path))'. \
            Build it with the PostgreSQL trait: swift build -c release --product recall --traits PostgreSQL
            """)
        #endif
      }
      var backend = SQLiteBackend.Configuration()
      backend.readOnly = !writing
      return try Store.sqlite(at: path, configuration: quiet, backend: backend)
    } catch let error as RecallError {
      throw CommandFailure(error.message)
    }
  }

  /// Prints rows as a table or as JSON Lines.
  func print(_ table: Table) {
    Swift.print(json ? table.jsonLines() : table.text(), terminator: "")
  }
}

/// Finds an op by its full name, or by its name without the module, or by its
/// base name, when that is unique.
func findOp(_ name: String, in store: Store) throws -> OpID {
  let ops = try store.ops().map(\.op)
  if ops.contains(OpID(name)) { return OpID(name) }
  func local(_ full: String) -> Substring {
    guard let dot = full.firstIndex(of: "."), !full[..<dot].contains("(") else {
      return Substring(full)
    }
    return full[full.index(after: dot)...]
  }
  // Without the module, or by the name with labels only (overloads share it).
  var matches = ops.filter {
    local($0.name) == name || $0.labelName == name || local($0.labelName) == name
  }
  if matches.isEmpty { matches = ops.filter { local($0.name).prefix { $0 != "(" } == name } }
  guard !matches.isEmpty else {
    throw CommandFailure(
      "The store has no op named '\(name)'. Its ops: "
        + (ops.isEmpty ? "none yet." : ops.map(\.name).joined(separator: ", ")))
  }
  guard matches.count == 1 else {
    throw CommandFailure(
      "'\(name)' names several ops: \(matches.map(\.name).joined(separator: ", ")); give the full name "
        + "(overloads differ by their parameters' types).")
  }
  return matches[0]
}

/// Finds a call by a tag's name or by the first characters of its id.
func findCall(_ text: String, in store: Store, path: String) throws -> CallRecord {
  if let tag = try store.tagged(text), case .call(let id) = tag.target,
    let call = try store.call(id)
  {
    return call
  }
  let matches = try store.calls(matching: CallQuery(idPrefix: text, limit: 2))
  guard let call = matches.first else {
    throw CommandFailure(
      "The store at '\(path)' has no call whose id starts with '\(text)', and no tag of that name.")
  }
  guard matches.count == 1 else {
    throw CommandFailure("'\(text)' matches several calls; give more characters.")
  }
  return call
}

/// Runs a store operation, turning Recall's errors into messages for people.
func reporting<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as RecallError {
    throw CommandFailure(error.message)
  }
}

/// A PostgreSQL URL with its password left out, for messages.
func redactingPassword(_ url: String) -> String {
  guard var components = URLComponents(string: url), components.password != nil else { return url }
  components.password = "…"
  return components.string ?? url
}

/// A date as people and programs read it: ISO 8601, UTC.
func iso(_ date: Date) -> String {
  date.formatted(.iso8601)
}

func seconds(_ value: Double) -> String {
  value < 1e-3
    ? String(format: "%.0f µs", value * 1e6)
    : value < 1 ? String(format: "%.1f ms", value * 1e3) : String(format: "%.2f s", value)
}

func bytes(_ count: Int) -> String {
  count < 1 << 10
    ? "\(count) B"
    : count < 1 << 20
      ? String(format: "%.1f KiB", Double(count) / 1024)
      : String(format: "%.1f MiB", Double(count) / 1_048_576)
}

/// A failure that is not a usage error: the store could not be opened, or
/// what the command line names is not in it. It prints its message without
/// the usage and exits with status 1 (usage errors, `ValidationError`, exit
/// with 64 and show the usage).
struct CommandFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
