import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// The causes the store's `didMiss` events give, in order.
private func misses(_ log: EventLog) -> [MissCause] {
  log.all.compactMap { if case .didMiss(_, let cause) = $0 { cause } else { nil } }
}

/// Why a call is not reused (``Store/explain(_:)``, ``Store/explainRun(of:)``,
/// ``RecallEvent/didMiss(_:_:)``), for each cause, on every backend.
@Suite struct ExplanationTests {
  @Test(arguments: Backend.allCases) func aCallSaysWhyItWouldNotBeReusedBeforeItRuns(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let v1 = scaledOp("1", helper: "x * 2")
    let v2 = scaledOp("2", helper: "x * 3")
    func call(_ op: Op, _ x: Double) -> MemoizedCall<Double> {
      MemoizedCall(op: op, arguments: [Argument("x", x)])
    }
    #expect(try store.explain(call(v1, 1)) == .neverComputed)
    _ = scaled(store, v1, 1, factor: 2)
    _ = scaled(store, v1, 2, factor: 2)
    store.flush()
    let first = try store.explain(call(v1, 1))
    #expect(first == .stored, "\(first)")
    // Other inputs: the nearest call differs in x.
    guard
      case .otherInputs(let nearest, let differing, let upstream) = try store.explain(call(v1, 5))
    else {
      Issue.record("expected other inputs")
      return
    }
    #expect(differing == ["x"] && upstream.isEmpty)
    #expect(try store.value(nearest.inputs[0].cid, as: Double.self) == 2, "the most recent")
    // The helper changed: the same inputs under the old version.
    _ = scaled(store, v2, 2, factor: 3)  // the new version is registered by a miss
    store.flush()
    let explained = try store.explain(call(v2, 1))
    guard case .otherVersion(let old, let changes) = explained else {
      Issue.record("expected another version, got \(explained)")
      return
    }
    #expect(old.opVersion == CodeFingerprint(hex: "1"))
    #expect(changes.changes.map(\.identity) == ["func scale(_:)"])
    #expect(explained.description.contains("func scale(_:) changed"), "\(explained)")
    // Evicted, then expired.
    let evict = try store.evict(toFit: 0)
    #expect(evict.values > 0)
    guard case .evicted = try store.explain(call(v1, 2)) else {
      Issue.record("expected evicted, got \(String(describing: try? store.explain(call(v1, 2))))")
      return
    }
    let expiring = Op(
      id: "Tests.scaled(x:)", version: CodeFingerprint(hex: "2"), parameters: ["x"],
      storage: StoragePolicy(expiresAfter: .milliseconds(50)))
    _ = scaled(store, v2, 4, factor: 3)
    store.flush()
    Thread.sleep(forTimeInterval: 0.1)
    guard case .expired = try store.explain(call(expiring, 4)) else {
      Issue.record(
        "expected expired, got \(String(describing: try? store.explain(call(expiring, 4))))")
      return
    }
  }

  @Test(arguments: Backend.allCases) func anotherTrialAnotherKeyAndAChangedTypeAreToldApart(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    // A call that draws is computed once per trial.
    let draw = testOp("Lab.draw(seed:)")
    _ = withTrial(1) {
      store.memoize(draw, [Argument("seed", 1)]) {
        var random = RandomSource.current
        return random.nextDouble()
      }
    }
    store.flush()
    let drawn = MemoizedCall<Double>(op: draw, arguments: [Argument("seed", 1)])
    guard case .otherTrial(let stored) = try withTrial(2, { try store.explain(drawn) }) else {
      Issue.record("expected another trial")
      return
    }
    #expect(stored.trial == 1)
    // The same inputs under another key: other types in it.
    let make = testOp("Lab.make(x:)")
    try MemoizedCall<Int>(op: make, arguments: [Argument("x", 1)]).store(5, in: store)
    let typed = MemoizedCall<Int>(op: make, arguments: [Argument("x", 1)], types: [String.self])
    guard case .otherKey = try store.explain(typed) else {
      Issue.record("expected another key")
      return
    }
    #expect(
      try store.explain(MemoizedCall<Int>(op: make, arguments: [Argument("x", 1)])) == .stored)
    // Stored, but as another type than the one asked for.
    #expect(
      try store.explain(MemoizedCall<String>(op: make, arguments: [Argument("x", 1)]))
        == .undecodable)
  }

  @Test(arguments: Backend.allCases) func aMissSaysItsCauseAndARunIsExplainedAfterwards(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let load = testOp("Lab.load(n:)")
    let train = testOp("Lab.train(data:)")
    func loaded(_ n: Int) -> [Double] {
      store.memoize(load, [Argument("n", n)]) { [Double](repeating: 1, count: n) }
    }
    func trained(_ data: [Double]) -> Double {
      store.memoize(train, [Argument("data", data)]) { data.reduce(0, +) }
    }
    #expect(trained(loaded(3)) == 3)
    #expect(trained(loaded(4)) == 4)
    #expect(trained(loaded(4)) == 4, "hits say nothing of misses")
    #expect(misses(log) == [.notStored, .notStored, .notStored, .notStored])
    store.flush()
    // Afterwards: the first call of train was never computed before; the
    // second had other data, which load(n: 4) returned.
    let runs = try store.calls(of: "Lab.train(data:)").sorted { $0.startedAt < $1.startedAt }
    #expect(runs.count == 2)
    #expect(runs.allSatisfy { $0.missCause == .notStored })
    #expect(try store.explainRun(of: runs[0].id) == .neverComputed)
    let second = try store.explainRun(of: runs[1].id)
    guard case .otherInputs(let nearest, let differing, let upstream) = second else {
      Issue.record("expected other inputs, got \(second)")
      return
    }
    #expect(nearest.id == runs[0].id && differing == ["data"])
    #expect(upstream["data"]?.op == "Lab.load(n:)")
    #expect(second.description.contains("data (returned by Lab.load(n:) ["), "\(second)")
    // Both calls made in the closure are recomputed; the cause is kept with
    // the new record.
    _ = Memoization.recomputing { trained(loaded(3)) }
    #expect(
      misses(log) == [.notStored, .notStored, .notStored, .notStored, .recomputing, .recomputing])
    store.flush()
    #expect(try place.open().explainRun(of: runs[0].id) == .sawWhenItRan(.recomputing))
  }

  @Test(arguments: Backend.allCases) func anExpiredOrUndecodableResultSaysSoWhenItMisses(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let expiring = Op(
      id: "Lab.rates()", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(expiresAfter: .milliseconds(50)))
    let store = place.open()
    _ = store.memoize(expiring, []) { 1 }
    store.flush()
    Thread.sleep(forTimeInterval: 0.1)
    let fresh = place.open()
    let log = EventLog(fresh)
    _ = fresh.memoize(expiring, []) { 2 }
    fresh.flush()
    let rates = try #require(try fresh.calls(of: "Lab.rates()").first)
    #expect(try fresh.explainRun(of: rates.id) == .sawWhenItRan(.expired))
    // A result type that changed: the stored Int does not decode as a String.
    _ = place.open().memoize(expiring, []) { "two" }
    let other = place.open()
    let otherLog = EventLog(other)
    _ = other.memoize(testOp("Lab.rates()"), []) { [1.5] }
    #expect(misses(log) == [.expired])
    #expect(misses(otherLog) == [.undecodable])
  }
}
