import Foundation
import RecallFuzzTargets
import Testing

@testable import RecallCore

/// Every input of the fuzzers' committed corpus (`Fuzz/Corpus/TARGET/`, grown
/// by `FUZZ_KEEP=1 bash .ci/fuzz`), run through its target: the inputs that
/// found a crash once are regression tests from then on. `.ci/fuzz` runs the
/// fuzzers themselves.
@Suite struct FuzzCorpusTests {
  static let corpus = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/Corpus")

  static func inputs(of target: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(
      at: corpus.appendingPathComponent(target), includingPropertiesForKeys: nil
    ).sorted { $0.path < $1.path }
  }

  @Test(arguments: FuzzTargets.all.keys.sorted())
  func everyInputOfTheCorpusRuns(_ target: String) throws {
    let run = try #require(FuzzTargets.all[target])
    let inputs = try Self.inputs(of: target)
    #expect(inputs.count >= 20, "the \(target) corpus is missing or nearly empty")
    for input in inputs {
      let bytes = try Data(contentsOf: input)
      bytes.withUnsafeBytes { run($0) }
    }
    if target == "blob" { FuzzTargets.removeTemporaryFiles() }
  }

  /// The seeds (`seed-*`): real encodings, so that the fuzzers start from
  /// well-formed values. `RECALL_WRITE_FUZZ_SEEDS=1` writes them again.
  @Test func theSeedsAreTheCurrentEncodings() throws {
    let write = ProcessInfo.processInfo.environment["RECALL_WRITE_FUZZ_SEEDS"] == "1"
    let values: [String: EncodedValue] = [
      "seed-doubles": try ValueCodec.encode((0..<40).map { Double($0) / 3 }),
      "seed-large-doubles": try ValueCodec.encode((0..<600).map { Double($0) }),
      "seed-string": try ValueCodec.encode("a string, with ünïcode"),
      "seed-dictionary": try ValueCodec.encode(["a": [1, 2], "b": [3]]),
      "seed-nested": try ValueCodec.encode([[UInt8]](repeating: [1, 2, 3], count: 3)),
      "seed-optional": try ValueCodec.encode([1, nil, 3] as [Int?]),
      "seed-data": try ValueCodec.encode(Data((0..<200).map { UInt8($0) })),
      "seed-mapped": try ValueCodec.encode(MappedArray<Int32>((0..<2_000).map { Int32($0) })),
      "seed-record": try ValueCodec.encode(Record(name: "run", count: 3, ratio: 0.5, tags: ["x"])),
    ]
    for target in ["decode", "blob"] {
      for (name, value) in values {
        let file = Self.corpus.appendingPathComponent("\(target)/\(name)")
        if write {
          try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
          try Data(value.bytes).write(to: file)
        }
        #expect(
          try Data(contentsOf: file) == Data(value.bytes),
          "\(target)/\(name) is not today's encoding: RECALL_WRITE_FUZZ_SEEDS=1 writes it")
      }
    }
  }

  struct Record: Codable {
    var name: String
    var count: Int
    var ratio: Double?
    var tags: [String]
  }
}
