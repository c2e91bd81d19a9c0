import Synchronization

/// An op as the runtime sees it: its identity and its current version.
public struct Op: Sendable, Hashable, CustomStringConvertible {
  /// The op's identity.
  public let id: OpID
  /// The op version: the fingerprint of its code (and, with the build plugin,
  /// of the code it reaches).
  public let version: CodeFingerprint
  /// The semantic version calls are filed under.
  public let semanticVersion: CodeFingerprint
  /// Whether the result type is part of the key: for blocks, whose result type
  /// is inferred and so not part of their code fingerprint.
  public let keysResultType: Bool

  /// The call key's hash state after the op's own fields, computed once.
  let keyPrefix: DigestBuilder

  /// Creates an op; its semantic version is its version.
  public init(id: OpID, version: CodeFingerprint, keysResultType: Bool = false) {
    self.id = id
    self.version = version
    self.semanticVersion = version
    self.keysResultType = keysResultType
    var builder = DigestBuilder(domain: "recall.call.v1")
    builder.add(id.name)
    builder.add(version.hex)
    builder.add(0)  // trial
    keyPrefix = builder
  }

  public static func == (lhs: Op, rhs: Op) -> Bool {
    lhs.id == rhs.id && lhs.version == rhs.version && lhs.semanticVersion == rhs.semanticVersion
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
    hasher.combine(version)
  }

  public var description: String { "\(id.name)@\(version)" }
}

/// One argument of a memoized call: the parameter's name and its value.
public struct Argument: Sendable {
  /// The parameter name (`self` for the receiver of an instance method).
  public let name: String
  /// The value.
  public let value: any Encodable & Sendable
  /// The value's type, when it is part of the key.
  public let keyedType: (any Any.Type)?

  /// Creates an argument.
  ///
  /// - Parameters:
  ///   - name: The parameter name.
  ///   - value: The value.
  ///   - keyingType: Whether the value's type is part of the key. Pass `true`
  ///     when the parameter's declared type does not fix it (`some P`, `any P`):
  ///     values of different types can have equal encodings (`Data` and
  ///     `[UInt8]`, a struct and a dictionary with the same keys).
  public init<Value: Encodable & Sendable>(_ name: String, _ value: Value, keyingType: Bool = false) {
    self.name = name
    self.value = value
    self.keyedType = keyingType ? Value.self : nil
  }
}
