import Foundation
import RecallCore
import RecallTestSupport
import Testing

/// `recall why`, for each reason a call can have been computed, compared with
/// the snapshots in `Why/` (dates written as 2000-01-01T00:00:00Z; ids are
/// content-addressed, so the same in every run). Run with
/// `RECALL_RECORD_WHY=1` to write the snapshots again.
@Suite(.serialized) struct WhyTests {
  static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Why")

  /// A store holding a call that ran for each reason, made once for the suite.
  final class Fixture: Sendable {
    let directory = TemporaryDirectory()
    let files = TemporaryDirectory()

    init() throws {
      try FileManager.default.createDirectory(
        atPath: files.path, withIntermediateDirectories: true)
      var configuration = Store.Configuration()
      configuration.printsWarnings = false
      let store = try Store.sqlite(at: directory.path, configuration: configuration)
      func op(_ name: String, _ version: String, storage: StoragePolicy? = nil) -> Op {
        Op(
          id: OpID("Lab.\(name)"), version: CodeFingerprint(hex: version), parameters: ["x"],
          components: {
            [
              CodeComponent(
                identity: "func \(name)", fingerprint: version,
                source: "func \(name) { /* version \(version) */ }")
            ]
          }, storage: storage)
      }
      // never_computed, then other_inputs (x differs), then other_version
      // (the same x under a new version, whose code differs). Outputs that
      // are not also inputs: within a process, a value equal to an earlier
      // output is taken to be that output.
      for x in [1, 2] {
        _ = store.memoize(op("score(x:)", "a1a1"), [Argument("x", x)]) { x * 10 }
      }
      _ = store.memoize(op("score(x:)", "b2b2"), [Argument("x", 1)]) { 30 }
      // other_trial: a call that draws, in trial 1 and then in trial 2.
      for trial in [1, 2] {
        _ = withTrial(trial) {
          store.memoize(op("noisy(x:)", "c3c3"), [Argument("x", 1)]) {
            var random = RandomSource.current
            return random.nextDouble()
          }
        }
      }
      // expired.
      let expiring = op("fresh(x:)", "d4d4", storage: StoragePolicy(expiresAfter: .milliseconds(1)))
      _ = store.memoize(expiring, [Argument("x", 1)]) { 1 }
      Thread.sleep(forTimeInterval: 0.05)
      _ = store.memoize(expiring, [Argument("x", 1)]) { 1 }
      // undecodable: the result type changed.
      _ = store.memoize(op("kind(x:)", "e5e5"), [Argument("x", 1)]) { "one" }
      store.flush()
      let later = try Store.sqlite(at: directory.path, configuration: configuration)
      _ = later.memoize(op("kind(x:)", "e5e5"), [Argument("x", 1)]) { 1 }
      // recomputing.
      _ = later.memoize(op("again(x:)", "f6f6"), [Argument("x", 1)]) { 1 }
      _ = Memoization.recomputing {
        later.memoize(op("again(x:)", "f6f6"), [Argument("x", 1)]) { 1 }
      }
      // file_changed: the file a result names was deleted.
      let path = files.path + "/out.txt"
      let written = op("written(x:)", "a7a7")
      func write() -> TrackedFile {
        later.memoize(written, [Argument("x", 1)]) {
          try? "out".write(toFile: path, atomically: true, encoding: .utf8)
          return TrackedFile(path)
        }
      }
      _ = write()
      try FileManager.default.removeItem(atPath: path)
      _ = write()
      // evicted and stored, for `--input`: x=2 took a thousand times longer
      // than x=1, so it is kept longer.
      func big(_ x: Int) -> MemoizedCall<[Double]> {
        MemoizedCall(op: op("big(x:)", "b8b8"), arguments: [Argument("x", x)])
      }
      for (x, seconds) in [(1, 1), (2, 1_000)] {
        try big(x).store(
          [Double](repeating: Double(x), count: 1_000), computedIn: .seconds(seconds), in: later)
      }
      later.flush()
      // One value at a time, the cheapest per byte first (the small results),
      // until x=1's goes.
      for _ in 0..<100 where try later.explain(big(1)) == .stored {
        _ = try later.evict(toFit: try later.summary().bytes - 1)
      }
      guard case .evicted = try later.explain(big(1)), try later.explain(big(2)) == .stored else {
        throw Failure("the fixture should evict x=1's result and keep x=2's")
      }
    }
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  static let fixture = Result { try Fixture() }

  /// `recall why` with these arguments, with dates fixed.
  func why(_ arguments: [String]) throws -> String {
    let fixture = try Self.fixture.get()
    let result = try run(
      productsDirectory.appendingPathComponent("recall").path,
      ["why"] + arguments + ["--store", fixture.directory.path], environment: ["COLUMNS": "200"])
    #expect(result.status == 0, "\(result.text)")
    return result.text.replacingOccurrences(
      of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, with: "2000-01-01T00:00:00Z",
      options: .regularExpression)
  }

  @Test(arguments: [
    ("score", ["score", "--limit", "3"]),
    ("other_trial", ["noisy"]),
    ("expired", ["fresh", "--limit", "1"]),
    ("undecodable", ["kind", "--limit", "1"]),
    ("recomputing", ["again", "--limit", "1"]),
    ("file_changed", ["written", "--limit", "1"]),
    ("evicted", ["big", "--input", "x=1"]),
    ("stored", ["big", "--input", "x=2"]),
    // An op with one version: which of two is current is a matter of
    // moments here.
    ("other_inputs_input", ["fresh", "--input", "x=7"]),
  ])
  func whyMatchesItsSnapshot(_ name: String, _ arguments: [String]) throws {
    let text = try why(arguments)
    let file = Self.snapshots.appendingPathComponent(name + ".txt")
    if ProcessInfo.processInfo.environment["RECALL_RECORD_WHY"] != nil {
      try text.write(to: file, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(
      text == expected,
      "`recall why \(arguments.joined(separator: " "))` differs from Why/\(file.lastPathComponent); if the change is intended, run the tests with RECALL_RECORD_WHY=1."
    )
  }
}
