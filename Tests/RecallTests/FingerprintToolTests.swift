import Foundation
import RecallCore
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

  /// The table of a run without a cache, in a directory of its own (so that
  /// a test's own cache goes on from edit to edit).
  func tableWithoutCache(_ sources: [String]) throws -> String {
    let directory = try makeDirectory()
    // Kept until the run is done: it is removed when it is let go.
    return try withExtendedLifetime(directory) { try runTool(directory.path, sources: sources) }
  }

  /// A fresh directory, created.
  func makeDirectory() throws -> TemporaryDirectory {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    return directory
  }

  @Test func theSummaryCacheServesUnchangedFilesAndSurvivesDamage() throws {
    let directory = try makeDirectory()
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
    // One file edited: only it is parsed again, and only the function
    // edited (with its neighbours), which gives the table a whole parse gives.
    // (Each edit changes the file's size too: a coarse clock may leave its
    // modification time as it was.)
    Thread.sleep(forTimeInterval: 0.05)
    try """
    @Memoized func op(_ x: Int) -> Int { helper(x) + Scaler(factor: 30).scale(x) }
    """.write(toFile: ops, atomically: true, encoding: .utf8)
    let edited = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(
      edited.report.contains("2 files (1 parsed, 1 by its edited item)"), "\(edited.report)")
    // The cache it wrote (the other file's entry copied as it was) serves both.
    let again = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(again.report.contains("2 files (0 parsed), call graph kept"), "\(again.report)")
    #expect(again.table == edited.table)
    try FileManager.default.removeItem(atPath: directory.path + "/cache.bin")
    let whole = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(whole.report.contains("2 files (2 parsed)"), "\(whole.report)")
    #expect(whole.table == edited.table)
    #expect(whole.table != first.table)

    // A damaged cache (cut short, or another format) is read as empty.
    let cut = Data(
      try Data(contentsOf: URL(fileURLWithPath: directory.path + "/cache.bin")).prefix(100))
    // The current format's magic (`SummaryCache.magic`), then a huge count.
    let hugeCount =
      Data("RecallSummaries14".utf8) + Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
    for damage in [cut, Data("{}".utf8), hugeCount] {
      try damage.write(to: URL(fileURLWithPath: directory.path + "/cache.bin"))
      let rebuilt = try runToolReporting(directory.path, sources: [ops, helpers])
      #expect(rebuilt.report.contains("2 files (2 parsed)"), "\(rebuilt.report)")
      #expect(rebuilt.table == edited.table)
    }

    // A constant changed, or a call of what the package does not declare
    // added: the call graph is kept. A reference to what the package
    // declares changed: it is built again, and the op reaches what it now
    // calls. Each gives the table of a run without a cache.
    for (code, keepsGraph) in [
      ("helper(x) + Scaler(factor: 4).scale(x)", true), ("helper(x) + Double.pi.exponent", false),
      ("helper(x) + Scaler.unit.scale(x)", false),
      ("helper(x) + Scaler.unit.scale(x) + Int.max.signum()", true),
    ] {
      Thread.sleep(forTimeInterval: 0.05)
      try "@Memoized func op(_ x: Int) -> Int { \(code) }"
        .write(toFile: ops, atomically: true, encoding: .utf8)
      let run = try runToolReporting(directory.path, sources: [ops, helpers])
      #expect(run.report.contains("call graph kept") == keepsGraph, "\(code): \(run.report)")
      #expect(run.table == (try tableWithoutCache([ops, helpers])), "\(code)")
    }
  }

  @Test func aReferenceToANameAnotherFileDeclaresRebuildsTheGraph() throws {
    let directory = try makeDirectory()
    let ops = directory.path + "/Ops.swift"
    let helpers = directory.path + "/Helpers.swift"
    func write(_ text: String, to path: String) throws {
      Thread.sleep(forTimeInterval: 0.05)
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    // `foo` names nothing the package declares: not an edge.
    try write("@Memoized func op(_ x: Int) -> Int { x + foo() }\n", to: ops)
    try write("func helper() -> Int { 1 }\n", to: helpers)
    _ = try runToolReporting(directory.path, sources: [ops, helpers])
    // Another file declares `foo`: the graph is built again, and the op
    // reaches it.
    try write("func helper() -> Int { 1 }\nfunc foo() -> Int { 2 }\n", to: helpers)
    let declared = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(!declared.report.contains("call graph kept"), "\(declared.report)")
    let declaredTable = declared.table
    #expect(declaredTable == (try tableWithoutCache([ops, helpers])))
    // The op stops calling it: the graph is built again, without the edge.
    try write("@Memoized func op(_ x: Int) -> Int { x + 1 }\n", to: ops)
    let dropped = try runToolReporting(directory.path, sources: [ops, helpers])
    #expect(!dropped.report.contains("call graph kept"), "\(dropped.report)")
    #expect(dropped.table == (try tableWithoutCache([ops, helpers])))
    #expect(dropped.table != declaredTable)
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

  @Test func theBuildSectionRecordsTheCommitTheChangesTheCompilerAndThePins() throws {
    let directory = TemporaryDirectory()
    let root = directory.path + "/Lab"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let ops = root + "/Ops.swift"
    try "@Memoized func op(_ x: Int) -> Int { x * 2 }\n".write(
      toFile: ops, atomically: true, encoding: .utf8)
    try """
    {"pins": [
      {"identity": "swift-numerics", "kind": "remoteSourceControl",
       "location": "https://github.com/apple/swift-numerics",
       "state": {"revision": "0123456789abcdef", "version": "1.0.2"}},
      {"identity": "grdb.swift", "kind": "remoteSourceControl",
       "location": "https://github.com/groue/GRDB.swift",
       "state": {"branch": "main", "revision": "fedcba9876543210"}}
    ], "version": 2}
    """.write(toFile: root + "/Package.resolved", atomically: true, encoding: .utf8)
    func git(_ arguments: String...) throws -> String {
      let result = try run(
        "/usr/bin/env",
        ["git", "-C", root, "-c", "user.name=Lab", "-c", "user.email=lab@example.com"]
          + arguments, environment: [:])
      #expect(result.status == 0, "git \(arguments): \(result.text)")
      return result.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    _ = try git("init", "-q")
    _ = try git("add", ".")
    _ = try git("commit", "-qm", "first")
    let head = try git("rev-parse", "HEAD")
    let swiftc = try #require(
      (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map {
        "\($0)/swiftc"
      }.first { FileManager.default.isExecutableFile(atPath: $0) })
    func build(_ sources: [String], in directory: String = root) throws -> String {
      let result = try run(
        productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
        [
          "--output", directory + "/Table.swift", "--cache", directory + "/cache.bin",
          "--package-name", "Lab", "--package-directory", directory, "--swiftc", swiftc,
          "--resolved", directory + "/Package.resolved", "--sources",
        ] + sources + ["--dependency-sources"], environment: [:])
      #expect(result.status == 0, "\(result.text)")
      let table = try String(contentsOfFile: directory + "/Table.swift", encoding: .utf8)
      // The build section's literal, as the generated file holds it.
      return try #require(
        table.split(separator: "\n").first { $0.hasPrefix("  build: ") }.map(String.init))
    }

    // Committed: the commit, no changes; the compiler; the pins, by identity.
    try "Table.swift\ncache.bin*\n".write(
      toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
    let clean = try build([ops])
    #expect(clean.contains("7:package3:Lab6:commit40:\(head)"), "\(clean)")
    #expect(!clean.contains("changes"))
    #expect(clean.contains("8:compiler") && clean.contains("Swift version"), "\(clean)")
    #expect(
      clean.contains(
        #"grdb.swift\nhttps://github.com/groue/GRDB.swift\n\nmain\nfedcba9876543210"#))
    #expect(
      clean.contains(
        #"swift-numerics\nhttps://github.com/apple/swift-numerics\n1.0.2\n\n0123456789abcdef"#))
    #expect(clean.range(of: "grdb")!.lowerBound < clean.range(of: "swift-numerics")!.lowerBound)

    // Edited, and a new source not yet added: both are in the changes, with
    // their digest.
    try "@Memoized func op(_ x: Int) -> Int { x * 3 }\n".write(
      toFile: ops, atomically: true, encoding: .utf8)
    let new = root + "/New.swift"
    try "let rate = 2\nlet unit = 1".write(toFile: new, atomically: true, encoding: .utf8)
    let windows = root + "/Windows.swift"
    try "let a = 1\r\nlet b = 2\r\n".write(toFile: windows, atomically: true, encoding: .utf8)
    let dirty = try build([ops, new, windows])
    // Windows line ends: two lines, each kept whole.
    #expect(
      dirty.contains(#"+++ b/Windows.swift\n@@ -0,0 +1,2 @@\n+let a = 1\r\n+let b = 2\r\n"#),
      "\(dirty)")
    #expect(dirty.contains("6:commit40:\(head)14:changes-sha25664:"), "\(dirty)")
    #expect(dirty.contains(#"-@Memoized func op(_ x: Int) -> Int { x * 2 }\n"#), "\(dirty)")
    #expect(dirty.contains(#"+@Memoized func op(_ x: Int) -> Int { x * 3 }\n"#))
    #expect(
      dirty.contains(
        #"diff --git a/New.swift b/New.swift\nnew file mode 100644\n--- /dev/null\n+++ b/New.swift\n@@ -0,0 +1,2 @@\n+let rate = 2\n+let unit = 1\n\\ No newline at end of file\n"#
      ), "\(dirty)")
    // In a directory the repository ignores: not part of its commits.
    let ignored = root + "/vendor/Other"
    try FileManager.default.createDirectory(atPath: ignored, withIntermediateDirectories: true)
    try "vendor/\n".write(toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
    try "@Memoized func op(_ x: Int) -> Int { x }\n".write(
      toFile: ignored + "/Ops.swift", atomically: true, encoding: .utf8)
    let vendored = try build([ignored + "/Ops.swift"], in: ignored)
    #expect(vendored.contains("7:package3:Lab8:compiler"), "\(vendored)")

    // Not a git checkout: no commit.
    let elsewhere = directory.path + "/Elsewhere"
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    try "@Memoized func op(_ x: Int) -> Int { x }\n".write(
      toFile: elsewhere + "/Ops.swift", atomically: true, encoding: .utf8)
    let outside = try build([elsewhere + "/Ops.swift"], in: elsewhere)
    #expect(outside.contains("7:package3:Lab8:compiler"), "\(outside)")
    #expect(!outside.contains("commit"))
  }

  @Test func theVersionFileNamesEachOpAsTheRuntimeDoes() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let source = directory.path + "/Ops.swift"
    try """
    @Memoized(version: "2", addedParameters: ["scale"])
    func fit(_ x: [Double], rate r: Double, scale: Double = 1) -> Double { helper(x) * r }
    func helper(_ x: [Double]) -> Double { x.reduce(0, +) }
    """.write(toFile: source, atomically: true, encoding: .utf8)
    @discardableResult func tool() throws -> String {
      let result = try run(
        productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
        [
          "--output", directory.path + "/Table.swift", "--cache", directory.path + "/cache.bin",
          "--module", "Lab", "--sources", source, "--dependency-sources",
        ], environment: ["RECALL_PLUGIN_VERBOSE": "1"])
      #expect(result.status == 0, "\(result.text)")
      return result.text
    }
    try tool()
    let file = URL(fileURLWithPath: directory.path + "/" + CodeVersions.fileName)
    let written = try Data(contentsOf: file)
    // Again, from the summary cache: the same file, declarations and all.
    let report = try tool()
    #expect(report.contains("1 files (0 parsed)"), "\(report)")
    #expect(try Data(contentsOf: file) == written)
    let json = try #require(JSONSerialization.jsonObject(with: written) as? [String: Any])
    // A declaration's flag other than 0 or 1 is a damaged cache: the file
    // is parsed again, and the same version file written.
    let cache = directory.path + "/cache.bin"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cache)))
    let opField: [UInt8] = [1, 12] + Array("fit(_:rate:)".utf8) + [1]
    let at = try #require(
      (0...(bytes.count - opField.count)).first {
        bytes[$0..<($0 + opField.count)].elementsEqual(opField)
      })
    bytes[at + opField.count - 1] = 2
    try Data(bytes).write(to: URL(fileURLWithPath: cache))
    let damaged = try tool()
    #expect(damaged.contains("1 files (1 parsed)"), "\(damaged)")
    #expect(try Data(contentsOf: file) == written)
    // So is a span past the file's text: `helper`'s end, a two-byte number
    // (the file is 194 bytes), made 16,383.
    let covered = try #require((json["ops"] as? [[String: Any]])?.first?["components"])
    let fingerprint = try #require(
      (covered as? [[String]])?.first { $0.first == "func helper(_:)" }?[1])
    bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cache)))
    let field = [UInt8(fingerprint.utf8.count)] + Array(fingerprint.utf8)
    let span =
      try #require(
        (0...(bytes.count - field.count)).first {
          bytes[$0..<($0 + field.count)].elementsEqual(field)
        }) + field.count
    #expect(bytes[span] >= 0x80 && bytes[span + 1] < 0x80)  // its start
    #expect(bytes[span + 2] >= 0x80 && bytes[span + 3] < 0x80)  // its end
    bytes[(span + 2)...(span + 3)] = [0xFF, 0x7F]
    try Data(bytes).write(to: URL(fileURLWithPath: cache))
    let outside = try tool()
    #expect(outside.contains("1 files (1 parsed)"), "\(outside)")
    #expect(try Data(contentsOf: file) == written)
    #expect(json["module"] as? String == "Lab")
    let op = try #require((json["ops"] as? [[String: Any]])?.first)
    #expect(op["name"] as? String == "fit(_:rate:)")
    #expect(op["typedName"] as? String == "fit(_: [Double], rate: Double)")
    #expect(op["parameters"] as? [String] == ["x", "r", "scale"])
    #expect(op["addedParameters"] as? [String] == ["scale"])
    #expect(op["manualVersion"] as? String == "2")
    let components = try #require(op["components"] as? [[String]]).map { $0[0] }
    #expect(components.contains("func helper(_:)"))
    // Read back: named as a store names the op, the hand-written version
    // mixed in as the runtime mixes it (a component of its own).
    let entry = try #require(CodeVersions(contentsOf: [file]).entries.first)
    #expect(entry.op == "Lab.fit(_: [Double], rate: Double)")
    #expect(entry.version.hex != op["version"] as? String)
    #expect(entry.components.map(\.identity).last == "@Memoized(version:)")
    // Written on every run: its date says which build ran last.
    let modified = try #require(
      try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
    try FileManager.default.setAttributes(
      [.modificationDate: modified.addingTimeInterval(-3600)], ofItemAtPath: file.path)
    try tool()
    #expect(
      try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        ?? .distantPast > modified.addingTimeInterval(-60))
  }

  @Test func aTargetThatTracksDependenciesVersionsItsOpsByThePackagesTheyReach() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    func file(_ name: String, _ text: String) throws -> String {
      let path = directory.path + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    // `fit` reaches a helper in a file that imports Algorithms, which
    // depends on swift-collections; `count` imports nothing.
    let sources = [
      try file(
        "Fit.swift", "import Numerics\n@Memoized func fit(_ x: Double) -> Double { smooth(x) }\n"),
      try file("Smooth.swift", "import Algorithms\nfunc smooth(_ x: Double) -> Double { x }\n"),
      try file("Count.swift", "@Memoized func count(_ n: Int) -> Int { n }\n"),
    ]
    func pins(numerics: String) throws {
      _ = try file(
        "Package.resolved",
        """
        {"pins": [
          {"identity": "swift-numerics", "location": "https://github.com/apple/swift-numerics",
           "state": {"revision": "1111", "version": "\(numerics)"}},
          {"identity": "swift-algorithms", "location": "https://github.com/apple/swift-algorithms",
           "state": {"revision": "2222", "version": "1.2.0"}},
          {"identity": "swift-collections", "location": "https://github.com/apple/swift-collections",
           "state": {"revision": "3333", "version": "1.1.0"}}
        ], "version": 2}
        """)
    }
    func table(tracking: Bool) throws -> String {
      let tracked =
        tracking
        ? [
          "--track-dependencies", "--module-packages", "Numerics=swift-numerics",
          "--module-packages", "Algorithms=swift-algorithms,swift-collections",
        ] : []
      let result = try run(
        productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
        [
          "--output", directory.path + "/Table.swift", "--cache", directory.path + "/cache.bin",
          "--resolved", directory.path + "/Package.resolved",
        ] + tracked + ["--sources"] + sources
          + ["--dependency-sources"], environment: [:])
      #expect(result.status == 0, "\(result.text)")
      return try String(contentsOfFile: directory.path + "/Table.swift", encoding: .utf8)
    }
    /// An op's version in a table.
    func version(_ op: String, _ table: String) throws -> Substring {
      let line = try #require(table.split(separator: "\n").first { $0.contains("\"\(op)\\n") })
      return try #require(line.split(separator: "\"").dropLast().last)
    }

    try pins(numerics: "1.0.2")
    let untracked = try table(tracking: false)
    #expect(!untracked.contains("package swift"))
    let tracked = try table(tracking: true)
    #expect(try version("fit(_:)", tracked) != version("fit(_:)", untracked))
    #expect(try version("count(_:)", tracked) == version("count(_:)", untracked))
    for package in ["swift-numerics", "swift-algorithms", "swift-collections"] {
      #expect(tracked.contains("package \(package)"), "\(package)")
    }
    #expect(
      tracked.contains(
        #"swift-numerics 1.0.2 (revision 1111)\nfrom https://github.com/apple/swift-numerics"#))

    // An upgrade: a new version of what reaches the package, and the code
    // names the new version.
    try pins(numerics: "1.1.0")
    let upgraded = try table(tracking: true)
    #expect(try version("fit(_:)", upgraded) != version("fit(_:)", tracked))
    #expect(try version("count(_:)", upgraded) == version("count(_:)", tracked))
    #expect(upgraded.contains("swift-numerics 1.1.0 (revision 1111)"))
  }
}
