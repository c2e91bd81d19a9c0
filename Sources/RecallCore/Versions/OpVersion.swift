import Foundation

/// One piece of the code an op version covers: the op itself, or a function,
/// method, initializer, property, global or type it reaches.
///
/// A store keeps the source of every component of every op version it has
/// seen, so that versions can be shown and compared (``Store/diff(_:from:to:)``).
public struct CodeComponent: Sendable, Hashable, Codable {
  /// A readable, qualified identity, such as `func Trainer.fit(_:epochs:)` or
  /// `var nClass`.
  public var identity: String
  /// The code fingerprint: SHA-256 over the component's tokens, so edits to
  /// comments and whitespace leave it unchanged.
  public var fingerprint: String
  /// The component's source as it was first seen with this fingerprint.
  public var source: String

  /// Creates a component.
  public init(identity: String, fingerprint: String, source: String) {
    self.identity = identity
    self.fingerprint = fingerprint
    self.source = source
  }
}

/// A version of an op, as a store has seen it run.
public struct OpVersion: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// The op version: the fingerprint of the code it covers.
  public var version: CodeFingerprint
  /// The semantic version its calls are filed under: the version itself,
  /// unless it was accepted as equivalent to another (``Store/accept(_:version:as:)``)
  /// or added parameters made it inherit its predecessor's.
  public var semanticVersion: CodeFingerprint
  /// When a process first computed a call with this version in the store.
  public var firstSeen: Date
  /// When a process last started computing with this version (recorded at
  /// its first miss in a process, and only when another version computed in
  /// between; hits record nothing).
  public var lastSeen: Date
  /// The op's parameter names in this version.
  public var parameters: [String]
  /// How many stored calls were made with this version.
  public var calls: Int
  /// Whether this is the version that most recently started computing: what
  /// ``Store/staleness(of:)`` compares against.
  public var isCurrent: Bool

  /// Creates a version record.
  public init(
    op: OpID, version: CodeFingerprint, semanticVersion: CodeFingerprint, firstSeen: Date,
    lastSeen: Date, parameters: [String], calls: Int, isCurrent: Bool
  ) {
    self.op = op
    self.version = version
    self.semanticVersion = semanticVersion
    self.firstSeen = firstSeen
    self.lastSeen = lastSeen
    self.parameters = parameters
    self.calls = calls
    self.isCurrent = isCurrent
  }
}

/// What a store records about an op version the first time a process runs it.
public struct VersionRegistration: Sendable {
  /// The op.
  public var op: OpID
  /// The version.
  public var version: CodeFingerprint
  /// The op's parameter names.
  public var parameters: [String]
  /// Parameters declared with `@Memoized(addedParameters:)`: left out of the key while
  /// callers pass their default.
  public var addedParameters: [String]
  /// The components the version covers, computed only when the store has not
  /// seen the version before.
  public var components: @Sendable () -> [CodeComponent]

  /// Creates a registration.
  public init(
    op: OpID, version: CodeFingerprint, parameters: [String], addedParameters: [String],
    components: @escaping @Sendable () -> [CodeComponent]
  ) {
    self.op = op
    self.version = version
    self.parameters = parameters
    self.addedParameters = addedParameters
    self.components = components
  }

  /// The semantic version a version the store has not seen is filed under,
  /// given the op's most recently run version.
  ///
  /// A version is its own semantic version, except when it differs from the
  /// latest version by parameters declared added, and by no removed parameter:
  /// then it is the latest version with those parameters at their defaults, and
  /// inherits its semantic version, so that calls from before the parameters
  /// existed are found. Once a version with the parameters has run, a later
  /// edit is an ordinary code change again.
  public func semanticVersion(following latest: OpVersion?) -> CodeFingerprint {
    guard let latest else { return version }
    let new = parameters.filter { !latest.parameters.contains($0) }
    let removed = latest.parameters.filter { !parameters.contains($0) }
    guard !new.isEmpty, removed.isEmpty, new.allSatisfy(addedParameters.contains) else {
      return version
    }
    return latest.semanticVersion
  }
}
