import ArgumentParser
import Foundation
import RecallCore

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

  struct Row: TableRow {
    static let columns = [
      "id", "op_version", "trial", "started_at", "duration", "inputs", "output",
    ]
    let id: String
    let opVersion: String
    /// The trial the result belongs to (0 when every trial shares it).
    let trial: Int
    let startedAt: Date
    let duration: Double
    /// Each input's content id, by parameter name.
    let inputs: [String: String]
    let output: JSONValue
    let text: (inputs: String, output: String)

    var cells: [String] {
      [
        short(id), short(opVersion), String(trial),
        iso(startedAt), seconds(duration), text.inputs, text.output,
      ]
    }

    private enum CodingKeys: String, CodingKey {
      case id, trial, duration, inputs, output
      case opVersion = "op_version"
      case startedAt = "started_at"
    }
  }

  func run() throws {
    let store = try options.open()
    let values = ValueText(store: store)
    try reporting {
      let op = try findOp(self.op, in: store)
      let version = try self.version.map { try store.version(of: op, matching: $0) }
      let calls = try store.calls(of: op, version: version, currentOnly: current, limit: limit)
      options.print(
        calls.map { call in
          Row(
            id: call.id.hex, opVersion: call.opVersion.hex, trial: call.trial,
            startedAt: call.startedAt,
            duration: call.duration,
            inputs: Dictionary(uniqueKeysWithValues: call.inputs.map { ($0.name, $0.cid.hex) }),
            output: values.jsonValue(call.outputCID),
            text: (
              values.inputs(call),
              values.json(call.outputCID, .row) ?? (call.evictedAt == nil ? "?" : "(evicted)")
            ))
        })
    }
  }
}
