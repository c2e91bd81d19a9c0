import Foundation
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

private struct Odd: Error {}

/// A memoized call that takes `milliseconds`, in a store's activation.
private func slowSquare(_ store: Store, _ x: Int, milliseconds: Int = 5) async -> Int {
  await store.memoize(testOp("slowSquare"), [Argument("x", x)]) { () async -> Int in
    try? await Task.sleep(for: .milliseconds(milliseconds))
    return x * x
  }
}

@Suite struct SweepTests {
  @Test func resultsComeInInputOrderAndASecondSweepComputesNothing() async throws {
    let store = quietStore()
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

  @Test func noMoreThanParallelismBodiesRunAtOnce() async throws {
    let store = quietStore()
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

  @Test func theBodyRunsWithTheStoreActivated() async throws {
    let store = quietStore()
    let names = try await store.map([1, 2], progress: .none) { _ in Store.activated === store }
    #expect(names == [true, true])
  }

  @Test func failuresAreReportedAfterTheOtherInputsRan() async {
    let store = quietStore()
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

  @Test func aCancelledSweepKeepsWhatFinishedAndResumes() async throws {
    let store = quietStore()
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

  @Test func theStatusLineShowsCountsRateAndTimeLeft() {
    var status = SweepStatus(total: 100)
    status.computed = 10
    status.cached = 30
    status.failed = 2
    status.running = 4
    status.elapsed = .seconds(20)
    status.computeElapsed = .seconds(20)
    // 2 s per computed input, 58 left.
    #expect(
      status.line(barWidth: 10)
        == "[####------]  42/100  computed 10 · cached 30 · running 4 · failed 2  2.1/s  ETA 1m56s")
    status.cached = 88
    status.failed = 0
    status.running = 0
    status.elapsed = .seconds(3725)
    #expect(status.line() == "98/100  computed 10 · cached 88 · running 0  0.0/s  ETA 4s")
    status.cached = 90
    #expect(status.line() == "100/100  computed 10 · cached 90 · running 0  0.0/s  in 1h02m")
  }
}
