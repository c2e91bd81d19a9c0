import Foundation
import RecallCore
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallSQLite

/// The `recall` command-line tool, run as a user runs it against real stores.
@Suite struct CommandTests {
  let directory = TemporaryDirectory()

  func recall(_ arguments: String...) throws -> (status: Int32, text: String) {
    try recall(arguments)
  }

  func recall(_ arguments: [String]) throws -> (status: Int32, text: String) {
    try run(
      productsDirectory.appendingPathComponent("recall").path,
      arguments + ["--store", directory.path],
      environment: [:])
  }

  func op(_ version: String, factor: String) -> Op {
    Op(
      id: "Lab.score(x:)", version: CodeFingerprint(hex: version), parameters: ["x"],
      components: {
        [
          CodeComponent(
            identity: "func score(x:)", fingerprint: "s",
            source: "func score(x: Int) -> Int {\n  x * factor\n}"),
          CodeComponent(
            identity: "var factor", fingerprint: factor, source: "let factor = \(factor)"),
        ]
      })
  }

  /// The id of the stored `label` call, read from `recall calls --json`.
  func labelCallID() throws -> String {
    let json = try recall("calls", "label", "--json")
    let row = try JSONSerialization.jsonObject(with: Data(json.text.split(separator: "\n")[0].utf8))
    return try #require((row as? [String: Any])?["id"] as? String)
  }

  /// A store where `score` ran with two versions and `label` with one.
  func populate() throws {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let v1 = op("a1a1", factor: "2")
    // Outputs that are not also inputs: within a process, a value equal to an
    // earlier output is taken to be that output (its history).
    for x in [1, 2, 3] { _ = store.memoize(v1, [Argument("x", x)]) { x * 10 } }
    let label = Op(id: "Lab.label(_:)", version: CodeFingerprint(hex: "c3c3"))
    _ = store.memoize(label, [Argument("name", "run\nA")]) { ["name": "run", "scores": "1,2"] }
    let later = try Store.sqlite(at: directory.path, configuration: configuration)
    _ = later.memoize(op("b2b2", factor: "3"), [Argument("x", 1)]) { 3 }
  }

  @Test func listsOpsVersionsAndCalls() throws {
    try populate()
    let ls = try recall("ls")
    #expect(ls.status == 0)
    let lines = ls.text.split(separator: "\n")
    #expect(lines.first?.hasPrefix("OP") == true)
    #expect(
      lines.contains {
        $0.hasPrefix("Lab.score(x:)") && $0.contains("  4  ") && $0.contains("  2  ")
      })
    #expect(lines.contains { $0.hasPrefix("Lab.label(_:)") })

    let versions = try recall("versions", "score")
    #expect(versions.status == 0)
    #expect(versions.text.contains("a1a1"))
    #expect(versions.text.split(separator: "\n").last?.contains("b2b2") == true)
    #expect(versions.text.split(separator: "\n").last?.hasSuffix("current") == true)

    let calls = try recall("calls", "Lab.score(x:)", "--version", "a1")
    #expect(calls.status == 0)
    #expect(calls.text.split(separator: "\n").count == 4)  // header and three calls
    #expect(calls.text.contains("x=3"))

    let current = try recall("calls", "score(x:)", "--current", "--json")
    let rows = current.text.split(separator: "\n")
    #expect(rows.count == 1)
    let row = try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any]
    #expect(row?["version"] as? Int == 2)
    #expect(row?["output"] as? Int == 3)
  }

  @Test func theStoreOptionWorksBeforeTheSubcommand() throws {
    try populate()
    let binary = productsDirectory.appendingPathComponent("recall").path
    let before = try run(binary, ["--store", directory.path, "ls"], environment: [:])
    #expect(before.status == 0, "\(before.text)")
    #expect(before.text.contains("Lab.score(x:)"))
    let joined = try run(
      binary, ["--store=\(directory.path)", "--json", "versions", "score"], environment: [:])
    #expect(joined.status == 0, "\(joined.text)")
    #expect(joined.text.hasPrefix("{"), "\(joined.text)")
  }

  /// The default build leaves PostgreSQL out (no SwiftNIO, no second
  /// BoringSSL); a postgres:// store then says how to build it in.
  @Test func aPostgresStoreNeedsTheTraitOrSaysHowToBuildIt() throws {
    let binary = productsDirectory.appendingPathComponent("recall").path
    let url = "postgres://lab:secret@127.0.0.1:1/none"
    let result = try run(binary, ["--store", url, "ls"], environment: [:])
    #if PostgreSQL
      // Built with the trait: the store is opened (and here, refused by the server).
      #expect(!result.text.contains("--traits PostgreSQL"), "\(result.text)")
    #else
      #expect(result.status == 1, "\(result.text)")
      #expect(result.text.contains("--traits PostgreSQL"), "\(result.text)")
      #expect(!result.text.contains("Usage:"))
    #endif
    #expect(!result.text.contains("secret"), "\(result.text)")
  }
  @Test func showsACallWithItsValues() throws {
    try populate()
    let id = try labelCallID()
    let show = try recall("show", String(id.prefix(10)))
    #expect(show.status == 0)
    #expect(show.text.contains("Lab.label(_:)"))
    #expect(show.text.contains(#""run\nA""#))
    #expect(show.text.contains(#"{"name":"run","scores":"1,2"}"#))
    #expect(
      try recall("show", "ffffffffffff").text.contains(
        "has no call whose id starts with 'ffffffffffff'"))
  }

  @Test func showsTheEnvironmentACallRanInAndItsUncommittedChanges() throws {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    _ = store.memoize(builtOp(), [Argument("x", 2)]) { 6 }
    _ = store.memoize(testOp("Lab.plain(x:)"), [Argument("x", 2)]) { 6 }
    store.flush()
    let built = try #require(try store.calls(of: "Tests.built(x:)").first)
    let plain = try #require(try store.calls(of: "Lab.plain(x:)").first)
    let commit = String(repeating: "c", count: 40)

    let show = try recall("show", built.id.hex)
    #expect(show.status == 0)
    #expect(
      show.text.contains(
        "\(commit) with uncommitted changes 1159fad3860d (recall environment \(built.id) --diff)"),
      "\(show.text)")
    #expect(show.text.contains("Swift version 6.3.1 (swift-6.3.1-RELEASE)"))
    #expect(show.text.contains("dependencies") && show.text.contains("grdb.swift 7.10.0"))
    #expect(show.text.contains(try #require(try store.environment(of: built)).operatingSystem))

    let listed = try recall("environment", built.id.hex, "--json")
    let rows = try listed.text.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let fields = Dictionary(
      uniqueKeysWithValues: rows.map { ($0["field"] as? String ?? "", $0["value"]) })
    #expect(fields["commit"] as? String == commit, "\(listed.text)")
    #expect(fields["dependency grdb.swift"] as? String == "7.10.0")
    #expect(fields["environment"] as? String == built.environment?.hex)
    #expect(fields["recall"] as? String == CallEnvironment.recallVersion)

    // The changes, exactly, for git apply.
    let diff = try recall("environment", built.id.hex, "--diff")
    #expect(diff.status == 0 && diff.text == builtChanges, "\(diff.text)")
    // Built without the plugin: no commit to apply them to, and says why.
    let none = try recall("environment", plain.id.hex, "--diff")
    #expect(none.status == 1 && none.text.contains("has no recorded commit"), "\(none.text)")
    let plainShow = try recall("show", plain.id.hex)
    #expect(plainShow.text.contains("(not a git checkout, or built without RecallPlugin)"))
  }

  @Test func diffsVersionsAndExplainsStaleCalls() throws {
    try populate()
    let diff = try recall("diff", "score", "a1", "b2")
    #expect(diff.status == 0)
    #expect(diff.text.contains("let factor changed"))
    #expect(diff.text.contains("-let factor = 2\n+let factor = 3"))

    // Grouped by op version for people: x = 1, 2, 3 under a1a1 (b2b2
    // recomputed x = 1); one row per call with --json.
    let stale = try recall("stale")
    #expect(stale.status == 0)
    let rows = stale.text.split(separator: "\n")
    #expect(rows.first?.hasPrefix("OP ") == true && rows.first?.contains("CALLS") == true)
    #expect(rows.count == 2, "\(stale.text)")
    #expect(rows.last?.hasPrefix("Lab.score(x:)") == true)
    #expect(
      rows.last?.contains("  3  ") == true && rows.last?.hasSuffix("let factor changed") == true)
    #expect(try recall("stale", "--json").text.split(separator: "\n").count == 3)

    // Accepting the change makes the old calls current again.
    let accept = try recall("accept", "score", "b2", "--as", "a1")
    #expect(accept.status == 0, "\(accept.text)")
    #expect(try recall("stale").text.isEmpty)

    // Reverted to a1a1 (its hits make it current again): `recall diff`
    // without versions compares it with b2b2, which shares its results.
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let log = EventLog(store)
    _ = store.memoize(op("a1a1", factor: "2"), [Argument("x", 2)]) { 20 }
    #expect(log.executed.isEmpty)
    try store.saveUsage()
    let reverted = try recall("diff", "score")
    #expect(reverted.status == 0, "\(reverted.text)")
    #expect(reverted.text.contains("shares the results of b2b2"), "\(reverted.text)")
    #expect(reverted.text.contains("(accepted as equivalent)"))
    #expect(reverted.text.contains("let factor changed"))
  }

  @Test func pruneListsThenRemovesStaleResultsAndTheValuesOnlyTheyUsed() throws {
    try populate()
    // Not the calls of a version used in the last hour, without --force.
    let kept = try recall("prune", "--dry-run")
    #expect(
      kept.text
        == "Keeping 3 stale calls of versions used in the last 60 minutes (--force removes them too).\n"
        + "No stale calls to remove.\n", "\(kept.text)")
    let listed = try recall("prune", "--dry-run", "--force")
    #expect(
      listed.text
        == "Would remove 3 stale calls (results of 30 B):\n  Lab.score(x:) a1a1: 3 calls, 30 B\n"
        + "Removed nothing (--dry-run).\n", "\(listed.text)")
    #expect(try recall("stale", "--json").text.split(separator: "\n").count == 3)
    #expect(
      try recall("prune", "--force", "--yes", "--older-than", "2000-01-01").text
        == "No stale calls to remove.\n")
    let refused = try recall("prune", "--force")
    #expect(refused.status != 0 && refused.text.contains("pass --yes"), "\(refused.text)")
    let removed = try recall("prune", "--force", "--yes", "--op", "score")
    #expect(removed.status == 0, "\(removed.text)")
    #expect(
      removed.text.hasSuffix("Removed 3 calls; deleted 4 values (40 B) no call uses any more.\n"),
      "\(removed.text)")
    #expect(try recall("stale").text.isEmpty)
    #expect(try recall("gc").text.hasPrefix("Deleted 0 values"))
    let badDate = try recall("prune", "--older-than", "last week")
    #expect(badDate.status == 64)
    #expect(badDate.text.contains("--older-than takes a date like 2026-11-01"), "\(badDate.text)")
  }

  @Test func gcWithABudgetEvictsTheCheapestResultsAndShowsWhatItDid() throws {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let simulate = Op(id: "Lab.simulate(seed:)", version: CodeFingerprint(hex: "d4d4"))
    // Equal sizes; seed 0 took the least time, so it is the first to go.
    for seed in 0..<4 {
      try MemoizedCall<[Double]>(op: simulate, arguments: [Argument("seed", seed)]).store(
        [Double](repeating: Double(seed), count: 1_000), computedIn: .seconds(Double(seed + 1)),
        in: store)
    }
    let total = try store.summary().bytes
    let bad = try recall("gc", "--budget", "lots")
    #expect(bad.status == 64)
    #expect(bad.text.contains("--budget takes a size like 20GB"), "\(bad.text)")
    let gc = try recall("gc", "--budget", "\(total - 1)")
    #expect(gc.status == 0, "\(gc.text)")
    #expect(gc.text.hasPrefix("Deleted 0 values (0 B).\nEvicted 1 result ("), "\(gc.text)")
    let evicted = try #require(
      try store.calls(of: "Lab.simulate(seed:)").first { $0.evictedAt != nil })
    #expect(try store.value(evicted.inputs[0].cid, as: Int.self) == 0)
    let show = try recall("show", String(evicted.id.hex.prefix(12)))
    #expect(show.text.contains("(evicted "), "\(show.text)")
    #expect(try recall("calls", "simulate").text.contains("(evicted)"))
    let stats = try recall("stats", "--json").text.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let row = try #require(stats.first { $0["op"] as? String == "Lab.simulate(seed:)" })
    #expect(row["evicted"] as? Int == 1)
    #expect(row["evicted_bytes"] as? Int == evicted.outputSize)
    #expect(row["bytes"] as? Int == 3 * evicted.outputSize, "the bytes kept")
    #expect(stats.last?["evicted"] as? Int == 1)
    // Under a budget nothing fits, the inputs stay: the command says so.
    let all = try recall("gc", "--budget", "0")
    #expect(all.text.contains("Evicted 3 results"), "\(all.text)")
    #expect(all.text.contains("Still over the budget by"), "\(all.text)")
    #expect(try recall("gc", "--budget", "1GB").text.hasSuffix("within the budget of 953.7 MiB.\n"))
  }

  @Test func whySaysWhyEachCallRan() throws {
    try populate()
    let result = try recall("why", "score", "--json")
    #expect(result.status == 0, "\(result.text)")
    let rows = try result.text.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    // Most recent first: x=1 under b2b2 (a1a1 had it), then 3, 2, 1 under a1a1.
    #expect(
      rows.map { $0["reason"] as? String }
        == ["other_version", "other_inputs", "other_inputs", "never_computed"])
    #expect(
      rows[0]["why"] as? String == "computed under another version (a1a1 → b2b2), which this "
        + "one does not reuse: let factor changed")
    #expect(rows[1]["differing"] as? [String] == ["x"])
    #expect(rows[1]["compared"] as? String != nil)
    let text = try recall("why", "score", "--limit", "1").text
    #expect(text.hasPrefix("ID"), "\(text)")
    #expect(text.contains("x=1") && text.contains("let factor changed"), "\(text)")
    let one = try recall("why", "label", try labelCallID())
    #expect(one.text.contains("never computed"), "\(one.text)")
    #expect(try recall("why", "nothing").status != 0)
    // A call given by its inputs, against the current version (b2b2).
    func given(_ value: String) throws -> [String: Any] {
      let result = try recall("why", "score", "--input", "x=\(value)", "--json")
      #expect(result.status == 0, "\(result.text)")
      return try #require(
        try JSONSerialization.jsonObject(with: Data(result.text.utf8)) as? [String: Any])
    }
    #expect(try given("1")["reason"] as? String == "stored")
    #expect(try given("2")["reason"] as? String == "other_version")
    let new = try given("7")
    #expect(new["reason"] as? String == "other_inputs")
    #expect(new["differing"] as? [String] == ["x"])
    let explained = try recall("why", "score", "--input", "x=2").text
    #expect(explained.contains("x=2") && explained.contains("let factor changed"), "\(explained)")
    let bad = try recall("why", "score", "--input", "x")
    #expect(bad.status == 64 && bad.text.contains("--input takes name=value"), "\(bad.text)")
  }

  @Test func outdatedListsWhatTheBuiltCodeWouldComputeAgain() throws {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    @Sendable func component(_ identity: String, _ fingerprint: String) -> CodeComponent {
      CodeComponent(identity: identity, fingerprint: fingerprint, source: identity)
    }
    let load = Op(
      id: "Lab.load(seed:)", version: CodeFingerprint(hex: "a1a1"), parameters: ["seed"],
      components: { [component("func load(seed:)", "1"), component("var noise", "1")] })
    let train = Op(
      id: "Lab.train(_:)", version: CodeFingerprint(hex: "b1b1"), parameters: ["data"],
      components: { [component("func train(_:)", "1")] })
    for seed in [1, 2] {
      let data = store.memoize(load, [Argument("seed", seed)]) { [seed, seed + 1] }
      _ = store.memoize(train, [Argument("data", data)]) { data.reduce(0, +) }
    }
    store.flush()
    // The build changed `noise`, which `load` reads: as the plugin writes it.
    let build = directory.path + "-build"
    let versions = build + "/plugins/outputs/lab/Lab/destination/RecallPlugin"
    try FileManager.default.createDirectory(atPath: versions, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: build) }
    try """
    {"format": 1, "module": "Lab", "package": "lab", "ops": [
      {"name": "load(seed:)", "typedName": "load(seed:)", "fingerprint": "1", "version": "a2a2",
       "parameters": ["seed"], "addedParameters": [],
       "components": [["func load(seed:)", "1"], ["var noise", "2"]]},
      {"name": "train(_:)", "typedName": "train(_:)", "fingerprint": "1", "version": "b1b1",
       "parameters": ["data"], "addedParameters": [], "components": [["func train(_:)", "1"]]}
    ]}
    """.write(toFile: versions + "/RecallVersions.json", atomically: true, encoding: .utf8)

    let outdated = try recall("outdated", "--build-path", build)
    #expect(outdated.status == 0, "\(outdated.text)")
    let lines = outdated.text.split(separator: "\n")
    #expect(lines.first?.hasPrefix("OP") == true, "\(outdated.text)")
    #expect(
      lines.contains {
        $0.hasPrefix("Lab.load(seed:)") && $0.contains("a1a1") && $0.contains("a2a2")
          && $0.contains("  2  ") && $0.hasSuffix("var noise changed")
      }, "\(outdated.text)")
    #expect(lines.last == "4 calls outdated.", "\(outdated.text)")
    let json = try recall("outdated", "--versions", versions + "/RecallVersions.json", "--json")
    let rows = try json.text.split(separator: "\n").map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(rows.map { $0["kind"] as? String } == ["stale", "stale", "downstream", "downstream"])
    #expect(Set(rows.map { $0["op"] as? String }) == ["Lab.load(seed:)", "Lab.train(_:)"])
    #expect(rows.allSatisfy { $0["changed_op"] as? String == "Lab.load(seed:)" })
    #expect(rows.allSatisfy { $0["why"] as? [String] == ["var noise"] })
    // Nothing was recorded: the new version is not in the store.
    #expect(try store.versions(of: "Lab.load(seed:)").count == 1)

    // A leftover that cannot be read (another toolchain's) next to a file
    // that can: left out.
    let leftover = build + "/plugins/outputs/lab/Lab/old/RecallPlugin"
    try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
    try "not json".write(
      toFile: leftover + "/RecallVersions.json", atomically: true, encoding: .utf8)
    let beside = try recall("outdated", "--build-path", build)
    #expect(beside.status == 0 && beside.text.contains("4 calls outdated."), "\(beside.text)")
    try FileManager.default.removeItem(atPath: leftover)

    // A version file from a newer Recall: refused, with what to do.
    try #"{"format": 99, "module": "Lab", "ops": []}"#.write(
      toFile: versions + "/RecallVersions.json", atomically: true, encoding: .utf8)
    let newer = try recall("outdated", "--build-path", build)
    #expect(newer.status == 1 && newer.text.contains("written by a newer Recall"), "\(newer.text)")

    // Without version files: what to do.
    let none = try recall("outdated", "--build-path", directory.path + "-nowhere")
    #expect(none.status == 1)
    #expect(none.text.contains("swift build"), "\(none.text)")
  }

  @Test func tagsForgetsAndCollects() throws {
    try populate()
    #expect(try recall("tag").text.hasPrefix("No tags. Name a call with 'recall tag NAME CALL'"))
    #expect(try recall("tag", "--json").text.isEmpty)
    let id = try labelCallID()
    #expect(try recall("tag", "baseline", String(id.prefix(8))).text.contains("as 'baseline'"))
    let tags = try recall("tag")
    #expect(tags.text.contains("baseline") && tags.text.contains(id))
    #expect(try recall("show", "baseline").text.contains("Lab.label(_:)"))

    // Not without confirmation (no terminal here), and not the calls of a
    // version used in the last hour without --force.
    let kept = try recall("forget", "--stale")
    #expect(
      kept.text
        == "Keeping 3 stale calls of versions used in the last 60 minutes (--force forgets them too).\n"
        + "Forgot 0 calls.\n", "\(kept.text)")
    let refused = try recall("forget", "--stale", "--force")
    #expect(refused.status != 0 && refused.text.contains("pass --yes"), "\(refused.text)")
    #expect(try recall("stale", "--json").text.split(separator: "\n").count == 3)
    let forced = try recall("forget", "--stale", "--yes", "--force")
    #expect(
      forced.text.contains(
        "Will forget 3 stale calls (results of 30 B):\n  Lab.score(x:) a1a1: 3 calls, 30 B\n"),
      "\(forced.text)")
    #expect(forced.text.hasSuffix("Forgot 3 calls.\n"))
    #expect(try recall("stale").text.isEmpty)
    let gc = try recall("gc")
    #expect(gc.status == 0)
    // 2, 10, 20 and 30 go; 1 and 3 are still the b2b2 call's input and output.
    #expect(gc.text.hasPrefix("Deleted 4 values"), "\(gc.text)")
    #expect(try recall("forget", "baseline").text == "Forgot 1 call.\n")
    #expect(try recall("tag", "--remove", "baseline").text == "Removed tag 'baseline'.\n")
    #expect(try recall("forget").text.contains("Name the calls to forget, or pass --stale"))
  }

  @Test func tablesAndGraphsOfFrames() throws {
    try populate()
    let table = try recall("table", "score", "--format", "csv")
    #expect(table.status == 0)
    #expect(table.text.hasPrefix("x,score\n"))
    #expect(table.text.split(separator: "\n").count == 5, "\(table.text)")  // header and four calls
    let versions = try recall("table", "score", "--versions", "--format", "csv").text
    #expect(versions.hasPrefix("x,score,score.version\n"), "\(versions)")
    #expect(versions.components(separatedBy: "a1a1 (stale)").count == 4, "\(versions)")
    #expect(versions.hasSuffix("1,3,\"\"\"b2b2\"\"\"\n"), "\(versions)")
    // `label` returns a dictionary keyed by strings: one column per key.
    let fields = try recall("table", "label", "--fields", "label", "--format", "csv").text
    #expect(fields.hasPrefix("name,label.name,label.scores\n"), "\(fields)")
    let json = try recall("table", "label", "--format", "json")
    #expect(json.text.contains(#""name":"run\nA""#))
    let graph = try recall("graph", "score")
    #expect(graph.text.hasPrefix("digraph ComputationFrame {"))
    #expect(graph.text.contains("score\\n4 calls"))
  }

  @Test func showsTrialsInCallsShowAndTables() throws {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let (data, noisy) = (
      Op(id: "Lab.data(n:)", version: CodeFingerprint(hex: "d1")),
      Op(id: "Lab.noisy(data:)", version: CodeFingerprint(hex: "e1"))
    )
    for trial in 0..<3 {
      _ = withTrial(trial) {
        let points = store.memoize(data, [Argument("n", 4)]) { Array(0..<4) }
        return store.memoize(noisy, [Argument("data", points)]) {
          var random = RandomSource.current
          return points.map { _ in random.nextInt(below: 100) }
        }
      }
    }
    let calls = try recall("calls", "noisy")
    #expect(calls.text.split(separator: "\n").first?.contains("TRIAL") == true, "\(calls.text)")
    let rows = try recall("calls", "noisy", "--json").text.split(separator: "\n").map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(rows.compactMap { $0["trial"] as? Int }.sorted() == [0, 1, 2])
    let dataRows = try recall("calls", "data", "--json").text.split(separator: "\n")
    #expect(dataRows.count == 1 && dataRows[0].contains(#""trial":0"#))

    let random = try #require(rows.first { $0["trial"] as? Int == 0 }?["id"] as? String)
    #expect(
      try recall("show", String(random.prefix(12))).text.contains(
        "0 (random: computed for this trial)"))
    let shared = try recall("calls", "data", "--json").text
    let sharedID = try #require(
      (try JSONSerialization.jsonObject(with: Data(shared.utf8)) as? [String: Any])?["id"]
        as? String)
    #expect(
      try recall("show", String(sharedID.prefix(12))).text.contains(
        "0 (shared by every trial)"))

    // The frame's table has a trial column, one row per trial.
    let table = try recall("table", "noisy", "--format", "csv").text
    #expect(table.hasPrefix("trial,n,data,noisy\n"), "\(table)")
    #expect(
      table.split(separator: "\n").dropFirst().map { $0.prefix(while: { $0 != "," }) }.sorted()
        == ["0", "1", "2"])
  }

  @Test func listsAudits() throws {
    try populate()
    #expect(
      try recall("audit").text
        == "No audits. Run a program with RECALL_AUDIT=0.1 (one hit in ten; 1 for every hit) "
        + "to record some.\n")
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.audit = AuditPolicy(fraction: 1)
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let clock = Op(id: "Lab.clock()", version: CodeFingerprint(hex: "e1e1"))
    let count = Mutex(0)
    for _ in 0..<3 {
      _ = store.memoize(clock, []) {
        count.withLock { value in
          value += 1
          return value
        }
      }
      _ = store.memoize(op("a1a1", factor: "2"), [Argument("x", 1)]) { 10 }
    }
    store.flush()
    let text = try recall("audit").text
    let lines = text.split(separator: "\n")
    #expect(lines.first?.hasPrefix("OP") == true, "\(text)")
    #expect(
      lines.contains {
        $0.hasPrefix("Lab.clock()") && $0.contains("  2  ") && $0.contains("  no  ")
      })
    #expect(lines.contains { $0.hasPrefix("Lab.score(x:)") && $0.contains("  yes  ") })
    #expect(text.contains("Lab.clock(): 2 audits differed"))
    let rows = try recall("audit", "clock", "--json").text.split(separator: "\n")
    #expect(rows.count == 1)
    let row = try #require(JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
    #expect(row["checked"] as? Int == 2 && row["clean"] as? Bool == false)
    let differing = try #require(row["differing"] as? [[String: Any]])
    #expect(differing.count == 2)
    #expect((differing.first?["stored_cid"] as? String)?.count == 64)
    #expect(differing.first?["error"] is NSNull)
  }

  @Test func exportsImportsAndSummarizes() throws {
    try populate()
    let other = TemporaryDirectory()
    let export = try recall("export", "--to", other.path, "--op", "score")
    #expect(export.status == 0, "\(export.text)")
    // Values 1, 2, 3 (inputs; 3 is also b2b2's output) and 10, 20, 30.
    #expect(export.text.hasPrefix("Copied 4 calls, 6 values"), "\(export.text)")
    let copied = try run(
      productsDirectory.appendingPathComponent("recall").path,
      ["versions", "score", "--store", other.path],
      environment: [:])
    #expect(copied.text.contains("a1a1") && copied.text.contains("b2b2"))
    let diff = try run(
      productsDirectory.appendingPathComponent("recall").path,
      ["diff", "score", "a1", "b2", "--store", other.path],
      environment: [:])
    #expect(diff.text.contains("let factor changed"))

    // Importing needs the store it copies into (only `export --to` creates one).
    let third = TemporaryDirectory()
    let nowhere = try run(
      productsDirectory.appendingPathComponent("recall").path,
      ["import", directory.path, "--store", third.path], environment: [:])
    #expect(nowhere.status == 1 && nowhere.text.contains("has no database"), "\(nowhere.text)")
    #expect(!FileManager.default.fileExists(atPath: third.path))
    // Importing into an empty store, then again: the same calls, nothing doubled.
    _ = try Store.sqlite(at: third.path)
    for _ in 0..<2 {
      let imported = try run(
        productsDirectory.appendingPathComponent("recall").path,
        ["import", directory.path, "--store", third.path],
        environment: [:])
      #expect(imported.text.hasPrefix("Copied 5 calls"), "\(imported.text)")
    }
    let stats = try run(
      productsDirectory.appendingPathComponent("recall").path, ["stats", "--store", third.path],
      environment: [:])
    let total = stats.text.split(separator: "\n").last?.split(separator: " ") ?? []
    #expect(total.prefix(2) == ["(store)", "5"], "\(stats.text)")
    #expect(stats.text.contains("Lab.score(x:)"))
  }

  @Test func statsShowHitsAndMissesPerOpAndOverTime() throws {
    try populate()  // five misses, saved when its stores were released
    do {
      var configuration = Store.Configuration()
      configuration.printsWarnings = false
      let store = try Store.sqlite(at: directory.path, configuration: configuration)
      for _ in 0..<2 { _ = store.memoize(op("a1a1", factor: "2"), [Argument("x", 1)]) { 0 } }
      // Kept in memory only: counted, never stored.
      let parse = Op(id: "Lab.parse(x:)", version: CodeFingerprint(hex: "b2"), storage: .memoryOnly)
      for x in 0..<2 {
        _ = store.memoize(parse, [Argument("x", x)]) { [Double](repeating: 1, count: 8) }
      }
    }
    func rows(_ arguments: String...) throws -> [[String: Any]] {
      let result = try recall(arguments + ["--json"])
      #expect(result.status == 0, "\(result.text)")
      return try result.text.split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
      }
    }
    let perOp = try rows("stats")
    let score = try #require(perOp.first { $0["op"] as? String == "Lab.score(x:)" })
    #expect(score["hits"] as? Int == 2)
    #expect(score["misses"] as? Int == 4)
    #expect(score["not_stored"] as? Int == 0)
    // Seconds saved per MiB kept: the hits' saved time over the results' bytes.
    let saved = try #require(score["time_saved"] as? Double)
    let kept = try #require(score["bytes"] as? Int)
    #expect(kept > 0)
    #expect(
      abs((score["saved_per_mib"] as? Double ?? -1) - saved / (Double(kept) / 1_048_576)) < 1e-6)
    let parse = try #require(perOp.first { $0["op"] as? String == "Lab.parse(x:)" })
    #expect(parse["calls"] as? Int == 0)
    #expect(parse["misses"] as? Int == 2)
    #expect(parse["not_stored"] as? Int == 2)
    #expect(parse["saved_per_mib"] is NSNull, "no bytes kept: nothing to divide by")
    #expect((parse["not_stored_bytes"] as? Int ?? 0) > 0)
    let total = try #require(perOp.last)
    #expect(total["op"] as? String == "(store)")
    #expect(total["hits"] as? Int == 2)
    #expect(total["misses"] as? Int == 7)
    #expect(total["not_stored"] as? Int == 2)

    let days = try rows("stats", "--by", "day")
    #expect(days.count == 1)
    #expect(days.first?["hits"] as? Int == 2)
    #expect(days.first?["misses"] as? Int == 7)
    #expect(abs((days.first?["hit_rate"] as? Double ?? 0) - 2.0 / 9) < 1e-9)
    let hours = try rows("stats", "--by", "hour", "--op", "score")
    #expect(hours.map { $0["misses"] as? Int } == [4])

    let text = try recall("stats", "--by", "month").text
    #expect(text.hasPrefix("PERIOD"), "\(text)")
    #expect(text.contains("22 %"), "\(text)")
    #expect(
      try recall("stats", "--by", "day", "--since", "2999-01-01").text
        == "No hits or misses recorded since 2999-01-01.\n")
    let noPeriod = try recall("stats", "--op", "score")
    #expect(noPeriod.status != 0)
    #expect(noPeriod.text.contains("add --by day"), "\(noPeriod.text)")
    for bad in [["yesterday", "--by", "day"], ["2026-13-40", "--by", "day"], ["garbage"]] {
      let badDate = try recall(["stats", "--since"] + bad)
      #expect(badDate.status == 64)
      #expect(badDate.text.contains("--since takes a date like 2026-11-01"), "\(badDate.text)")
    }
  }

  @Test func listsTheCallsBeingComputed() throws {
    try populate()
    #expect(try recall("running").text == "No call is being computed.\n")
    // A process computing a call: it holds a claim on it until it stores it.
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    let store = try Store.sqlite(at: directory.path, configuration: configuration)
    let label = Op(id: "Lab.label(_:)", version: CodeFingerprint(hex: "c3c3"))
    let listed = store.memoize(label, [Argument("name", "slow")]) { () -> [String: String] in
      ["running": (try? recall("running", "--json").text) ?? ""]
    }
    let row =
      try JSONSerialization.jsonObject(with: Data((listed["running"] ?? "").utf8)) as? [String: Any]
    #expect(row?["op"] as? String == "Lab.label(_:)")
    #expect(row?["pid"] as? Int == Int(getpid()))
    #expect((row?["expires_in"] as? Double ?? 0) > 20)
    #expect(try recall("running").text == "No call is being computed.\n")
  }

  @Test func errorsSayWhatToDo() throws {
    let missing = try recall("ls")
    #expect(missing.status == 1)
    #expect(missing.text.contains("has no database"))
    try populate()
    let unknown = try recall("calls", "nothing")
    #expect(unknown.status == 1)
    #expect(
      unknown.text.contains(
        "The store has no op named 'nothing'. Its ops: Lab.label(_:), Lab.score(x:)"))
    #expect(!unknown.text.contains("Usage:"), "a lookup that finds nothing is not a usage error")
    let call = try recall("show", "ffffffffffff")
    #expect(call.status == 1 && !call.text.contains("Usage:"))
    // A command line that is not valid: status 64, with the usage.
    let usage = try recall("forget")
    #expect(usage.status == 64 && usage.text.contains("Usage: recall forget"), "\(usage.text)")
    // A store from a newer Recall is refused with what to do.
    let backend = try SQLiteBackend(path: directory.path)
    try backend.pool.write { db in
      try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99.from-the-future')")
    }
    let newer = try recall("ls")
    #expect(newer.status != 0)
    #expect(
      newer.text.contains("written by a newer version of Recall")
        && newer.text.contains("Upgrade Recall"))
    // Commands that change a store refuse one that is not there (a typo, an
    // unmounted share), naming the path: they never make an empty one.
    let nowhere = TemporaryDirectory()
    let changes = [
      ["gc"], ["forget", "abc123"], ["forget", "--stale", "--yes"],
      ["accept", "Lab.score(x:)", "b2b2", "--as", "a1a1"], ["tag", "best", "abc123"],
      ["tag", "best", "--remove"],
    ]
    for change in changes {
      let refused = try run(
        productsDirectory.appendingPathComponent("recall").path,
        change + ["--store", nowhere.path], environment: [:])
      #expect(refused.status == 1, "\(change): \(refused.text)")
      #expect(
        refused.text.contains("The store at '\(nowhere.path)' has no database"),
        "\(change): \(refused.text)")
      #expect(!FileManager.default.fileExists(atPath: nowhere.path), "\(change) made a store")
    }
    // A damaged database: what is wrong with which file, and what to do.
    let damaged = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: damaged.path, withIntermediateDirectories: true)
    try Data(repeating: 0x5A, count: 8192).write(
      to: URL(fileURLWithPath: damaged.path + "/recall.sqlite"))
    for command in [["ls"], ["gc"]] {
      let refused = try run(
        productsDirectory.appendingPathComponent("recall").path,
        command + ["--store", damaged.path], environment: [:])
      #expect(refused.status == 1, "\(command): \(refused.text)")
      #expect(
        refused.text.contains("is damaged: its database \(damaged.path)/recall.sqlite")
          && refused.text.contains("recall export --store")
          && !refused.text.contains("SQLite error"), "\(command): \(refused.text)")
    }
    // Reading never creates or changes a store.
    let empty = TemporaryDirectory()
    _ = try run(
      productsDirectory.appendingPathComponent("recall").path, ["ls", "--store", empty.path],
      environment: [:])
    #expect(!FileManager.default.fileExists(atPath: empty.path))
  }
}
