import Foundation

/// A result type whose stored properties are a call's outputs: each is stored
/// as a value of its own, with its own content id and history id (mandala's
/// `nout` and `output_names`).
///
/// ```swift
/// struct Split: MultipleOutputs {
///   var train: [Double]
///   var test: [Double]
/// }
///
/// @Memoized
/// func split(_ rows: [Double], fraction: Double) -> Split { ... }
///
/// let parts = split(rows, fraction: 0.8)
/// let model = fit(parts.train)   // linked to the `train` output's history
/// ```
///
/// What this changes:
/// - **Storage.** Equal outputs of different calls are stored once (a model
///   two calls return is one value); the call's result is a small list of its
///   outputs' content ids, by label.
/// - **Provenance.** A downstream call that takes one output (`parts.train`)
///   links to that output's history, not to the whole result: upstream and
///   downstream walks, ``Store/producers(of:)`` and computation frames follow
///   it, and a frame's table has one column per output, named by its label.
/// - **Hits.** A hit reads the call's list of outputs and then each output.
///
/// Each output is a top-level key of the type's keyed encoding: the stored
/// properties, with synthesized `Codable`. An optional property that is `nil`
/// is not an output of that call (synthesized `Codable` leaves its key out).
/// A type whose `encode(to:)` does not use a keyed container, or that has an
/// output stored by parts itself (an ``Elements``, another
/// `MultipleOutputs`), cannot be stored this way: recording it warns, and
/// the result is returned but not stored. A type whose `init(from:)` asks
/// for nested containers at the top level (rather than decoding each output
/// with `decode(_:forKey:)`) is stored, but no hit can read it: each call
/// warns that its result no longer decodes, and computes it again. A
/// `Lazy` of such a type, or an optional one, is stored whole.
///
/// Passed as an argument, such a value is keyed by the same list of its
/// outputs' content ids, so it links to the call that returned it.
public protocol MultipleOutputs: _StoredByParts {}

/// The struct `@Memoized` declares for a function that returns a labelled
/// tuple (`__RecallOutputs_NAME`): its outputs, and the tuple they make.
/// Not for conformance outside the macro's expansion.
public protocol _TupleOutputs: MultipleOutputs {
  /// The function's tuple type.
  associatedtype Tuple
  /// The outputs as the function's tuple.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  var __recallTuple: Tuple { get }
}

/// The types Recall stores by parts at the top level of a result or an
/// argument: ``MultipleOutputs``, ``Elements`` and ``KeyedElements``. Conform
/// to one of those, not to this.
public protocol _StoredByParts: Codable, Sendable {}

/// A value stored by its parts (``MultipleOutputs``): each top-level key's
/// value encoded on its own, and a manifest naming them.
///
/// The manifest is a stream of format version ``Format/partsVersion`` whose
/// node is a keyed container mapping each label to its part's 32-byte content
/// id (as `Data`). Labels are sorted by their bytes, so the manifest (and its
/// content id) does not depend on the order `encode(to:)` wrote them in.
enum ValueParts {
  /// Encodes a value by parts: the manifest, with the parts it names.
  static func encode(_ value: some Encodable) throws -> EncodedValue {
    if let elements = value as? any ElementStorage {
      return try encode(parts: elements.elementNodes())
    }
    // A part stored by parts itself would be stored whole here, and by parts
    // when passed on: two content ids for one value.
    for child in Mirror(reflecting: value).children where isStoredByParts(child.value) {
      throw EncodingError.invalidValue(
        value,
        .init(
          codingPath: [],
          debugDescription:
            "output '\(child.label ?? "?")' of \(type(of: value)) is itself stored by parts (\(type(of: child.value))): make it a plain value (an array, a struct), or make its parts outputs of their own"
        ))
    }
    guard case .keyed(let storage) = try CanonicalEncoder().node(for: value) else {
      throw EncodingError.invalidValue(
        value,
        .init(
          codingPath: [],
          debugDescription:
            "\(type(of: value)) conforms to MultipleOutputs, so it must encode as a keyed container (a struct with synthesized Codable): each key is an output"
        ))
    }
    // Later entries for the same key replace earlier ones, as in the
    // canonical encoding of a keyed container.
    var latest: [String: Node] = [:]
    for entry in storage.entries { latest[entry.key] = entry.node }
    return try encode(parts: latest.map { (label: $0.key, node: $0.value) })
  }

  /// Encodes parts given by label, and the manifest naming them. The labels
  /// are distinct as `String`s (a dictionary's keys).
  ///
  /// The manifest is written here, not through `Codable` (a dictionary of
  /// `Data`, which it is): its bytes are exactly what that encoding would
  /// give, in a fraction of the time (decision 0123, scenario M).
  static func encode(parts labelled: [(label: String, node: Node)]) throws -> EncodedValue {
    // Sorted by their labels' bytes, as the canonical encoding sorts keys.
    let labels = labelled.map { Array($0.label.utf8) }
    let order = labels.indices.sorted { labels[$0].lexicographicallyPrecedes(labels[$1]) }
    var parts: [EncodedValue.Part] = []
    parts.reserveCapacity(order.count)
    var manifest = NodeWriter(mode: .store, capacity: 8 + order.count * 48)
    manifest.out.byte(Format.partsVersion)
    manifest.out.tag(.keyed)
    manifest.out.varint(order.count)
    for index in order {
      let node = labelled[index].node
      let stored = NodeWriter.stream(node, mode: .store)
      let cid =
        stored.sawLargeRaw
        ? ContentID(Digest.sha256(NodeWriter.stream(node, mode: .hash).out.bytes))
        : ContentID(Digest.sha256(stored.out.bytes))
      parts.append(
        .init(label: labelled[index].label, value: EncodedValue(cid: cid, bytes: stored.out.bytes)))
      manifest.out.string(labelled[index].label)
      cid.digest.withUnsafeBytes { manifest.writeRaw(kind: .uint8, bytes: $0) }
    }
    let bytes = manifest.out.bytes
    return EncodedValue(cid: ContentID(Digest.sha256(bytes)), bytes: bytes, parts: parts)
  }

  /// Whether a value (or the value an optional holds) is of a type stored by
  /// parts.
  static func isStoredByParts(_ value: Any) -> Bool {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional {
      return mirror.children.first.map { isStoredByParts($0.value) } ?? false
    }
    return type(of: value) is any _StoredByParts.Type
  }

  /// Whether stored bytes are a manifest.
  static func isManifest(_ bytes: some Collection<UInt8>) -> Bool {
    bytes.first == Format.partsVersion
  }

  /// The parts a manifest names, by label, sorted by label.
  ///
  /// - Throws: ``FormatError`` when the bytes are not a manifest.
  static func manifest(_ bytes: [UInt8]) throws -> [ValuePart] {
    guard isManifest(bytes) else {
      throw FormatError.malformed("the value is not stored by parts")
    }
    if let parts = bytes.withUnsafeBytes(plainManifest) { return parts }
    var body = bytes
    body[0] = Format.baseVersion
    let map = try ValueCodec.decode([String: Data].self, from: body)
    return try map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map {
      label, data in
      guard let digest = Digest(bytes: data) else {
        throw FormatError.malformed("a part's content id is not 32 bytes")
      }
      return ValuePart(label: label, cid: ContentID(digest))
    }
  }

  /// The parts of a manifest as ``encode(parts:)`` writes it, read without
  /// decoding a dictionary: ASCII labels (two labels of other text may be
  /// one key as `String`s) strictly ascending by their bytes, each naming a
  /// 32-byte id, nothing after. `nil` for any other shape, which the general
  /// decoding reads (or refuses) instead, so that both give the same parts
  /// and the same errors.
  static func plainManifest(_ raw: UnsafeRawBufferPointer) -> [ValuePart]? {
    var reader = ByteReader(raw, offset: 1)
    guard (try? reader.tag()) == .keyed, let count = try? reader.varint(), count <= raw.count
    else { return nil }
    var parts: [ValuePart] = []
    parts.reserveCapacity(count)
    var previous = UnsafeRawBufferPointer(start: nil, count: 0)
    for index in 0..<count {
      guard let length = try? reader.varint(), let label = try? reader.slice(length),
        index == 0 || previous.lexicographicallyPrecedes(label),
        label.allSatisfy({ $0 < 0x80 }),
        (try? reader.tag()) == .raw, let payload = try? reader.rawPayload(after: .raw),
        payload.kind == RawKind.uint8.rawValue, let digest = Digest(bytes: payload.bytes)
      else { return nil }
      previous = label
      parts.append(ValuePart(label: String(decoding: label, as: UTF8.self), cid: ContentID(digest)))
    }
    return reader.isAtEnd ? parts : nil
  }

  /// Decodes a value stored by parts, reading each part with `part`.
  ///
  /// - Throws: ``RecallError/notFound`` when a part is not stored, and what
  ///   decoding a part throws.
  static func decode<T: Decodable>(
    _ type: T.Type, manifest bytes: [UInt8], part: (ContentID) throws -> [UInt8]?
  ) throws -> T {
    try decode(type, parts: try manifest(bytes), part: part)
  }

  /// Decodes a value stored by parts from its manifest's parts (read once
  /// with ``manifest(_:)``), reading each part with `part`.
  static func decode<T: Decodable>(
    _ type: T.Type, parts manifest: [ValuePart], part: (ContentID) throws -> [UInt8]?
  ) throws -> T {
    var parts: [(label: String, bytes: [UInt8])] = []
    parts.reserveCapacity(manifest.count)
    for entry in manifest {
      guard let stored = try part(entry.cid) else {
        throw PartMissing(label: entry.label, cid: entry.cid)
      }
      parts.append((entry.label, stored))
    }
    if let elements = T.self as? any ElementStorage.Type {
      return try elements.assemble(parts) as! T
    }
    let byLabel = Dictionary(
      parts.map { ($0.label, $0.bytes) }, uniquingKeysWith: { _, last in last })
    return try T(from: PartsDecoder(parts: byLabel))
  }

  /// A part a manifest names is not stored.
  struct PartMissing: Error, CustomStringConvertible {
    let label: String
    let cid: ContentID
    var description: String { "its output '\(label)' (value \(cid.hex.prefix(12))) is not stored" }
  }
}

/// One part of a value stored by parts: an output of a call whose result is
/// ``MultipleOutputs``.
public struct ValuePart: Sendable, Hashable {
  /// The output's label: its property's name.
  public let label: String
  /// The output's content id.
  public let cid: ContentID

  /// A part.
  public init(label: String, cid: ContentID) {
    self.label = label
    self.cid = cid
  }
}

/// Decodes a ``MultipleOutputs`` value from its parts: its keyed container's
/// values are the parts' stored bytes.
private struct PartsDecoder: Decoder {
  let parts: [String: [UInt8]]
  var codingPath: [any CodingKey] { [] }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    KeyedDecodingContainer(Container(parts: parts))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    throw Self.notKeyed([])
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    throw Self.notKeyed([])
  }

  static func notKeyed(_ path: [any CodingKey]) -> DecodingError {
    .dataCorrupted(
      .init(
        codingPath: path,
        debugDescription:
          "a MultipleOutputs value is stored by parts: its init(from:) must decode each output with decode(_:forKey:) from a keyed container"
      ))
  }

  struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let parts: [String: [UInt8]]
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { parts.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { parts[key.stringValue] != nil }

    private func bytes(_ key: Key) throws -> [UInt8] {
      guard let bytes = parts[key.stringValue] else {
        throw DecodingError.keyNotFound(
          key,
          .init(codingPath: [], debugDescription: "the call has no output '\(key.stringValue)'"))
      }
      return bytes
    }

    func decodeNil(forKey key: Key) throws -> Bool {
      let bytes = try bytes(key)
      return bytes.count == 2 && bytes[1] == Format.Tag.null.rawValue
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      try ValueCodec.decode(T.self, from: bytes(key))
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type, at: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type, at: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type, at: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(type, at: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type, at: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(type, at: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(type, at: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type, at: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type, at: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(type, at: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(type, at: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type, at: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type, at: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type, at: key) }

    private func decode<T: Decodable>(_ type: T.Type, at key: Key) throws -> T {
      try ValueCodec.decode(T.self, from: bytes(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
      -> KeyedDecodingContainer<NestedKey>
    {
      throw PartsDecoder.notKeyed([key])
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      throw PartsDecoder.notKeyed([key])
    }

    func superDecoder() throws -> any Decoder { throw PartsDecoder.notKeyed([]) }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw PartsDecoder.notKeyed([key]) }
  }
}
