import Foundation

/// A `Decoder` over bytes in the canonical format.
///
/// Containers index lazily: a keyed container scans its entries once to find
/// the key offsets, and values are only decoded when asked for.
final class CanonicalDecoder: Decoder {
  let bytes: UnsafeRawBufferPointer
  let offset: Int
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(bytes: UnsafeRawBufferPointer, offset: Int, codingPath: [any CodingKey]) {
    self.bytes = bytes
    self.offset = offset
    self.codingPath = codingPath
  }

  var reader: ByteReader { ByteReader(bytes, offset: offset) }

  /// Decodes a value at a position, taking a fast path when there is one.
  static func decode<T: Decodable>(
    _ type: T.Type, bytes: UnsafeRawBufferPointer, offset: Int, codingPath: [any CodingKey]
  ) throws -> T {
    if let fast = T.self as? any CanonicalDecodable.Type {
      var reader = ByteReader(bytes, offset: offset)
      do {
        return try fast.canonicalDecode(&reader) as! T
      } catch {
        throw DecodingError.typeMismatch(
          T.self,
          .init(codingPath: codingPath, debugDescription: "\(error)", underlyingError: error))
      }
    }
    return try T(from: CanonicalDecoder(bytes: bytes, offset: offset, codingPath: codingPath))
  }

  func mismatch(_ expected: Any.Type, _ detail: String) -> DecodingError {
    .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: detail))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    var reader = self.reader
    let tag = try reader.tag()
    guard tag == .keyed else {
      throw mismatch([String: Any].self, "expected a keyed container, found \(tag)")
    }
    let count = try reader.varint()
    var entries: [String: Int] = [:]
    entries.reserveCapacity(min(count, 1 << 12))  // a count read from bytes not checked yet
    for _ in 0..<count {
      let key = try reader.string()
      entries[key] = reader.offset
      try reader.skipNode()
    }
    return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, entries: entries))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    var reader = self.reader
    let tag = try reader.tag()
    guard tag == .unkeyed else {
      throw mismatch([Any].self, "expected an unkeyed container, found \(tag)")
    }
    let count = try reader.varint()
    return UnkeyedContainer(decoder: self, reader: reader, count: count)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    SingleValueContainer(decoder: self)
  }

  struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: CanonicalDecoder
    let entries: [String: Int]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    private func offset(_ key: some CodingKey) throws -> Int {
      guard let offset = entries[key.stringValue] else {
        throw DecodingError.keyNotFound(
          key,
          .init(codingPath: codingPath, debugDescription: "no value for key '\(key.stringValue)'"))
      }
      return offset
    }

    func decodeNil(forKey key: Key) throws -> Bool {
      try ByteReader(decoder.bytes, offset: try offset(key)).peekTag() == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      try CanonicalDecoder.decode(
        T.self, bytes: decoder.bytes, offset: try offset(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
      -> KeyedDecodingContainer<NestedKey>
    {
      try CanonicalDecoder(
        bytes: decoder.bytes, offset: try offset(key), codingPath: codingPath + [key]
      )
      .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      try CanonicalDecoder(
        bytes: decoder.bytes, offset: try offset(key), codingPath: codingPath + [key]
      )
      .unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
      CanonicalDecoder(
        bytes: decoder.bytes, offset: try offset(StringKey.super),
        codingPath: codingPath + [StringKey.super])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
      CanonicalDecoder(
        bytes: decoder.bytes, offset: try offset(key), codingPath: codingPath + [key])
    }
  }

  struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: CanonicalDecoder
    var reader: ByteReader
    let count: Int?
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= (count ?? 0) }

    init(decoder: CanonicalDecoder, reader: ByteReader, count: Int) {
      self.decoder = decoder
      self.reader = reader
      self.count = count
    }

    private mutating func next() throws -> Int {
      guard !isAtEnd else {
        throw DecodingError.valueNotFound(
          Any.self,
          .init(
            codingPath: codingPath + [IndexKey(currentIndex)],
            debugDescription: "unkeyed container is at end"))
      }
      let start = reader.offset
      try reader.skipNode()
      currentIndex += 1
      return start
    }

    mutating func decodeNil() throws -> Bool {
      guard !isAtEnd, try reader.peekTag() == .null else { return false }
      _ = try next()
      return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
      let path = codingPath + [IndexKey(currentIndex)]
      let start = try next()
      return try CanonicalDecoder.decode(
        T.self, bytes: decoder.bytes, offset: start, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
      -> KeyedDecodingContainer<NestedKey>
    {
      let path = codingPath + [IndexKey(currentIndex)]
      return try CanonicalDecoder(bytes: decoder.bytes, offset: try next(), codingPath: path)
        .container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
      let path = codingPath + [IndexKey(currentIndex)]
      return try CanonicalDecoder(bytes: decoder.bytes, offset: try next(), codingPath: path)
        .unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
      let path = codingPath + [IndexKey(currentIndex)]
      return CanonicalDecoder(bytes: decoder.bytes, offset: try next(), codingPath: path)
    }
  }

  struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: CanonicalDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { (try? decoder.reader.peekTag()) == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      try CanonicalDecoder.decode(
        T.self, bytes: decoder.bytes, offset: decoder.offset, codingPath: codingPath)
    }
  }
}
