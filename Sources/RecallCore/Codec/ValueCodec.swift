import Foundation

/// A value in Recall's canonical binary format, with its content id.
public struct EncodedValue: Sendable {
  /// The content id: SHA-256 of the value's canonical encoding.
  public let cid: ContentID
  /// The bytes that are stored.
  public let bytes: [UInt8]

  /// A value stored by parts (``MultipleOutputs``): the parts its bytes (a
  /// manifest) name, which are stored with it.
  package let parts: [Part]

  /// A part of a value stored by parts.
  package struct Part: Sendable {
    package let label: String
    package let value: EncodedValue
  }

  /// Creates an encoded value from bytes and their cid.
  public init(cid: ContentID, bytes: [UInt8]) {
    self.init(cid: cid, bytes: bytes, parts: [])
  }

  package init(cid: ContentID, bytes: [UInt8], parts: [Part]) {
    self.cid = cid
    self.bytes = bytes
    self.parts = parts
  }

  /// The bytes stored for the value and its parts.
  package var totalSize: Int { parts.reduce(bytes.count) { $0 + $1.value.bytes.count } }

  /// The parts as the store lists them.
  package var valueParts: [ValuePart] {
    parts.map { ValuePart(label: $0.label, cid: $0.value.cid) }
  }

  /// The value followed by its parts: every value storing it stores.
  package var withParts: [EncodedValue] { [self] + parts.map(\.value) }
}

/// A value hashed for a call's key (``ValueCodec/hash(_:)``), ready to be
/// stored.
struct HashedValue {
  enum Form {
    /// The stored bytes: the hashed bytes, when the value has no large raw
    /// array.
    case stored([UInt8])
    /// The encoded tree, streamed in store form when needed.
    case tree(Node)
    /// Bytes produced when needed: a ``Lazy``'s stored bytes, or its value
    /// encoded again (its content id was known, so it was not hashed).
    case deferred(@Sendable () throws -> [UInt8])
    /// A value stored by parts (``MultipleOutputs``), encoded whole.
    case parts(EncodedValue)
  }

  let cid: ContentID
  let form: Form

  /// The value as stored.
  ///
  /// - Throws: What encoding a deferred value again throws.
  func encoded() throws -> EncodedValue {
    switch form {
    case .stored(let bytes): EncodedValue(cid: cid, bytes: bytes)
    case .tree(let node):
      EncodedValue(cid: cid, bytes: NodeWriter.stream(node, mode: .store).out.bytes)
    case .deferred(let bytes): EncodedValue(cid: cid, bytes: try bytes())
    case .parts(let encoded): encoded
    }
  }
}

/// The result of checking stored bytes against their content id.
public enum ValueIntegrity: Sendable, Equatable {
  /// The bytes are the value.
  case intact
  /// The bytes are damaged: they are malformed or hash to another cid.
  case corrupt(String)
  /// The bytes are in a format a newer Recall wrote; they are not damaged, but
  /// this version cannot read them.
  case unreadable(String)
}

/// Recall's compact binary codec: content ids, storage encoding and decoding.
///
/// Where Foundation's `JSONEncoder` formats every number, this codec copies a
/// numeric array's memory (`Benchmarks/`, scenarios D and E). Any `Codable` value works; contiguous numeric arrays,
/// `Data` and `String` take fast paths wherever they appear inside it.
public enum ValueCodec {
  /// Returns the content id of a value without producing its stored form.
  public static func contentID<T: Encodable>(of value: T) throws -> ContentID {
    if T.self is any _StoredByParts.Type { return try ValueParts.encode(value).cid }
    let node = try CanonicalEncoder().node(for: value)
    return ContentID(Digest.sha256(NodeWriter.stream(node, mode: .hash).out.bytes))
  }

  /// Encodes a value for storage and computes its content id.
  public static func encode<T: Encodable>(_ value: T) throws -> EncodedValue {
    if T.self is any _StoredByParts.Type { return try ValueParts.encode(value) }
    return try encodeWhole(value)
  }

  /// Encodes a value whole, even one of a type stored by parts (inside a
  /// ``Lazy``, which is stored whole).
  static func encodeWhole<T: Encodable>(_ value: T) throws -> EncodedValue {
    let node = try CanonicalEncoder().node(for: value)
    let writer = NodeWriter.stream(node, mode: .store)
    guard writer.sawLargeRaw else {
      // Without large raw arrays, the stored bytes are the bytes the cid hashes.
      return EncodedValue(cid: ContentID(Digest.sha256(writer.out.bytes)), bytes: writer.out.bytes)
    }
    let hashWriter = NodeWriter.stream(node, mode: .hash)
    return EncodedValue(
      cid: ContentID(Digest.sha256(hashWriter.out.bytes)), bytes: writer.out.bytes)
  }

  /// Computes a value's content id, keeping what storing it needs: the
  /// hashed bytes when they are the stored form (no large raw array), else
  /// the encoded tree. A call's arguments are hashed once this way, and a
  /// miss stores them from it without encoding them again.
  static func hash<T: Encodable>(_ value: T) throws -> HashedValue {
    if T.self is any _StoredByParts.Type {
      let encoded = try ValueParts.encode(value)
      return HashedValue(cid: encoded.cid, form: .parts(encoded))
    }
    return try hashWhole(value)
  }

  /// Hashes a value whole, even one of a type stored by parts (inside a
  /// ``Lazy``, which is stored whole).
  static func hashWhole<T: Encodable>(_ value: T) throws -> HashedValue {
    let node = try CanonicalEncoder().node(for: value)
    let writer = NodeWriter.stream(node, mode: .hash)
    let cid = ContentID(Digest.sha256(writer.out.bytes))
    return HashedValue(cid: cid, form: writer.sawLargeRaw ? .tree(node) : .stored(writer.out.bytes))
  }

  /// Decodes a value from its stored bytes.
  ///
  /// - Throws: `DecodingError` when the bytes are not a `T` (for example because
  ///   the type changed since the value was stored).
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try bytes.withUnsafeBytes { try decode(type, from: $0) }
  }

  /// Decodes a value from its stored bytes.
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws
    -> T
  {
    var reader = ByteReader(bytes)
    let version = try reader.byte()
    guard Format.reads(version) else { throw FormatError.unsupportedVersion(version) }
    // Its outputs are stored apart: `Store.value(_:as:)` and a hit read them.
    guard version != Format.partsVersion else { throw FormatError.storedByParts }
    var end = reader
    try end.skipNode()
    guard end.isAtEnd else { throw FormatError.malformed("trailing bytes after the value") }
    return try CanonicalDecoder.decode(T.self, bytes: bytes, offset: 1, codingPath: [])
  }

  /// Recomputes the content id of stored bytes, to check their integrity.
  ///
  /// - Throws: `FormatError.unsupportedVersion` when a newer Recall wrote the
  ///   bytes (they are not corrupt, only unreadable here), another error when
  ///   they are not a well-formed stream.
  public static func contentID(ofStored bytes: [UInt8]) throws -> ContentID {
    try bytes.withUnsafeBytes { try contentID(ofStored: $0) }
  }

  /// Recomputes the content id of stored bytes, to check their integrity.
  public static func contentID(ofStored raw: UnsafeRawBufferPointer) throws -> ContentID {
    var reader = ByteReader(raw)
    let version = try reader.byte()
    guard Format.reads(version) else { throw FormatError.unsupportedVersion(version) }
    var writer = NodeWriter(
      mode: .hash, chunked: version == Format.largeRawVersion, capacity: min(raw.count, 1 << 16))
    writer.out.byte(version)
    try rewrite(&reader, into: &writer, depth: 0)
    guard reader.isAtEnd else { throw FormatError.malformed("trailing bytes after the value") }
    return ContentID(Digest.sha256(writer.out.bytes))
  }

  /// Checks that stored bytes are the value with this content id.
  ///
  /// Backends call it on values they keep outside their database (blob files).
  public static func checkIntegrity(of bytes: [UInt8], cid: ContentID) -> ValueIntegrity {
    bytes.withUnsafeBytes { checkIntegrity(of: $0, cid: cid) }
  }

  /// Checks that stored bytes are the value with this content id.
  public static func checkIntegrity(of bytes: UnsafeRawBufferPointer, cid: ContentID)
    -> ValueIntegrity
  {
    do {
      let actual = try contentID(ofStored: bytes)
      return actual == cid ? .intact : .corrupt("its bytes hash to \(actual.hex)")
    } catch FormatError.unsupportedVersion(let version) {
      return unreadable(version)
    } catch {
      return .corrupt("\(error)")
    }
  }

  /// Checks bytes a store read for a value: against `checksum` (their XXH64,
  /// recorded with them) when the store has one, else, for a value recorded
  /// before checksums were, against the content id (a SHA-256: slower, and as
  /// sure).
  ///
  /// Every value a backend reads from disk passes here before anything decodes
  /// it, inline values and blob files alike.
  package static func checkStored(
    _ bytes: UnsafeRawBufferPointer, checksum: UInt64?, cid: ContentID
  ) -> ValueIntegrity {
    guard let checksum else { return checkIntegrity(of: bytes, cid: cid) }
    let actual = Checksum.xxh64(bytes)
    guard actual == checksum else {
      return .corrupt(
        "its checksum is \(String(actual, radix: 16)), not \(String(checksum, radix: 16))")
    }
    return checkFormat(of: bytes)
  }

  /// Whether bytes whose checksum matched are in a format this Recall reads
  /// (they are what was written; a newer Recall may have written them).
  static func checkFormat(of bytes: UnsafeRawBufferPointer) -> ValueIntegrity {
    guard let version = bytes.first else { return .corrupt("the value is empty") }
    return Format.reads(version) ? .intact : unreadable(version)
  }

  private static func unreadable(_ version: UInt8) -> ValueIntegrity {
    .unreadable("format version \(version) is newer than this version of Recall reads")
  }

  /// Copies one node from stored form to hash form.
  private static func rewrite(
    _ reader: inout ByteReader, into writer: inout NodeWriter, depth: Int
  ) throws {
    guard depth < Format.maximumDepth else { throw FormatError.malformed("nested too deeply") }
    let start = reader.offset
    let tag = try reader.peekTag()
    switch tag {
    case .raw, .alignedRaw:
      _ = try reader.tag()
      guard tag == .raw || writer.chunked else {
        throw FormatError.malformed("an aligned raw array in a version-1 value")
      }
      let (kindByte, bytes) = try reader.rawPayload(after: tag)
      guard let kind = RawKind(rawValue: kindByte) else {
        throw FormatError.malformed("unknown element kind \(kindByte)")
      }
      writer.writeRaw(kind: kind, bytes: bytes)
    case .unkeyed:
      _ = try reader.tag()
      let count = try reader.varint()
      writer.out.tag(.unkeyed)
      writer.out.varint(count)
      for _ in 0..<count { try rewrite(&reader, into: &writer, depth: depth + 1) }
    case .keyed:
      _ = try reader.tag()
      let count = try reader.varint()
      writer.out.tag(.keyed)
      writer.out.varint(count)
      for _ in 0..<count {
        writer.out.string(try reader.string())
        try rewrite(&reader, into: &writer, depth: depth + 1)
      }
    case .rawDigest, .rawChunkDigest:
      throw FormatError.malformed("a digest where a stored value was expected")
    default:
      try reader.skipNode()
      writer.out.append(UnsafeRawBufferPointer(rebasing: reader.bytes[start..<reader.offset]))
    }
  }
}
