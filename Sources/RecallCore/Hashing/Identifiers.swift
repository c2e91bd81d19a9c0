/// The content id (cid) of a value: SHA-256 of its canonical encoding.
///
/// Two values with equal content have the same cid, whatever their history.
public struct ContentID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The digest.
  public let digest: Digest
  /// Creates a content id from a digest.
  public init(_ digest: Digest) { self.digest = digest }
  /// Parses a content id from its 64-character hexadecimal form.
  public init?(hex: String) {
    guard let digest = Digest(hex: hex) else { return nil }
    self.digest = digest
  }
  /// The hexadecimal form.
  public var hex: String { digest.hex }
  public var description: String { String(digest.hex.prefix(12)) }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.digest < rhs.digest }
}

/// The identity of a call: hash of op, semantic version, trial and the key's
/// fields (the inputs' cids by parameter name, and the types that are part of
/// the key). Unique per store.
public struct CallID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The digest.
  public let digest: Digest
  /// Creates a call id from a digest.
  public init(_ digest: Digest) { self.digest = digest }

  /// The id of a call of `op`, filed under `semanticVersion`, whose key has the
  /// fields `keyFields` (``CallRecord/keyFields``).
  ///
  /// Stores use it to file calls under another semantic version when a version
  /// is accepted as equivalent to another.
  public init(op: OpID, semanticVersion: CodeFingerprint, trial: Int, keyFields: [UInt8]) {
    var builder = CallID.keyPrefix(op: op, semanticVersion: semanticVersion, trial: trial)
    builder.replay(keyFields)
    self.init(builder.finalize())
  }

  /// The hash state of a call id before its key's fields.
  static func keyPrefix(op: OpID, semanticVersion: CodeFingerprint, trial: Int) -> DigestBuilder {
    var builder = DigestBuilder(domain: "recall.call.v2")
    builder.add(op.name)
    builder.add(semanticVersion.hex)
    builder.add(trial)
    return builder
  }
  /// Parses a call id from its 64-character hexadecimal form.
  public init?(hex: String) {
    guard let digest = Digest(hex: hex) else { return nil }
    self.digest = digest
  }
  /// The hexadecimal form.
  public var hex: String { digest.hex }
  public var description: String { String(digest.hex.prefix(12)) }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.digest < rhs.digest }
}

/// The history id (hid) of a value: how it was computed.
///
/// For an op's output it is the hash of the op, its version, the inputs' hids and
/// the output's index; for a value from outside any op, it is its cid. Two results
/// with equal content but different histories share a cid, not a hid.
public struct HistoryID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The digest.
  public let digest: Digest
  /// Creates a history id from a digest.
  public init(_ digest: Digest) { self.digest = digest }
  /// The history id of a value that was not produced by an op: its cid.
  public init(external cid: ContentID) { self.digest = cid.digest }
  /// The hexadecimal form.
  public var hex: String { digest.hex }
  public var description: String { String(digest.hex.prefix(12)) }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.digest < rhs.digest }
}

/// A code fingerprint or op version: SHA-256 over normalized code, in
/// hexadecimal.
public struct CodeFingerprint: Hashable, Sendable, CustomStringConvertible {
  /// The 64-character lowercase hexadecimal digest.
  public let hex: String
  /// Wraps a hexadecimal digest.
  public init(hex: String) { self.hex = hex }
  public var description: String { String(hex.prefix(12)) }
}

/// The identity of an op: module, qualified name and argument labels, such as
/// `Experiments.Trainer.fit(_:epochs:)`.
///
/// It stays the same when the op's body changes; the op version changes instead.
public struct OpID: Hashable, Sendable, Comparable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  /// The qualified name, such as `Experiments.train(_:epochs:)`.
  public let name: String
  /// Wraps a qualified op name.
  public init(_ name: String) { self.name = name }
  public init(stringLiteral value: String) { self.name = value }
  public var description: String { name }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }
}
