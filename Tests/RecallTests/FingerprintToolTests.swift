import Foundation
import Testing

/// The build plugin's tool, run as the plugin runs it.
@Suite struct FingerprintToolTests {
  func runTool(_ directory: String, sources: [String]) throws -> String {
    let result = try run(
      productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
      ["--output", directory + "/Table.swift", "--cache", directory + "/cache.json", "--sources"]
        + sources + ["--dependency-sources"],
      environment: [:])
    #expect(result.status == 0, "\(result.text)")
    return try String(contentsOfFile: directory + "/Table.swift", encoding: .utf8)
  }

  func modified(_ path: String) throws -> Date {
    try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
  }

  @Test func theTableIsInternalAndRewrittenOnlyWhenItChanges() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
    let source = directory.path + "/Ops.swift"
    try """
      let rate = 2
      func helper(_ x: Int) -> Int { x * rate }
      @Memoized func op(_ x: Int) -> Int { helper(x) }
      """.write(toFile: source, atomically: true, encoding: .utf8)

    let first = try runTool(directory.path, sources: [source])
    #expect(first.contains("internal let __recallFingerprintTable"))
    #expect(first.contains("\"op(_:)\": ("))
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

  /// The table's version entries, without its code.
  func versionLines(_ table: String) -> [Substring] {
    table.split(separator: "\n").filter { $0.contains("\"op(_:)\": (") }
  }
}
