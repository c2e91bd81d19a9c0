import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// A store on `place` with a store-wide storage policy.
private func open(_ place: Reopenable, storage: StoragePolicy = .storeEverything) -> Store {
  place.open { $0.storage = storage }
}

/// The reasons of the store's `didNotStore` events, in order.
private func notStored(_ log: EventLog) -> [NotStoredReason] {
  log.all.compactMap { if case .didNotStore(_, let reason) = $0 { reason } else { nil } }
}

private func storedCount(_ log: EventLog) -> Int {
  log.all.filter { if case .didStore = $0 { true } else { false } }.count
}

/// Storage policies (``StoragePolicy``): what is kept of an op's results, per
/// op and store-wide, on every backend.
@Suite struct StoragePolicyTests {
  @Test(arguments: Backend.allCases) func memoryOnlyResultsNeverReachTheStore(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let op = Op(id: "Lab.parse(x:)", version: CodeFingerprint(hex: "a1"), storage: .memoryOnly)
    let runs = Runs()
    func parse(_ store: Store, _ x: Int) -> Int {
      store.memoize(op, [Argument("x", x)]) {
        _ = runs.next()
        return x * 10
      }
    }
    let store = open(place)
    let log = EventLog(store)
    #expect(parse(store, 1) == 10)
    #expect(parse(store, 1) == 10)
    #expect(runs.total == 1, "the second call is served from memory")
    #expect(log.reused == ["parse(x:)"])
    #expect(notStored(log) == [.memoryOnly])
    store.flush()
    #expect(storedCount(log) == 0)
    #expect(try store.calls(of: "Lab.parse(x:)").isEmpty)
    #expect(try store.stats().notStored == 1)
    // Another process computes it again, and does not store it either.
    let other = open(place)
    #expect(parse(other, 1) == 10)
    #expect(runs.total == 2)
    other.flush()
    #expect(try other.calls(of: "Lab.parse(x:)").isEmpty)
    try store.saveUsage()
    try other.saveUsage()
    let usage = try other.usage(of: "Lab.parse(x:)")
    #expect(usage.map(\.notStored).reduce(0, +) == 2)
    #expect(usage.map(\.misses).reduce(0, +) == 2)
    #expect(usage.map(\.notStoredBytes).reduce(0, +) > 0)
  }

  @Test(arguments: Backend.allCases) func quickResultsAreNotStoredUnlessTheOpSaysSo(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let storage = StoragePolicy(minimumDuration: .milliseconds(30))
    let quick = testOp("Lab.quick(x:)")
    let slow = testOp("Lab.slow(x:)")
    // The op's own minimum overrides the store's.
    let kept = Op(
      id: "Lab.kept(x:)", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(minimumDuration: .zero))
    let runs = Runs()
    func call(_ store: Store, _ op: Op, sleeping: Double = 0) -> Int {
      store.memoize(op, [Argument("x", 1)]) {
        if sleeping > 0 { Thread.sleep(forTimeInterval: sleeping) }
        return runs.next()
      }
    }
    let store = open(place, storage: storage)
    let log = EventLog(store)
    #expect(call(store, quick) == 1)
    #expect(call(store, quick) == 2, "not stored, not kept in memory: computed again")
    #expect(call(store, slow, sleeping: 0.05) == 3)
    #expect(call(store, kept) == 4)
    #expect(log.executed == ["quick(x:)", "quick(x:)", "slow(x:)", "kept(x:)"])
    let reasons = notStored(log)
    #expect(reasons.count == 2)
    for reason in reasons {
      guard case .tooQuick(let duration, let minimum) = reason else {
        Issue.record("\(reason)")
        continue
      }
      #expect(minimum == .milliseconds(30) && duration < minimum)
    }
    #expect(reasons.first?.description.contains("under the minimum of 30.0 ms") == true)
    store.flush()
    #expect(storedCount(log) == 2)
    // A later process finds what was stored.
    let later = open(place, storage: storage)
    #expect(call(later, slow) == 3)
    #expect(call(later, kept) == 4)
    #expect(call(later, quick) == 5)
  }

  @Test(arguments: Backend.allCases) func largeResultsAreNotStored(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let op = Op(
      id: "Lab.series(n:)", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(maximumBytes: 1_000))
    let store = open(place)
    let log = EventLog(store)
    func series(_ n: Int) -> [Double] {
      store.memoize(op, [Argument("n", n)]) { (0..<n).map(Double.init) }
    }
    _ = series(10)
    _ = series(1_000)
    _ = series(1_000)
    #expect(log.executed == ["series(n:)", "series(n:)", "series(n:)"])
    guard case .tooLarge(let bytes, 1_000) = notStored(log).first else {
      Issue.record("\(notStored(log))")
      return
    }
    #expect(bytes > 8_000)
    #expect(notStored(log).count == 2)
    store.flush()
    #expect(try store.calls(of: "Lab.series(n:)").count == 1)
  }

  @Test(arguments: Backend.allCases) func expiredResultsAreComputedAgainAndReplaced(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let op = Op(
      id: "Lab.rates()", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(expiresAfter: .milliseconds(700)))
    let runs = Runs()
    func rates(_ store: Store) -> Int { store.memoize(op, []) { runs.next() } }
    let store = open(place)
    #expect(rates(store) == 1)
    #expect(rates(store) == 1, "fresh: reused")
    store.flush()
    #expect(rates(open(place)) == 1, "fresh in the store too")
    Thread.sleep(forTimeInterval: 0.8)
    #expect(rates(store) == 2, "expired in memory and in the store: computed again")
    store.flush()
    #expect(rates(open(place)) == 2, "and replaced")
    #expect(try store.calls(of: "Lab.rates()").count == 1)
    // The store-wide expiry applies to ops that set none.
    let plain = testOp("Lab.plain()")
    let expiring = open(place, storage: StoragePolicy(expiresAfter: .milliseconds(700)))
    #expect(expiring.memoize(plain, []) { runs.next() } == 3)
    expiring.flush()
    Thread.sleep(forTimeInterval: 0.8)
    #expect(open(place).memoize(plain, []) { runs.next() } == 3, "a store without expiry reuses")
    #expect(expiring.memoize(plain, []) { runs.next() } == 4)
  }

  @Test func anOpsPolicyTakesWhatItLeavesOpenFromTheStores() {
    let store = StoragePolicy(
      minimumDuration: .seconds(1), maximumBytes: 100, isMemoryOnly: true,
      expiresAfter: .seconds(60))
    let op = StoragePolicy(maximumBytes: 1_000, isMemoryOnly: false)
    #expect(
      op.over(store)
        == StoragePolicy(
          minimumDuration: .seconds(1), maximumBytes: 1_000, isMemoryOnly: false,
          expiresAfter: .seconds(60)))
    #expect(StoragePolicy.storeEverything.over(store) == store)
    #expect(StoragePolicy.storeEverything.reasonNotToStore(duration: 0, bytes: 1 << 30) == nil)
    // Too large wins over memory only: a large value is not kept in memory either.
    #expect(
      store.reasonNotToStore(duration: 5, bytes: 200) == .tooLarge(bytes: 200, maximum: 100))
    #expect(store.reasonNotToStore(duration: 5, bytes: 50) == .memoryOnly)
  }
}

/// Per-call control: recomputing on demand, asking whether a call is stored,
/// reading it without computing, and seeding it, on every backend.
@Suite struct CallControlTests {
  @Test(arguments: Backend.allCases) func aRecomputedCallReplacesItsResultOthersAreLookedUp(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = open(place)
    let log = EventLog(store)
    let runs = Runs()
    let inner = testOp("Lab.inner()")
    let outer = testOp("Lab.outer()")
    func innerCall() -> Int { store.memoize(inner, []) { runs.next() } }
    func outerCall() -> Int { store.memoize(outer, []) { innerCall() * 100 + runs.next() } }
    #expect(outerCall() == 102)
    // The call made in the scope runs again; the one its body makes is reused.
    #expect(Memoization.recomputing { outerCall() } == 103)
    #expect(log.executed == ["outer()", "inner()", "outer()"])
    store.flush()
    #expect(open(place).memoize(outer, []) { -1 } == 103, "replaced in the store")
    #expect(try store.calls(of: "Lab.outer()").count == 1)
  }

  @Test(arguments: Backend.allCases) func aReuseOnlyScopeServesWhatIsStoredAndRunsNothing(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    // Every miss claims its call (none counts as quick), as a program's
    // first calls of an op do.
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.claims.quickCall = .zero
    let store = Store(backend: place.backend, configuration: configuration)
    let runs = Runs()
    let op = testOp("Lab.evaluate(seed:)")
    func evaluate(_ seed: Int) throws -> Int {
      try store.memoize(op, [Argument("seed", seed)]) { () throws -> Int in
        _ = runs.next()
        return seed * 2
      }
    }
    func evaluateLater(_ seed: Int) async throws -> Int {
      try await store.memoize(op, [Argument("seed", seed)]) { () async throws -> Int in
        _ = runs.next()
        return seed * 2
      }
    }
    #expect(try evaluate(1) == 2)
    store.flush()
    let log = EventLog(store)
    #expect(try Memoization.reusingOnly { try evaluate(1) } == 2)
    let refusal = #expect(throws: RecallError.self) {
      try Memoization.reusingOnly { try evaluate(2) }
    }
    #expect(refusal?.code == RecallError.notStored)
    #expect(
      refusal?.message.contains("Lab.evaluate(seed:) [") == true, "\(String(describing: refusal))")
    await #expect(throws: RecallError.self) {
      try await Memoization.reusingOnly { try await evaluateLater(3) }
    }
    #expect(runs.total == 1, "nothing ran in the scope")
    #expect(log.executed.isEmpty)
    #expect(try store.claims().isEmpty, "the refused calls' claims were released")
    // The refused call left no claim: another process computes it at once,
    // and outside the scope it is computed here.
    var impatient = configuration
    impatient.claims.maximumWait = .seconds(2)
    let other = Store(backend: place.backend, configuration: impatient)
    #expect(
      try other.memoize(op, [Argument("seed", 2)]) { () throws -> Int in 4 } == 4)
    #expect(try await evaluateLater(3) == 6)
    #expect(runs.total == 2)
  }

  @Test func aReuseOnlyScopeRunsNoAudit() {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.audit = AuditPolicy(fraction: 1)
    let store = Store.inMemory(configuration: configuration)
    let log = EventLog(store)
    let runs = Runs()
    let op = testOp("Lab.score(x:)")
    func score() -> Int { store.memoize(op, [Argument("x", 1)]) { runs.next() } }
    #expect(score() == 1)
    #expect(Memoization.reusingOnly { score() } == 1)
    #expect(runs.total == 1, "an audit would run the body again")
    #expect(!log.all.contains { if case .didAudit = $0 { true } else { false } })
    #expect(score() == 1)
    #expect(runs.total == 2, "outside the scope, the hit is audited")
  }

  @Test func aReuseOnlyMissInAFunctionThatCannotThrowStopsTheProgram() async throws {
    let exit = try await #require(
      processExitsWith: .failure, observing: [\.standardErrorContent]
    ) {
      let store = Store.inMemory()
      let op = Op(id: "Lab.square(x:)", version: CodeFingerprint(hex: "v1"))
      _ = store.memoize(op, [Argument("x", 2)]) { 4 }
      _ = Memoization.reusingOnly { store.memoize(op, [Argument("x", 2)]) { -1 } }
      _ = Memoization.reusingOnly { store.memoize(op, [Argument("x", 3)]) { 9 } }
    }
    let message = String(decoding: exit.standardErrorContent, as: UTF8.self)
    #expect(message.contains("Lab.square(x:) ["), "\(message)")
    #expect(message.contains("is not stored, and this scope only reuses results"))
    #expect(message.contains("This function cannot throw it (it does not throw)"))
  }

  @Test(arguments: Backend.allCases)
  func aRecomputedResultThePolicyDoesNotStoreIsNotReplacedByTheOld(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = open(place)
    let runs = Runs()
    // Small results are stored, large ones not.
    let op = Op(
      id: "Lab.series()", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(maximumBytes: 100))
    func series() -> [Double] {
      store.memoize(op, []) { [Double](repeating: 1, count: runs.next() == 1 ? 1 : 100) }
    }
    #expect(series().count == 1)
    #expect(Memoization.recomputing { series() }.count == 100)
    store.flush()
    // The old result must not come back, here or in another process.
    #expect(try store.calls(of: "Lab.series()").isEmpty)
    #expect(series().count == 100)
    #expect(runs.total == 3)
  }

  @Test func aSeedOutsideTrialZeroOfAnOpNotKnownToDrawIsRefused() throws {
    let store = quietStore()
    let call = MemoizedCall<Int>(op: testOp("Lab.draw()"), arguments: [])
    let refusal = #expect(throws: RecallError.self) {
      try withTrial(3) { try call.store(7, in: store) }
    }
    #expect(refusal?.message.contains("seed it outside withTrial") == true)
    try call.store(7, in: store)
    #expect(try withTrial(3) { try call.storedResult(in: store) } == 7, "shared by every trial")
  }

  @Test(arguments: Backend.allCases) func aCallIsAskedForReadAndSeededWithoutRunning(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = open(place)
    let log = EventLog(store)
    let op = testOp("Lab.score(x:)")
    let call = MemoizedCall<Double>(op: op, arguments: [Argument("x", 2)])
    #expect(try call.isStored(in: store) == false)
    #expect(try call.storedResult(in: store) == nil)
    try call.store(0.5, computedIn: .seconds(3), in: store)
    #expect(try call.isStored(in: store))
    // Another process reads the seed without running, and calls find it.
    let other = open(place)
    let otherLog = EventLog(other)
    #expect(try call.storedResult(in: other) == 0.5)
    let served: Double = other.memoize(op, [Argument("x", 2)]) { -1 }
    #expect(served == 0.5)
    #expect(log.executed.isEmpty && otherLog.executed.isEmpty)
    let stored = try #require(try other.calls(of: "Lab.score(x:)").first)
    #expect(stored.duration == 3)
    // An expired result is not stored, as far as asking goes.
    let expiring = Op(
      id: "Lab.score(x:)", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(expiresAfter: .milliseconds(100)))
    Thread.sleep(forTimeInterval: 0.2)
    #expect(
      try MemoizedCall<Double>(op: expiring, arguments: [Argument("x", 2)]).isStored(in: other)
        == false)
    // A seed larger than the op's maximum is refused, saying why.
    let small = Op(
      id: "Lab.big()", version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(maximumBytes: 16))
    let refusal = #expect(throws: RecallError.self) {
      try MemoizedCall<[Double]>(op: small, arguments: []).store(
        [Double](repeating: 1, count: 100), in: store)
    }
    #expect(refusal?.code == RecallError.invalidValue)
    #expect(
      refusal?.message.contains("over the maximum of 16 B") == true,
      "\(String(describing: refusal))")
  }
}
