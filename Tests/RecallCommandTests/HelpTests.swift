import Foundation
import RecallTestSupport
import Testing

/// The full `--help` of the tool and of every command, compared with the
/// snapshots in `Help/`: a changed option, default or wording shows in review.
/// Run with `RECALL_RECORD_HELP=1` to write the snapshots again.
@Suite struct HelpTests {
  static let commands = [
    "", "ls", "calls", "show", "versions", "diff", "stale", "outdated", "accept", "forget", "prune",
    "gc",
    "tag",
    "table", "graph", "stats", "running", "audit", "why", "environment", "export", "import",
    "serve",
  ]

  static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Help")

  @Test(arguments: commands) func helpMatchesItsSnapshot(_ command: String) throws {
    let binary = productsDirectory.appendingPathComponent("recall").path
    let arguments = (command.isEmpty ? [] : [command]) + ["--help"]
    // A fixed width, as on a terminal of 80 columns.
    let result = try run(binary, arguments, environment: ["COLUMNS": "80"])
    #expect(result.status == 0, "\(result.text)")
    let file = Self.snapshots.appendingPathComponent(
      (command.isEmpty ? "recall" : command) + ".txt")
    if ProcessInfo.processInfo.environment["RECALL_RECORD_HELP"] != nil {
      try result.text.write(to: file, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(
      result.text == expected,
      "`recall \(arguments.joined(separator: " "))` differs from Help/\(file.lastPathComponent); if the change is intended, run the tests with RECALL_RECORD_HELP=1."
    )
  }
}
