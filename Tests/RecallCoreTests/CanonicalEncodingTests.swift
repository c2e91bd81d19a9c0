import Foundation
import Testing

@testable import RecallCore

struct Point: Codable, Hashable, Sendable {
  var x: Double
  var y: Double
}

enum Shape: Codable, Hashable, Sendable {
  case circle(center: Point, radius: Double)
  case polygon([Point])
  case empty
}

class Base: Codable {
  var id = 7
}

final class Derived: Base {
  var name = "derived"
  override init() { super.init() }
  required init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Keys.self)
    name = try container.decode(String.self, forKey: .name)
    try super.init(from: container.superDecoder())
  }
  override func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Keys.self)
    try container.encode(name, forKey: .name)
    try super.encode(to: container.superEncoder())
  }
  enum Keys: CodingKey { case name }
}

struct Everything: Codable, Equatable, Sendable {
  var int = -42
  var int8: Int8 = -8
  var uint64: UInt64 = .max
  var float: Float = 1.5
  var double = -0.0
  var bool = true
  var string = "héllo, 世界"
  var optional: Int? = nil
  var present: String? = "here"
  var doubles: [Double] = [1, 2, .infinity, -.nan.magnitude]
  var ints: [Int] = [1, -2, 3]
  var bytes = Data([0, 1, 2, 255])
  var nested: [[Float]] = [[1], [2, 3], []]
  var shapes: [Shape] = [.circle(center: Point(x: 1, y: 2), radius: 3), .polygon([]), .empty]
  var dictionary = ["b": 2, "a": 1, "c": 3]
  var intKeyed = [3: "three", 1: "one"]
  var structKeyed = [Point(x: 1, y: 1): "p", Point(x: 0, y: 2): "q"]
  var set: Set<String> = ["x", "y", "z"]
  var date = Date(timeIntervalSince1970: 1_700_000_000.25)
  var url = URL(string: "https://example.com/a?b=c")!
  var uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
  var bools: [Bool] = [true, false, true]
}

@Suite struct CanonicalEncodingTests {
  /// A call's arguments are hashed once (`ValueCodec.hash`) and stored from
  /// that encoding: the stored bytes and cid must be exactly what
  /// `ValueCodec.encode` makes, with and without large raw arrays, inside
  /// unordered collections too.
  @Test func hashedArgumentsStoreExactlyTheirEncoding() throws {
    struct Holder: Codable {
      var label: String
      var data: [Double]
      var rows: Set<[Double]>
      var table: [String: [Int32]]
    }
    let big = (0..<100_000).map(Double.init)
    let values: [any Encodable] = [
      7, "text", Point(x: 1, y: 2), [1.5, 2.5],
      Holder(label: "small", data: [1, 2], rows: [[3], [4, 5]], table: ["a": [1]]),
      Holder(
        label: "large", data: big, rows: [big, [1, 2], Array(big.reversed())],
        table: ["a": Array(0..<50_000), "b": [1]]),
    ]
    for value in values {
      let hashed = try ValueCodec.hash(value)
      let encoded = try ValueCodec.encode(value)
      #expect(hashed.cid == encoded.cid)
      #expect(try hashed.encoded().cid == encoded.cid)
      #expect(try hashed.encoded().bytes == encoded.bytes)
    }
  }

  @Test func roundTripsEveryKindOfValue() throws {
    let value = Everything()
    let encoded = try ValueCodec.encode(value)
    let decoded = try ValueCodec.decode(Everything.self, from: encoded.bytes)
    #expect(decoded.int == value.int)
    #expect(decoded.double.sign == .minus)
    #expect(decoded.doubles[0...2] == value.doubles[0...2])
    #expect(decoded.doubles[3].isNaN)
    var comparable = decoded
    comparable.doubles = value.doubles
    var expected = value
    expected.doubles = value.doubles
    #expect(comparable.structKeyed == expected.structKeyed)
    #expect(comparable.shapes == expected.shapes)
    #expect(comparable.set == expected.set)
    #expect(comparable.url == expected.url)
    #expect(comparable.bools == expected.bools)
  }

  @Test func roundTripsClassesWithSuperEncoders() throws {
    let encoded = try ValueCodec.encode(Derived())
    let decoded = try ValueCodec.decode(Derived.self, from: encoded.bytes)
    #expect(decoded.name == "derived")
    #expect(decoded.id == 7)
  }

  @Test func contentIDIsDeterministicAndMatchesTheStoredForm() throws {
    let value = Everything()
    let first = try ValueCodec.encode(value)
    let second = try ValueCodec.encode(value)
    #expect(first.cid == second.cid)
    #expect(first.bytes == second.bytes)
    #expect(try ValueCodec.contentID(of: value) == first.cid)
    #expect(try ValueCodec.contentID(ofStored: first.bytes) == first.cid)
  }

  @Test func contentIDIsPinnedAcrossVersionsAndMachines() throws {
    // A known answer: if this changes, every user's store is invalidated. Only
    // change it together with `Format.version`.
    #expect(try ValueCodec.contentID(of: 1).hex == ValueCodec.contentID(of: Int64(1)).hex)
    let cid = try ValueCodec.contentID(of: Point(x: 1, y: 2)).hex
    // Computed independently from the documented format (see Format.swift):
    // sha256(01 0B 02 | 01 "x" 06 <1.0 LE> | 01 "y" 06 <2.0 LE>).
    #expect(cid == "fff5e410346720c40a0f6858276a19862a42635c7307c03dd98dd7cb3d472847")
  }

  @Test func largeRawArraysAreAlignedAndHashedByChunks() throws {
    // 2.5 MiB of doubles: three chunks.
    let values = (0..<327_680).map { Double($0) * 0.25 }
    let encoded = try ValueCodec.encode(values)
    #expect(encoded.bytes[0] == 2)
    #expect(encoded.bytes[1] == 12)  // aligned raw
    // version, tag, kind, varint(2,621,440) in 4 bytes, padding length, padding.
    let padding = Int(encoded.bytes[7])
    #expect((8 + padding) % 16 == 0)
    let memory = values.withUnsafeBytes { [UInt8]($0) }
    #expect(Array(encoded.bytes[(8 + padding)...]) == memory)

    // Computed from the documented format: sha256(02 0D 0A <varint count>
    // <sha256 of the three chunks' sha256s>).
    let chunks = stride(from: 0, to: memory.count, by: 1 << 20).map {
      Digest.sha256(Array(memory[$0..<min($0 + (1 << 20), memory.count)]))
    }
    let chunked = Digest.sha256(chunks.flatMap(\.bytes))
    #expect(memory.withUnsafeBytes { Digest.chunkedSHA256($0) } == chunked)
    let stream: [UInt8] = [2, 13, 10, 0x80, 0x80, 0xA0, 0x01] + chunked.bytes
    #expect(encoded.cid == ContentID(Digest.sha256(stream)))
    #expect(try ValueCodec.contentID(of: values) == encoded.cid)
    #expect(try ValueCodec.contentID(ofStored: encoded.bytes) == encoded.cid)
    #expect(try ValueCodec.decode([Double].self, from: encoded.bytes) == values)

    // Values without large arrays keep version 1 (and their content ids).
    #expect(try ValueCodec.encode([1.0, 2.0]).bytes[0] == 1)
    // Any number of cores gives the same digest; sizes around chunk edges.
    for count in [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 5 << 20] {
      let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
      let expected = Digest.sha256(
        stride(from: 0, to: max(count, 1), by: 1 << 20).flatMap {
          Digest.sha256(Array(bytes[$0..<min($0 + (1 << 20), count)])).bytes
        })
      #expect(bytes.withUnsafeBytes { Digest.chunkedSHA256($0) } == expected, "\(count) bytes")
    }
  }

  @Test func largeArraysAreCopiedOutInPartsExactly() throws {
    // Above 16 MiB the copy is split across cores; an odd size leaves a short
    // last part.
    let values = (0..<2_621_443).map { Double($0) - 0.5 }
    let decoded = try ValueCodec.decode([Double].self, from: ValueCodec.encode(values).bytes)
    #expect(decoded == values)
    // Every byte, for any number of cores, including sizes just past a whole
    // number of 2 MiB pieces per part.
    let mib = 1 << 20
    for (cores, count) in [
      (2, 16 * mib + 1), (3, 24 * mib + 5), (8, 64 * mib + 4), (2, 9 * mib), (4, 8 * mib - 1),
    ] {
      let source = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 20) }
      var copy = [UInt8](repeating: 0, count: count)
      source.withUnsafeBytes { from in
        copy.withUnsafeMutableBytes { LargeBuffers.copy(from, to: $0.baseAddress!, cores: cores) }
      }
      #expect(copy == source, "\(count) bytes on \(cores) cores")
    }
  }

  @Test func valuesStoredBeforeVersionTwoStillDecodeAndCheck() throws {
    // A version-1 stream with a large raw array: tag 8, hashed whole (tag 9).
    let values = (0..<1_000).map(Double.init)
    let memory = values.withUnsafeBytes { [UInt8]($0) }
    let stored: [UInt8] = [1, 8, 10, 0xC0, 0x3E] + memory
    let cid = ContentID(Digest.sha256([1, 9, 10, 0xC0, 0x3E] + Digest.sha256(memory).bytes))
    #expect(try ValueCodec.contentID(ofStored: stored) == cid)
    #expect(ValueCodec.checkIntegrity(of: stored, cid: cid) == .intact)
    #expect(try ValueCodec.decode([Double].self, from: stored) == values)
    #expect(try ValueCodec.renderJSON(stored, maximumElements: 2) == "[0.0,1.0,\"… 998 more\"]")
    // Only version-2 streams may hold aligned arrays.
    let aligned = try ValueCodec.encode(values).bytes
    #expect(aligned[0] == 2)
    #expect(try ValueCodec.renderJSON(aligned, maximumElements: 2) == "[0.0,1.0,\"… 998 more\"]")
    var mislabeled = aligned
    mislabeled[0] = 1
    guard case .corrupt = ValueCodec.checkIntegrity(of: mislabeled, cid: cid) else {
      Issue.record("an aligned array in a version-1 stream was accepted")
      return
    }
    // A padding length of 16 or more is malformed.
    var padded = aligned
    padded[5] = 16
    #expect(throws: (any Error).self) { try ValueCodec.decode([Double].self, from: padded) }
  }

  @Test func dictionaryAndSetOrderDoNotMatter() throws {
    var forward: [String: Int] = [:]
    var backward: [String: Int] = [:]
    for i in 0..<100 { forward["k\(i)"] = i }
    for i in (0..<100).reversed() { backward["k\(i)"] = i }
    #expect(try ValueCodec.contentID(of: forward) == ValueCodec.contentID(of: backward))

    var a = Set<Int>(minimumCapacity: 1000)
    var b = Set<Int>(minimumCapacity: 10)
    for i in 0..<100 { a.insert(i) }
    for i in (0..<100).reversed() { b.insert(i) }
    #expect(Array(a) != Array(b) || true)
    #expect(try ValueCodec.contentID(of: a) == ValueCodec.contentID(of: b))

    let p = Dictionary(uniqueKeysWithValues: (0..<40).map { (Point(x: Double($0), y: 0), $0) })
    var q: [Point: Int] = [:]
    for i in (0..<40).reversed() { q[Point(x: Double(i), y: 0)] = i }
    #expect(try ValueCodec.contentID(of: p) == ValueCodec.contentID(of: q))
  }

  @Test func numbersAreTypeTaggedAndFloatsComparedByBits() throws {
    #expect(try ValueCodec.contentID(of: 1) != ValueCodec.contentID(of: 1.0))
    #expect(try ValueCodec.contentID(of: Float(1)) != ValueCodec.contentID(of: 1.0))
    #expect(try ValueCodec.contentID(of: 1) != ValueCodec.contentID(of: UInt(1)))
    #expect(try ValueCodec.contentID(of: 0.0) != ValueCodec.contentID(of: -0.0))
    #expect(try ValueCodec.contentID(of: Double.nan) == ValueCodec.contentID(of: Double.nan))
    #expect(try ValueCodec.contentID(of: [1, 2]) != ValueCodec.contentID(of: [1.0, 2.0]))
    #expect(try ValueCodec.contentID(of: "1") != ValueCodec.contentID(of: 1))
    #expect(
      try ValueCodec.contentID(of: [1, 2] as [Int])
        != ValueCodec.contentID(of: [[1], [2]] as [[Int]]))
  }

  @Test func largeArraysInsideValuesAreDigestedButStoredInFull() throws {
    struct Holder: Codable {
      var label: String
      var data: [Double]
      var rows: Set<[Double]>
    }
    let big = (0..<100_000).map(Double.init)
    let value = Holder(label: "x", data: big, rows: [big, [1, 2], Array(big.reversed())])
    let encoded = try ValueCodec.encode(value)
    #expect(encoded.bytes.count > 3 * 800_000)
    #expect(try ValueCodec.contentID(ofStored: encoded.bytes) == encoded.cid)
    #expect(try ValueCodec.contentID(of: value) == encoded.cid)
    let decoded = try ValueCodec.decode(Holder.self, from: encoded.bytes)
    #expect(decoded.data == big)
    #expect(decoded.rows == value.rows)
    var changed = value
    changed.data[99_999] += 1
    #expect(try ValueCodec.contentID(of: changed) != encoded.cid)
  }

  @Test func numericArraysAreHashedAsRawMemory() throws {
    // Element by element through Codable, 10 M doubles take seconds even in a
    // release build; as raw memory they take milliseconds.
    let doubles = [Double](repeating: 1.25, count: 10_000_000)
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
      _ = try ValueCodec.contentID(of: doubles)
      _ = try ValueCodec.encode(doubles)
    }
    #expect(elapsed < .seconds(2))
    let encoded = try ValueCodec.encode(doubles)
    #expect(encoded.bytes.count < 80_000_020)
  }

  @Test func aChangedTypeFailsToDecode() throws {
    struct Old: Codable { var a: Int }
    struct New: Codable {
      var a: Int
      var b: Int
    }
    let bytes = try ValueCodec.encode(Old(a: 1)).bytes
    #expect(throws: DecodingError.self) { try ValueCodec.decode(New.self, from: bytes) }
    #expect(throws: (any Error).self) { try ValueCodec.decode(String.self, from: bytes) }
    #expect(throws: (any Error).self) {
      try ValueCodec.decode([Float].self, from: ValueCodec.encode([1.0]).bytes)
    }
  }

  @Test func corruptBytesAreRejectedNotCrashed() throws {
    let bytes = try ValueCodec.encode(Everything()).bytes
    for cut in [1, 2, 10, bytes.count / 2, bytes.count - 1] {
      #expect(throws: (any Error).self) {
        try ValueCodec.decode(Everything.self, from: Array(bytes.prefix(cut)))
      }
      #expect(throws: (any Error).self) {
        try ValueCodec.contentID(ofStored: Array(bytes.prefix(cut)))
      }
    }
    var flipped = bytes
    flipped[0] = 99
    #expect(throws: (any Error).self) { try ValueCodec.decode(Everything.self, from: flipped) }
  }
}

@Suite struct CodecEdgeCaseTests {
  @Test func nestedOptionalsStayDistinct() throws {
    let none: Int?? = .none
    let someNone: Int?? = .some(.none)
    let some: Int?? = .some(.some(3))
    #expect(try ValueCodec.contentID(of: none) != ValueCodec.contentID(of: someNone))
    for value in [none, someNone, some] {
      let decoded = try ValueCodec.decode(Int??.self, from: ValueCodec.encode(value).bytes)
      #expect(decoded == value)
    }
    let list: [String?] = ["a", nil, "b"]
    #expect(try ValueCodec.decode([String?].self, from: ValueCodec.encode(list).bytes) == list)
  }

  @Test func craftedLengthsAndDepthsAreErrorsNotCrashes() {
    // A string whose varint length is close to Int.max.
    let hugeLength: [UInt8] = [1, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
    #expect(throws: (any Error).self) { try ValueCodec.decode(String.self, from: hugeLength) }
    #expect(throws: (any Error).self) { try ValueCodec.contentID(ofStored: hugeLength) }
    // Lists nested 100,000 deep.
    var deep: [UInt8] = [1]
    for _ in 0..<100_000 { deep += [10, 1] }
    deep.append(0)
    #expect(throws: (any Error).self) { try ValueCodec.contentID(ofStored: deep) }
    #expect(throws: (any Error).self) { try ValueCodec.decode([[Int]].self, from: deep) }
  }

  @Test func integrityDistinguishesDamageFromANewerFormat() throws {
    let encoded = try ValueCodec.encode([1.0, 2.0])
    #expect(ValueCodec.checkIntegrity(of: encoded.bytes, cid: encoded.cid) == .intact)
    var damaged = encoded.bytes
    damaged[damaged.count - 1] ^= 1
    guard case .corrupt = ValueCodec.checkIntegrity(of: damaged, cid: encoded.cid) else {
      Issue.record("a flipped bit must be corruption")
      return
    }
    var newer = encoded.bytes
    newer[0] = Format.partsVersion + 1
    guard case .unreadable = ValueCodec.checkIntegrity(of: newer, cid: encoded.cid) else {
      Issue.record("a newer format must be unreadable, not corrupt")
      return
    }
  }
}
