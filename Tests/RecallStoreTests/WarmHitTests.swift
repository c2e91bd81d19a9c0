import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

/// Argument lists whose plain values have equal or nearly equal bits, in
/// groups with one list of argument names each (a table of warm keys is
/// kept for one list of names): the warm key (``WarmKey``) must keep apart
/// every two calls that hash apart.
private let lookalikes: [[[Argument]]] = [
  [
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
    [Argument("x", -1)],
    [Argument("x", Int(UInt32.max))],
    [Argument("x", Int8(-1))],
    [Argument("x", UInt8(255))],
    [Argument("x", Int16(-1))],
    [Argument("x", Int32(-1))],
    [Argument("x", UInt32(1 << 31))],
    [Argument("x", Int64(-1))],
    [Argument("x", UInt(1) << 63)],
    [Argument("x", false)],
    [Argument("x", Float(-0.0))],
    [Argument("x", Float(0))],
    [Argument("x", -0.0)],
    [Argument("x", 1, keyingType: true)],
    [Argument("x", UInt(1), keyingType: true)],
    [Argument("x", "a", keyingType: true)],
  ],
  [
    [Argument("x", 1), Argument(added: "z", 1, default: 1)],
    [Argument("x", 1), Argument(added: "z", 2, default: 1)],
    [Argument("x", 1), Argument("z", 1)],
    [Argument("x", 1), Argument("z", 2)],
    [Argument("x", 2), Argument("z", 1)],
  ],
  [[Argument("y", 1)], [Argument("y", 2)]],
]

/// A plain type with an identity of its own in this program: its values
/// are keyed by it (half the value), never by their bits. (Every test target
/// runs in one process: no other test may take a `UInt16` argument.)
extension UInt16: CustomContentIdentity {
  public static var identityScheme: String { "recall.tests.half" }

  public func contentIdentity(into hasher: inout ContentHasher) { hasher.combine(Int(self / 2)) }
}

/// A result type with a subclass (``WarmHitTests/aSubclassInstanceIsServedByTheCallsDigest``).
class Shape: Codable, @unchecked Sendable {}

final class Circle: Shape, @unchecked Sendable {
  let radius: Int

  init(radius: Int) {
    self.radius = radius
    super.init()
  }

  required init(from decoder: any Decoder) throws {
    radius = try decoder.singleValueContainer().decode(Int.self)
    super.init()
  }

  override func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(radius)
  }
}

/// Warm hits (decision 0111): a hit found by its arguments' bits, without a
/// digest, returns exactly what the same call found by its digest returns.
@Suite struct WarmHitTests {
  /// Each list of lookalike arguments, called three times in one store
  /// (the second call fills its op's table of warm keys, the third is a warm
  /// hit), returns what the first returned, and what a fresh store, which
  /// finds each by its digest, returns.
  @Test(arguments: Backend.allCases) func aWarmHitIsTheCallItsDigestFinds(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = place.open()
    let log = EventLog(store)
    let ops = lookalikes.indices.map { testOp("lookalike\($0)") }
    func call(_ store: Store, _ group: Int, _ index: Int) -> Int {
      store.memoize(ops[group], lookalikes[group][index]) { group * 100 + index }
    }
    func all(_ store: Store) -> [[Int]] {
      lookalikes.indices.map { group in lookalikes[group].indices.map { call(store, group, $0) } }
    }
    let first = all(store)
    let executed = log.executed.count
    #expect(executed > 20, "the lookalikes are mostly distinct calls")
    #expect(all(store) == first)
    // Every lookalike now has its warm key (several may name one call).
    #expect(ops.map { $0.details.warm.count } == lookalikes.map(\.count))
    #expect(all(store) == first, "warm hits")
    #expect(log.executed.count == executed, "nothing ran again")

    withExtendedLifetime(store) {}
    let fresh = place.open()
    let freshLog = EventLog(fresh)
    #expect(all(fresh) == first)
    #expect(freshLog.executed.isEmpty)
  }

  /// A plain type given an identity of its own is keyed by it, warm or not.
  @Test func aPlainTypeWithAnIdentityIsKeyedByIt() {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("half")
    func f(_ x: UInt16) -> Int { store.memoize(op, [Argument("x", x)]) { Int(x) } }
    for _ in 0..<3 {
      #expect(f(2) == 2)
      #expect(f(3) == 2, "3 has the identity of 2")
      #expect(f(4) == 4)
    }
    #expect(log.executed.count == 2)
    #expect(op.details.warm.count == 0)
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
      storage: StoragePolicy(expiresAfter: .seconds(1)))
    func g(_ x: Int) -> Int { store.memoize(expiring, [Argument("x", x)]) { runs.next() } }
    let early = g(1)
    #expect(g(1) == early)
    #expect(g(1) == early)
    Thread.sleep(forTimeInterval: 1.2)
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

  /// A result that is a subclass's instance is no warm hit: the memory
  /// layer serves it by the call's digest, as an instance of the result
  /// type (``Store/unboxed(_:as:)`` casts it).
  @Test func aSubclassInstanceIsServedByTheCallsDigest() {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("shape")
    for _ in 0..<3 {
      let shape = store.memoize(op, [Argument("x", 1)]) { Circle(radius: 2) as Shape }
      #expect((shape as? Circle)?.radius == 2)
    }
    #expect(log.executed.count == 1)
    #expect(log.reused.count == 2)
    #expect(op.details.warm.count == 0)
  }

  /// The same call asked for as the subclass, once its result is in memory
  /// as the superclass (an op that does not key its result type): served,
  /// by its digest and then warm, by a cast, never a trap.
  @Test func aResultBoxedAsItsSuperclassIsServedAsItsSubclass() {
    let store = quietStore()
    let log = EventLog(store)
    let op = testOp("shape")
    _ = store.memoize(op, [Argument("x", 1)]) { Circle(radius: 2) as Shape }
    for _ in 0..<3 {
      let circle = store.memoize(op, [Argument("x", 1)]) { Circle(radius: 3) }
      #expect(circle.radius == 2)
    }
    #expect(log.executed.count == 1)
    #expect(log.reused.count == 3)
    #expect(op.details.warm.count == 1, "its warm key remembered: the last call was warm")
  }

  /// A call made again inside its own body runs that body, as when found
  /// by its digest, even with its old result warm in the memory layer.
  @Test func aCallInsideItsOwnBodyRunsIt() {
    let store = quietStore()
    let op = testOp("nested")
    let level = Mutex(0)
    func f(_ x: Int) -> Int {
      store.memoize(op, [Argument("x", x)]) {
        let outer = level.withLock { level in
          defer { level += 1 }
          return level == 0
        }
        return outer ? f(x) + 1 : 100
      }
    }
    #expect(f(1) == 101)
    #expect(f(1) == 101)
    #expect(f(1) == 101)
    level.withLock { $0 = 0 }
    #expect(Memoization.recomputing { f(1) } == 101, "the inner call ran its body")
  }

  /// One op used with two stores: each serves its own results.
  @Test func twoStoresKeepTheirOwnResults() {
    let (first, second) = (quietStore(), quietStore())
    let op = testOp("which")
    for _ in 0..<3 {
      #expect(first.memoize(op, [Argument("x", 1)]) { "first" } == "first")
      #expect(second.memoize(op, [Argument("x", 1)]) { "second" } == "second")
    }
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

  /// A warm key whose result the memory layer let go is looked up by its
  /// digest, and found in the store.
  @Test(arguments: Backend.allCases) func aWarmKeyWithoutItsResultLooksTheCallUp(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    // Room for one result of about 300 bytes, not two.
    let store = place.open { $0.memoryBudget = 400 }
    let log = EventLog(store)
    let op = testOp("padded")
    func padded(_ x: Int) -> String {
      store.memoize(op, [Argument("x", x)]) { String(repeating: "\(x)", count: 300) }
    }
    for _ in 0..<3 { #expect(padded(7).count == 300) }
    #expect(op.details.warm.count == 1)
    #expect(padded(8).count == 300, "its result takes the memory layer's room")
    #expect(padded(7) == String(repeating: "7", count: 300))
    #expect(log.executed == ["padded", "padded"])
    #expect(log.reused.count == 3)
    let sources = log.all.compactMap { event -> ReuseSource? in
      if case .didReuse(_, let source, _) = event { source } else { nil }
    }
    #expect(sources.last == .store)
  }
}
