import ArgumentParser
import Foundation
import RecallCore

/// `recall diff OP [FROM] [TO]`
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show what changed between two versions of an op, component by component.",
    discussion: """
      Without versions, it compares the current version with the other version used last. A version \
      that shares its results with the older one (accepted, or adding parameters) says so.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op.")
  var op: String
  @ArgumentParser.Argument(
    help: "The older version (a prefix is enough; default: the other one used last).")
  var from: String?
  @ArgumentParser.Argument(
    help: "The newer version (a prefix is enough; default: the current one).")
  var to: String?

  struct Row: TableRow {
    static let columns = ["component", "change", "diff", "shares_results"]
    let component: String
    let change: String
    let diff: String
    let sharesResults: Bool

    var cells: [String] { [component, change, diff, sharesResults ? "yes" : "no"] }

    private enum CodingKeys: String, CodingKey {
      case component, change, diff
      case sharesResults = "shares_results"
    }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try findOp(self.op, in: store)
      let versions = try store.versions(of: op)
      guard let current = try store.currentVersion(of: op) else {
        throw CommandFailure("The store has no recorded versions of \(op).")
      }
      let to = try self.to.map { try store.version(of: op, matching: $0) } ?? current.version
      let newer = versions.first { $0.version == to }
      let from: CodeFingerprint
      if let given = self.from {
        from = try store.version(of: op, matching: given)
      } else {
        // The other version used last (after a revert, the newer code).
        guard
          let previous = versions.filter({ $0.version != to })
            .max(by: { ($0.lastSeen, $0.firstSeen) < ($1.lastSeen, $1.firstSeen) })
        else {
          throw CommandFailure("\(op) has one version only; there is nothing to compare it with.")
        }
        from = previous.version
      }
      let older = versions.first { $0.version == from }
      let diff = try store.diff(op, from: from, to: to)
      let shared = older != nil && older?.semanticVersion == newer?.semanticVersion
      guard !options.json else {
        options.print(
          diff.changes.map { change in
            let kind =
              switch change {
              case .added: "added"
              case .removed: "removed"
              case .changed: "changed"
              }
            return Row(
              component: change.identity, change: kind, diff: change.unifiedDiff,
              sharesResults: shared)
          })
        return
      }
      if shared, let newer {
        let added = newer.parameters.filter { !(older?.parameters.contains($0) ?? true) }
        let reason =
          added.isEmpty
          ? "accepted as equivalent"
          : "adds parameter\(added.count == 1 ? "" : "s") \(added.joined(separator: ", "))"
        print(
          "\(to) shares the results of \(from) (\(reason)): the edit below did not make them recompute."
        )
      }
      print(diff)
    }
  }
}
