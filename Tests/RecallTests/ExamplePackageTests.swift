import Foundation
import Testing

/// Builds `Examples/GettingStarted` as a new user would, following only the
/// README: a clean folder next to a checkout of Recall, the README's
/// `Package.swift`, `swift build`, the program run from its folder (so the
/// store is its `.recall`). Runs it twice, edits it, and checks from what it
/// prints which calls ran.
///
/// The first build compiles Recall and its dependencies for the package
/// (minutes), so the test runs only when `RECALL_E2E=1` (CI sets it).
@Suite(
  .serialized,
  .enabled(
    if: ProcessInfo.processInfo.environment["RECALL_E2E"] == "1",
    "set RECALL_E2E=1 to build and run the example package (CI does)"))
struct ExamplePackageTests {

  let example = repository.appendingPathComponent("Examples/GettingStarted")

  @Test func aNewPackageBuildsRunsAndRecomputesExactlyWhatChanged() throws {
    let manager = FileManager.default
    let folder = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("recall-example-\(UUID().uuidString)")
    let package = folder.appendingPathComponent("Experiments")
    // A checkout of Recall next to the package, as the README says.
    let checkout = folder.appendingPathComponent("Recall")
    defer {
      try? manager.removeItem(at: checkout)  // the link, not the repository
      try? manager.removeItem(at: folder)
    }
    try manager.createDirectory(at: package, withIntermediateDirectories: true)
    try manager.createSymbolicLink(at: checkout, withDestinationURL: repository)
    try swiftBlock(in: repository, "README.md", after: "## Add Recall to your package").write(
      to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
    for item in ["Sources", ".gitignore"] {
      try manager.copyItem(
        at: example.appendingPathComponent(item), to: package.appendingPathComponent(item))
    }
    let main = package.appendingPathComponent("Sources/Experiments/main.swift")

    func build() throws {
      let output = try run(
        "/usr/bin/env", ["swift", "build"], environment: [:], in: package)
      guard output.status == 0 else { throw Failure("swift build failed:\n\(output.text)") }
    }
    /// Runs the program; returns the calls that ran, by op and count, and its
    /// last line (the store's summary).
    func runProgram() throws -> (computed: [String: Int], summary: String) {
      let output = try run(
        package.appendingPathComponent(".build/debug/Experiments").path, [], environment: [:],
        unsetting: ["RECALL_STORE"], in: package)
      guard output.status == 0 else { throw Failure("the program failed:\n\(output.text)") }
      var computed: [String: Int] = [:]
      let lines = output.text.split(separator: "\n")
      for line in lines where line.hasPrefix("computing Experiments.") {
        let op = line.dropFirst("computing Experiments.".count).prefix { $0 != "(" }
        computed[String(op), default: 0] += 1
      }
      return (computed, lines.last.map(String.init) ?? "")
    }
    func edit(_ old: String, _ new: String) throws {
      let text = try String(contentsOf: main, encoding: .utf8)
      guard text.contains(old) else { throw Failure("'\(old)' is not in main.swift") }
      try text.replacingOccurrences(of: old, with: new).write(
        to: main, atomically: true, encoding: .utf8)
    }

    // Three walk lengths, three trials each: nine walks and nine summaries.
    try build()
    let first = try runProgram()
    #expect(first.computed == ["walk": 9, "summarize": 9])
    #expect(first.summary.hasPrefix("executed: 18, reused: 0 "), "\(first.summary)")
    // The store is `.recall` in the folder the program ran in.
    #expect(manager.fileExists(atPath: package.appendingPathComponent(".recall").path))

    // Again: nothing runs.
    let second = try runProgram()
    #expect(second.computed == [:])
    #expect(second.summary.hasPrefix("executed: 0, reused: 18 "), "\(second.summary)")

    // A comment in the helper: nothing runs.
    try edit("/// One step: a draw", "/// One step of a walk: a draw")
    try build()
    #expect(try runProgram().computed == [:])

    // `summarize`'s code: the summaries run again, the walks do not.
    try edit("path.map(abs).max() ?? 0", "path.map { abs($0) }.max() ?? 0")
    try build()
    #expect(try runProgram().computed == ["summarize": 9])

    // The global the helper reads: the walks change, and so their summaries.
    try edit("let stepSize = 1.0", "let stepSize = 0.5")
    try build()
    #expect(try runProgram().computed == ["walk": 9, "summarize": 9])

    // The `recall` tool, built and run from the package, reads its store: each
    // op has its calls under two versions.
    let listing = try run(
      "/usr/bin/env", ["swift", "run", "recall", "ls"], environment: [:],
      unsetting: ["RECALL_STORE"], in: package)
    #expect(listing.status == 0, "\(listing.text)")
    let rows = listing.text.split(separator: "\n").filter { $0.hasPrefix("Experiments.") }
      .map {
        $0.split(separator: " ", omittingEmptySubsequences: true).prefix(4).joined(separator: " ")
      }
    #expect(
      rows == [
        "Experiments.summarize(_: [Double]) 27 2", "Experiments.walk(steps: Int) 18 2",
      ], "\(listing.text)")
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }
}

/// The README's and the Getting started article's `Package.swift` are the
/// example package's, checked in every test run (building it is
/// ``ExamplePackageTests``).
@Suite struct ExampleManifestTests {

  let example = repository.appendingPathComponent("Examples/GettingStarted")

  @Test func theReadmesManifestIsTheExamplesAndTheArticles() throws {
    let manifest = try String(
      contentsOf: example.appendingPathComponent("Package.swift"), encoding: .utf8)
    #expect(
      try swiftBlock(in: repository, "README.md", after: "## Add Recall to your package")
        == manifest)
    #expect(
      try swiftBlock(
        in: repository, "Sources/Recall/Recall.docc/GettingStarted.md",
        after: "### Add Recall to your package")
        == manifest)
  }
}

/// The first ` ```swift ` block after `heading` in a Markdown file of the
/// repository.
func swiftBlock(in repository: URL, _ file: String, after heading: String) throws -> String {
  let text = try String(contentsOf: repository.appendingPathComponent(file), encoding: .utf8)
  let section = try #require(text.range(of: "\n" + heading + "\n"), "no '\(heading)' in \(file)")
  let start = try #require(
    text.range(of: "```swift\n", range: section.upperBound..<text.endIndex))
  let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
  return String(text[start.upperBound..<end.lowerBound]) + "\n"
}

/// The checkout the tests were built from.
let repository: URL = {
  var root = productsDirectory
  while root.lastPathComponent != ".build", root.path != "/" { root.deleteLastPathComponent() }
  return root.deletingLastPathComponent()
}()
