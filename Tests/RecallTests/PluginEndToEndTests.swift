import Foundation
import Testing

/// Builds a real client package that depends on Recall by path and applies
/// RecallPlugin, runs it, edits its sources in each way a user would, rebuilds,
/// reruns, and checks from its event log exactly which ops executed.
///
/// The first build compiles Recall and its dependencies for the client (several
/// minutes), so the test runs only when `RECALL_E2E=1` (CI sets it). The
/// client lives in `.build/e2e-client`, so later runs build incrementally.
@Suite(
  .serialized,
  .enabled(
    if: ProcessInfo.processInfo.environment["RECALL_E2E"] == "1",
    "set RECALL_E2E=1 to build and run the client package (CI does)"))
struct PluginEndToEndTests {
  let client: URL
  let store: String

  init() throws {
    var root = productsDirectory
    while root.lastPathComponent != ".build", root.path != "/" { root.deleteLastPathComponent() }
    let repository = root.deletingLastPathComponent()
    client = root.appendingPathComponent("e2e-client")
    store = client.appendingPathComponent("store").path
    try ClientPackage.write(at: client, recall: repository)
  }

  func build() throws {
    let output = try swiftBuild()
    guard output.status == 0 else {
      throw ClientPackage.Failure("swift build failed:\n\(output.text)")
    }
  }

  /// Builds, expecting the build to fail, and returns its output.
  func buildFailure() throws -> String {
    let output = try swiftBuild()
    guard output.status != 0 else {
      throw ClientPackage.Failure("the build succeeded; it should have failed")
    }
    return output.text
  }

  func swiftBuild() throws -> (status: Int32, text: String) {
    try run(
      // No index store or debug info: nothing reads them, and they cost a
      // quarter of the build.
      "/usr/bin/env",
      [
        "swift", "build", "--package-path", client.path, "--disable-index-store",
        "-debug-info-format", "none",
      ],
      environment: [:])
  }

  /// Runs the client and returns the ops that executed, without their module.
  func executed() throws -> [String] {
    try lines(of: runClient(), prefix: "executed ").sorted()
  }

  func runClient() throws -> String {
    let output = try run(
      client.appendingPathComponent(".build/debug/Client").path, [],
      environment: ["RECALL_STORE": store])
    guard output.status == 0 else { throw ClientPackage.Failure("client failed:\n\(output.text)") }
    return output.text
  }

  func lines(of text: String, prefix: String) -> [String] {
    text.split(separator: "\n").compactMap { line in
      line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : nil
    }
  }

  func edit(_ file: String, _ old: String, _ new: String) throws {
    let path = client.appendingPathComponent(file).path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard text.contains(old) else { throw ClientPackage.Failure("'\(old)' is not in \(file)") }
    try text.replacingOccurrences(of: old, with: new).write(
      toFile: path, atomically: true, encoding: .utf8)
  }

  /// Runs git in the client's directory.
  @discardableResult
  func git(_ arguments: String...) throws -> String {
    let output = try run(
      "/usr/bin/env",
      ["git", "-C", client.path, "-c", "user.name=Client", "-c", "user.email=client@example.com"]
        + arguments, environment: [:])
    guard output.status == 0 else {
      throw ClientPackage.Failure("git \(arguments) failed:\n\(output.text)")
    }
    return output.text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs the `recall` tool on the client's store.
  func recall(_ arguments: String...) throws -> (status: Int32, text: String) {
    try run(
      productsDirectory.appendingPathComponent("recall").path, arguments + ["--store", store],
      environment: [:])
  }

  @Test func exactlyTheAffectedOpsRecompute() throws {
    try? FileManager.default.removeItem(atPath: store)
    // The client is a git checkout, committed as written: its calls record
    // the commit, and a clean tree.
    if !FileManager.default.fileExists(atPath: client.appendingPathComponent(".git").path) {
      try git("init", "-q")
    }
    // Only when something changed: a table built at the same commit (a run
    // that stopped before editing) is then still current.
    if !(try git("status", "--porcelain")).isEmpty {
      try git("add", "-A")
      try git("commit", "-q", "-m", "The client as the test writes it")
    }
    let head = try git("rev-parse", "HEAD")
    try build()
    let first = try runClient()
    #expect(
      lines(of: first, prefix: "executed ").sorted() == [
        "classes(_: Int)", "fraction(_: Double)", "label(_: Double)", "load(seed: Int)",
        "report(_: Double)",
        "shifted", "train(_: [Double], epochs: Int)",
      ])
    // Its version covers the pinned packages its code imports: swift-collections
    // (`import DequeModule`), not Recall's own dependencies.
    let packages = try #require(lines(of: first, prefix: "packages train ").first)
    #expect(packages == "package swift-collections", "\(packages)")
    let environment = try #require(lines(of: first, prefix: "environment train ").first)
    #expect(environment.hasPrefix("\(head) clean "), "\(environment)")
    #expect(!environment.hasSuffix(" none"), "the compiler: \(environment)")
    // Run again: nothing executes, and train's input is load's output.
    let second = try runClient()
    #expect(lines(of: second, prefix: "executed ").isEmpty)
    #expect(lines(of: second, prefix: "upstream train ") == ["Client.load(seed: Int)"])

    // A comment and reformatting in a helper: nothing recomputes.
    try edit(
      "Sources/Helpers/Helpers.swift", "public func scale(_ x: Double) -> Double { x * 2 }",
      "/// Doubles a value.\npublic func scale(\n  _ x: Double\n) -> Double {\n  x * 2  // twice\n}"
    )
    try build()
    #expect(try executed() == [])

    // A helper's tokens: the op that reaches it recomputes, no other; the store
    // shows what changed, from the sources the plugin recorded.
    try edit("Sources/Helpers/Helpers.swift", "x * 2  // twice", "x * 3")
    try build()
    let output = try runClient()
    #expect(lines(of: output, prefix: "executed ") == ["train(_: [Double], epochs: Int)"])
    #expect(lines(of: output, prefix: "versions ") == ["2"])
    #expect(output.contains("func scale(_:) changed"))
    #expect(output.contains("-public func scale(_ x: Double) -> Double { x * 2 }"))
    #expect(output.contains("+  x * 3"))
    // Built from an uncommitted edit: the call records the commit and the
    // changes, which are exactly the tree's (they apply backwards to it).
    let dirty = try #require(lines(of: output, prefix: "environment train ").first)
    #expect(dirty.hasPrefix("\(head) dirty "), "\(dirty)")
    let trainCall = try #require(lines(of: output, prefix: "train call ").first)
    let patch = try recall("environment", trainCall, "--diff")
    #expect(patch.status == 0 && patch.text.contains("+  x * 3"), "\(patch.text)")
    let patchFile = client.appendingPathComponent(".build/train.patch")
    try patch.text.write(to: patchFile, atomically: true, encoding: .utf8)
    try git("apply", "--check", "-R", patchFile.path)
    let shown = try recall("show", trainCall)
    #expect(shown.text.contains("\(head) with uncommitted changes"), "\(shown.text)")

    // A global constant: whatever reads it recomputes.
    try edit("Sources/Helpers/Helpers.swift", "public let nClass = 10", "public let nClass = 12")
    try build()
    #expect(try executed() == ["classes(_: Int)"])

    // Reverted: the old result is found, and once the reverted code has run
    // (hits only), its results are current and the other version's stale.
    try edit("Sources/Helpers/Helpers.swift", "public let nClass = 12", "public let nClass = 10")
    try build()
    #expect(try executed() == [])
    let reverted = try runClient()
    #expect(lines(of: reverted, prefix: "executed ").isEmpty)
    #expect(lines(of: reverted, prefix: "stale classes ") == ["1"])

    // Code the ops cannot reach, in a dependency and in another target.
    try edit(
      "Sources/Helpers/Helpers.swift", "public func unrelated() -> Int { 1 }",
      "public func unrelated() -> Int { 2 }")
    try edit(
      "Sources/Tools/Tools.swift", "public func tool() -> Int { 1 }",
      "public func tool() -> Int { 5 }")
    try build()
    #expect(try executed() == [])

    // Code Swift calls without the op naming it: `description` through
    // string interpolation, an initializer an extension adds to Double,
    // reached through `.init(percent:)`.
    try edit("Sources/Helpers/Helpers.swift", "{ \"cm\" }", "{ \"mm\" }")
    try build()
    #expect(try executed() == ["label(_: Double)"])
    // A type's members count for every op that mentions the type (an
    // over-approximation): all but `classes`, which never names Double.
    try edit("Sources/Helpers/Helpers.swift", "percent / 100", "percent / 1000")
    try build()
    #expect(
      try executed() == [
        "fraction(_: Double)", "label(_: Double)", "load(seed: Int)", "report(_: Double)",
        "shifted",
        "train(_: [Double], epochs: Int)",
      ])

    // The op's own body: it recomputes.
    try edit("Sources/Client/main.swift", "\"report: \\(x)\"", "\"report = \\(x)\"")
    try build()
    #expect(try executed() == ["report(_: Double)"])

    // A parameter declared added, in the same build as an edit of a helper
    // it reaches: an ordinary change, so it recomputes.
    try edit(
      "Sources/Client/main.swift",
      "@Memoized\nfunc train(_ data: [Double], epochs: Int) -> Double {\n  data.map(scale)",
      "@Memoized(addedParameters: [\"useScaling\"])\n"
        + "func train(_ data: [Double], epochs: Int, useScaling: Bool = true) -> Double {\n"
        + "  (useScaling ? data.map(scale) : data)")
    try edit("Sources/Helpers/Helpers.swift", "x * 3", "x * 4")
    try build()
    #expect(try executed() == ["train(_: [Double], epochs: Int)"])

    // A parameter declared added, whose default keeps the old behaviour, with
    // nothing else changed: the old results are found; a call with another
    // value computes.
    try edit(
      "Sources/Client/main.swift", "useScaling: Bool = true",
      "useScaling: Bool = true, noise: Bool = false")
    try edit("Sources/Client/main.swift", "[\"useScaling\"]", "[\"useScaling\", \"noise\"]")
    try build()
    #expect(try executed() == [])
    try edit(
      "Sources/Client/main.swift", "train(data, epochs: 3)",
      "train(data, epochs: 3, useScaling: false)")
    try build()
    #expect(try executed() == ["train(_: [Double], epochs: Int)"])
    // A block that reads a local it does not take as an input would be
    // keyed without it: the build fails, naming the local. Listed, the
    // block recomputes when the local changes.
    try edit("Sources/Client/main.swift", "{ data.map { $0 + 1 } }", "{ data.map { $0 + offset } }")
    let unlisted = try buildFailure()
    #expect(
      unlisted.contains(
        "'#memoized' block 'shifted' uses local 'offset', which is not one of its inputs"))
    try edit(
      "Sources/Client/main.swift", "#memoized(\"shifted\", data)",
      "#memoized(\"shifted\", data, offset)")
    try build()
    #expect(try executed() == ["shifted"])
    try edit("Sources/Client/main.swift", "let offset = 1.0", "let offset = 2.0")
    try build()
    #expect(try executed() == ["shifted"])

    // Two blocks with one name would share an op: the build fails.
    try edit(
      "Sources/Client/main.swift", "print(shifted)",
      "print(shifted, #memoized(\"shifted\", data) { data.count })")
    let duplicate = try buildFailure()
    #expect(duplicate.contains("error: '#memoized' block name 'shifted'"), "\(duplicate)")
    try edit(
      "Sources/Client/main.swift", "print(shifted, #memoized(\"shifted\", data) { data.count })",
      "print(shifted)")

    // Overloads with the same labels: each has its own table entry (a
    // duplicate key trapped at the first memoized call) and is an op of its
    // own (sharing one, each made the other's results stale).
    try edit(
      "Sources/Client/main.swift", "@Memoized\nfunc classes(",
      "@Memoized\nfunc twice(x: Int) -> Int { x * 2 }\n\n@Memoized\nfunc twice(x: Double) -> Double { x * 2 }\n\n"
        + "@Memoized\nfunc classes(")
    try edit(
      "Sources/Client/main.swift", "token.cancel()",
      "print(twice(x: 2), twice(x: 2.5))\ntoken.cancel()\n"
        + "print(\"stale twice\", try store.staleCalls(of: \"Client.twice(x: Int)\").count "
        + "+ store.staleCalls(of: \"Client.twice(x: Double)\").count)")
    try build()
    #expect(try executed() == ["twice(x: Double)", "twice(x: Int)"])
    let again = try runClient()
    #expect(lines(of: again, prefix: "executed ").isEmpty)
    #expect(lines(of: again, prefix: "stale twice ") == ["0"])
  }
}

extension PluginEndToEndTests {
  /// `recall outdated` before anything runs, then `store.refresh` in the
  /// client: what it lists and what it computes, with an early cutoff.
  @Test func outdatedThenRefreshComputesExactlyWhatChanged() throws {
    try? FileManager.default.removeItem(atPath: store)
    // An op that takes train's result, two more in a chain (whose parameter
    // names no global shares: the name-based graph would join them), and a
    // refresh mode.
    try edit(
      "Sources/Client/main.swift", "@Memoized\nfunc classes(",
      """
      @Memoized
      func summary(_ x: Double) -> String { "trained to \\(x)" }

      @Memoized
      func base(_ n: Int) -> Int { n * 2 }

      @Memoized
      func grow(_ b: Int) -> Int { b + 1 }

      @Memoized
      func classes(
      """)
    try edit(
      "Sources/Client/main.swift", "let data = load(seed: 1)",
      """
      if ProcessInfo.processInfo.environment["CLIENT_REFRESH"] == "1" {
        let report = try await store.refresh(
          .op(base, $base), .op(grow, $grow), .op(train, $train), .op(summary, $summary),
          progress: .none)
        print("refresh", report.recomputed, report.revalidated, report.skipped.count, report.remaining.count)
        exit(0)
      }
      print(grow(base(3)))
      let data = load(seed: 1)
      print(summary(train(data, epochs: 3)))
      """)
    try build()
    let first = try executed()
    #expect(first.contains("summary(_: Double)") && first.contains("grow(_: Int)"), "\(first)")
    // The versions the plugin wrote are those the program ran.
    let buildPath = client.appendingPathComponent(".build").path
    let current = try recall("outdated", "--build-path", buildPath)
    #expect(current.status == 0 && current.text.contains("Nothing is outdated."), "\(current.text)")

    // base computes the same, written otherwise: listed before anything
    // runs, with grow, which takes its result.
    try edit("Sources/Client/main.swift", "{ n * 2 }", "{ 2 * n }")
    try build()
    let outdated = try recall("outdated", "--build-path", buildPath)
    #expect(
      outdated.text.split(separator: "\n").contains {
        $0.hasPrefix("Client.base(_: Int)") && $0.contains("  1  ")
          && $0.hasSuffix("func base(_:) changed")
      }, "\(outdated.text)")
    #expect(outdated.text.contains("2 calls outdated."), "\(outdated.text)")
    // The refresh computes base again; grow is cut off.
    let cutoff = try run(
      client.appendingPathComponent(".build/debug/Client").path, [],
      environment: ["RECALL_STORE": store, "CLIENT_REFRESH": "1"])
    #expect(lines(of: cutoff.text, prefix: "executed ") == ["base(_: Int)"], "\(cutoff.text)")
    #expect(lines(of: cutoff.text, prefix: "refresh ") == ["1 1 0 0"], "\(cutoff.text)")
    let after = try recall("outdated", "--build-path", buildPath)
    #expect(after.text.contains("Nothing is outdated."), "\(after.text)")
    #expect(after.text.contains("1 call downstream still reused"), "\(after.text)")

    // A helper train reaches: train and its summary are computed again.
    try edit(
      "Sources/Helpers/Helpers.swift", "public func scale(_ x: Double) -> Double { x * 2 }",
      "public func scale(_ x: Double) -> Double { x * 3 }")
    try build()
    let helper = try recall("outdated", "--build-path", buildPath, "--json")
    #expect(
      helper.text.split(separator: "\n").count == 2
        && helper.text.contains("\"kind\":\"stale\"")
        && helper.text.contains("\"kind\":\"downstream\"")
        && helper.text.contains("\"func scale(_:)\""),
      "\(helper.text)")
    let refreshed = try run(
      client.appendingPathComponent(".build/debug/Client").path, [],
      environment: ["RECALL_STORE": store, "CLIENT_REFRESH": "1"])
    #expect(
      lines(of: refreshed.text, prefix: "executed ").sorted() == [
        "summary(_: Double)", "train(_: [Double], epochs: Int)",
      ], "\(refreshed.text)")
    #expect(lines(of: refreshed.text, prefix: "refresh ") == ["2 0 0 0"], "\(refreshed.text)")
    // The program finds everything the refresh computed.
    #expect(try executed() == [])
  }
}

/// The client package's sources, reset to their original text on every run.
enum ClientPackage {
  struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  static func write(at root: URL, recall: URL) throws {
    let manager = FileManager.default
    for directory in ["Sources/Client", "Sources/Helpers", "Sources/Tools"] {
      try manager.createDirectory(
        at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
    }
    // Depend on Recall through a link named Recall, so the package identity is
    // "recall" wherever the repository is checked out.
    let link = root.appendingPathComponent("Recall")
    try? manager.removeItem(at: link)
    try manager.createSymbolicLink(at: link, withDestinationURL: recall)
    let files = [
      ".gitignore": ".build/\nstore/\nPackage.resolved\n",
      "Package.swift": """
      // swift-tools-version: 6.1
      import PackageDescription

      let package = Package(
        name: "Client",
        platforms: [.macOS(.v15)],
        dependencies: [
          .package(path: "Recall"),
          .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        ],
        targets: [
          .target(name: "Helpers"),
          .target(name: "Tools"),
          .executableTarget(
            name: "Client",
            dependencies: [
              "Helpers", .product(name: "Recall", package: "Recall"),
              .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: [.define("RECALL_TRACK_DEPENDENCIES")],
            plugins: [.plugin(name: "RecallPlugin", package: "Recall")]
          ),
        ]
      )
      """,
      "Sources/Helpers/Helpers.swift": """
      public let nClass = 10

      public func scale(_ x: Double) -> Double { x * 2 }

      public func unrelated() -> Int { 1 }

      public struct Units: CustomStringConvertible {
        public init() {}
        public var description: String { "cm" }
      }

      extension Double {
        public init(percent: Double) { self = percent / 100 }
      }
      """,
      "Sources/Tools/Tools.swift": """
      public func tool() -> Int { 1 }
      """,
      "Sources/Client/main.swift": """
      import DequeModule
      import Foundation
      import Helpers
      import Recall

      @Memoized
      func load(seed: Int) -> [Double] { (0..<5).map { Double($0 + seed) } }

      @Memoized
      func train(_ data: [Double], epochs: Int) -> Double {
        data.map(scale).reduce(0, +) * Double(epochs)
      }

      @Memoized
      func classes(_ n: Int) -> Int { n * nClass }

      @Memoized
      func report(_ x: Double) -> String { "report: \\(x)" }

      @Memoized
      func label(_ x: Double) -> String { "\\(x) \\(Units())" }

      @Memoized
      func fraction(_ x: Double) -> Double {
        let f: Double = .init(percent: x)
        return f
      }

      let store = try Store.default
      let token = store.observe { event in
        if case .willExecute(let call) = event {
          print("executed", call.op.name.split(separator: ".", maxSplits: 1).last!)
        }
      }
      let data = load(seed: 1)
      print(train(data, epochs: 3), classes(2), report(1.5), label(2), fraction(5))
      let offset = 1.0
      let shifted = #memoized("shifted", data) { data.map { $0 + 1 } }
      print(shifted)
      token.cancel()

      // Where train's input came from: load's output (provenance).
      if let trainCall = try store.calls(of: "Client.train(_:epochs:)").first {
        print("upstream train", try store.upstream(of: trainCall.id).map(\\.op.name).joined(separator: ","))
      }

      // What train's latest call ran in.
      if let trainCall = try store.calls(of: "Client.train(_:epochs:)").first,
        let environment = try store.environment(of: trainCall) {
        print("train call", trainCall.id.hex)
        print("environment train", environment.commit ?? "none", environment.isDirty == true ? "dirty" : "clean", environment.compiler ?? "none")
      }

      // The packages train's version covers (the target tracks them): those
      // the modules its code imports come from, and their dependencies.
      if let version = try store.currentVersion(of: "Client.train(_:epochs:)") {
        let packages = try store.components(of: version.op, version: version.version) ?? []
        print("packages train", packages.map(\\.identity).filter { $0.hasPrefix("package ") }.joined(separator: ","))
      }

      // Stale results of `classes` (the current version would not reuse them).
      print("stale classes", try store.staleCalls(of: "Client.classes(_:)").count)

      // What changed in train's code between its last two versions.
      let versions = try store.versions(of: "Client.train(_:epochs:)")
      print("versions", versions.count)
      if versions.count >= 2 {
        print(try store.diff(versions[0].op, from: versions[versions.count - 2].version, to: versions[versions.count - 1].version))
      }
      """,
    ]
    for (path, text) in files {
      let url = root.appendingPathComponent(path)
      if (try? String(contentsOf: url, encoding: .utf8)) != text {
        try text.write(to: url, atomically: true, encoding: .utf8)
      }
    }
  }
}
