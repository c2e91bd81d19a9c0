import Foundation
import RecallTestSupport
import Testing

@testable import RecallCore
@testable import RecallSQLite

/// Whatever single byte of a store's database is changed, a run serves the
/// right values, recomputes, or refuses with a clear error: never a wrong
/// value, never a crash.
///
/// Each trial changes one byte of a small store's `recall.sqlite` (every bit
/// inverted), opens the store, runs every call twice (the second run sees
/// what the first repaired), and lists the calls, values and ops as the
/// `recall` tool does. A sample of the file's bytes is tried, the
/// same every run; `RECALL_FLIP_EVERY_BYTE=1` tries them all (minutes).
@Suite struct ByteFlipTests {
  static let inputs = Array(1...6)

  static func expected(_ n: Int) -> [Double] { (0..<n).map { Double($0) / 3 } }

  /// A store of `series` over ``inputs``, closed (its WAL folded into the
  /// database): the database's bytes.
  static func pristine() throws -> [UInt8] {
    let directory = TemporaryDirectory()
    do {
      let store = try openStore(directory.path)
      for n in inputs { _ = series(store, n) }
    }
    #expect(access(directory.path + "/recall.sqlite-wal", F_OK) != 0)
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.path + "/recall.sqlite")))
  }

  /// The positions tried: every position with `RECALL_FLIP_EVERY_BYTE=1`,
  /// else a fixed sample, weighted to the bytes that are not zero (free
  /// space is mostly zeros; records are not).
  static func positions(in bytes: [UInt8]) -> [Int] {
    if ProcessInfo.processInfo.environment["RECALL_FLIP_EVERY_BYTE"] == "1" {
      return Array(bytes.indices)
    }
    // Deterministic: the n-th draw is the checksum of n.
    var draws: UInt64 = 0
    func next() -> UInt64 {
      draws += 1
      return withUnsafeBytes(of: draws) { Checksum.xxh64($0) }
    }
    let used = bytes.indices.filter { bytes[$0] != 0 }
    let unused = bytes.indices.filter { bytes[$0] == 0 }
    var chosen = Set(bytes.indices.prefix(100))  // the header
    while chosen.count < 1_300 { chosen.insert(used[Int(next() % UInt64(used.count))]) }
    while chosen.count < 1_500 {
      chosen.insert(unused[Int(next() % UInt64(unused.count))])
    }
    return chosen.sorted()
  }

  /// What one trial saw.
  enum Outcome: Hashable {
    case served, recomputed, refused
  }

  @Test func noSingleChangedByteServesAWrongValue() throws {
    let original = try Self.pristine()
    var outcomes: [Outcome: Int] = [:]
    var refusals: Set<String> = []
    for position in Self.positions(in: original) {
      var damaged = original
      damaged[position] ^= 0xFF
      let directory = TemporaryDirectory()
      try FileManager.default.createDirectory(
        atPath: directory.path, withIntermediateDirectories: true)
      try Data(damaged).write(to: URL(fileURLWithPath: directory.path + "/recall.sqlite"))
      var executed = 0
      do {
        for _ in 0..<2 {
          let store = try openStore(directory.path)
          let log = EventLog(store)
          for n in Self.inputs {
            let value = series(store, n)
            #expect(value == Self.expected(n), "byte \(position): a wrong value for n = \(n)")
          }
          store.flush()
          executed += log.executed.count
          // Listings (what `recall ls`, `calls` and `export` read) may fail
          // with an error, never trap.
          for call in (try? store.calls(matching: CallQuery())) ?? [] {
            _ = try? store.encodedValue(call.outputCID)
          }
          _ = try? store.ops()
        }
        outcomes[executed == 0 ? .served : .recomputed, default: 0] += 1
      } catch let error as RecallError {
        outcomes[.refused, default: 0] += 1
        refusals.insert(error.code.description)
        // A clear error says which store, and not SQLite's internals.
        #expect(error.message.contains(directory.path), "byte \(position): \(error)")
        #expect(error.message.contains("Restore"), "byte \(position): \(error)")
        #expect(
          !error.message.contains("while executing") && !error.message.contains("SQLite error"),
          "byte \(position): \(error)")
      }
    }
    // The sample reached all three outcomes: it touched the records, not
    // only bytes nobody reads.
    #expect(outcomes[.served, default: 0] > 0)
    #expect(outcomes[.recomputed, default: 0] > 0)
    #expect(outcomes[.refused, default: 0] > 0)
    #expect(refusals == ["storeDamaged"], "every refusal says the database is damaged")
    print("byte flips: \(outcomes), refused with \(refusals.sorted())")
  }
}
