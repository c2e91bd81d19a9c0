import Foundation

/// A fixed-width element type whose arrays are encoded as raw memory.
protocol RawElement: BitwiseCopyable {
  static var rawKind: RawKind { get }
}

extension UInt8: RawElement { static var rawKind: RawKind { .uint8 } }
extension Int8: RawElement { static var rawKind: RawKind { .int8 } }
extension UInt16: RawElement { static var rawKind: RawKind { .uint16 } }
extension Int16: RawElement { static var rawKind: RawKind { .int16 } }
extension UInt32: RawElement { static var rawKind: RawKind { .uint32 } }
extension Int32: RawElement { static var rawKind: RawKind { .int32 } }
extension UInt64: RawElement { static var rawKind: RawKind { .uint64 } }
extension Int64: RawElement { static var rawKind: RawKind { .int64 } }
extension UInt: RawElement { static var rawKind: RawKind { .uint64 } }
extension Int: RawElement { static var rawKind: RawKind { .int64 } }
extension Float: RawElement { static var rawKind: RawKind { .float32 } }
extension Double: RawElement { static var rawKind: RawKind { .float64 } }
extension Bool: RawElement { static var rawKind: RawKind { .bool } }

/// A contiguous buffer whose memory is the value: hashed and stored as raw
/// bytes, never element by element through `Codable`.
protocol RawBuffer: Sendable {
  var rawKind: RawKind { get }
  func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
  /// Rebuilds the buffer from raw bytes of the right kind.
  static func fromRaw(kind: RawKind, bytes: UnsafeRawBufferPointer) -> Self?
  /// Whether any bytes decode to some value or to an error, never a trap, so
  /// that decoding may start before the bytes' checksum has passed.
  static var decodesAnyBytes: Bool { get }
}

extension RawBuffer {
  static var decodesAnyBytes: Bool { true }
}

extension Array: RawBuffer where Element: RawElement {
  var rawKind: RawKind { Element.rawKind }
  func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withUnsafeBytes(body)
  }
  static func fromRaw(kind: RawKind, bytes: UnsafeRawBufferPointer) -> Self? {
    guard kind == Element.rawKind, bytes.count % MemoryLayout<Element>.stride == 0 else {
      return nil
    }
    if Element.self == Bool.self, bytes.contains(where: { $0 > 1 }) { return nil }
    return copyingRaw(bytes, as: Element.self)
  }
}

extension Data: RawBuffer {
  var rawKind: RawKind { .uint8 }
  func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withUnsafeBytes(body)
  }
  static func fromRaw(kind: RawKind, bytes: UnsafeRawBufferPointer) -> Data? {
    kind == .uint8 ? Data(bytes) : nil
  }
}

/// The encoder's intermediate form of a value.
///
/// Containers are reference types because `Encoder` hands out containers that
/// are filled after they are attached to their parent.
enum Node {
  case null
  case bool(Bool)
  case int(Int64)
  case uint(UInt64)
  case float(UInt32)
  case double(UInt64)
  case string(String)
  case raw(any RawBuffer)
  case unkeyed(UnkeyedStorage)
  case keyed(KeyedStorage)
  case deferred(CanonicalEncoder)
}

final class UnkeyedStorage {
  var elements: [Node] = []
  /// When nonzero, the elements are an unordered collection (a set, stride 1, or
  /// a dictionary's key-value list, stride 2) and are sorted by their encoding.
  var unorderedStride = 0
}

final class KeyedStorage {
  var entries: [(key: String, node: Node)] = []
}

/// A value type with its own node: scalars, strings, raw buffers and the
/// unordered collections whose order must be canonicalized.
protocol CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node
}

/// A value type decoded from its node without the generic `Codable` machinery.
protocol CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Self
}

extension Bool: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .bool(self) }
}
extension String: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .string(self) }
}
extension Double: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .double(bitPattern) }
}
extension Float: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .float(bitPattern) }
}
extension Int: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .int(Int64(self)) }
}
extension Int8: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .int(Int64(self)) }
}
extension Int16: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .int(Int64(self)) }
}
extension Int32: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .int(Int64(self)) }
}
extension Int64: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .int(self) }
}
extension UInt: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .uint(UInt64(self)) }
}
extension UInt8: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .uint(UInt64(self)) }
}
extension UInt16: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .uint(UInt64(self)) }
}
extension UInt32: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .uint(UInt64(self)) }
}
extension UInt64: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .uint(self) }
}
extension Array: CanonicalEncodable where Element: RawElement {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .raw(self) }
}
extension Data: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) -> Node { .raw(self) }
}
extension Set: CanonicalEncodable where Element: Encodable {
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node {
    let node = try encoder.standardNode(for: self)
    if case .unkeyed(let storage) = node { storage.unorderedStride = 1 }
    return node
  }
}
extension Dictionary: CanonicalEncodable where Key: Encodable, Value: Encodable {
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node {
    // String- and Int-keyed dictionaries encode as keyed containers, whose keys
    // are sorted anyway; other keys encode as a key-value list.
    let node = try encoder.standardNode(for: self)
    if case .unkeyed(let storage) = node { storage.unorderedStride = 2 }
    return node
  }
}

/// Any `Optional`, to recognize nested optionals.
protocol OptionalProtocol {}
extension Optional: OptionalProtocol {}

extension Optional: CanonicalEncodable where Wrapped: Encodable {
  // `Codable` writes both `.none` and `.some(.none)` of an `Int??` as nil; a
  // present value whose type is itself optional is wrapped in a one-element
  // list so the two stay distinct.
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node {
    guard let wrapped = self else { return .null }
    let node = try encoder.node(for: wrapped)
    guard Wrapped.self is any OptionalProtocol.Type else { return node }
    let box = UnkeyedStorage()
    box.elements = [node]
    return .unkeyed(box)
  }
}

extension Optional: CanonicalDecodable where Wrapped: Decodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Wrapped? {
    if try reader.peekTag() == .null {
      _ = try reader.tag()
      return nil
    }
    if Wrapped.self is any OptionalProtocol.Type {
      let tag = try reader.tag()
      guard tag == .unkeyed, try reader.varint() == 1 else {
        throw DecodingMismatch(expected: "\(Self.self)", found: tag)
      }
    }
    let start = reader.offset
    var end = reader
    try end.skipNode()
    let value = try CanonicalDecoder.decode(
      Wrapped.self, bytes: reader.bytes, offset: start, codingPath: [])
    reader = end
    return value
  }
}

extension Bool: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Bool {
    switch try reader.tag() {
    case .true: return true
    case .false: return false
    case let tag: throw DecodingMismatch(expected: "Bool", found: tag)
    }
  }
}
extension String: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> String {
    let tag = try reader.tag()
    guard tag == .string else { throw DecodingMismatch(expected: "String", found: tag) }
    return try reader.string()
  }
}
extension Double: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Double {
    let tag = try reader.tag()
    guard tag == .double else { throw DecodingMismatch(expected: "Double", found: tag) }
    return Double(bitPattern: try reader.fixed64())
  }
}
extension Float: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Float {
    let tag = try reader.tag()
    guard tag == .float else { throw DecodingMismatch(expected: "Float", found: tag) }
    return Float(bitPattern: try reader.fixed32())
  }
}

/// Integers decode from either integer tag when the value fits, so changing a
/// parameter from `Int` to `UInt` does not make stored values unreadable.
protocol CanonicalInteger: FixedWidthInteger, CanonicalDecodable {}
extension CanonicalInteger {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Self {
    let tag = try reader.tag()
    switch tag {
    case .int:
      let value = Int64(bitPattern: try reader.fixed64())
      guard let exact = Self(exactly: value) else {
        throw DecodingMismatch(
          expected: "\(Self.self)", found: tag, detail: "\(value) does not fit")
      }
      return exact
    case .uint:
      let value = try reader.fixed64()
      guard let exact = Self(exactly: value) else {
        throw DecodingMismatch(
          expected: "\(Self.self)", found: tag, detail: "\(value) does not fit")
      }
      return exact
    default:
      throw DecodingMismatch(expected: "\(Self.self)", found: tag)
    }
  }
}
extension Int: CanonicalInteger {}
extension Int8: CanonicalInteger {}
extension Int16: CanonicalInteger {}
extension Int32: CanonicalInteger {}
extension Int64: CanonicalInteger {}
extension UInt: CanonicalInteger {}
extension UInt8: CanonicalInteger {}
extension UInt16: CanonicalInteger {}
extension UInt32: CanonicalInteger {}
extension UInt64: CanonicalInteger {}

extension Array: CanonicalDecodable where Element: RawElement {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> [Element] {
    try decodeRaw(&reader)
  }
}
extension Data: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> Data {
    try decodeRaw(&reader)
  }
}

extension RawBuffer {
  static func decodeRaw(_ reader: inout ByteReader) throws -> Self {
    let tag = try reader.tag()
    guard tag == .raw || tag == .alignedRaw else {
      throw DecodingMismatch(expected: "\(Self.self)", found: tag)
    }
    let (rawKind, bytes) = try reader.rawPayload(after: tag)
    guard let kind = RawKind(rawValue: rawKind), let value = Self.fromRaw(kind: kind, bytes: bytes)
    else {
      throw DecodingMismatch(
        expected: "\(Self.self)", found: tag, detail: "element kind \(rawKind)")
    }
    return value
  }
}

/// A stored node that does not have the type the decoder asked for.
struct DecodingMismatch: Error, CustomStringConvertible {
  var expected: String
  var found: Format.Tag
  var detail: String? = nil

  var description: String {
    "expected \(expected), found \(found)" + (detail.map { " (\($0))" } ?? "")
  }
}
