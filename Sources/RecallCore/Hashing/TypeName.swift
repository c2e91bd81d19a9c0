import Synchronization

/// Stable names of types, for the parts of a call key that are types rather than
/// values (generic arguments, the dynamic type of an `any` or `some` argument,
/// a block's result type).
enum TypeName {
  private static let cache = Mutex<[ObjectIdentifier: String]>([:])

  /// The type's qualified name, the same in every process and on every
  /// machine. Computed once per type per process.
  ///
  /// Private types are named with a discriminator derived from their file
  /// (`M.(Secret in _EFF8…)`), which is stable. Types local to a function are
  /// named after an address that changes with every launch
  /// (`M.(unknown context at $55ca…).L`); the address is replaced by `(local)`.
  /// (`_mangledTypeName` is no better: it embeds addresses for private types.)
  static func stable(_ type: any Any.Type) -> String {
    let id = ObjectIdentifier(type)
    if let name = cache.withLock({ $0[id] }) { return name }
    let name = withoutAddresses(_typeName(type, qualified: true))
    cache.withLock { $0[id] = name }
    return name
  }

  static func withoutAddresses(_ name: String) -> String {
    let marker = "(unknown context at $"
    var result = ""
    var rest = Substring(name)
    while let range = rest.firstRange(of: marker) {
      result += rest[..<range.lowerBound]
      result += "(local)"
      rest = rest[range.upperBound...]
      if let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
    }
    return result + rest
  }
}
