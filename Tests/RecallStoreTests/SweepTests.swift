import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

private struct Odd: Error {}

/// An output that counts its instances alive, so that a test sees every
/// output a sweep kept freed exactly once.
private final class Counted: Sendable {
  static let alive = Atomic(0)
  let value: Int
  init(_ value: Int) {
    self.value = value
    Self.alive.add(1, ordering: .relaxed)
  }
  deinit { Self.alive.subtract(1, ordering: .relaxed) }
}

/// A memoized call that takes `milliseconds`, in a store's activation.
private func slowSquare(_ store: Store, _ x: Int, milliseconds: Int = 5) async -> Int {
  await store.memoize(testOp("slowSquare"), [Argument("x", x)]) { () async -> Int in
    try? await Task.sleep(for: .milliseconds(milliseconds))
    return x * x
  }
}

/// Sweeps over many inputs on every backend: order, parallelism, failures,
/// cancellation and resumption.
@Suite struct SweepTests {
  @Test(arguments: Backend.allCases) func resultsComeInInputOrderAndASecondSweepComputesNothing(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let inputs = Array((0..<30).reversed())
    let first = try await store.map(inputs, parallelism: 4, progress: .none) { x in
      // Later inputs finish first: the order must still be the inputs'.
      await slowSquare(store, x, milliseconds: x % 7)
    }
    #expect(first == inputs.map { $0 * $0 })
    #expect(log.executed.count == 30)
    let extended = try await store.map(0..<40, parallelism: 4, progress: .none) {
      await slowSquare(store, $0)
    }
    #expect(extended == (0..<40).map { $0 * $0 })
    #expect(log.executed.count == 40)
  }

  @Test(arguments: Backend.allCases) func noMoreThanParallelismBodiesRunAtOnce(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let running = Mutex((now: 0, most: 0))
    _ = try await store.map(0..<24, parallelism: 3, progress: .none) { x -> Int in
      running.withLock {
        $0.now += 1
        $0.most = max($0.most, $0.now)
      }
      let result = await slowSquare(store, x, milliseconds: 10)
      running.withLock { $0.now -= 1 }
      return result
    }
    #expect(running.withLock { $0.most } == 3)
  }

  @Test(arguments: Backend.allCases) func theBodyRunsWithTheStoreActivated(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let names = try await store.map([1, 2], progress: .none) { _ in Store.activated === store }
    #expect(names == [true, true])
  }

  @Test(arguments: Backend.allCases) func failuresAreReportedAfterTheOtherInputsRan(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let error = await #expect(throws: SweepError.self) {
      try await store.map(0..<10, parallelism: 2, progress: .none) { x -> Int in
        if x % 2 == 1 { throw Odd() }
        return await slowSquare(store, x)
      }
    }
    #expect(error?.failures.map(\.index) == [1, 3, 5, 7, 9])
    #expect(error?.wasCancelled == false)
    #expect(error?.results.map { $0 as? Int } == [0, nil, 4, nil, 16, nil, 36, nil, 64, nil])
    #expect(error?.description.hasPrefix("5 of 10 inputs failed; input 1 threw") == true)
  }

  @Test func outputsAreKeptWholeAndFreedOnce() async throws {
    // Instances of a class: the sweep holds each output until it returns
    // them in order, or in its error; none is lost or freed twice.
    let store = Store.inMemory()
    do {
      let outputs = try await store.map(0..<50, parallelism: 3, progress: .none) { Counted($0) }
      #expect(outputs.map(\.value) == Array(0..<50))
      withExtendedLifetime(outputs) { #expect(Counted.alive.load(ordering: .relaxed) == 50) }
    }
    #expect(Counted.alive.load(ordering: .relaxed) == 0)
    do {
      let error = await #expect(throws: SweepError.self) {
        try await store.map(0..<40, parallelism: 2, progress: .none) { x -> Counted in
          if x % 4 == 3 { throw Odd() }
          return Counted(x)
        }
      }
      #expect(
        error?.results.map { ($0 as? Counted)?.value } == (0..<40).map { $0 % 4 == 3 ? nil : $0 })
    }
    #expect(Counted.alive.load(ordering: .relaxed) == 0)
    #expect(try await store.map([Int](), progress: .none) { $0 }.isEmpty)
  }

  @Test(arguments: Backend.allCases) func aCancelledSweepKeepsWhatFinishedAndResumes(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let finished = Atomic(0)
    let sweep = Task {
      try await store.map(0..<200, parallelism: 2, progress: .none) { x -> Int in
        let result = await slowSquare(store, x, milliseconds: 20)
        finished.add(1, ordering: .relaxed)
        return result
      }
    }
    while finished.load(ordering: .relaxed) < 6 { try await Task.sleep(for: .milliseconds(5)) }
    sweep.cancel()
    let error = await #expect(throws: SweepError.self) { try await sweep.value }
    #expect(error?.wasCancelled == true)
    let kept = error?.results.count { $0 != nil } ?? 0
    #expect(kept >= 6 && kept < 200)
    #expect(error?.description.contains("running it again resumes") == true)
    // Rerunning computes only what did not finish.
    let executedBefore = log.executed.count
    let all = try await store.map(0..<200, parallelism: 8, progress: .none) {
      await slowSquare(store, $0, milliseconds: 1)
    }
    #expect(all == (0..<200).map { $0 * $0 })
    #expect(log.executed.count - executedBefore <= 200 - kept)
  }
}
