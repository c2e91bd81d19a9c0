import Foundation

extension ValueCodec {
  /// Renders stored bytes as JSON, without knowing the value's Swift type: for
  /// tools that show what a store holds.
  ///
  /// Keyed containers become objects, unkeyed containers and raw arrays become
  /// arrays, numbers stay numbers (non-finite floats become strings such as
  /// `"nan"`), `Data` becomes an array of bytes. Arrays longer than
  /// `maximumElements` are cut, ending with a string such as `"… 9990 more"`.
  ///
  /// An input recorded by its own identity (``CustomContentIdentity``, ``Named``)
  /// becomes a string: its label (or digest) and its scheme, such as
  /// `"mnist-train@2024-05 (recall.named.v1)"`.
  ///
  /// A result of several outputs (``MultipleOutputs``) becomes an object of
  /// its outputs by label: each rendered when `part` gives its bytes, else a
  /// string naming its content id, such as `"output 1a2b3c4d5e6f"`.
  ///
  /// - Throws: When the bytes are malformed or in a newer format.
  public static func renderJSON(
    _ bytes: [UInt8], maximumElements: Int = 20, part: (ContentID) -> [UInt8]? = { _ in nil }
  ) throws -> String {
    if ValueParts.isManifest(bytes) {
      let parts = ValuePart.ordered(try ValueParts.manifest(bytes))
      func render(_ entry: ValuePart) throws -> String {
        try part(entry.cid).map { try renderJSON($0, maximumElements: maximumElements) }
          ?? quoted("\(entry.isElement ? "element" : "output") \(entry.cid)")
      }
      // A list's elements as an array, a dictionary's by key.
      if !parts.isEmpty, parts.allSatisfy({ ValuePart.index(in: $0.label) != nil }) {
        var items = try parts.prefix(maximumElements).map(render)
        if parts.count > maximumElements {
          items.append(quoted("… \(parts.count - maximumElements) more"))
        }
        return "[" + items.joined(separator: ",") + "]"
      }
      let fields = try parts.map { entry in
        quoted(ValuePart.key(in: entry.label) ?? entry.label) + ":" + (try render(entry))
      }
      return "{" + fields.joined(separator: ",") + "}"
    }
    if bytes.count > 1, bytes[1] == Format.Tag.keyed.rawValue,
      let reference = IdentityReference.stored(in: bytes)
    {
      return quoted(
        "\(reference.label ?? String(reference.digest.prefix(12))) (\(reference.scheme))")
    }
    return try bytes.withUnsafeBytes { raw in
      var reader = ByteReader(raw)
      let version = try reader.byte()
      guard Format.reads(version) else { throw FormatError.unsupportedVersion(version) }
      var out = ""
      try render(&reader, into: &out, limit: maximumElements, depth: 0)
      guard reader.isAtEnd else { throw FormatError.malformed("trailing bytes") }
      return out
    }
  }

  /// The fields of a stored keyed value (a struct, or a dictionary keyed by
  /// strings), each as stored bytes of its own, in the order stored; `nil`
  /// when the value is not keyed.
  ///
  /// - Throws: When the bytes are malformed or in a newer format.
  static func fields(ofStored bytes: [UInt8]) throws -> [(name: String, bytes: [UInt8])]? {
    try bytes.withUnsafeBytes { raw in
      var reader = ByteReader(raw)
      let version = try reader.byte()
      guard Format.reads(version) else { throw FormatError.unsupportedVersion(version) }
      // A manifest's fields are its parts' content ids, not values.
      guard version != Format.partsVersion, try reader.tag() == .keyed else { return nil }
      var fields: [(name: String, bytes: [UInt8])] = []
      for _ in 0..<(try reader.varint()) {
        let name = try reader.string()
        let start = reader.offset
        try reader.skipNode(depth: 1)
        fields.append((name, [version] + raw[start..<reader.offset]))
      }
      guard reader.isAtEnd else { throw FormatError.malformed("trailing bytes") }
      return fields
    }
  }

  private static func render(
    _ reader: inout ByteReader, into out: inout String, limit: Int, depth: Int
  ) throws {
    guard depth < Format.maximumDepth else { throw FormatError.malformed("nested too deeply") }
    let tag = try reader.tag()
    switch tag {
    case .null: out += "null"
    case .false: out += "false"
    case .true: out += "true"
    case .int: out += String(Int64(bitPattern: try reader.fixed64()))
    case .uint: out += String(try reader.fixed64())
    case .float: out += number(Double(Float(bitPattern: try reader.fixed32())))
    case .double: out += number(Double(bitPattern: try reader.fixed64()))
    case .string: out += quoted(try reader.string())
    case .raw, .alignedRaw:
      let (kindByte, bytes) = try reader.rawPayload(after: tag)
      guard let kind = RawKind(rawValue: kindByte) else { throw FormatError.malformed("raw kind") }
      let count = bytes.count / kind.stride
      var elements: [String] = []
      for index in 0..<min(count, limit) {
        elements.append(element(of: kind, in: bytes, at: index * kind.stride))
      }
      if count > limit { elements.append(quoted("… \(count - limit) more")) }
      out += "[" + elements.joined(separator: ",") + "]"
    case .rawDigest, .rawChunkDigest:
      _ = try reader.byte()
      let count = try reader.varint()
      let digest = try reader.slice(32)
      let kind = tag == .rawDigest ? "sha256" : "chunked sha256"
      out += quoted("\(count) bytes, \(kind) \(Digest(bytes: digest)?.hex ?? "")")
    case .unkeyed:
      let count = try reader.varint()
      out += "["
      for index in 0..<count {
        if index == limit {
          out += "," + quoted("… \(count - limit) more")
          for _ in index..<count { try reader.skipNode(depth: depth + 1) }
          break
        }
        if index > 0 { out += "," }
        try render(&reader, into: &out, limit: limit, depth: depth + 1)
      }
      out += "]"
    case .keyed:
      let count = try reader.varint()
      out += "{"
      for index in 0..<count {
        if index > 0 { out += "," }
        out += quoted(try reader.string()) + ":"
        try render(&reader, into: &out, limit: limit, depth: depth + 1)
      }
      out += "}"
    }
  }

  private static func element(of kind: RawKind, in bytes: UnsafeRawBufferPointer, at offset: Int)
    -> String
  {
    switch kind {
    case .uint8: String(bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self))
    case .int8: String(bytes.loadUnaligned(fromByteOffset: offset, as: Int8.self))
    case .uint16:
      String(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    case .int16:
      String(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
    case .uint32:
      String(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    case .int32:
      String(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    case .uint64:
      String(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
    case .int64:
      String(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
    case .float32:
      number(
        Double(
          Float(
            bitPattern: UInt32(
              littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))))
    case .float64:
      number(
        Double(
          bitPattern: UInt64(
            littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
    case .bool: bytes[offset] == 0 ? "false" : "true"
    }
  }

  private static func number(_ value: Double) -> String {
    guard value.isFinite else { return quoted(value.isNaN ? "nan" : value < 0 ? "-inf" : "inf") }
    if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
    return "\(value)"
  }

  /// A JSON string literal.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

/// A long array of numbers as a tool shows it instead of its elements: how
/// many, their range and mean, and a few evenly spaced ones for a small plot.
public struct NumericSummary: Sendable, Hashable {
  /// The number of elements.
  public var count: Int
  /// The smallest finite element (`nan` when none is finite).
  public var minimum: Double
  /// The largest finite element (`nan` when none is finite).
  public var maximum: Double
  /// The mean of the finite elements (`nan` when none is finite).
  public var mean: Double
  /// Elements at evenly spaced positions among those measured, in order.
  public var samples: [Double]
  /// How many elements the minimum, maximum, mean and samples come from:
  /// ``count``, or for a raw array longer than the summary reads in full,
  /// that many in runs of contiguous ones spread evenly over the array (so
  /// that a large mapped file is not read whole).
  public var measured: Int
}

extension ValueCodec {
  /// Summarizes stored bytes that hold an array of numbers (a raw array, such
  /// as `[Float]` or a ``MappedArray``, or an array of numbers encoded one by
  /// one) without building the array, as ``numericSummary(of:samples:)``
  /// does; `nil` for any other value.
  ///
  /// - Parameters:
  ///   - bytes: A value's stored bytes (``Store/encodedValue(_:)``).
  ///   - samples: How many evenly spaced elements to keep.
  /// - Throws: When the bytes are malformed or in a newer format.
  public static func numericSummary(_ bytes: [UInt8], samples: Int = 200) throws
    -> NumericSummary?
  {
    try bytes.withUnsafeBytes { try numericSummary(of: $0, samples: samples) }
  }

  /// The raw arrays longer than this are measured from this many elements,
  /// in ``measuredRuns`` runs of contiguous ones spread evenly over the
  /// array (``NumericSummary/measured``).
  public static let measuredElements = 1 << 20
  /// How many runs of contiguous elements a long raw array is measured from.
  public static let measuredRuns = 64

  /// Summarizes stored bytes in place: a value in a mapped blob file is read
  /// where it lies, and of a raw array longer than ``measuredElements`` only
  /// that many elements are read, in ``measuredRuns`` contiguous runs spread
  /// evenly over it (a few megabytes of a mapped file, whatever its size).
  ///
  /// - Parameters:
  ///   - raw: A value's stored bytes, in memory or mapped.
  ///   - samples: How many evenly spaced elements to keep.
  /// - Throws: When the bytes are malformed or in a newer format.
  public static func numericSummary(of raw: UnsafeRawBufferPointer, samples: Int = 200) throws
    -> NumericSummary?
  {
    do {
      var reader = ByteReader(raw)
      let version = try reader.byte()
      guard Format.reads(version) else { throw FormatError.unsupportedVersion(version) }
      let tag = try reader.tag()
      var summary = NumericSummary(
        count: 0, minimum: .nan, maximum: .nan, mean: .nan, samples: [], measured: 0)
      var total = 0.0
      var finite = 0
      // The plot's samples: the elements at i * n / min(samples, n), for i
      // in 0..<min(samples, n), among those measured (n of them, in order).
      var measuredCount = 0
      func add(_ value: Double, of n: Int) {
        if value.isFinite {
          summary.minimum = finite == 0 ? value : min(summary.minimum, value)
          summary.maximum = finite == 0 ? value : max(summary.maximum, value)
          total += value
          finite += 1
        }
        // At most one sample per element: every element when there are
        // fewer than `samples`, else strictly increasing positions.
        let wanted = min(samples, n)
        if summary.samples.count < wanted && measuredCount == summary.samples.count * n / wanted {
          summary.samples.append(value)
        }
        measuredCount += 1
      }
      switch tag {
      case .raw, .alignedRaw:
        let (kindByte, elements) = try reader.rawPayload(after: tag)
        guard let kind = RawKind(rawValue: kindByte), kind != .bool else { return nil }
        summary.count = elements.count / kind.stride
        if summary.count > measuredElements {
          // Runs of contiguous elements spread evenly over the array: few
          // pages of a mapped file are read.
          let run = measuredElements / measuredRuns
          for block in 0..<measuredRuns {
            let start = block * (summary.count - run) / (measuredRuns - 1)
            for index in start..<(start + run) {
              add(number(of: kind, in: elements, at: index * kind.stride), of: measuredElements)
            }
          }
          summary.measured = measuredElements
        } else {
          for index in 0..<summary.count {
            add(number(of: kind, in: elements, at: index * kind.stride), of: summary.count)
          }
          summary.measured = summary.count
        }
      case .unkeyed:
        summary.count = try reader.varint()
        for _ in 0..<summary.count {
          let value: Double
          switch try reader.tag() {
          case .int: value = Double(Int64(bitPattern: try reader.fixed64()))
          case .uint: value = Double(try reader.fixed64())
          case .float: value = Double(Float(bitPattern: try reader.fixed32()))
          case .double: value = Double(bitPattern: try reader.fixed64())
          default: return nil
          }
          add(value, of: summary.count)
        }
        summary.measured = summary.count
      default:
        return nil
      }
      guard reader.isAtEnd else { throw FormatError.malformed("trailing bytes") }
      if finite > 0 { summary.mean = total / Double(finite) }
      return summary
    }
  }

  private static func number(of kind: RawKind, in bytes: UnsafeRawBufferPointer, at offset: Int)
    -> Double
  {
    func load<T: FixedWidthInteger>(_ type: T.Type) -> T {
      T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    return switch kind {
    case .uint8: Double(load(UInt8.self))
    case .int8: Double(load(Int8.self))
    case .uint16: Double(load(UInt16.self))
    case .int16: Double(load(Int16.self))
    case .uint32: Double(load(UInt32.self))
    case .int32: Double(load(Int32.self))
    case .uint64: Double(load(UInt64.self))
    case .int64: Double(load(Int64.self))
    case .float32: Double(Float(bitPattern: load(UInt32.self)))
    case .float64: Double(bitPattern: load(UInt64.self))
    case .bool: bytes[offset] == 0 ? 0 : 1
    }
  }
}
