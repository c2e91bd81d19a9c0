import Foundation
import Testing

@testable import RecallCore

/// The generator and its seeds are specified (``RandomSource``): these
/// vectors must never change, or stored random results stop matching what
/// their calls draw.
@Suite struct RandomSourceTests {
  /// The first outputs of xoshiro256** 1.0 from state (1, 2, 3, 4), from the
  /// authors' reference C implementation.
  @Test func theGeneratorMatchesTheReferenceImplementation() {
    var generator = Xoshiro256StarStar(1, 2, 3, 4)
    let expected: [UInt64] = [
      11520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360,
      607_988_272_756_665_600, 16_172_922_978_634_559_625, 8_476_171_486_693_032_832,
      10_595_114_339_597_558_777, 2_904_607_092_377_533_576,
    ]
    #expect((0..<10).map { _ in generator.next() } == expected)
  }

  /// A seeded source's state is SHA-256 of its framed fields, as four
  /// little-endian words; values computed independently in Python (hashlib
  /// and the reference algorithm).
  @Test func aSeedGivesTheSpecifiedNumbers() {
    var random = RandomSource(seed: 42)
    #expect(
      (0..<4).map { _ in random.next() } == [
        8_126_091_202_660_916_293, 1_139_149_622_082_080_880, 6_998_209_192_815_083_278,
        10_944_230_801_468_795_990,
      ])
    random = RandomSource(seed: 42)
    #expect(
      (0..<3).map { _ in random.nextDouble() } == [
        0.4405162867870155, 0.061753424752371666, 0.379373680517907,
      ])
    random = RandomSource(seed: 42)
    #expect((0..<8).map { _ in random.nextInt(below: 10) } == [4, 0, 3, 5, 5, 0, 7, 9])
    random = RandomSource(seed: 42)
    #expect(
      (0..<3).map { _ in random.nextDouble(in: -2..<3) } == [
        0.20258143393507755, -1.6912328762381417, -0.10313159741046496,
      ])
  }

  @Test func outsideAnyCallEachTrialHasOneStream() {
    // Other tests may draw from the top-level stream of trial 0 in this
    // process; a trial no other test uses starts at its first number, and
    // every copy of its source continues the one stream.
    withTrial(982_451_653) {
      var first = RandomSource.current
      var second = RandomSource.current
      #expect(first.next() == 8_553_955_934_406_122_325)
      #expect(second.next() == 12_246_640_247_719_208_548)
    }
  }

  /// A memoized call's stream: seeded from the op's key name, the key's
  /// fields and the trial, not the version. Recorded from this
  /// implementation; a change here changes every random result's numbers.
  @Test func aCallIsSeededFromItsKeyAndTrial() throws {
    let store = Store(backend: InMemoryBackend())
    func first(_ op: Op, _ x: Int, trial: Int) -> UInt64 {
      withTrial(trial) {
        store.memoize(op, [Argument("x", x)]) {
          var random = RandomSource.current
          return random.next()
        }
      }
    }
    let op = Op(id: "Module.noisy(x:)", version: CodeFingerprint(hex: "1"))
    let other = Op(id: "Module.noisy(x:)", version: CodeFingerprint(hex: "2"))
    #expect(first(op, 1, trial: 0) == 13_281_253_391_150_553_196)
    #expect(first(op, 1, trial: 3) == 9_113_891_790_706_998_820)
    #expect(first(other, 1, trial: 3) == first(op, 1, trial: 3))
    #expect(first(op, 2, trial: 3) != first(op, 1, trial: 3))
  }

  @Test func drawsHaveTheirDistributions() {
    var random = RandomSource(seed: 7)
    let count = 200_000
    var (sum, squares) = (0.0, 0.0)
    for _ in 0..<count {
      let x = random.nextGaussian()
      sum += x
      squares += x * x
    }
    let mean = sum / Double(count)
    #expect(abs(mean) < 0.02)
    #expect(abs(squares / Double(count) - mean * mean - 1) < 0.02)

    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { counts[random.nextInt(below: 7)] += 1 }
    #expect(counts.allSatisfy { abs($0 - 10_000) < 600 })
    for _ in 0..<10_000 {
      let x = random.nextDouble(in: -2..<3)
      #expect(x >= -2 && x < 3)
    }
    // The standard library's algorithms draw from it too.
    var shuffled = Array(0..<100)
    shuffled.shuffle(using: &random)
    #expect(shuffled != Array(0..<100) && shuffled.sorted() == Array(0..<100))
  }
}
