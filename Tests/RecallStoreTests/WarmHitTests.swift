import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// Argument lists whose plain values have equal or nearly equal bits: the
/// warm key (``WarmKey``) must keep apart every two that hash apart.
private let lookalikes: [[Argument]] = [
  [Argument("x", 1)],
  [Argument("x", UInt(1))],
  [Argument("x", Int8(1))],
  [Argument("x", Int32(1))],
  [Argument("x", UInt64(1))],
  [Argument("x", true)],
  [Argument("x", Double(bitPattern: 1))],
  [Argument("x", Float(bitPattern: 1))],
  [Argument("x", 2)],
  [Argument("x", 1.0)],
  [Argument("x", "\u{1}")],
  [Argument("x", "a")],
  [Argument("x", "a\0")],
  [Argument("x", "")],
  [Argument("x", "abcdefgh")],
  [Argument("x", "abcdefghi")],
  [Argument("x", [1])],
  [Argument("x", [Int]())],
  [Argument("x", [1, 0])],
  [Argument("x", [Double(bitPattern: 1)])],
  [Argument("y", 1)],
  [Argument("x", 1), Argument("y", 1)],
  [Argument("x", 1, keyingType: true)],
  [Argument("x", 1), Argument(added: "z", 1, default: 1)],
  [Argument("x", 1), Argument(added: "z", 2, default: 1)],
]

/// Warm hits (decision 0111): a hit found by its arguments' bits, without a
/// digest, returns exactly what the same call found by its digest returns.
@Suite struct WarmHitTests {
  /// Each list of lookalike arguments, called three times in one store (the
  /// third call a warm hit), returns what the first returned, and what a
  /// fresh store, which finds each by its digest, returns.
  @Test(arguments: Backend.allCases) func aWarmHitIsTheCallItsDigestFinds(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let op = testOp("lookalike")
    func call(_ store: Store, _ index: Int) -> Int {
      store.memoize(op, lookalikes[index]) { index }
    }
    let first = lookalikes.indices.map { call(store, $0) }
    let executed = log.executed.count
    #expect(executed > lookalikes.count / 2, "the lookalikes are mostly distinct calls")
    for _ in 0..<2 {
      #expect(lookalikes.indices.map { call(store, $0) } == first)
    }
    #expect(log.executed.count == executed, "nothing ran again")
    #expect(log.reused.count == 3 * lookalikes.count - executed)

    withExtendedLifetime(store) {}
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    #expect(lookalikes.indices.map { call(fresh, $0) } == first)
    #expect(freshLog.executed.isEmpty)
  }

  /// Distinct values of one type: each is its own call, warm or not.
  @Test func everyValueIsItsOwnCall() {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("square")
    for _ in 0..<3 {
      for x in 0..<50 {
        #expect(store.memoize(op, [Argument("x", x)]) { x * x } == x * x)
        #expect(store.memoize(op, [Argument("x", "\(x)")]) { -x } == -x)
      }
    }
    #expect(log.executed.count == 100)
  }

  /// A warm hit takes no shortcut around what a hit checks or what a scope
  /// asks: recomputing, memoization switched off, expiry, and another trial
  /// of a random call.
  @Test func aWarmHitKeepsEveryRule() throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("f")
    let runs = Runs()
    func f(_ x: Int) -> Int { store.memoize(op, [Argument("x", x)]) { runs.next() } }
    let stored = f(1)
    #expect(f(1) == stored)
    #expect(f(1) == stored)

    let recomputed = Memoization.recomputing { f(1) }
    #expect(recomputed != stored)
    #expect(f(1) == recomputed, "the recomputed result replaced the old one")
    let unmemoized = Memoization.disabled { f(1) }
    #expect(unmemoized != recomputed)
    #expect(f(1) == recomputed)
    // A body run without memoization is no call of the store's.
    #expect(log.executed.count == 2)

    let expiring = Op(
      id: OpID("expiring"), version: CodeFingerprint(hex: "v1"),
      storage: StoragePolicy(expiresAfter: .milliseconds(200)))
    func g(_ x: Int) -> Int { store.memoize(expiring, [Argument("x", x)]) { runs.next() } }
    let early = g(1)
    #expect(g(1) == early)
    #expect(g(1) == early)
    Thread.sleep(forTimeInterval: 0.3)
    #expect(g(1) != early, "an expired result is computed again")

    let noisy = testOp("noisy")
    func draw(_ x: Int) -> Double {
      store.memoize(noisy, [Argument("x", x)]) {
        var random = RandomSource.current
        return random.nextDouble()
      }
    }
    let trial0 = withTrial(0) { [draw(1), draw(1), draw(1)] }
    let trial1 = withTrial(1) { [draw(1), draw(1), draw(1)] }
    #expect(Set(trial0).count == 1)
    #expect(Set(trial1).count == 1)
    #expect(trial0[0] != trial1[0], "another trial draws its own")
    #expect(withTrial(0) { draw(1) } == trial0[0])
  }

  /// A warm hit of an asynchronous call.
  @Test func anAsynchronousCallIsAWarmHitToo() async throws {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("slowSquare")
    func square(_ x: Int) async -> Int {
      await store.memoize(op, [Argument("x", x)]) { () async -> Int in
        try? await Task.sleep(for: .milliseconds(1))
        return x * x
      }
    }
    for _ in 0..<3 {
      #expect(await square(3) == 9)
      #expect(await square(4) == 16)
    }
    #expect(log.executed.count == 2)
    #expect(log.reused.count == 4)
  }

  /// A result the memory layer no longer holds is found by its digest.
  @Test(arguments: Backend.allCases) func aWarmKeyWithoutItsResultLooksTheCallUp(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    configuration.memoryBudget = 0
    let store = Store(backend: place.backend, configuration: configuration)
    let log = EventLog(store)
    let op = testOp("square")
    for _ in 0..<3 { #expect(store.memoize(op, [Argument("x", 7)]) { 7 * 7 } == 49) }
    #expect(log.executed == ["square"])
    #expect(log.reused == ["square", "square"])
  }
}
