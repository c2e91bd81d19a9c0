import ArgumentParser
import Foundation
import RecallCore

/// `recall stale [OP]`
struct Stale: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List calls the current version of their op would not reuse, and why.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "Only this op's calls.")
  var op: String?

  struct Row: TableRow {
    static let columns = ["id", "op", "op_version", "current_version", "why"]
    let id: String
    let op: String
    let opVersion: String
    @Nullable var currentVersion: String?
    /// What changed, component by component.
    let why: [String]
    let text: String

    var cells: [String] {
      [short(id), op, short(opVersion), currentVersion.map(short) ?? "", text]
    }

    private enum CodingKeys: String, CodingKey {
      case id, op, why
      case opVersion = "op_version"
      case currentVersion = "current_version"
    }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try self.op.map { try findOp($0, in: store) }
      // One diff per version: its calls are stale for the same reason.
      var reasons: [String: VersionDiff?] = [:]
      var rows: [Row] = []
      for call in try store.staleCalls(of: op) {
        let key = call.op.name + " " + call.opVersion.hex
        if reasons[key] == nil { reasons[key] = .some(try store.staleness(of: call.id)) }
        let diff = reasons[key]!
        let text =
          diff.map {
            $0.isComplete
              ? $0.changes.map(\.summary).joined(separator: "; ") : "code not recorded"
          } ?? ""
        rows.append(
          Row(
            id: call.id.hex, op: call.op.name, opVersion: call.opVersion.hex,
            currentVersion: diff?.to.hex, why: diff?.changes.map(\.summary) ?? [],
            text: text.isEmpty ? "no component differs" : text))
      }
      options.print(rows)
    }
  }
}
