import Foundation
import Testing

/// The build plugin's tool, run as the plugin runs it.
@Suite struct FingerprintToolTests {
  func runTool(_ directory: String, sources: [String]) throws -> String {
    try runToolReporting(directory, sources: sources).table
  }

  /// Runs the tool; returns the table and its report (`RECALL_PLUGIN_VERBOSE`).
  func runToolReporting(_ directory: String, sources: [String]) throws -> (
    table: String, report: String
  ) {
    let result = try run(
      productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
      ["--output", directory + "/Table.swift", "--cache", directory + "/cache.bin", "--sources"]
        + sources + ["--dependency-sources"],
      environment: ["RECALL_PLUGIN_VERBOSE": "1"])
    #expect(result.status == 0, "\(result.text)")
    return (try String(contentsOfFile: directory + "/Table.swift", encoding: .utf8), result.text)
  }

  @Test func theSummaryCacheServesUnchangedFilesAndSurvivesDamage() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let ops = directory.path + "/Ops.swift"
    let helpers = directory.path + "/Helpers.swift"
    try """
    @Memoized func op(_ x: Int) -> Int { helper(x) + Scaler(factor: 2).scale(x) }
    """.write(toFile: ops, atomically: true, encoding: .utf8)
    try """
    let rate = 2  // a comment: elided from the recorded source
    func helper(_ x: Int) -> Int { x * rate }
    struct Scaler { var factor: Int; func scale(_ x: Int) -> Int { x * factor } }
    extension Scaler { static let unit = Scaler(factor: 1) }
    """.write(toFile: helpers, atomically: true, encoding: .utf8)

    let first = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(first.report.contains("2 files (2 parsed)"), "\(first.report)")
    // Nothing changed: every summary comes from the cache, and gives the same table.
    let cached = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(cached.report.contains("2 files (0 parsed)"), "\(cached.report)")
    #expect(cached.table == first.table)
    // One file edited: only it is parsed again.
    Thread.sleep(forTimeInterval: 0.05)
    try """
    @Memoized func op(_ x: Int) -> Int { helper(x) + Scaler(factor: 3).scale(x) }
    """.write(toFile: ops, atomically: true, encoding: .utf8)
    let edited = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(edited.report.contains("2 files (1 parsed)"), "\(edited.report)")
    // A damaged cache (cut short, or another format) is read as empty.
    let cut = Data(
      try Data(contentsOf: URL(fileURLWithPath: directory.path + "/cache.bin")).prefix(100))
    let hugeCount =
      Data("RecallSummaries8".utf8) + Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
    for damage in [cut, Data("{}".utf8), hugeCount] {
      try damage.write(to: URL(fileURLWithPath: directory.path + "/cache.bin"))
      let rebuilt = try runToolReporting(directory.path, sources: [ops, helpers])
      #expect(rebuilt.report.contains("2 files (2 parsed)"), "\(rebuilt.report)")
      #expect(rebuilt.table == edited.table)
    }
  }

  func modified(_ path: String) throws -> Date {
    try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
  }

  @Test func theTableIsInternalAndRewrittenOnlyWhenItChanges() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let source = directory.path + "/Ops.swift"
    try """
    let rate = 2
    func helper(_ x: Int) -> Int { x * rate }
    @Memoized func op(_ x: Int) -> Int { helper(x) }
    """.write(toFile: source, atomically: true, encoding: .utf8)

    let first = try runTool(directory.path, sources: [source])
    #expect(first.contains("internal let __recallFingerprintTable"))
    // Keyed by name and own fingerprint: overloads share a name.
    #expect(first.contains("\"op(_:)\\n"))
    #expect(!first.contains("public "))
    let written = try modified(directory.path + "/Table.swift")

    // Comments: same table, file untouched (nothing recompiles).
    Thread.sleep(forTimeInterval: 0.05)
    try """
    let rate = 2
    // Scales by the rate.
    func helper(_ x: Int) -> Int { x * rate }  // twice, for now
    @Memoized func op(_ x: Int) -> Int { helper(x) }
    """.write(toFile: source, atomically: true, encoding: .utf8)
    #expect(try runTool(directory.path, sources: [source]) == first)
    #expect(try modified(directory.path + "/Table.swift") == written)

    // Reformatting: the same versions (the recorded source shows the new layout).
    try """
    let rate = 2
    func helper(_ x: Int) -> Int {
      x * rate
    }
    @Memoized func op(_ x: Int) -> Int { helper(x) }
    """.write(toFile: source, atomically: true, encoding: .utf8)
    let reformatted = try runTool(directory.path, sources: [source])
    #expect(versionLines(reformatted) == versionLines(first))
    #expect(reformatted.contains(#"func helper(_ x: Int) -> Int {\n  x * rate\n}"#))

    // A global the op reaches: a new version.
    try """
    let rate = 3
    func helper(_ x: Int) -> Int { x * rate }
    @Memoized func op(_ x: Int) -> Int { helper(x) }
    """.write(toFile: source, atomically: true, encoding: .utf8)
    #expect(versionLines(try runTool(directory.path, sources: [source])) != versionLines(first))
  }

  @Test func identicalPrivateOpsInTwoFilesGetVersionsOfTheirOwn() throws {
    // Same name, same tokens, each calling its file's private helper: the
    // name-based graph cannot tell the helpers apart, so the file decides.
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let first = directory.path + "/First.swift"
    let second = directory.path + "/Second.swift"
    try "@Memoized private func f() -> Int { helper() }\nprivate func helper() -> Int { 1 }\n"
      .write(toFile: first, atomically: true, encoding: .utf8)
    try "@Memoized private func f() -> Int { helper() }\nprivate func helper() -> Int { 2 }\n"
      .write(toFile: second, atomically: true, encoding: .utf8)
    let table = try runTool(directory.path, sources: [first, second])
    let entries = table.split(separator: "\n").filter { $0.contains("\"f()\\n") }
    #expect(entries.count == 2, "\(table)")
    #expect(entries.contains { $0.contains("\\nFirst.swift\": (") })
    #expect(entries.contains { $0.contains("\\nSecond.swift\": (") })
    let versions = Set(entries.map { $0.split(separator: "\"").dropLast().last! })
    #expect(versions.count == 2)
  }

  /// The table's version entries, without its code.
  func versionLines(_ table: String) -> [Substring] {
    table.split(separator: "\n").filter { $0.contains("\"op(_:)\\n") }
  }
}
