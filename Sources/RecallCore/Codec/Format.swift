import Foundation

/// Recall's canonical binary format for values: the bytes a value is stored as
/// and, with large arrays replaced by their digests, the bytes its content id
/// hashes.
///
/// A stream starts with one format-version byte, then one node:
///
/// | tag | node | payload |
/// |---|---|---|
/// | 0 | nil | — |
/// | 1, 2 | false, true | — |
/// | 3 | signed integer (any width) | 8 bytes, little endian |
/// | 4 | unsigned integer (any width) | 8 bytes, little endian |
/// | 5 | `Float` | 4 bytes, its bit pattern |
/// | 6 | `Double` | 8 bytes, its bit pattern |
/// | 7 | string | varint byte count, UTF-8 |
/// | 8 | raw array | element kind, varint byte count, the elements' memory |
/// | 9 | digest of a raw array (content ids only) | element kind, varint byte count, 32-byte SHA-256 |
/// | 10 | unkeyed container | varint count, nodes |
/// | 11 | keyed container | varint count, (varint key length, UTF-8 key, node) sorted by key bytes |
/// | 12 | aligned raw array (version 2) | element kind, varint byte count, one byte n < 16, n zero bytes, the elements' memory, starting at a multiple of 16 from the stream's start (from the start of its group, inside sets and non-string-keyed dictionaries) |
/// | 13 | chunked digest of a raw array (version 2, content ids only) | element kind, varint byte count, 32-byte ``Digest/chunkedSHA256(_:)`` |
///
/// **Versions.** A stream with no raw array of ``rawDigestThreshold`` bytes or
/// more is version 1, as it always was. A stream with one is version 2: such
/// arrays are stored as tag 12, so that their memory is aligned (a mapped blob
/// file starts on a page, so a ``MappedArray`` can use the file's pages as they
/// are), and content ids hash them as tag 13, a digest of 1 MiB chunks that all
/// cores compute together. Version-1 streams with large arrays (written before
/// version 2) store them as tag 8 and hash them as tag 9, the SHA-256 of the
/// whole memory; they are still read and checked that way.
///
/// **Manifests.** A value stored by parts (a ``MultipleOutputs`` result) is a
/// version-3 stream: a keyed container mapping each output's label to its
/// content id (32 bytes, as `Data`). Its parts are values of their own; the
/// manifest is read as a whole only with them (``ValueParts``).
///
/// Keys of keyed containers are sorted, and the elements of sets and of
/// dictionaries encoded as key-value lists are sorted by their encoding, so the
/// format does not depend on hash-table iteration order, which Swift randomizes
/// per process. Numbers are type-tagged, so `1` as an `Int` and `1` as a
/// `Double` differ. Arrays of fixed-width numbers, `Data` and `[Bool]` are
/// written as raw memory (little endian, as on every platform Swift supports).
enum Format {
  /// The version of streams without large raw arrays, and of streams written
  /// before version 2 (their large raw arrays are hashed whole).
  static let baseVersion: UInt8 = 1
  /// The version of streams with large raw arrays: aligned when stored,
  /// hashed by chunks.
  static let largeRawVersion: UInt8 = 2

  /// The version of a manifest: a value stored by parts (``MultipleOutputs``),
  /// a keyed container of its parts' content ids (``ValueParts``).
  static let partsVersion: UInt8 = 3

  /// Whether this Recall reads streams of a version.
  static func reads(_ version: UInt8) -> Bool {
    version == baseVersion || version == largeRawVersion || version == partsVersion
  }

  /// The alignment of an aligned raw array's memory from the stream's start.
  static let rawAlignment = 16

  /// Raw arrays at least this large are replaced by their digest in the bytes
  /// a content id hashes (``Digest/chunkedSHA256(_:)``; the whole memory's
  /// SHA-256 in version-1 streams). That keeps big arrays out of intermediate buffers and
  /// lets their digests be computed (and cached) on their own.
  static let rawDigestThreshold = 4096

  /// The deepest nesting of containers a stored value may have; deeper bytes
  /// are rejected as malformed rather than exhausting the stack.
  static let maximumDepth = 512

  enum Tag: UInt8 {
    case null = 0
    case `false` = 1
    case `true` = 2
    case int = 3
    case uint = 4
    case float = 5
    case double = 6
    case string = 7
    case raw = 8
    case rawDigest = 9
    case unkeyed = 10
    case keyed = 11
    case alignedRaw = 12
    case rawChunkDigest = 13
  }
}

/// The element type of a raw array.
enum RawKind: UInt8, Sendable {
  case uint8 = 1
  case int8, uint16, int16, uint32, int32, uint64, int64, float32, float64, bool

  var stride: Int {
    switch self {
    case .uint8, .int8, .bool: 1
    case .uint16, .int16: 2
    case .uint32, .int32, .float32: 4
    case .uint64, .int64, .float64: 8
    }
  }
}

/// A growable byte buffer with the format's primitive writers.
struct ByteWriter {
  var bytes: [UInt8] = []

  init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

  @inline(__always) mutating func tag(_ tag: Format.Tag) { bytes.append(tag.rawValue) }

  @inline(__always) mutating func byte(_ value: UInt8) { bytes.append(value) }

  mutating func varint(_ value: Int) {
    var value = UInt64(value)
    while value >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
  }

  mutating func fixed64(_ value: UInt64) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func fixed32(_ value: UInt32) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func string(_ value: String) {
    var value = value
    value.withUTF8 { utf8 in
      varint(utf8.count)
      bytes.append(contentsOf: utf8)
    }
  }

  mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}

/// A cursor over bytes in the format, with the primitive readers.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  var offset: Int

  init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
    self.bytes = bytes
    self.offset = offset
  }

  var isAtEnd: Bool { offset >= bytes.count }

  mutating func byte() throws(FormatError) -> UInt8 {
    guard offset < bytes.count else { throw .truncated }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func tag() throws(FormatError) -> Format.Tag {
    let raw = try byte()
    guard let tag = Format.Tag(rawValue: raw) else { throw .unknownTag(raw) }
    return tag
  }

  func peekTag() throws(FormatError) -> Format.Tag {
    var copy = self
    return try copy.tag()
  }

  mutating func varint() throws(FormatError) -> Int {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let byte = try self.byte()
      result |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { break }
      shift += 7
      guard shift < 64 else { throw .malformed("varint too long") }
    }
    guard result <= UInt64(Int.max) else { throw .malformed("length too large") }
    return Int(result)
  }

  mutating func fixed64() throws(FormatError) -> UInt64 {
    guard offset + 8 <= bytes.count else { throw .truncated }
    defer { offset += 8 }
    return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }

  mutating func fixed32() throws(FormatError) -> UInt32 {
    guard offset + 4 <= bytes.count else { throw .truncated }
    defer { offset += 4 }
    return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }

  mutating func slice(_ count: Int) throws(FormatError) -> UnsafeRawBufferPointer {
    // Compared without adding, so a crafted length near Int.max cannot overflow.
    guard count >= 0, count <= bytes.count - offset else { throw .truncated }
    defer { offset += count }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
  }

  /// Reads a raw array's element kind byte and memory, the reader being just
  /// past its tag (``Format/Tag/raw`` or ``Format/Tag/alignedRaw``).
  mutating func rawPayload(after tag: Format.Tag) throws(FormatError) -> (
    kind: UInt8, bytes: UnsafeRawBufferPointer
  ) {
    let kind = try byte()
    let count = try varint()
    if tag == .alignedRaw {
      let padding = Int(try byte())
      guard padding < Format.rawAlignment else {
        throw .malformed("raw array padding of \(padding) bytes")
      }
      _ = try slice(padding)
    }
    return (kind, try slice(count))
  }

  mutating func string() throws(FormatError) -> String {
    let count = try varint()
    let utf8 = try slice(count)
    return String(decoding: utf8, as: UTF8.self)
  }

  /// Moves past one node without decoding it, checking that it is well formed
  /// and nested at most ``Format/maximumDepth`` deep.
  mutating func skipNode(depth: Int = 0) throws(FormatError) {
    guard depth < Format.maximumDepth else { throw .malformed("nested too deeply") }
    let tag = try self.tag()
    switch tag {
    case .null, .false, .true: break
    case .int, .uint, .double: _ = try slice(8)
    case .float: _ = try slice(4)
    case .string: _ = try slice(try varint())
    case .raw, .alignedRaw:
      _ = try rawPayload(after: tag)
    case .rawDigest, .rawChunkDigest:
      _ = try byte()
      _ = try varint()
      _ = try slice(32)
    case .unkeyed:
      for _ in 0..<(try varint()) { try skipNode(depth: depth + 1) }
    case .keyed:
      for _ in 0..<(try varint()) {
        _ = try slice(try varint())
        try skipNode(depth: depth + 1)
      }
    }
  }
}

extension ByteReader {
  /// Skips one node; returns whether it holds a keyed container whose keys
  /// are exactly `digest` and `path` (how a ``TrackedFile`` is encoded).
  mutating func holdsFileShape(depth: Int = 0) throws(FormatError) -> Bool {
    guard depth < Format.maximumDepth else { throw .malformed("nested too deeply") }
    switch try peekTag() {
    case .unkeyed:
      _ = try tag()
      var found = false
      for _ in 0..<(try varint()) where try holdsFileShape(depth: depth + 1) { found = true }
      return found
    case .keyed:
      _ = try tag()
      let count = try varint()
      var keys: [UnsafeRawBufferPointer] = []
      var found = false
      for _ in 0..<count {
        let key = try slice(try varint())
        if count == 2 { keys.append(key) }
        if try holdsFileShape(depth: depth + 1) { found = true }
      }
      return found
        || (keys.count == 2 && keys[0].elementsEqual("digest".utf8)
          && keys[1].elementsEqual("path".utf8))
    default:
      try skipNode(depth: depth)
      return false
    }
  }
}

/// A structural problem in encoded bytes.
enum FormatError: Error, CustomStringConvertible {
  case truncated
  case unknownTag(UInt8)
  case unsupportedVersion(UInt8)
  case malformed(String)
  /// A manifest decoded as a value: its parts are stored apart.
  case storedByParts

  var description: String {
    switch self {
    case .truncated: "the encoded value ends early"
    case .unknownTag(let tag): "unknown tag \(tag) in the encoded value"
    case .unsupportedVersion(let version):
      "the value was encoded in format version \(version), which this version of Recall cannot read"
    case .malformed(let detail): "malformed encoded value: \(detail)"
    case .storedByParts:
      "the value is stored by parts (a result of several outputs): read it with store.value(_:as:) as its MultipleOutputs type"
    }
  }
}
