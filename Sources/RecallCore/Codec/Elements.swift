import Foundation

/// An array stored element by element (mandala's `MList`): as a result or an
/// argument, each element is a value of its own, deduplicated by content id,
/// and the array is a small list of its elements' content ids.
///
/// ```swift
/// @Memoized
/// func augment(_ images: Elements<Image>) -> Elements<Image> {
///   Elements(images.map { flip($0) })
/// }
/// ```
///
/// What this changes, next to a plain array:
/// - **Storage.** An element another result (or input) holds is stored once:
///   two lists that share 1,000 images store them once.
/// - **Provenance.** Each element of a list a call returned has a history of
///   its own (``HistoryID/init(output:of:)`` with the label `[i]`): a call
///   that takes one element links to the call that returned the list, and
///   computation frames follow it.
/// - **Sweeps.** Mapping a memoized function over the elements
///   (``Store/map(_:parallelism:progress:handlesInterrupt:_:)``, or a loop)
///   computes only the elements it has not seen: extending a list of 900 to
///   1,000 runs the function 100 times.
///
/// Inside another value (a field of a struct, an element of an array), an
/// `Elements` encodes as its array, whole.
public struct Elements<Element: Codable & Sendable>: _StoredByParts {
  /// The elements.
  public var array: [Element]

  /// A list of elements.
  public init(_ elements: some Sequence<Element>) {
    array = Array(elements)
  }

  public init(from decoder: any Decoder) throws {
    array = try [Element](from: decoder)
  }

  public func encode(to encoder: any Encoder) throws {
    try array.encode(to: encoder)
  }
}

extension Elements: RandomAccessCollection, MutableCollection {
  public var startIndex: Int { array.startIndex }
  public var endIndex: Int { array.endIndex }
  public subscript(position: Int) -> Element {
    get { array[position] }
    set { array[position] = newValue }
  }
}

extension Elements: ExpressibleByArrayLiteral {
  public init(arrayLiteral elements: Element...) {
    array = elements
  }
}

extension Elements: Equatable where Element: Equatable {}
extension Elements: Hashable where Element: Hashable {}

/// A dictionary stored value by value (mandala's `MDict`): as a result or an
/// argument, each value is a value of its own, deduplicated by content id,
/// and the dictionary is a small list of its keys and its values' content
/// ids. A value's history, as an element of a call's result, has the label
/// `[KEY]`.
///
/// Inside another value, a `KeyedElements` encodes as its dictionary, whole.
public struct KeyedElements<Value: Codable & Sendable>: _StoredByParts {
  /// The values, by key.
  public var dictionary: [String: Value]

  /// A dictionary of elements.
  public init(_ dictionary: [String: Value]) {
    self.dictionary = dictionary
  }

  /// The value for a key.
  public subscript(key: String) -> Value? {
    get { dictionary[key] }
    set { dictionary[key] = newValue }
  }

  public init(from decoder: any Decoder) throws {
    dictionary = try [String: Value](from: decoder)
  }

  public func encode(to encoder: any Encoder) throws {
    try dictionary.encode(to: encoder)
  }
}

extension KeyedElements: ExpressibleByDictionaryLiteral {
  public init(dictionaryLiteral elements: (String, Value)...) {
    dictionary = Dictionary(elements, uniquingKeysWith: { _, last in last })
  }
}

extension KeyedElements: Sequence {
  public func makeIterator() -> [String: Value].Iterator { dictionary.makeIterator() }
}

extension KeyedElements: Equatable where Value: Equatable {}
extension KeyedElements: Hashable where Value: Hashable {}

/// A collection stored element by element: its elements as parts labelled
/// `[INDEX]` or `[KEY]` (``ValuePart/isElement``).
protocol ElementStorage {
  /// Each element's label and encoding, each label once.
  func elementNodes() throws -> [(label: String, node: Node)]
  /// The collection from its elements' labels and stored bytes.
  static func assemble(_ parts: [(label: String, bytes: [UInt8])]) throws -> Self
}

/// The error for a collection whose elements are stored by parts themselves:
/// they would be stored whole in it, and by parts when passed on.
private func nestedParts(_ collection: Any.Type, _ element: Any.Type) -> EncodingError {
  EncodingError.invalidValue(
    element,
    .init(
      codingPath: [],
      debugDescription:
        "the elements of \(collection) are themselves stored by parts (\(element)): use plain values as elements"
    ))
}

extension Elements: ElementStorage {
  func elementNodes() throws -> [(label: String, node: Node)] {
    if Element.self is any _StoredByParts.Type { throw nestedParts(Self.self, Element.self) }
    // Loops over indices and plain `Int`s: this code is generic and not
    // specialized (it is called through `ElementStorage`), where an
    // iterator or an array of optionals costs a witness call per step.
    var nodes: [(label: String, node: Node)] = []
    nodes.reserveCapacity(array.count)
    for index in 0..<array.count {
      nodes.append(("[" + String(index) + "]", try CanonicalEncoder().node(for: array[index])))
    }
    return nodes
  }

  static func assemble(_ parts: [(label: String, bytes: [UInt8])]) throws -> Elements {
    // Where each index's element is among the parts (in their labels' order).
    var positions = [Int](repeating: -1, count: parts.count)
    for position in 0..<parts.count {
      guard let index = ValuePart.index(in: parts[position].label), index < positions.count,
        positions[index] < 0
      else {
        throw FormatError.malformed("a list's parts are not its elements 0 to \(parts.count - 1)")
      }
      positions[index] = position
    }
    var elements: [Element] = []
    elements.reserveCapacity(parts.count)
    for position in positions {
      elements.append(try ValueCodec.decode(Element.self, from: parts[position].bytes))
    }
    return Elements(elements)
  }
}

extension KeyedElements: ElementStorage {
  func elementNodes() throws -> [(label: String, node: Node)] {
    if Value.self is any _StoredByParts.Type { throw nestedParts(Self.self, Value.self) }
    var nodes: [(label: String, node: Node)] = []
    nodes.reserveCapacity(dictionary.count)
    for (key, value) in dictionary {
      nodes.append(("[\(key)]", try CanonicalEncoder().node(for: value)))
    }
    return nodes
  }

  static func assemble(_ parts: [(label: String, bytes: [UInt8])]) throws -> KeyedElements {
    var dictionary: [String: Value] = [:]
    dictionary.reserveCapacity(parts.count)
    for (label, bytes) in parts {
      guard let key = ValuePart.key(in: label) else {
        throw FormatError.malformed("a dictionary's part '\(label)' is not an element")
      }
      dictionary[key] = try ValueCodec.decode(Value.self, from: bytes)
    }
    return KeyedElements(dictionary)
  }
}

extension ValuePart {
  /// Whether the part is an element of a collection (``Elements``,
  /// ``KeyedElements``), labelled `[INDEX]` or `[KEY]`, rather than an output
  /// of a ``MultipleOutputs`` result, labelled by its property's name.
  public var isElement: Bool { Self.key(in: label) != nil }

  /// The key inside an element's label: `KEY` in `[KEY]`.
  static func key(in label: String) -> String? {
    // By bytes: a key that starts with a combining mark makes one character
    // with the bracket.
    let utf8 = label.utf8
    guard utf8.count >= 2, utf8.first == UInt8(ascii: "["), utf8.last == UInt8(ascii: "]") else {
      return nil
    }
    return String(decoding: utf8.dropFirst().dropLast(), as: UTF8.self)
  }

  /// The index inside a list element's label: `3` in `[3]`.
  static func index(in label: String) -> Int? {
    key(in: label).flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
  }

  /// Parts in order: a list's elements by index, others by label.
  static func ordered(_ parts: [ValuePart]) -> [ValuePart] {
    parts.sorted { a, b in
      switch (index(in: a.label), index(in: b.label)) {
      case (let x?, let y?): x < y
      case (nil, nil): a.label.utf8.lexicographicallyPrecedes(b.label.utf8)
      case (_?, nil): true
      case (nil, _?): false
      }
    }
  }
}
