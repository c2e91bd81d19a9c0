import Foundation

/// An `Encoder` that turns any `Encodable` value into a ``Node`` tree.
///
/// Fast paths (``CanonicalEncodable``) are taken for every nested value, so an
/// array of doubles deep inside a struct is still written as raw memory.
final class CanonicalEncoder: Encoder {
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var result: Node?

  init(codingPath: [any CodingKey] = []) { self.codingPath = codingPath }

  /// Returns the node for a value, taking a fast path when there is one.
  func node<T: Encodable>(for value: T) throws -> Node {
    if let fast = value as? any CanonicalEncodable {
      return try fast.canonicalNode(self)
    }
    return try standardNode(for: value)
  }

  /// Returns the node for a value through its own `encode(to:)`.
  func standardNode<T: Encodable>(for value: T) throws -> Node {
    let encoder = CanonicalEncoder(codingPath: codingPath)
    try value.encode(to: encoder)
    return encoder.result ?? .keyed(KeyedStorage())
  }

  func nested(_ key: any CodingKey) -> CanonicalEncoder {
    CanonicalEncoder(codingPath: codingPath + [key])
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    let storage: KeyedStorage
    if case .keyed(let existing) = result {
      storage = existing
    } else {
      storage = KeyedStorage()
      result = .keyed(storage)
    }
    return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, storage: storage))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    let storage: UnkeyedStorage
    if case .unkeyed(let existing) = result {
      storage = existing
    } else {
      storage = UnkeyedStorage()
      result = .unkeyed(storage)
    }
    return UnkeyedContainer(encoder: self, storage: storage)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleValueContainer(encoder: self)
  }

  struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: CanonicalEncoder
    let storage: KeyedStorage
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ node: Node, _ key: some CodingKey) {
      storage.entries.append((key.stringValue, node))
    }

    mutating func encodeNil(forKey key: Key) { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) { set(.double(value.bitPattern), key) }
    mutating func encode(_ value: Float, forKey key: Key) { set(.float(value.bitPattern), key) }
    mutating func encode(_ value: Int, forKey key: Key) { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(.uint(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      set(try encoder.nested(key).node(for: value), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
      keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
      let nested = KeyedStorage()
      set(.keyed(nested), key)
      return KeyedEncodingContainer(
        KeyedContainer<NestedKey>(encoder: encoder.nested(key), storage: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      let nested = UnkeyedStorage()
      set(.unkeyed(nested), key)
      return UnkeyedContainer(encoder: encoder.nested(key), storage: nested)
    }

    mutating func superEncoder() -> any Encoder {
      superEncoder(for: StringKey.super)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
      superEncoder(for: key)
    }

    private func superEncoder(for key: some CodingKey) -> any Encoder {
      let sub = encoder.nested(key)
      set(.deferred(sub), key)
      return sub
    }
  }

  struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: CanonicalEncoder
    let storage: UnkeyedStorage
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { storage.elements.count }

    private func add(_ node: Node) { storage.elements.append(node) }

    mutating func encodeNil() { add(.null) }
    mutating func encode(_ value: Bool) { add(.bool(value)) }
    mutating func encode(_ value: String) { add(.string(value)) }
    mutating func encode(_ value: Double) { add(.double(value.bitPattern)) }
    mutating func encode(_ value: Float) { add(.float(value.bitPattern)) }
    mutating func encode(_ value: Int) { add(.int(Int64(value))) }
    mutating func encode(_ value: Int8) { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) { add(.int(value)) }
    mutating func encode(_ value: UInt) { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) { add(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
      add(try encoder.nested(IndexKey(count)).node(for: value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
      -> KeyedEncodingContainer<NestedKey>
    {
      let nested = KeyedStorage()
      let key = IndexKey(count)
      add(.keyed(nested))
      return KeyedEncodingContainer(
        KeyedContainer<NestedKey>(encoder: encoder.nested(key), storage: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
      let nested = UnkeyedStorage()
      let key = IndexKey(count)
      add(.unkeyed(nested))
      return UnkeyedContainer(encoder: encoder.nested(key), storage: nested)
    }

    mutating func superEncoder() -> any Encoder {
      let sub = encoder.nested(IndexKey(count))
      add(.deferred(sub))
      return sub
    }
  }

  struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: CanonicalEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ node: Node) { encoder.result = node }

    mutating func encodeNil() { set(.null) }
    mutating func encode(_ value: Bool) { set(.bool(value)) }
    mutating func encode(_ value: String) { set(.string(value)) }
    mutating func encode(_ value: Double) { set(.double(value.bitPattern)) }
    mutating func encode(_ value: Float) { set(.float(value.bitPattern)) }
    mutating func encode(_ value: Int) { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) { set(.int(value)) }
    mutating func encode(_ value: UInt) { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) { set(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { set(try encoder.node(for: value)) }
  }
}

/// A coding key that is just a string, such as the key of a super encoder.
struct StringKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
  static let `super` = StringKey(stringValue: "super")
}

/// The coding key of an element of an unkeyed container.
struct IndexKey: CodingKey {
  var intValue: Int?
  var stringValue: String { "\(intValue ?? 0)" }
  init(_ index: Int) { intValue = index }
  init?(intValue: Int) { self.intValue = intValue }
  init?(stringValue: String) {
    guard let index = Int(stringValue) else { return nil }
    intValue = index
  }
}

/// Writes nodes as bytes in the canonical format.
struct NodeWriter {
  enum Mode {
    /// Every raw array inline: the bytes that are stored.
    case store
    /// Raw arrays at or above ``Format/rawDigestThreshold`` replaced by their
    /// digest: the bytes a content id hashes.
    case hash
  }

  let mode: Mode
  /// Whether large raw arrays are written as in format version 2 (aligned,
  /// hashed by chunks), or as in version 1 (to check values written before).
  let chunked: Bool
  var out = ByteWriter()
  /// Whether a raw array large enough to be digested in hash mode was written.
  private(set) var sawLargeRaw = false

  init(mode: Mode, chunked: Bool = true, capacity: Int = 64) {
    self.mode = mode
    self.chunked = chunked
    out = ByteWriter(capacity: capacity)
  }

  /// Writes a whole stream: its version byte, then the node.
  static func stream(_ node: Node, mode: Mode) -> NodeWriter {
    var writer = NodeWriter(mode: mode)
    writer.out.byte(Format.baseVersion)
    writer.write(node)
    if writer.sawLargeRaw { writer.out.bytes[0] = Format.largeRawVersion }
    return writer
  }

  mutating func write(_ node: Node) {
    switch node {
    case .null: out.tag(.null)
    case .bool(let value): out.tag(value ? .true : .false)
    case .int(let value):
      out.tag(.int)
      out.fixed64(UInt64(bitPattern: value))
    case .uint(let value):
      out.tag(.uint)
      out.fixed64(value)
    case .float(let bits):
      out.tag(.float)
      out.fixed32(bits)
    case .double(let bits):
      out.tag(.double)
      out.fixed64(bits)
    case .string(let value):
      out.tag(.string)
      out.string(value)
    case .raw(let buffer):
      buffer.withRawBytes { bytes in writeRaw(kind: buffer.rawKind, bytes: bytes, owner: buffer) }
    case .unkeyed(let storage):
      out.tag(.unkeyed)
      out.varint(storage.elements.count)
      if storage.unorderedStride > 0 {
        writeUnordered(storage.elements, stride: storage.unorderedStride)
      } else {
        for element in storage.elements { write(element) }
      }
    case .keyed(let storage):
      // Later entries for the same key replace earlier ones, as in JSONEncoder.
      var latest: [String: Int] = [:]
      for (index, entry) in storage.entries.enumerated() { latest[entry.key] = index }
      let order = latest.values.sorted {
        storage.entries[$0].key.utf8.lexicographicallyPrecedes(storage.entries[$1].key.utf8)
      }
      out.tag(.keyed)
      out.varint(order.count)
      for index in order {
        out.string(storage.entries[index].key)
        write(storage.entries[index].node)
      }
    case .deferred(let encoder):
      write(encoder.result ?? .keyed(KeyedStorage()))
    }
  }

  /// Writes a raw array; in hash mode a large one as its digest, which is
  /// remembered by buffer identity when `owner` (the array whose memory
  /// `bytes` is) is given.
  mutating func writeRaw(
    kind: RawKind, bytes: UnsafeRawBufferPointer, owner: (any RawBuffer)? = nil
  ) {
    if bytes.count >= Format.rawDigestThreshold {
      sawLargeRaw = true
      switch (mode, chunked) {
      case (.hash, true):
        out.tag(.rawChunkDigest)
        out.byte(kind.rawValue)
        out.varint(bytes.count)
        let digest =
          owner.map { RawDigestCache.shared.digest(of: $0, bytes: bytes) }
          ?? Digest.chunkedSHA256(bytes)
        digest.withUnsafeBytes { out.append($0) }
        return
      case (.hash, false):
        out.tag(.rawDigest)
        out.byte(kind.rawValue)
        out.varint(bytes.count)
        Digest.sha256(bytes).withUnsafeBytes { out.append($0) }
        return
      case (.store, true):
        out.tag(.alignedRaw)
        out.byte(kind.rawValue)
        out.varint(bytes.count)
        // The memory starts after the padding's length byte and the padding.
        let padding =
          (Format.rawAlignment - (out.bytes.count + 1) % Format.rawAlignment) % Format.rawAlignment
        out.byte(UInt8(padding))
        out.bytes.append(contentsOf: repeatElement(0, count: padding))
        out.append(bytes)
        return
      case (.store, false):
        break
      }
    }
    out.tag(.raw)
    out.byte(kind.rawValue)
    out.varint(bytes.count)
    out.append(bytes)
  }

  /// Writes the groups of an unordered collection sorted by their hash-mode
  /// encoding, so stored bytes and content ids agree on the order.
  private mutating func writeUnordered(_ elements: [Node], stride: Int) {
    var groups: [(sortKey: [UInt8], bytes: [UInt8])] = []
    var index = 0
    while index < elements.count {
      let group = elements[index..<min(index + stride, elements.count)]
      var hashWriter = NodeWriter(mode: .hash, chunked: chunked)
      for element in group { hashWriter.write(element) }
      var bytes = hashWriter.out.bytes
      if mode == .store && hashWriter.sawLargeRaw {
        // Aligned relative to the group's own bytes, so not necessarily in
        // the stream: readers must not count on it.
        var storeWriter = NodeWriter(mode: .store, chunked: chunked)
        for element in group { storeWriter.write(element) }
        bytes = storeWriter.out.bytes
      }
      sawLargeRaw = sawLargeRaw || hashWriter.sawLargeRaw
      groups.append((hashWriter.out.bytes, bytes))
      index += stride
    }
    groups.sort { $0.sortKey.lexicographicallyPrecedes($1.sortKey) }
    for group in groups { out.bytes.append(contentsOf: group.bytes) }
  }
}
