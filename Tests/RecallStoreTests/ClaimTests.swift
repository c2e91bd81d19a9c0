import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore
@testable import RecallPostgres
@testable import RecallSQLite

/// Where stores that stand for processes meet: two stores opened on one
/// directory (or schema) each have their own memory layer, single flight and
/// claimant, as two processes would.
private struct SharedStore {
  let kind: Backend
  let directory = TemporaryDirectory()
  let schema = PostgresSchema()

  init(_ kind: Backend) { self.kind = kind }

  func open(
    lease: Duration = .seconds(30), maximumWait: Duration = .seconds(60),
    quickCall: Duration = .zero
  ) throws -> Store {
    var store = Store.Configuration()
    store.printsWarnings = false
    store.claims.quickCall = quickCall
    store.claims.lease = lease
    store.claims.pollInterval = .milliseconds(10)
    store.claims.maximumWait = maximumWait
    switch kind {
    case .postgres, .postgresBlobs:
      let configuration = PostgresBackend.Configuration()
      let blobs = kind == .postgresBlobs ? directory : nil
      return Store(backend: try schema.open(configuration, blobs: blobs), configuration: store)
    case .sqlite, .memory:
      return try Store.sqlite(at: directory.path, configuration: store)
    }
  }
}

private let slowOp = Op(id: "Tests.slow(x:)", version: CodeFingerprint(hex: "1"))

private struct Boom: Error {}

/// A one-shot gate a body can wait on.
private final class Gate: Sendable {
  private let semaphore = DispatchSemaphore(value: 0)
  func open() { semaphore.signal() }
  func wait() { semaphore.wait() }
}

private func waits(_ log: EventLog) -> [Claimant] {
  log.all.compactMap { if case .willWait(_, let holder) = $0 { holder } else { nil } }
}

/// Runs `body` on a thread of its own; `join` waits for it.
final class Running<T: Sendable>: Sendable {
  private let result = Mutex<T?>(nil)
  private let done = DispatchSemaphore(value: 0)

  init(_ body: @escaping @Sendable () -> T) {
    Thread { [self] in
      let value = body()
      result.withLock { $0 = value }
      done.signal()
    }.start()
  }

  func join() -> T {
    done.wait()
    return result.withLock { $0! }
  }
}

@Suite struct ClaimTests {
  @Test(arguments: Backend.allCases)
  func aClaimIsExclusiveUntilItsLeaseRunsOutOrItsCallIsStored(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let backend = place.backend
    let id = CallID(Digest.sha256("claimed call"))
    let first = Claimant(token: "first", host: "h", pid: 1)
    let second = Claimant(token: "second", host: "h", pid: 2)
    let now = Date()
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: first, at: now, until: now + 10, replacing: nil) == .acquired
    )
    // The holder may claim again; another claimant finds it held.
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: first, at: now, until: now + 10, replacing: nil) == .acquired
    )
    guard
      case .held(let claim) = try backend.claim(
        id, of: "Tests.claimed()", by: second, at: now, until: now + 10, replacing: nil)
    else {
      Issue.record("the second claimant took a live claim")
      return
    }
    #expect(claim.claimant == first)
    #expect(try backend.claims(at: now).map(\.call) == [id])
    // A renewal moves the lease; past its end the claim can be taken over.
    // Unless its holder is known to be dead.
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: second, at: now, until: now + 10, replacing: second)
        != .acquired)
    #expect(try backend.renewClaims(by: first, until: now + 20) == 1)
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: second, at: now + 15, until: now + 30, replacing: nil)
        != .acquired)
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: second, at: now + 25, until: now + 40, replacing: nil)
        == .acquired)
    #expect(try backend.renewClaims(by: first, until: now + 50) == 0)
    // Releasing is the holder's alone.
    try backend.releaseClaim(id, by: first)
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: first, at: now + 26, until: now + 40, replacing: nil)
        != .acquired)
    try backend.releaseClaim(id, by: second)
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: first, at: now + 26, until: now + 40, replacing: nil)
        == .acquired)
    // Storing the call ends its claim.
    let value = try ValueCodec.encode(7)
    try backend.record(
      CallRecord(
        id: id, op: "Tests.claimed()", opVersion: CodeFingerprint(hex: "1"),
        semanticVersion: CodeFingerprint(hex: "1"), trial: 0, inputs: [], outputCID: value.cid,
        outputHID: HistoryID(external: value.cid), outputSize: value.bytes.count, startedAt: now,
        duration: 0, host: "h", pid: 1),
      values: [value])
    #expect(try backend.claims(at: now).isEmpty)
    #expect(
      try backend.claim(
        id, of: "Tests.claimed()", by: second, at: now, until: now + 10, replacing: nil) == .stored)
  }

  @Test(arguments: Backend.shared)
  func aSecondProcessWaitsForTheFirstsResult(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let first = try shared.open()
    let second = try shared.open()
    let firstLog = EventLog(first)
    let secondLog = EventLog(second)
    let started = Gate()
    let finish = Gate()
    let running = Running {
      first.memoize(slowOp, [Argument("x", 1)]) { () -> Int in
        started.open()
        finish.wait()
        return 42
      }
    }
    started.wait()
    let waiting = Running { second.memoize(slowOp, [Argument("x", 1)]) { () -> Int in -1 } }
    // The second process must be waiting (not running the body) before the
    // first one finishes.
    let deadline = Date() + 10
    while waits(secondLog).isEmpty && Date() < deadline { usleep(1_000) }
    #expect(waits(secondLog).map(\.token) == [first.claimKeeper.claimant.token])
    finish.open()
    #expect(running.join() == 42)
    #expect(waiting.join() == 42)
    #expect(firstLog.executed.count == 1)
    #expect(secondLog.executed.isEmpty)
    #expect(secondLog.reused.count == 1)
    #expect(try first.backend.claims(at: Date()).isEmpty)
  }

  @Test(arguments: Backend.shared)
  func aWaiterRunsTheCallWhenItsHolderThrows(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let first = try shared.open()
    let second = try shared.open()
    let secondLog = EventLog(second)
    let started = Gate()
    let finish = Gate()
    let failing = Running { () -> Bool in
      do {
        _ = try first.memoize(slowOp, [Argument("x", 2)]) { () throws(Boom) -> Int in
          started.open()
          finish.wait()
          throw Boom()
        }
        return false
      } catch {
        return true
      }
    }
    started.wait()
    let waiting = Running { second.memoize(slowOp, [Argument("x", 2)]) { () -> Int in 7 } }
    let deadline = Date() + 10
    while waits(secondLog).isEmpty && Date() < deadline { usleep(1_000) }
    finish.open()
    #expect(failing.join())
    #expect(waiting.join() == 7)
    #expect(secondLog.executed.count == 1)
  }

  @Test(arguments: Backend.shared)
  func aDeadHoldersClaimIsTakenOverWhenItsLeaseRunsOut(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let store = try shared.open(lease: .seconds(30))
    let log = EventLog(store)
    // A process that claimed the call and died: nobody renews its lease.
    guard let call = store.prepare(slowOp, [Argument("x", 3)], [], result: Int.self) else {
      Issue.record("the call could not be prepared")
      return
    }
    var confirmed = call
    _ = store.confirm(&confirmed)
    let dead = Claimant(token: "dead", host: "elsewhere", pid: 99)
    let lease = 0.4
    #expect(
      try store.backend.claim(
        confirmed.id, of: slowOp.id, by: dead, at: Date(), until: Date() + lease, replacing: nil)
        == .acquired)
    let clock = ContinuousClock.now
    #expect(store.memoize(slowOp, [Argument("x", 3)]) { 9 } == 9)
    let waited = (ContinuousClock.now - clock).inSeconds
    #expect(waited >= lease * 0.9, "took over after \(waited) s")
    #expect(waited < lease + 5)
    #expect(waits(log).map(\.token) == ["dead"])
    #expect(log.executed.count == 1)
  }

  @Test(arguments: Backend.shared)
  func aClaimOfAProcessThatIsGoneIsTakenOverAtOnce(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let store = try shared.open(lease: .seconds(3600))
    let log = EventLog(store)
    guard var call = store.prepare(slowOp, [Argument("x", 7)], [], result: Int.self) else {
      Issue.record("the call could not be prepared")
      return
    }
    _ = store.confirm(&call)
    // A process on this host that has exited.
    let exited = Process()
    exited.executableURL = URL(fileURLWithPath: "/bin/true")
    try exited.run()
    exited.waitUntilExit()
    let gone = Claimant(token: "gone", host: Host.name, pid: Int(exited.processIdentifier))
    #expect(gone.isDeadProcessOnThisHost)
    #expect(!Claimant(token: "me", host: Host.name, pid: Int(getppid())).isDeadProcessOnThisHost)
    _ = try store.backend.claim(
      call.id, of: slowOp.id, by: gone, at: Date(), until: Date() + 3600, replacing: nil)
    let clock = ContinuousClock.now
    #expect(store.memoize(slowOp, [Argument("x", 7)]) { 49 } == 49)
    #expect(ContinuousClock.now - clock < .seconds(5))
    #expect(log.executed.count == 1)
    #expect(log.warnings.isEmpty)
  }

  @Test(arguments: Backend.shared)
  func theHeartbeatKeepsALongCallsClaimAlive(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    // A lease far shorter than the call: only the heartbeat keeps it.
    let first = try shared.open(lease: .milliseconds(300))
    let second = try shared.open(lease: .milliseconds(300))
    let secondLog = EventLog(second)
    let started = Gate()
    let running = Running {
      first.memoize(slowOp, [Argument("x", 4)]) { () -> Int in
        started.open()
        Thread.sleep(forTimeInterval: 1.5)
        return 16
      }
    }
    started.wait()
    #expect(second.memoize(slowOp, [Argument("x", 4)]) { () -> Int in -1 } == 16)
    #expect(running.join() == 16)
    #expect(secondLog.executed.isEmpty)
    #expect(waits(secondLog).count == 1)
  }

  @Test(arguments: Backend.shared)
  func aWaitLongerThanTheMaximumWarnsAndRunsTheCall(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let store = try shared.open(maximumWait: .milliseconds(300))
    let log = EventLog(store)
    guard var call = store.prepare(slowOp, [Argument("x", 5)], [], result: Int.self) else {
      Issue.record("the call could not be prepared")
      return
    }
    _ = store.confirm(&call)
    let stuck = Claimant(token: "stuck", host: "elsewhere", pid: 98)
    _ = try store.backend.claim(
      call.id, of: slowOp.id, by: stuck, at: Date(), until: Date() + 3600, replacing: nil)
    #expect(store.memoize(slowOp, [Argument("x", 5)]) { 25 } == 25)
    #expect(log.warnings.map(\.kind) == [.waitedTooLong])
    #expect(log.warnings.first?.message.contains("process 98 on elsewhere") == true)
    #expect(log.executed.count == 1)
    let causes = log.all.compactMap { if case .didMiss(_, let cause) = $0 { cause } else { nil } }
    #expect(causes == [.claimTimedOut])
    // Its result is stored all the same, and ends the stuck claim.
    #expect(try store.backend.claims(at: Date()).isEmpty)
  }

  @Test(arguments: Backend.shared)
  func asyncCallsWaitAcrossStoresToo(_ kind: Backend) async throws {
    let shared = SharedStore(kind)
    let first = try shared.open()
    let second = try shared.open()
    let firstLog = EventLog(first)
    let secondLog = EventLog(second)
    // Many tasks in both "processes" ask for a few slow calls at once.
    try await withThrowingTaskGroup(of: Int.self) { group in
      for task in 0..<40 {
        let store = task.isMultiple(of: 2) ? first : second
        let x = task % 5
        group.addTask {
          await store.memoize(slowOp, [Argument("x", 100 + x)]) { () async -> Int in
            try? await Task.sleep(for: .milliseconds(150))
            return x * 10
          }
        }
      }
      var sum = 0
      for try await value in group { sum += value }
      #expect(sum == 8 * (0 + 10 + 20 + 30 + 40))
    }
    #expect(firstLog.executed.count + secondLog.executed.count == 5)
  }

  @Test(arguments: Backend.shared)
  func quickCallsRunWithoutClaimsOnceTheirOpIsKnownToBeQuick(_ kind: Backend) throws {
    let shared = SharedStore(kind)
    let other = try shared.open()
    // Another process holds the claims on x = 2 and x = 3.
    let now = Date()
    for x in [2, 3] {
      let id = try #require(other.prepare(slowOp, [Argument("x", x)], [], result: Int.self)).id
      #expect(
        try other.backend.claim(
          id, of: slowOp.id, by: other.claimKeeper.claimant, at: now, until: now + 60,
          replacing: nil) == .acquired)
    }
    for (quickCall, waits) in [(Duration.milliseconds(50), false), (.zero, true)] {
      let store = try shared.open(maximumWait: .milliseconds(300), quickCall: quickCall)
      let log = EventLog(store)
      // The first call of the op claims (its duration is not known yet) ...
      #expect(store.memoize(slowOp, [Argument("x", waits ? 11 : 1)]) { 1 } == 1)
      // ... the next one runs at once while the op's calls are quick, or
      // waits for the holder of its claim (here, until maximumWait).
      #expect(store.memoize(slowOp, [Argument("x", waits ? 3 : 2)]) { 2 } == 2)
      #expect(log.warnings.map(\.kind) == (waits ? [.waitedTooLong] : []))
      #expect(log.executed.count == 2)
    }
  }

  @Test func anInMemoryStoreNeverClaims() throws {
    let store = Store.inMemory()
    #expect(store.memoize(slowOp, [Argument("x", 6)]) { 36 } == 36)
    #expect(try store.backend.claims(at: Date()).isEmpty)
  }
}
