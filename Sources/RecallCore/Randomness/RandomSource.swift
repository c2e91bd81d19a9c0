import Foundation
import Synchronization

/// The random number generator of the memoized call that is running: seeded
/// from the call and its trial, so that the same call in the same trial draws
/// the same numbers in every process, on every machine and in every later
/// version of Recall.
///
/// ```swift
/// @Memoized
/// func train(rate: Double, epochs: Int) -> Double {
///   var random = RandomSource.current
///   var weights = (0..<64).map { _ in random.nextDouble(in: -0.1..<0.1) }
///   …
/// }
/// ```
///
/// A call that draws from it is *random*: it is computed once per trial
/// (``withTrial(_:_:)``, ``Store/samples(_:parallelism:progress:handlesInterrupt:_:)``), while
/// a call that does not is computed once and shared by every trial. Recall
/// learns which is which from what a call did when it ran: a call whose body
/// used a random call's result is random too.
///
/// Every copy of the source of one call draws from the same stream, so
/// `RandomSource.current` read twice continues where the first left off
/// rather than repeating it. Inside a memoized call it is the call's stream;
/// outside any (at the top level, or in a detached task), it is one stream
/// per trial and process, seeded from the trial alone.
///
/// The generator is xoshiro256** (Blackman and Vigna). A call's state is the
/// SHA-256 of `recall.random.v1`, the op's key name, the call's key fields and
/// the trial (``CallID``'s framing), read as four little-endian words. The
/// seed leaves out the op's version, so an edit that changes the code does
/// not change the numbers it draws. ``next()``, ``nextDouble()``,
/// ``nextDouble(in:)`` and ``nextInt(below:)`` are specified here and pinned
/// by fixed vectors in Recall's tests; ``nextGaussian()`` is specified too, but
/// uses the platform's `log` and `cos`, whose last bit may differ between
/// platforms. The standard library's own uses of a generator
/// (`Double.random(in:using:)`, `shuffled(using:)`) work too and draw from the
/// same stream, with the standard library's algorithms.
public struct RandomSource: RandomNumberGenerator, Sendable {
  let stream: RandomStream

  init(stream: RandomStream) { self.stream = stream }

  /// A source of its own, seeded from `seed`: the same seed gives the same
  /// numbers everywhere. Drawing from it does not make a memoized call random
  /// (its numbers depend only on `seed`, which the caller passes in).
  public init(seed: Int) {
    var builder = DigestBuilder(domain: "recall.random.seed.v1")
    builder.add(seed)
    stream = RandomStream(seed: builder.finalize(), marksCall: false)
  }

  /// The source of the memoized call that is running, or outside any, the
  /// stream of the current trial.
  public static var current: RandomSource {
    RandomSource(stream: CallStack.current?.random ?? RandomStream.topLevel(Trial.current))
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 { stream.next() }

  /// A uniform `Double` in `0..<1`: the top 53 bits of ``next()`` times 2⁻⁵³.
  public mutating func nextDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A uniform `Double` in `range`: `lowerBound + (upperBound - lowerBound) *
  /// nextDouble()`, or the largest `Double` below `upperBound` where that
  /// rounds up to it.
  public mutating func nextDouble(in range: Range<Double>) -> Double {
    precondition(
      !range.isEmpty && range.lowerBound.isFinite && range.upperBound.isFinite,
      "nextDouble(in:) needs a finite, non-empty range, not \(range)")
    let value = range.lowerBound + (range.upperBound - range.lowerBound) * nextDouble()
    return value < range.upperBound ? value : range.upperBound.nextDown
  }

  /// A uniform integer in `0..<bound`, without bias (Lemire's method: the high
  /// word of ``next()`` times `bound`, drawing again while the low word is
  /// below `2⁶⁴ mod bound`).
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0, "nextInt(below:) needs a positive bound, not \(bound)")
    let range = UInt64(bound)
    var product = next().multipliedFullWidth(by: range)
    if product.low < range {
      let threshold = (0 &- range) % range
      while product.low < threshold { product = next().multipliedFullWidth(by: range) }
    }
    return Int(product.high)
  }

  /// A standard normal `Double` (mean 0, standard deviation 1), by the
  /// Box–Muller transform of two ``nextDouble()`` draws: `sqrt(-2 log(1 - u))
  /// cos(2π v)`. `log` and `cos` come from the platform's math library, whose
  /// last bit may differ between platforms.
  public mutating func nextGaussian() -> Double {
    let u = nextDouble()
    let v = nextDouble()
    return (-2 * log(1 - u)).squareRoot() * cos(2 * .pi * v)
  }
}

/// xoshiro256** 1.0: 256 bits of state, 64 bits per step.
struct Xoshiro256StarStar: Sendable, Equatable {
  var s0, s1, s2, s3: UInt64

  init(_ s0: UInt64, _ s1: UInt64, _ s2: UInt64, _ s3: UInt64) {
    (self.s0, self.s1, self.s2, self.s3) = (s0, s1, s2, s3)
    // The all-zero state is the one state the generator never leaves; a
    // digest of zeros will not happen, but must not break it.
    if (s0 | s1 | s2 | s3) == 0 { self.s0 = 1 }
  }

  /// The state read from a digest's bytes as four little-endian words.
  init(seed digest: Digest) {
    let bytes = digest.bytes
    func word(_ index: Int) -> UInt64 {
      (0..<8).reduce(0) { $0 | UInt64(bytes[index * 8 + $1]) << (8 * $1) }
    }
    self.init(word(0), word(1), word(2), word(3))
  }

  mutating func next() -> UInt64 {
    let result = (s1 &* 5).rotatedLeft(7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3.rotatedLeft(45)
    return result
  }
}

extension UInt64 {
  fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
    (self << count) | (self >> (64 - count))
  }
}

/// The stream every copy of one ``RandomSource`` draws from. A call's stream
/// is seeded when it first draws (a call that never draws pays no hash), and
/// remembers that it drew.
final class RandomStream: Sendable {
  private struct State {
    var generator: Xoshiro256StarStar?
    /// What seeds the generator at the first draw.
    var seed: Seed
    var drew = false
  }

  private enum Seed {
    case digest(Digest)
    /// A call's: its op's key name and key fields, and its trial.
    case call(keyName: String, keyFields: [UInt8], trial: Int)

    var digest: Digest {
      switch self {
      case .digest(let digest): digest
      case .call(let keyName, let keyFields, let trial):
        RandomStream.seed(keyName: keyName, keyFields: keyFields, trial: trial)
      }
    }
  }

  private let state: Mutex<State>
  /// Whether drawing makes the memoized call that owns the stream random.
  private let marksCall: Bool

  init(seed: Digest, marksCall: Bool) {
    state = Mutex(State(seed: .digest(seed)))
    self.marksCall = marksCall
  }

  /// The stream of a call that is about to run in `trial`, whose key has
  /// the fields `keyFields` (``PreparedCall/keyFields``).
  init(call: PreparedCall, keyFields: [UInt8], trial: Int) {
    state = Mutex(
      State(seed: .call(keyName: call.op.details.keyName.name, keyFields: keyFields, trial: trial))
    )
    marksCall = true
  }

  func next() -> UInt64 {
    state.withLock { state in
      if state.generator == nil {
        let digest = state.seed.digest
        state.generator = Xoshiro256StarStar(seed: digest)
        state.seed = .digest(digest)  // lets the key fields go
      }
      state.drew = true
      return state.generator!.next()
    }
  }

  /// Whether the call that owns the stream is random: it drew, or it used a
  /// random call's result (``markRandom()``).
  var isRandom: Bool { marksCall && state.withLock { $0.drew } }

  /// Marks the owning call random without drawing: a call it made, or whose
  /// stored result it reused, was random.
  func markRandom() { state.withLock { $0.drew = true } }

  private static let topLevelStreams = Mutex<[Int: RandomStream]>([:])

  /// The stream of code outside any memoized call in `trial`: one per trial
  /// and process, seeded from the trial alone.
  static func topLevel(_ trial: Int) -> RandomStream {
    topLevelStreams.withLock { streams in
      if let stream = streams[trial] { return stream }
      var builder = DigestBuilder(domain: "recall.random.top-level.v1")
      builder.add(trial)
      let stream = RandomStream(seed: builder.finalize(), marksCall: false)
      streams[trial] = stream
      return stream
    }
  }
}

extension RandomStream {
  /// The seed of a call's stream in `trial`: the op's key name, the key's
  /// fields and the trial; not the version, so that an edit keeps the draws.
  static func seed(keyName: String, keyFields: [UInt8], trial: Int) -> Digest {
    var builder = DigestBuilder(domain: "recall.random.v1")
    builder.add(keyName)
    builder.replay(keyFields)
    builder.add(trial)
    return builder.finalize()
  }
}
