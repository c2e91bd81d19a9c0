import ArgumentParser
import Foundation
import RecallCore
import RecallRows

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

  /// The stale calls of one op version, as the table shows them: grouped,
  /// since they are stale for the same reason.
  struct Group: TableRow {
    static let columns = ["op", "op_version", "current_version", "calls", "why"]
    let op: String
    let opVersion: String
    @Nullable var currentVersion: String?
    let calls: Int
    let why: String

    var cells: [String] {
      [op, short(opVersion), currentVersion.map(short) ?? "", String(calls), why]
    }

    private enum CodingKeys: String, CodingKey {
      case op, calls, why
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
      guard !options.json else { return options.print(rows) }
      // For people, one line per op version: its calls are stale for one
      // reason (`--json` lists every call).
      var groups: [Group] = []
      var indices: [String: Int] = [:]
      for row in rows {
        let key = row.op + " " + row.opVersion
        if let index = indices[key] {
          let group = groups[index]
          groups[index] = Group(
            op: group.op, opVersion: group.opVersion, currentVersion: group.currentVersion,
            calls: group.calls + 1, why: group.why)
        } else {
          indices[key] = groups.count
          groups.append(
            Group(
              op: row.op, opVersion: row.opVersion, currentVersion: row.currentVersion, calls: 1,
              why: row.text))
        }
      }
      // By op; each op's versions most recent first, as their calls came.
      let ordered = groups.enumerated().sorted {
        ($0.element.op, $0.offset) < ($1.element.op, $1.offset)
      }
      options.print(ordered.map(\.element))
    }
  }
}
