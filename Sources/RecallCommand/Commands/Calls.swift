import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall calls OP`
struct Calls: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List an op's stored calls, most recent first.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(
    help: "The op: its full name, its name without the module, or its base name.")
  var op: String
  @Option(help: "Only calls made with this op version (a prefix is enough).")
  var version: String?
  @Flag(help: "Only calls the current version reuses.")
  var current = false
  @Option(help: "At most this many calls.")
  var limit = 50

  func run() throws {
    let store = try options.open()
    let values = ValueText(store: store)
    try reporting {
      let op = try findOp(self.op, in: store)
      let version = try self.version.map { try store.version(of: op, matching: $0) }
      let calls = try store.calls(of: op, version: version, currentOnly: current, limit: limit)
      options.print(calls.map { CallRow($0, values: values) })
    }
  }
}
