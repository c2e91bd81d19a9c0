import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// load → train → score, as a program declares it: each op with its
/// function and companion, at a version of its code.
private struct Code: Sendable {
  let store: Store
  let load: Op
  let train: Op
  let score: Op
  /// What `load` returns besides the seed: the "code" of its body.
  let tail: [Double]

  init(
    store: Store, load: String = "l1", train: String = "t1", score: String = "s1",
    tail: [Double] = [2, 3]
  ) {
    self.store = store
    self.load = Op(
      id: "Tests.load(seed:)", version: CodeFingerprint(hex: load), parameters: ["seed"])
    self.train = Op(
      id: "Tests.train(_:)", version: CodeFingerprint(hex: train), parameters: ["data"])
    self.score = Op(
      id: "Tests.score(_:scale:)", version: CodeFingerprint(hex: score),
      parameters: ["model", "scale"])
    self.tail = tail
  }

  func load(seed: Int) -> [Double] {
    store.memoize(load, [Argument("seed", seed)]) { [Double(seed)] + tail }
  }
  func train(_ data: [Double]) -> Double {
    store.memoize(train, [Argument("data", data)]) { data.reduce(0, +) }
  }
  func score(_ model: Double, scale: Int) -> Double {
    store.memoize(score, [Argument("model", model), Argument("scale", scale)]) {
      model / Double(scale)
    }
  }

  func run(seed: Int) -> Double { score(train(load(seed: seed)), scale: 10) }

  var versions: CodeVersions { CodeVersions(ops: [load, train, score]) }

  var refreshable: [RefreshableOp] {
    [
      .op({ self.load(seed: $0) }, { MemoizedCall(op: load, arguments: [Argument("seed", $0)]) }),
      .op({ self.train($0) }, { MemoizedCall(op: train, arguments: [Argument("data", $0)]) }),
      .op(
        { self.score($0, scale: $1) },
        { MemoizedCall(op: score, arguments: [Argument("model", $0), Argument("scale", $1)]) }),
    ]
  }
}

/// A store on `kind` where the first version of the code ran for `seeds`.
/// (Keep `place` until the test ends: it removes the store when released.)
private func ran(_ kind: Backend, seeds: [Int]) throws -> (place: Reopenable, store: Store) {
  let place = try Reopenable(kind)
  let store = place.open()
  let old = Code(store: store)
  for seed in seeds { _ = old.run(seed: seed) }
  store.flush()
  return (place, store)
}

/// ``Store/outdated(current:)`` and ``Store/refresh(_:parallelism:progress:handlesInterrupt:)``
/// on every backend: what is listed, what runs again, and what is cut off.
@Suite struct RefreshTests {
  @Test(arguments: Backend.allCases) func aChangeWithTheSameResultIsCutOff(_ kind: Backend)
    async throws
  {
    let (place, store) = try ran(kind, seeds: [1, 2])
    #expect(try store.outdated(current: Code(store: store).versions).count == 0)

    // `load`'s code changes, and computes the same.
    let new = Code(store: store, load: "l2")
    let report = try store.outdated(current: new.versions)
    let group = try #require(report.groups.first)
    #expect(report.groups.count == 1)
    #expect(group.change.op == "Tests.load(seed:)")
    #expect(group.change.from == CodeFingerprint(hex: "l1"))
    #expect(group.change.to == CodeFingerprint(hex: "l2"))
    #expect(group.stale.count == 2)
    #expect(Set(group.downstream.map(\.op)) == ["Tests.train(_:)", "Tests.score(_:scale:)"])
    #expect(group.downstream.count == 4)

    let log = EventLog(store)
    let refreshed = try await store.refresh(new.refreshable, progress: .none)
    #expect(log.executed == ["load(seed:)", "load(seed:)"])
    #expect(refreshed.recomputed == 2)
    // train's calls are cut off; score's, whose input train gives, follow.
    #expect(refreshed.revalidated == 2)
    #expect(refreshed.skipped.isEmpty)
    #expect(refreshed.remaining.count == 0)
    let after = try store.outdated(current: new.versions)
    #expect(after.count == 0)
    #expect(after.replaced == 2)
    #expect(after.revalidated == 2)

    // The program now finds everything.
    let rerun = EventLog(store)
    #expect(new.run(seed: 2) == 0.7)
    #expect(rerun.executed.isEmpty)
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func aChangedResultRecomputesWhatUsesIt(_ kind: Backend)
    async throws
  {
    let (place, store) = try ran(kind, seeds: [1])

    // `load` now computes something else: train and score follow.
    let new = Code(store: store, load: "l2", tail: [2, 4])
    #expect(try store.outdated(current: new.versions).count == 3)
    let log = EventLog(store)
    let refreshed = try await store.refresh(new.refreshable, progress: .none)
    #expect(log.executed == ["load(seed:)", "train(_:)", "score(_:scale:)"])
    #expect(refreshed.recomputed == 3)
    #expect(refreshed.revalidated == 0)
    #expect(try store.outdated(current: new.versions).count == 0)

    // What the refresh stored is what the program computes, and its
    // provenance links score's new call to load's.
    let rerun = EventLog(store)
    #expect(new.run(seed: 1) == 0.7)
    #expect(rerun.executed.isEmpty)
    store.flush()
    let score = try #require(
      try store.calls(of: "Tests.score(_:scale:)").first {
        $0.outputCID == (try ValueCodec.contentID(of: 0.7))
      })
    let upstream = try store.upstream(of: score.id)
    #expect(upstream.map(\.op) == ["Tests.train(_:)", "Tests.load(seed:)"])
    #expect(upstream.map(\.opVersion).last == CodeFingerprint(hex: "l2"))
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func aRefreshResumesWhereItStopped(_ kind: Backend)
    async throws
  {
    let (place, store) = try ran(kind, seeds: [1, 2])

    // Only `load` given: train is skipped, score waits for it.
    let new = Code(store: store, load: "l2", tail: [4])
    let partial = try await store.refresh(new.refreshable[0], progress: .none)
    #expect(partial.recomputed == 2)
    #expect(partial.skipped.count == 2)
    #expect(partial.skipped.allSatisfy { $0.call.op == "Tests.train(_:)" })
    #expect(partial.remaining.count == 4)
    #expect(partial.remaining.groups.first?.stale.isEmpty == true)

    // A later refresh (another process) computes only what is left.
    let reopened = place.open()
    let again = Code(store: reopened, load: "l2", tail: [4])
    let log = EventLog(reopened)
    let rest = try await reopened.refresh(again.refreshable, progress: .none)
    // Seed 2's model is now 6, which seed 1's old model was: its score is
    // stored already, by content, so it is found, not replayed.
    #expect(log.executed.sorted() == ["score(_:scale:)", "train(_:)", "train(_:)"])
    #expect(rest.recomputed == 3)
    #expect(rest.reused == 0)
    #expect(try reopened.outdated(current: again.versions).count == 0)
  }

  @Test(arguments: Backend.allCases) func aCancelledRefreshLosesNothing(_ kind: Backend)
    async throws
  {
    let (place, store) = try ran(kind, seeds: [1, 2, 3, 4])
    let new = Code(store: store, load: "l2", tail: [4])
    // Cancelled (as Ctrl-C cancels it) once the first call has run.
    let running = Mutex<Task<RefreshReport, any Error>?>(nil)
    let token = store.observe { event in
      if case .didExecute = event { running.withLock { $0?.cancel() } }
    }
    let first = EventLog(store)
    // Made under the lock, so that the observer cannot look before it is set.
    let task = running.withLock { running in
      let task = Task {
        try await store.refresh(
          new.refreshable, parallelism: 1, progress: .none, handlesInterrupt: false)
      }
      running = task
      return task
    }
    await #expect(throws: SweepError.self) { _ = try await task.value }
    token.cancel()
    let done = first.executed.count
    #expect(done >= 1 && done < 4, "\(first.executed)")
    #expect(first.executed.allSatisfy { $0 == "load(seed:)" })
    store.flush()

    // Run again: only what is left.
    let second = EventLog(store)
    let report = try await store.refresh(new.refreshable, progress: .none)
    #expect(second.executed.count { $0 == "load(seed:)" } == 4 - done)
    #expect(report.remaining.count == 0)
    #expect(try store.outdated(current: new.versions).count == 0)
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func aRefreshMemoizesWhateverScopeItIsCalledIn(
    _ kind: Backend
  ) async throws {
    let (place, store) = try ran(kind, seeds: [1])
    let new = Code(store: store, score: "s2")
    // Called with memoization off: the replays are still memoized, so what
    // they compute is stored and nothing is left outdated.
    let report = try await Memoization.disabled {
      try await store.refresh(new.refreshable, progress: .none)
    }
    #expect(report.recomputed == 1)
    #expect(report.skipped.isEmpty)
    #expect(try store.outdated(current: new.versions).count == 0)
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func twoFunctionsOfOneOpAreNotGuessedBetween(
    _ kind: Backend
  ) async throws {
    let (place, store) = try ran(kind, seeds: [1])
    // Two declarations that share score's name, at two versions: a stored
    // call cannot say which one computed it, so neither replays it.
    let log = EventLog(store)
    _ = try await store.refresh(
      Code(store: store, score: "s2").refreshable[2], Code(store: store).refreshable[2],
      progress: .none)
    #expect(log.executed.isEmpty)
    withExtendedLifetime(place) {}
  }

  @Test(arguments: Backend.allCases) func aDownstreamChangeIsListedAlone(_ kind: Backend) throws {
    let (place, store) = try ran(kind, seeds: [1])
    // A version the store never saw: listed from the versions alone, without
    // recording anything.
    let new = Code(store: store, score: "s2")
    let report = try store.outdated(current: new.versions)
    #expect(report.groups.map(\.change.op) == ["Tests.score(_:scale:)"])
    #expect(report.groups.first?.downstream.isEmpty == true)
    #expect(report.count == 1)
    #expect(try store.versions(of: "Tests.score(_:scale:)").count == 1)
    // Two declarations that share the op's name (private functions in two
    // files): calls under either version are current.
    let both = CodeVersions(ops: [new.load, new.train, new.score, Code(store: store).score])
    #expect(try store.outdated(current: both).count == 0)
    // Ops the versions do not name are not checked.
    let partial = try store.outdated(current: CodeVersions(ops: [new.score]))
    #expect(partial.unknownOps == ["Tests.load(seed:)", "Tests.train(_:)"])
    withExtendedLifetime(place) {}
  }

  @Test func keyFieldsReplaceTheNamedInputsCid() throws {
    let old = try ValueCodec.contentID(of: 1)
    let new = try ValueCodec.contentID(of: 2)
    var recorder = FieldRecorder()
    recorder.add("x")
    recorder.add(old.digest)
    recorder.add("y")
    recorder.add(old.digest)
    var expected = FieldRecorder()
    expected.add("x")
    expected.add(old.digest)
    expected.add("y")
    expected.add(new.digest)
    #expect(KeyFields.replacing(recorder.bytes, inputs: ["y": new]) == expected.bytes)
    #expect(KeyFields.replacing(recorder.bytes, inputs: [:]) == recorder.bytes)
    #expect(
      KeyFields.replacing(Array(recorder.bytes.dropLast()), inputs: ["y": new]).count == recorder
        .bytes.count - 1)
  }
}
