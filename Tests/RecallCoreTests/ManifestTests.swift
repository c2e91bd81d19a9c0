import Foundation
import Testing

@testable import RecallCore

/// The manifest of a value stored by parts is written and read without
/// `Codable` (decision 0123): its bytes, its content id and the parts read
/// back must be exactly what the `Codable` encoding of a dictionary of `Data`
/// gives, or every list and result of several outputs stored before would
/// miss, and a damaged manifest would read differently.
@Suite struct ManifestTests {
  /// The parts of a manifest as the `Codable` decoding reads them.
  func codableParts(_ bytes: [UInt8]) throws -> [ValuePart] {
    var body = bytes
    body[0] = Format.baseVersion
    let map = try ValueCodec.decode([String: Data].self, from: body)
    return try map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map {
      guard let digest = Digest(bytes: $0.value) else {
        throw FormatError.malformed("not 32 bytes")
      }
      return ValuePart(label: $0.key, cid: ContentID(digest))
    }
  }

  /// A manifest written by hand: entries in the order given, each label
  /// naming `id` (a raw array of `kind`), then `trailing`.
  func manifest(
    _ entries: [(label: String, id: [UInt8])], kind: RawKind = .uint8, aligned: Bool = false,
    trailing: [UInt8] = []
  ) -> [UInt8] {
    var writer = NodeWriter(mode: .store)
    writer.out.byte(Format.partsVersion)
    writer.out.tag(.keyed)
    writer.out.varint(entries.count)
    for entry in entries {
      writer.out.string(entry.label)
      if aligned {
        // As a large array is stored: its memory aligned after padding.
        writer.out.tag(.alignedRaw)
        writer.out.byte(kind.rawValue)
        writer.out.varint(entry.id.count)
        let padding =
          (Format.rawAlignment - (writer.out.bytes.count + 1) % Format.rawAlignment)
          % Format.rawAlignment
        writer.out.byte(UInt8(padding))
        writer.out.bytes += [UInt8](repeating: 0, count: padding) + entry.id
      } else {
        entry.id.withUnsafeBytes { writer.writeRaw(kind: kind, bytes: $0) }
      }
    }
    return writer.out.bytes + trailing
  }

  static let labelSets: [[String]] = [
    [],
    ["train"],
    (0..<120).map { "[\($0)]" },
    // A count and a label of two varint bytes.
    (0..<200).map { "output\($0)" } + [String(repeating: "x", count: 200)],
    ["[9]", "[10]", "[1]", "[100]", "[a]", "[é]", "[Z]", "", "b", "ba", "é", "日本"],
  ]

  @Test(arguments: labelSets) func aManifestIsWhatTheCodableEncodingWrites(_ labels: [String])
    throws
  {
    let encoded = try ValueParts.encode(
      parts: labels.enumerated().map { (label: $0.element, node: Node.int(Int64($0.offset))) })
    // Each part is its node's own encoding, in label order.
    #expect(
      encoded.parts.map(\.label) == labels.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    for part in encoded.parts {
      let index = Int64(labels.firstIndex(of: part.label)!)
      #expect(part.value.cid == (try ValueCodec.contentID(of: index)))
    }
    var map: [String: Data] = [:]
    for part in encoded.parts {
      map[part.label] = part.value.cid.digest.withUnsafeBytes { Data($0) }
    }
    var expected = try ValueCodec.encode(map).bytes
    expected[0] = Format.partsVersion
    #expect(encoded.bytes == expected)
    #expect(encoded.cid == ContentID(Digest.sha256(expected)))
    // And it reads back as the Codable decoding reads it: without it, when
    // its labels are ASCII.
    let isASCII = labels.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    #expect((encoded.bytes.withUnsafeBytes(ValueParts.plainManifest) != nil) == isASCII)
    let read = try ValueParts.manifest(encoded.bytes)
    #expect(read == (try codableParts(encoded.bytes)))
    #expect(read.map(\.label) == encoded.parts.map(\.label))
  }

  @Test func aManifestOfAnotherShapeReadsAsTheCodableDecodingReadsIt() throws {
    let a = [UInt8](repeating: 1, count: 32)
    let b = [UInt8](repeating: 2, count: 32)
    let shapes: [(String, [UInt8])] = [
      ("labels out of order", manifest([("b", b), ("a", a)])),
      ("a label twice", manifest([("a", a), ("a", b)])),
      ("bytes after it", manifest([("a", a)], trailing: [0])),
      ("an id of 31 bytes", manifest([("a", Array(a.dropLast()))])),
      ("an id of another kind", manifest([("a", a)], kind: .int8)),
      ("an id stored aligned", manifest([("a", a), ("b", b)], aligned: true)),
      (
        "a label not in UTF-8",
        manifest([("a", a)]).replacing([1, UInt8(ascii: "a")], with: [1, 0xff])
      ),
      // Two labels one as `String`s, not as bytes: one key of the dictionary.
      ("one label in two forms", manifest([("e\u{301}", a), ("é", b)])),
      ("non-ASCII labels", manifest([("é", a), ("日本", b)])),
      ("an entry cut short", Array(manifest([("a", a), ("b", b)]).dropLast(35))),
    ]
    for (shape, bytes) in shapes {
      let codable = Result { try codableParts(bytes) }
      let read = Result { try ValueParts.manifest(bytes) }
      switch (codable, read) {
      case (.success(let expected), .success(let actual)):
        #expect(actual == expected, "\(shape)")
      case (.failure, .failure): break
      default:
        Issue.record(
          "\(shape): the Codable decoding gives \(codable), the manifest's reading \(read)")
      }
    }
    // Labels out of order read sorted, as the Codable decoding reads them.
    #expect(try ValueParts.manifest(shapes[0].1).map(\.label) == ["a", "b"])
  }

  @Test func aListIsAssembledByItsElementsIndexes() throws {
    let bytes = try (0..<3).map { try ValueCodec.encode([Double($0)]).bytes }
    // In any order (a manifest's is its labels' bytes'), placed by index.
    let list = try Elements<[Double]>.assemble([
      ("[1]", bytes[1]), ("[2]", bytes[2]), ("[0]", bytes[0]),
    ])
    #expect(list.array == [[0], [1], [2]])
    // Not the indexes 0 to count - 1, each once: malformed.
    for labels in [["[0]", "[0]"], ["[0]", "[2]"], ["[0]", "[-1]"], ["[0]", "x"]] {
      #expect(throws: FormatError.self) {
        try Elements<[Double]>.assemble(labels.enumerated().map { ($0.element, bytes[$0.offset]) })
      }
    }
  }

  @Test func anElementsKeyMayStartWithACombiningMark() throws {
    // "[" and a combining mark are one character: the key is found by bytes.
    #expect(ValuePart.key(in: "[\u{301}x]") == "\u{301}x")
    #expect(ValuePart.key(in: "[]") == "")
    #expect(ValuePart.key(in: "train") == nil)
    let value: KeyedElements<Int> = ["\u{301}x": 1, "y": 2]
    let encoded = try ValueCodec.encode(value)
    let parts = Dictionary(
      uniqueKeysWithValues: encoded.parts.map { ($0.value.cid, $0.value.bytes) })
    let read = try ValueParts.decode(
      KeyedElements<Int>.self, manifest: encoded.bytes, part: { parts[$0] })
    #expect(read == value)
  }
}
