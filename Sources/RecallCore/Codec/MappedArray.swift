/// A number type whose arrays a ``MappedArray`` can hold: the integer and
/// floating-point types of the standard library, which Recall conforms.
///
/// Other types should not conform: their arrays would still be stored, but
/// element by element and never mapped.
public protocol MappedArrayElement: BitwiseCopyable, Codable, Sendable, Equatable {}

extension Double: MappedArrayElement {}
extension Float: MappedArrayElement {}
extension Int: MappedArrayElement {}
extension Int8: MappedArrayElement {}
extension Int16: MappedArrayElement {}
extension Int32: MappedArrayElement {}
extension Int64: MappedArrayElement {}
extension UInt: MappedArrayElement {}
extension UInt8: MappedArrayElement {}
extension UInt16: MappedArrayElement {}
extension UInt32: MappedArrayElement {}
extension UInt64: MappedArrayElement {}

/// An immutable array of numbers that a hit can return without copying: its
/// elements stay in the store's blob file, mapped into memory.
///
/// Return one from a memoized function whose result is large, and a hit in a
/// later process maps the stored file instead of copying it into a new array
/// (scenario E, memory-mapped):
///
/// ```swift
/// @Memoized
/// func simulate(steps: Int) -> MappedArray<Double> {
///   MappedArray(runSimulation(steps))
/// }
///
/// let trace = simulate(steps: 1_000_000)
/// print(trace.count, trace[0])
/// let total = trace.withUnsafeBufferPointer { $0.reduce(0, +) }
/// ```
///
/// A `MappedArray` is a `RandomAccessCollection`; `Array(trace)` copies it.
/// It is stored exactly as an `[Element]` with the same elements (the same
/// content id), so changing a function's result type between the two keeps
/// its stored results, and passing it as an argument hashes like the array.
///
/// The elements are mapped only when the store keeps the value in a local
/// blob file (the SQLite store, for values above its inline threshold);
/// otherwise, and when the function itself returns, they are in memory
/// (``isMapped`` tells which). A mapped file is unmapped when the last
/// `MappedArray` using it is released. Files are never changed in place, so
/// the elements cannot change under you; a program that truncates a store's
/// blob file while it is mapped makes reading the lost pages fail with
/// `SIGBUS`, as with any mapped file.
///
/// A hit maps a blob without reading it through when the file has not
/// changed since the store wrote it: its device, inode, size, modification and
/// status-change times are still those the store recorded (a "blob stamp";
/// Documentation/Design.md §20). Otherwise (files written before stamps, a
/// copied store) its checksum is checked first, as for any other value, which
/// reads the whole file; a damaged file is never mapped into a result.
public struct MappedArray<Element: MappedArrayElement>: @unchecked Sendable {
  // Sendable: the elements are immutable, and `array` or `file` keeps their
  // memory alive for as long as `elements` is used.
  private let elements: UnsafeBufferPointer<Element>
  private let array: [Element]
  private let file: MappedFile?

  /// Creates a mapped array holding an array's elements, without copying them.
  public init(_ elements: [Element]) {
    array = elements
    file = nil
    // An immutable native array of numbers keeps its buffer, at one address,
    // for as long as the array lives.
    self.elements = elements.withUnsafeBufferPointer { $0 }
  }

  /// Creates a mapped array of a sequence's elements.
  public init(_ elements: some Sequence<Element>) {
    self.init(Array(elements))
  }

  /// Wraps elements inside a mapped blob file.
  private init(file: MappedFile, elements: UnsafeBufferPointer<Element>) {
    array = []
    self.file = file
    self.elements = elements
  }

  /// Whether the elements are in a mapped blob file (a hit served without a
  /// copy) rather than in memory.
  public var isMapped: Bool { file != nil }

  /// Calls `body` with the elements' memory, without copying it.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R)
    rethrows -> R
  {
    try body(elements)
  }

  /// Calls `body` with the elements' bytes, without copying them.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(elements))
  }
}

extension MappedArray: RandomAccessCollection {
  /// Positions are offsets from the first element, as in an array.
  public typealias Index = Int

  /// Always 0.
  public var startIndex: Int { 0 }
  /// The number of elements.
  public var endIndex: Int { elements.count }
  /// The number of elements.
  public var count: Int { elements.count }

  /// The element at a position, which must be in `0..<count` (checked).
  public subscript(position: Int) -> Element {
    precondition(position >= 0 && position < elements.count, "MappedArray index out of range")
    return elements[position]
  }

  /// Calls `body` with the elements' memory: `Array(mapped)` and other
  /// algorithms copy it in one pass.
  public func withContiguousStorageIfAvailable<R>(
    _ body: (UnsafeBufferPointer<Element>) throws -> R
  ) rethrows -> R? {
    try body(elements)
  }
}

extension MappedArray: ExpressibleByArrayLiteral {
  /// Creates a mapped array (in memory) of the literal's elements.
  public init(arrayLiteral elements: Element...) {
    self.init(elements)
  }
}

extension MappedArray: Equatable {
  /// Whether two mapped arrays have equal elements in the same order, wherever
  /// their memory is.
  public static func == (lhs: MappedArray, rhs: MappedArray) -> Bool {
    lhs.elementsEqual(rhs)
  }
}

extension MappedArray: CustomStringConvertible, CustomDebugStringConvertible {
  /// The elements, written as an array's are.
  public var description: String { Array(self).description }
  /// The elements, written as an array's are, named.
  public var debugDescription: String { "MappedArray(\(Array(self).description))" }
}

extension MappedArray: Codable {
  /// Encodes the elements as an array does. (Recall's own encoder stores them
  /// as raw memory, like an `[Element]`.)
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.unkeyedContainer()
    for element in self { try container.encode(element) }
  }

  /// Decodes the elements as an array does.
  public init(from decoder: any Decoder) throws {
    self.init(try [Element](from: decoder))
  }
}

// Recall's codec: raw memory, mapped when decoded from a mapped blob file.

extension MappedArray: RawBuffer {
  /// The raw kind of the elements; `nil` for a type Recall did not conform.
  private static var elementKind: RawKind? { (Element.self as? any RawElement.Type)?.rawKind }

  var rawKind: RawKind { Self.elementKind! }

  func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withUnsafeBytes(body)
  }

  /// Elements of a type Recall did not conform decode through `Codable`,
  /// which must not see bytes before their checksum passed.
  static var decodesAnyBytes: Bool { elementKind != nil }

  static func fromRaw(kind: RawKind, bytes: UnsafeRawBufferPointer) -> MappedArray? {
    guard kind == elementKind, bytes.count % MemoryLayout<Element>.stride == 0 else { return nil }
    // Only 0 and 1 are `Bool`s (for a type that conformed `Bool` itself).
    if kind == .bool, bytes.contains(where: { $0 > 1 }) { return nil }
    if let file = MappedFile.decoding, file.contains(bytes), let base = bytes.baseAddress,
      Int(bitPattern: base) % MemoryLayout<Element>.alignment == 0
    {
      let elements = UnsafeBufferPointer(
        start: base.assumingMemoryBound(to: Element.self),
        count: bytes.count / MemoryLayout<Element>.stride)
      return MappedArray(file: file, elements: elements)
    }
    return MappedArray(copyingRaw(bytes, as: Element.self))
  }
}

extension MappedArray: CanonicalEncodable {
  func canonicalNode(_ encoder: CanonicalEncoder) throws -> Node {
    Self.elementKind == nil ? try encoder.standardNode(for: self) : .raw(self)
  }
}

extension MappedArray: CanonicalDecodable {
  static func canonicalDecode(_ reader: inout ByteReader) throws -> MappedArray {
    guard elementKind == nil else { return try decodeRaw(&reader) }
    var end = reader
    try end.skipNode()
    let elements = try CanonicalDecoder.decode(
      [Element].self, bytes: reader.bytes, offset: reader.offset, codingPath: [])
    reader = end
    return MappedArray(elements)
  }
}

/// A new array with a copy of raw memory's elements; `populating` memory (of
/// a mapped file) has its pages asked for first (by default, memory inside the
/// file being decoded).
func copyingRaw<Element: BitwiseCopyable>(
  _ bytes: UnsafeRawBufferPointer, as type: Element.Type,
  populating: Bool? = nil
) -> [Element] {
  let count = bytes.count / MemoryLayout<Element>.stride
  // The task-local is looked up only where populating can matter (small
  // arrays are decoded on every store hit).
  let mapped =
    populating
    ?? (bytes.count >= LargeBuffers.threshold && MappedFile.decoding?.contains(bytes) == true)
  return Array(unsafeUninitializedCapacity: count) { buffer, initialized in
    if let start = buffer.baseAddress {
      LargeBuffers.prepare(start, count: bytes.count)
      LargeBuffers.copy(
        UnsafeRawBufferPointer(rebasing: bytes[0..<count * MemoryLayout<Element>.stride]),
        to: start,
        populating: mapped)
    }
    initialized = count
  }
}
