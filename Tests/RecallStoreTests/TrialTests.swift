import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// A memoized call that draws from its random source: a "noisy measurement"
/// of `x`.
private func noisy(_ store: Store, _ op: Op, _ x: Int) -> Double {
  store.memoize(op, [Argument("x", x)]) {
    var random = RandomSource.current
    return Double(x) + random.nextDouble()
  }
}

/// A memoized call that draws nothing: a "data set" of `size` numbers.
private func dataSet(_ store: Store, _ op: Op, size: Int) -> [Int] {
  store.memoize(op, [Argument("size", size)]) { Array(0..<size) }
}

/// The trials bodies ran in.
private final class Trials: Sendable {
  let list = Mutex<[Int]>([])
}

/// Trials (``withTrial(_:_:)``, ``Store/samples(_:parallelism:progress:handlesInterrupt:_:)``)
/// and ``RandomSource`` on every backend: what runs once per trial, what every
/// trial shares, and what the store records.
@Suite struct TrialTests {
  @Test(arguments: Backend.allCases) func aRandomCallRunsOncePerTrial(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("noisy")
    let first = (0..<3).map { trial in withTrial(trial) { noisy(store, op, 1) } }
    #expect(Set(first).count == 3, "each trial draws its own numbers")
    #expect(log.executedTrials == [.init("noisy", 0), .init("noisy", 1), .init("noisy", 2)])

    // Again, and in a new process: every trial is found.
    let again = (0..<3).map { trial in withTrial(trial) { noisy(store, op, 1) } }
    let reopened = place.open()
    let reopenedLog = EventLog(reopened)
    let fresh = testOp("noisy")
    let later = (0..<3).map { trial in withTrial(trial) { noisy(reopened, fresh, 1) } }
    #expect(again == first)
    #expect(later == first)
    #expect(log.executedTrials.count == 3)
    #expect(reopenedLog.executed.isEmpty)

    // The store records each trial.
    let calls = try reopened.calls(matching: CallQuery(op: "noisy"))
    #expect(calls.map(\.trial).sorted() == [0, 1, 2])
    #expect(Set(calls.map(\.outputHID)).count == 3, "two trials are two histories")
  }

  @Test(arguments: Backend.allCases) func aCallThatDrawsNothingIsSharedByEveryTrial(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let (load, train) = (testOp("load"), testOp("train"))
    func run(_ trial: Int) -> Double {
      withTrial(trial) {
        store.memoize(train, [Argument("rate", 0.5)]) {
          let data = dataSet(store, load, size: 100)
          var random = RandomSource.current
          return Double(data.count) * random.nextDouble()
        }
      }
    }
    let results = (0..<4).map(run)
    #expect(Set(results).count == 4)
    #expect(log.executedTrials.filter { $0.op == "load" } == [.init("load", 0)])
    #expect(log.executedTrials.filter { $0.op == "train" }.map(\.trial) == [0, 1, 2, 3])
    // Trial 4 in a new process: the data set is found, not loaded again.
    let reopened = place.open()
    let reopenedLog = EventLog(reopened)
    let fresh = (testOp("load"), testOp("train"))
    _ = withTrial(4) {
      reopened.memoize(fresh.1, [Argument("rate", 0.5)]) {
        dataSet(reopened, fresh.0, size: 100).count
      }
    }
    #expect(reopenedLog.executed == ["train"])
    #expect(reopenedLog.reused == ["load"])
  }

  @Test(arguments: Backend.allCases) func aCallOfARandomCallIsRandom(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let (inner, outer) = (testOp("noisy"), testOp("outer"))
    func outerCall(_ trial: Int) -> Double {
      withTrial(trial) {
        // Draws nothing itself; its result is a random call's.
        store.memoize(outer, [Argument("x", 2)]) { noisy(store, inner, 2) * 10 }
      }
    }
    let values = [outerCall(0), outerCall(1), outerCall(0), outerCall(1)]
    #expect(values[0] == values[2] && values[1] == values[3] && values[0] != values[1])
    #expect(
      Set(log.executedTrials)
        == [.init("noisy", 0), .init("noisy", 1), .init("outer", 0), .init("outer", 1)])
    #expect(log.executedTrials.count == 4)

    // A new process that finds the inner call stored still files the outer
    // call under its trial.
    let reopened = place.open()
    let reopenedLog = EventLog(reopened)
    let fresh = (testOp("noisy"), testOp("outer"))
    try reopened.forget(try reopened.calls(matching: CallQuery(op: "outer")).map(\.id))
    let recomputed = withTrial(1) {
      reopened.memoize(fresh.1, [Argument("x", 2)]) { noisy(reopened, fresh.0, 2) * 10 }
    }
    #expect(recomputed == values[1])
    #expect(reopenedLog.executedTrials == [.init("outer", 1)])
    #expect(reopenedLog.reused == ["noisy"])
  }

  @Test(arguments: Backend.allCases) func samplesComputeOnlyTheMissingTrials(_ kind: Backend)
    async throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("noisy")
    let five = try await store.samples(5, progress: .none) { noisy(store, op, 3) }
    #expect(five.count == 5 && Set(five).count == 5)
    #expect(Set(log.executedTrials.map(\.trial)) == Set(0..<5))

    let reopened = place.open()
    let reopenedLog = EventLog(reopened)
    let fresh = testOp("noisy")
    let eight = try await reopened.samples(8, parallelism: 3, progress: .none) {
      noisy(reopened, fresh, 3)
    }
    #expect(Array(eight.prefix(5)) == five)
    #expect(reopenedLog.executedTrials.map(\.trial).sorted() == [5, 6, 7])
    // Sample 0 is the default trial's result.
    #expect(noisy(reopened, fresh, 3) == five[0])
  }

  @Test(arguments: Backend.allCases) func theSameCallAndTrialDrawTheSameNumbersAnywhere(
    _ kind: Backend
  ) throws {
    let one = try Reopenable(kind).open()
    let other = Store(backend: InMemoryBackend())
    let (op, version2) = (testOp("noisy"), testOp("noisy", version: "v2"))
    let a = withTrial(7) { noisy(one, op, 5) }
    let b = withTrial(7) { noisy(other, op, 5) }
    // Another version of the code draws the same numbers: the seed leaves
    // the version out.
    let c = withTrial(7) { noisy(other, version2, 5) }
    #expect(a == b && b == c)
    #expect(withTrial(8) { noisy(other, op, 5) } != a)
    #expect(noisy(other, op, 6) != noisy(other, op, 5))
  }

  @Test(arguments: Backend.allCases) func anExplicitSeedIsAnOrdinaryInput(_ kind: Backend) throws {
    let store = try Reopenable(kind).open()
    let log = EventLog(store)
    let op = testOp("seeded")
    func seeded(_ seed: Int) -> Double {
      store.memoize(op, [Argument("seed", seed)]) {
        var random = RandomSource(seed: seed)
        return random.nextDouble()
      }
    }
    // Its own source does not make the call random: every trial shares it.
    let values = (0..<3).map { trial in withTrial(trial) { seeded(42) } }
    #expect(Set(values).count == 1)
    #expect(seeded(43) != values[0])
    #expect(log.executedTrials == [.init("seeded", 0), .init("seeded", 0)])
  }

  @Test(arguments: Backend.allCases) func aRandomCallOfAnAcceptedVersionKeepsItsTrials(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let v1 = testOp("Tests.noisy(x:)", version: "a1")
    let v2 = testOp("Tests.noisy(x:)", version: "b2")
    let store = place.open()
    let values = (0..<3).map { trial in withTrial(trial) { noisy(store, v1, 1) } }
    _ = noisy(store, v2, 9)
    try store.accept("Tests.noisy(x:)", version: v2.version, as: v1.version)
    let reopened = place.open()
    let log = EventLog(reopened)
    let fresh = testOp("Tests.noisy(x:)", version: "b2")
    #expect((0..<3).map { trial in withTrial(trial) { noisy(reopened, fresh, 1) } } == values)
    #expect(log.executed.isEmpty)
  }

  @Test(arguments: Backend.allCases.filter { $0 != .memory })
  func aCallRunsOncePerTrialAcrossProcesses(_ kind: Backend) async throws {
    let place = try Reopenable(kind)
    let runs = Trials()
    @Sendable func slowNoisy(_ store: Store, _ op: Op) -> Double {
      store.memoize(op, [Argument("x", 1)]) {
        Thread.sleep(forTimeInterval: 0.05)
        var random = RandomSource.current
        runs.list.withLock { $0.append(Trial.current) }
        return random.nextDouble()
      }
    }
    // Two "processes" sample the same call at once; each trial runs once,
    // under the claim of its own key. (Each has seen the op version run as
    // random, in a trial of its own; the next tests start from nothing.)
    let stores = [place.open(), place.open()]
    let ops = [testOp("slowNoisy"), testOp("slowNoisy")]
    for (index, store) in stores.enumerated() {
      _ = withTrial(100 + index) { slowNoisy(store, ops[index]) }
    }
    runs.list.withLock { $0.removeAll() }
    let logs = stores.map(EventLog.init)
    try await withThrowingTaskGroup(of: [Double].self) { group in
      for (store, op) in zip(stores, ops) {
        group.addTask {
          try await store.samples(4, parallelism: 4, progress: .none) { slowNoisy(store, op) }
        }
      }
      var results: [[Double]] = []
      for try await samples in group { results.append(samples) }
      #expect(results.count == 2 && results[0] == results[1])
    }
    #expect(runs.list.withLock { $0.sorted() } == [0, 1, 2, 3])
    #expect(logs.map { $0.executedTrials.count }.reduce(0, +) == 4)
  }

  @Test(arguments: Backend.allCases.filter { $0 != .memory })
  func twoNewProcessesOnOneTrialRunItOnce(_ kind: Backend) async throws {
    let place = try Reopenable(kind)
    let runs = Trials()
    let stores = [place.open(), place.open()]
    let logs = stores.map(EventLog.init)
    // Neither has seen the op run: each claims trial 3's key, and the one
    // that waited finds the other's result.
    try await withThrowingTaskGroup(of: Double.self) { group in
      for store in stores {
        let op = testOp("slowNoisy")
        group.addTask {
          withTrial(3) {
            store.memoize(op, [Argument("x", 1)]) {
              runs.list.withLock { $0.append(Trial.current) }
              Thread.sleep(forTimeInterval: 0.2)
              var random = RandomSource.current
              return random.nextDouble()
            }
          }
        }
      }
      var results: [Double] = []
      for try await result in group { results.append(result) }
      #expect(results.count == 2 && results[0] == results[1])
    }
    #expect(runs.list.withLock { $0 } == [3])
    #expect(logs.flatMap(\.executedTrials) == [.init("slowNoisy", 3)])
  }

  @Test(arguments: Backend.allCases.filter { $0 != .memory })
  func newProcessesSamplingOtherTrialsDoNotWaitForEachOther(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let started = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
    let overlapped = Trials()
    let threads = (0..<2).map { index in
      let store = place.open()
      let op = testOp("meetsTheOther")
      return Running {
        withTrial(index + 1) {
          store.memoize(op, [Argument("x", 1)]) {
            started[index].signal()
            // Runs only if the other trial's body runs at the same time.
            let met = started[1 - index].wait(timeout: .now() + 20) == .success
            if met { overlapped.list.withLock { $0.append(index + 1) } }
            var random = RandomSource.current
            return random.nextDouble()
          }
        }
      }
    }
    let values = threads.map { $0.join() }
    #expect(values[0] != values[1])
    #expect(overlapped.list.withLock { $0.sorted() } == [1, 2])
  }

  @Test(arguments: Backend.allCases)
  func aCallRandomForSomeArgumentsIsFoundInEveryTrial(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    func dropout(_ store: Store, _ op: Op, _ rate: Double) -> Double {
      store.memoize(op, [Argument("rate", rate)]) {
        guard rate > 0 else { return 1 }
        var random = RandomSource.current
        return random.nextDouble() < rate ? 0 : 1 / (1 - rate)
      }
    }
    let store = place.open()
    let stored = (0..<4).map { trial in withTrial(trial) { dropout(store, testOp("dropout"), 0.5) }
    }
    // A new process first sees the op's shared call, then asks for the
    // random ones: found in every trial other than 0.
    let reopened = place.open()
    let log = EventLog(reopened)
    let op = testOp("dropout")
    #expect(dropout(reopened, op, 0) == 1)
    #expect(
      (1..<4).map { trial in withTrial(trial) { dropout(reopened, op, 0.5) } }
        == Array(stored[1...]))
    #expect(log.executed == ["dropout"])
  }

  @Test func copiesOfASourceDrawFromOneStream() {
    let store = Store(backend: InMemoryBackend())
    let drawn = store.memoize(testOp("draws"), []) {
      var first = RandomSource.current
      var second = RandomSource.current
      return [first.next(), second.next(), first.next()]
    }
    #expect(Set(drawn).count == 3)
  }
}
