import ArgumentParser
import Foundation
import RecallCore

/// `recall versions OP`
struct Versions: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List an op's versions: when each was first and last seen, and its calls.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op.")
  var op: String

  struct Row: TableRow {
    static let columns = [
      "op_version", "semantic_version", "first_seen", "last_seen", "calls", "current",
    ]
    let opVersion: String
    let semanticVersion: String
    let firstSeen: Date
    let lastSeen: Date
    let calls: Int
    let current: Bool

    var cells: [String] {
      [
        short(opVersion), semanticVersion == opVersion ? "=" : short(semanticVersion),
        iso(firstSeen), iso(lastSeen), "\(calls)", current ? "current" : "",
      ]
    }

    private enum CodingKeys: String, CodingKey {
      case calls, current
      case opVersion = "op_version"
      case semanticVersion = "semantic_version"
      case firstSeen = "first_seen"
      case lastSeen = "last_seen"
    }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try findOp(self.op, in: store)
      options.print(
        try store.versions(of: op).map {
          Row(
            opVersion: $0.version.hex, semanticVersion: $0.semanticVersion.hex,
            firstSeen: $0.firstSeen, lastSeen: $0.lastSeen, calls: $0.calls, current: $0.isCurrent)
        })
    }
  }
}
