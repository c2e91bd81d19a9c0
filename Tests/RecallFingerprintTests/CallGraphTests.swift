import Foundation
import RecallTestSupport
import SwiftParser
import SwiftSyntax
import Testing

@testable import RecallFingerprint

/// Versions of every op in a set of sources, by op name.
func versions(_ sources: String...) -> [String: String] {
  let graph = CallGraph(sources.map { FileSummary(Parser.parse(source: $0)) })
  return Dictionary(uniqueKeysWithValues: graph.opVersions().map { ($0.op, $0.version) })
}

@Suite struct CallGraphTests {
  let package = """
    let nClass = 10
    let unused = 3

    struct Dataset: Codable { var rows: [[Double]] }

    func scale(_ x: [[Double]]) -> [[Double]] {
      x.map { row in row.map { $0 / Double(nClass) } }
    }

    func unrelated() -> Int { 42 }

    @Memoized
    func load(seed: Int) -> Dataset { Dataset(rows: [[Double(seed)]]) }

    @Memoized
    func train(_ data: Dataset, epochs: Int) -> [[Double]] { scale(data.rows) }

    struct Trainer: Codable {
      var rate = 0.1
      @Memoized func fit(_ x: Double) -> Double { x * rate + helper() }
      func helper() -> Double { 1 }
    }
    """

  func edited(_ old: String, _ new: String) -> [String: String] {
    versions(package.replacingOccurrences(of: old, with: new))
  }

  @Test func commentsAndFormattingChangeNothing() {
    let before = versions(package)
    #expect(
      edited(
        "func scale(_ x: [[Double]]) -> [[Double]] {",
        "// Scales.\nfunc scale(\n  _ x: [[Double]]\n) -> [[Double]] {") == before)
  }

  @Test func editingAHelperRecomputesExactlyTheOpsThatReachIt() {
    let before = versions(package)
    let after = edited("$0 / Double(nClass)", "$0 * Double(nClass)")
    #expect(after["train(_:epochs:)"] != before["train(_:epochs:)"])
    #expect(after["load(seed:)"] == before["load(seed:)"])
    #expect(after["Trainer.fit(_:)"] == before["Trainer.fit(_:)"])
  }

  @Test func editingAGlobalRecomputesItsReaders() {
    let before = versions(package)
    let after = edited("let nClass = 10", "let nClass = 12")
    #expect(after["train(_:epochs:)"] != before["train(_:epochs:)"])
    #expect(after["load(seed:)"] == before["load(seed:)"])
    #expect(edited("let unused = 3", "let unused = 4") == before)
    #expect(edited("func unrelated() -> Int { 42 }", "func unrelated() -> Int { 43 }") == before)
  }

  @Test func typesAreReachedThroughTheirNames() {
    let before = versions(package)
    let after = edited("var rows: [[Double]]", "var rows: [[Double]]\n  var weights: [Double] = []")
    #expect(after["load(seed:)"] != before["load(seed:)"])
    #expect(after["train(_:epochs:)"] != before["train(_:epochs:)"])
    #expect(after["Trainer.fit(_:)"] == before["Trainer.fit(_:)"])
    // A stored property's default and a method the op calls both count.
    #expect(
      edited("var rate = 0.1", "var rate = 0.2")["Trainer.fit(_:)"] != before["Trainer.fit(_:)"])
    #expect(
      edited("-> Double { 1 }", "-> Double { 2 }")["Trainer.fit(_:)"] != before["Trainer.fit(_:)"])
  }

  @Test func helpersInOtherFilesAndCyclesAreFollowed() {
    let a = """
      @Memoized func run(_ n: Int) -> Int { ping(n) }
      """
    let b = """
      func ping(_ n: Int) -> Int { n == 0 ? 0 : pong(n - 1) }
      func pong(_ n: Int) -> Int { n == 0 ? 1 : ping(n - 1) }
      """
    let before = versions(a, b)
    let after = versions(a, b.replacingOccurrences(of: "? 1 :", with: "? 2 :"))
    #expect(before["run(_:)"] != nil)
    #expect(after["run(_:)"] != before["run(_:)"])
  }

  @Test func localNamesAndLabelsAreNotReferences() throws {
    let sources = """
      func train() -> Int { 1 }
      struct Split { var train: Int }
      @Memoized func split(_ n: Int) -> Split { let x = Split(train: n); return x }
      """
    let graph = CallGraph([FileSummary(Parser.parse(source: sources))])
    let split = try #require(graph.opVersions().first { $0.op == "split(_:)" })
    let reached = graph.components(reachableFrom: split.component).map(\.identity)
    #expect(reached.contains("type Split"))
    #expect(!reached.contains("func train()"))
  }

  @Test func memoizedBlocksAreOps() {
    let sources = """
      func helper() -> Int { 1 }
      func compute() -> Int {
        #memoized("block", 3) { helper() + 3 }
      }
      """
    let before = versions(sources)
    #expect(before["block"] != nil)
    #expect(
      versions(sources.replacingOccurrences(of: "{ 1 }", with: "{ 2 }"))["block"] != before["block"]
    )
  }

  @Test func theOpsOwnFingerprintMatchesTheMacros() throws {
    let source = """
      @Memoized(version: "2")
      func f(_ x: Int) -> Int { x + 1 }
      """
    let file = Parser.parse(source: source)
    let function = try #require(file.statements.first?.item.as(DeclSyntax.self))
    let graph = CallGraph([FileSummary(file)])
    #expect(
      graph.opVersions().first?.fingerprint
        == Fingerprint(of: function, excludingAttributes: ["Memoized"]).hex)
  }

  @Test func theGraphDigestsChangeWithWhatTheGraphReadsAndNothingElse() {
    let names = CallGraph([FileSummary(Parser.parse(source: package))]).knownNames
    let digests = { (source: String) in
      let summary = FileSummary(Parser.parse(source: source))
      return summary.graphNodeDigest + summary.graphEdgeDigest(knownNames: names)
    }
    let before = digests(package)
    // A constant, a comment, the layout, a local, a call of what the
    // package does not declare: the same graph.
    for (old, new) in [
      ("let unused = 3", "let unused = 4"), ("{ 42 }", "{ 42 } // the answer"),
      ("func unrelated() -> Int { 42 }", "func unrelated() -> Int {\n  42\n}"),
      ("{ 42 }", "{ let answer = 42; return answer }"), ("{ 42 }", "{ Int.max.signum() }"),
    ] {
      #expect(digests(package.replacingOccurrences(of: old, with: new)) == before, "\(new)")
    }
    // A reference to what the package declares, a name, an owner, an op, a
    // conformance: another graph.
    for (old, new) in [
      ("scale(data.rows)", "scale(data.rows).map(unrelated)"), ("func unrelated", "func related"),
      ("func helper() -> Double { 1 }", "}\nfunc helper() -> Double { 1 }\nstruct More {"),
      ("func scale", "@Memoized func scale"),
      ("struct Dataset: Codable", "struct Dataset: Hashable"), ("{ 42 }", "{ nClass }"),
    ] {
      #expect(digests(package.replacingOccurrences(of: old, with: new)) != before, "\(new)")
    }
  }

  @Test func aCallCountsWhenAnExtensionAddsCallAsFunction() {
    let plain = CallGraph([FileSummary(Parser.parse(source: package))]).knownNames
    #expect(!plain.contains("()"))
    let source = package + "\nextension Array { func callAsFunction() -> Int { count } }\n"
    let names = CallGraph([FileSummary(Parser.parse(source: source))]).knownNames
    #expect(names.contains("()"))
    let edges = { (source: String) in
      FileSummary(Parser.parse(source: source)).graphEdgeDigest(knownNames: names)
    }
    // A call may now reach `callAsFunction`: it changes the edges.
    #expect(
      edges(source.replacingOccurrences(of: "{ 42 }", with: "{ Int.max.signum() }"))
        != edges(source))
  }

  @Test func versionsFromKnownReachesAreTheGraphsVersions() {
    let summary = FileSummary(Parser.parse(source: package))
    let graph = CallGraph([summary])
    #expect(
      CallGraph.opVersions(of: summary.components, reaches: graph.opReaches())
        == graph.opVersions())
    // A constant changed, the graph kept: the versions the new graph gives.
    let edited = FileSummary(
      Parser.parse(source: package.replacingOccurrences(of: "10", with: "12")))
    #expect(
      CallGraph.opVersions(of: edited.components, reaches: graph.opReaches())
        == CallGraph([edited]).opVersions())
    #expect(
      CallGraph([edited]).opVersions().map(\.version) != graph.opVersions().map(\.version))
  }

  /// The distinct nodes a component reaches, ascending: by insertion for
  /// short lists, through a set for long ones, each as `Set(...).sorted()`.
  @Test func aComponentsEdgesAreItsDistinctTargetsAscending() {
    var random = SplitMix(seed: 25)
    for length in 0...100 {
      let values = (0..<length).map { _ in Int(random.next() % 40) }
      #expect(CallGraph.ascendingDistinct(values) == Set(values).sorted(), "\(values)")
    }
  }

  /// On random call graphs (cycles, functions calling themselves, functions
  /// nothing calls), each op reaches what a plain search of the calls finds:
  /// with reach sets of one 64-bit word, exactly one, and several.
  @Test(arguments: [40, 64, 65, 150])
  func reachesAreWhatASearchOfTheCallsFinds(count: Int) throws {
    #expect(CallGraph([]).opReaches().isEmpty)
    var random = SplitMix(seed: 122)
    for _ in 0..<(count > 64 ? 6 : 20) {
      let calls = (0..<count).map { _ in
        (0..<Int(random.next() % 4)).map { _ in Int(random.next() % UInt64(count)) }
      }
      let source = (0..<count).map { function in
        let body = calls[function].map { "f\($0)()" } + ["0"]
        return (function % 3 == 0 ? "@Memoized " : "")
          + "func f\(function)() -> Int { \(body.joined(separator: " + ")) }"
      }.joined(separator: "\n")
      let graph = CallGraph([FileSummary(Parser.parse(source: source))])
      let functionOf = Dictionary(
        uniqueKeysWithValues: graph.components.indices.map { (graph.components[$0].identity, $0) })
      let reaches = graph.opReaches()
      #expect(reaches.count == (count + 2) / 3)
      for reach in reaches {
        let op = try #require(
          (0..<count).first { functionOf["func f\($0)()"] == reach.component })
        var found: Set<Int> = [op]
        var next = [op]
        while let function = next.popLast() {
          for called in calls[function] where found.insert(called).inserted {
            next.append(called)
          }
        }
        let expected = Set(found.compactMap { functionOf["func f\($0)()"] })
        #expect(Set(reach.covered) == expected, "f\(op)")
      }
    }
  }
}
