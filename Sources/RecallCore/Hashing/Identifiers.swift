/// The content id (cid) of a value: SHA-256 of its canonical encoding.
///
/// Two values with equal content have the same cid, whatever their history.
public struct ContentID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The digest.
  public let digest: Digest
  /// Creates a content id from a digest.
  public init(_ digest: Digest) { self.digest = digest }
  /// Hashes its digest's first word (``Digest/_rawHashValue(seed:)``).
  public func _rawHashValue(seed: Int) -> Int { digest._rawHashValue(seed: seed) }
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
  /// Hashes its digest's first word (``Digest/_rawHashValue(seed:)``).
  public func _rawHashValue(seed: Int) -> Int { digest._rawHashValue(seed: seed) }

  /// The id of a call of `op`, filed under `semanticVersion`, whose key has the
  /// fields `keyFields` (``CallRecord/keyFields``).
  ///
  /// Stores use it to file calls under another semantic version when a version
  /// is accepted as equivalent to another.
  ///
  /// - Parameters:
  ///   - op: The name the call's key is made with.
  ///   - semanticVersion: The semantic version it is filed under.
  ///   - trial: Its trial (0 for a call that is not random).
  ///   - keyFields: The key's fields.
  ///   - isRandom: Whether the call is random (it drew from ``RandomSource``):
  ///     a random call's key is made in a domain of its own, so that its
  ///     result in trial 0 is never taken for one that every trial shares.
  public init(
    op: OpID, semanticVersion: CodeFingerprint, trial: Int, keyFields: [UInt8],
    isRandom: Bool = false
  ) {
    var builder = CallID.keyPrefix(
      op: op, semanticVersion: semanticVersion, trial: trial, isRandom: isRandom)
    builder.replay(keyFields)
    self.init(builder.finalize())
  }

  /// How a stored call's key was made: with which name, and whether in the
  /// domain of random calls.
  public struct Scheme: Hashable, Sendable {
    /// The name the key was made with.
    public let name: OpID
    /// Whether the call is random (``CallID/init(op:semanticVersion:trial:keyFields:isRandom:)``).
    public let isRandom: Bool
  }

  /// How a stored call's key was made: with the op's label name
  /// (``OpID/labelName``, what the macros key calls with) or its name, as a
  /// random call or not, found by recomputing the call's id; `nil` when none
  /// gives it.
  public static func scheme(
    of op: OpID, for id: CallID, semanticVersion: CodeFingerprint, trial: Int, keyFields: [UInt8]
  ) -> Scheme? {
    let names = op.labelName == op.name ? [op] : [OpID(op.labelName), op]
    // A call of a trial other than 0 is random; one of trial 0 may be either.
    let domains = trial == 0 ? [false, true] : [true]
    for name in names {
      for isRandom in domains
      where CallID(
        op: name, semanticVersion: semanticVersion, trial: trial, keyFields: keyFields,
        isRandom: isRandom) == id
      {
        return Scheme(name: name, isRandom: isRandom)
      }
    }
    return nil
  }

  /// The name a stored call's key was made with; `nil` when neither the
  /// op's label name nor its name gives the call's id.
  @available(
    *, deprecated,
    message:
      "Use scheme(of:for:semanticVersion:trial:keyFields:), which also says whether the call is random."
  )
  public static func keyName(
    of op: OpID, for id: CallID, semanticVersion: CodeFingerprint, trial: Int, keyFields: [UInt8]
  ) -> OpID? {
    scheme(of: op, for: id, semanticVersion: semanticVersion, trial: trial, keyFields: keyFields)?
      .name
  }

  /// The hash state of a call id before its key's fields.
  static func keyPrefix(
    op: OpID, semanticVersion: CodeFingerprint, trial: Int, isRandom: Bool = false
  ) -> DigestBuilder {
    var builder =
      isRandom
      ? DigestBuilder(domain: "recall.call.random.v1") : DigestBuilder(domain: "recall.call.v2")
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
  /// Hashes its digest's first word (``Digest/_rawHashValue(seed:)``).
  public func _rawHashValue(seed: Int) -> Int { digest._rawHashValue(seed: seed) }
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
  /// The qualified name. For a `@Memoized` function: its module, enclosing
  /// types, name, and parameters with their labels and types, such as
  /// `Experiments.train(_: Dataset, epochs: Int)` (overloads differ by
  /// type); for a `#memoized` block: its module and name.
  public let name: String
  /// Wraps a qualified op name.
  public init(_ name: String) { self.name = name }
  public init(stringLiteral value: String) { self.name = value }
  public var description: String { name }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }

  /// The name with argument labels only, as Swift names a function:
  /// `Experiments.train(_:epochs:)` for `Experiments.train(_: Dataset,
  /// epochs: Int)`; a name without parameter types is its own label name.
  /// Ops were named this way before their names had types, and their calls'
  /// keys still are (so stored results keep their ids).
  public var labelName: String {
    guard name.hasSuffix(")"), let open = Self.parametersStart(name) else { return name }
    let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
    guard !inner.isEmpty else { return name }
    var labels: [Substring] = []
    for parameter in Self.topLevelParts(inner) {
      guard let colon = parameter.firstIndex(of: ":") else { return name }
      let label = parameter[..<colon]
      guard
        label == "_" || label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "`" }),
        !label.isEmpty, parameter[colon...].hasPrefix(": ")
      else { return name }
      labels.append(label)
    }
    return name[..<open] + "(" + labels.map { $0 + ":" }.joined() + ")"
  }

  /// Where the parameter list of a name that ends with `)` starts: the `(`
  /// matching its last character.
  private static func parametersStart(_ name: String) -> String.Index? {
    var depth = 0
    var index = name.endIndex
    while index > name.startIndex {
      index = name.index(before: index)
      let character = name[index]
      if ")]".contains(character) || (character == ">" && !isArrow(name, index)) {
        depth += 1
      } else if "([<".contains(character) {
        depth -= 1
        if depth == 0 { return character == "(" ? index : nil }
      }
    }
    return nil
  }

  /// Whether the `>` at `index` ends a `->`.
  private static func isArrow<S: StringProtocol>(_ text: S, _ index: S.Index) -> Bool {
    index > text.startIndex && text[text.index(before: index)] == "-"
  }

  /// A parameter list split at its top-level `, `.
  private static func topLevelParts(_ text: Substring) -> [Substring] {
    var parts: [Substring] = []
    var depth = 0
    var start = text.startIndex
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      if "([<".contains(character) {
        depth += 1
      } else if ")]".contains(character) || (character == ">" && !isArrow(text, index)) {
        depth -= 1
      } else if character == ",", depth == 0 {
        parts.append(text[start..<index])
        start = text.index(after: index)
        if start < text.endIndex, text[start] == " " { start = text.index(after: start) }
      }
      index = text.index(after: index)
    }
    parts.append(text[start...])
    return parts
  }
}
