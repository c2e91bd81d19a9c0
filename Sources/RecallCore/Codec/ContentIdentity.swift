import Foundation

/// A type that identifies its values itself, instead of by their canonical
/// encoding: for values whose encoding is expensive (a 10 GB tensor hashed on
/// every call), not canonical (an object with a cache inside) or not stable.
///
/// As an argument of a memoized call, such a value is keyed by what
/// ``contentIdentity(into:)`` feeds the hasher, never encoded:
///
/// ```swift
/// struct Tensor: Codable, Sendable, CustomContentIdentity {
///   var storage: TensorStorage
///   let checkpoint: String         // where it was loaded from
///   let step: Int
///
///   static var identityScheme: String { "tensor-checkpoint-v1" }
///   func contentIdentity(into hasher: inout ContentHasher) {
///     hasher.combine(checkpoint)
///     hasher.combine(step)
///   }
/// }
///
/// @Memoized
/// func evaluate(_ weights: Tensor, on split: Split) -> Double { ... }
/// ```
///
/// Equal identities must mean interchangeable values: Recall trusts the
/// identity, and a call with another value of the same identity is a hit.
/// The default (for every other type) stays the canonical encoding.
///
/// What is recorded: the call's input is a small *identity reference* in
/// place of the value — the scheme, the value's type, the identity's digest
/// and its ``identityLabel`` — so the store tells which scheme produced a key,
/// `recall show` shows it, and the value itself is not copied into the store
/// (``Store/refresh(_:parallelism:progress:handlesInterrupt:)-(RefreshableOp...,_,_,_)``
/// cannot call the function again with it, and says so in
/// ``RefreshReport/unidentified``). The key is the reference's content id: the
/// scheme, the type's name, the identity and the label all enter it, so
/// renaming or moving the type, or changing what its label shows, makes new
/// keys. A reference is a keyed value with a `recall.identity` key, which no
/// ordinary type encodes. An input with a custom identity starts a history of
/// its own.
///
/// It applies to an argument itself (an optional one too, and a ``Lazy`` of
/// it), not to a value inside another argument (a struct's property is
/// hashed by its encoding). As a result, a value is stored and identified by
/// its encoding, as any other; a call that then takes it is keyed by its
/// identity only, so a function returning one must give it a new identity
/// when its code changes what it returns.
public protocol CustomContentIdentity: Encodable {
  /// The name of how ``contentIdentity(into:)`` identifies a value, recorded
  /// with every key it makes. Change it when the identity changes meaning:
  /// calls keyed by the old scheme are then not found.
  static var identityScheme: String { get }

  /// Feeds what identifies the value into `hasher`.
  ///
  /// - Throws: Anything; the call then runs without memoization, with a
  ///   warning, as for an argument that cannot be encoded.
  func contentIdentity(into hasher: inout ContentHasher) throws

  /// A short text for the value in provenance (`recall show`, the viewer),
  /// such as a file's name; `nil` by default. It is part of the key: make it
  /// from what the identity covers.
  var identityLabel: String? { get }
}

extension CustomContentIdentity {
  public var identityLabel: String? { nil }
}

/// What a ``CustomContentIdentity`` feeds its identity into: SHA-256 over
/// framed fields (each one's length first, so `("ab", "c")` and `("a", "bc")`
/// differ).
public struct ContentHasher {
  var builder = DigestBuilder(domain: "recall.identity.v1")

  /// Adds bytes.
  public mutating func combine(_ bytes: some Sequence<UInt8>) {
    let array = Array(bytes)
    array.withUnsafeBytes { builder.add($0) }
  }

  /// Adds a string's UTF-8 bytes.
  public mutating func combine(_ string: String) {
    builder.add(string)
  }

  /// Adds an integer.
  public mutating func combine(_ value: Int) {
    builder.add(value)
  }

  /// Adds a value's content id (its canonical encoding's SHA-256).
  ///
  /// - Throws: When the value cannot be encoded.
  public mutating func combine<Value: Encodable>(contentOf value: Value) throws {
    builder.add(try ValueCodec.contentID(of: value).digest)
  }
}

/// What a call records in place of an input with a custom identity (and the
/// bytes its content id hashes).
struct IdentityReference: Codable, Equatable {
  /// The ``CustomContentIdentity/identityScheme``.
  var scheme: String
  /// The value's type (stable name).
  var type: String
  /// The identity's SHA-256, hexadecimal.
  var digest: String
  /// The ``CustomContentIdentity/identityLabel``.
  var label: String?

  enum CodingKeys: String, CodingKey {
    // A key no ordinary type has, so that a reference is recognized.
    case scheme = "recall.identity"
    case type, digest, label
  }

  /// The reference of a value, hashed as an argument.
  static func hashed<Value: CustomContentIdentity>(_ value: Value) throws -> HashedValue {
    var hasher = ContentHasher()
    hasher.combine(Value.identityScheme)
    try value.contentIdentity(into: &hasher)
    let reference = IdentityReference(
      scheme: Value.identityScheme, type: TypeName.stable(Value.self),
      digest: hasher.builder.finalize().hex, label: value.identityLabel)
    return try ValueCodec.hash(reference)
  }

  /// The reference stored bytes hold, if they hold one.
  static func stored(in bytes: [UInt8]) -> IdentityReference? {
    try? ValueCodec.decode(IdentityReference.self, from: bytes)
  }
}

extension CustomContentIdentity {
  /// The value's identity reference, hashed: what an argument is keyed by.
  func hashedIdentity() throws -> HashedValue { try IdentityReference.hashed(self) }
}

extension ValueCodec {
  /// Hashes a value as an argument is keyed: a ``Lazy`` by the content id
  /// it knows (neither read nor hashed again), a ``CustomContentIdentity``
  /// by its identity reference, anything else by its canonical encoding.
  /// Queries that look for calls by an argument's value hash it this way.
  static func hashArgument<T: Encodable>(_ value: T) throws -> HashedValue {
    if let lazy = value as? any LazyHandle { return try lazy.hashed() }
    if let custom = value as? any CustomContentIdentity { return try custom.hashedIdentity() }
    return try hash(value)
  }
}

/// A large input identified by a name and a version rather than by its
/// content (mamo's external values): `Named("mnist-train", version:
/// "2024-05", images)`.
///
/// A call taking a `Named` value is keyed by its name and version; its value
/// is never hashed, and not stored: the call's input is recorded as
/// `mnist-train@2024-05`. Give a new version whenever the value changes:
/// calls keyed by the old one are then not found.
///
/// Register the value in a store (``Store/register(_:)``) where it is made,
/// and Recall checks that promise: it hashes the value once and records what
/// the name and version point to; registering the same name and version with
/// other content is refused.
///
/// ```swift
/// let train = Named("mnist-train", version: "2024-05", try loadMNIST())
/// try store.register(train)            // once, when the data set is made
///
/// @Memoized
/// func fit(_ data: Named<Dataset>, epochs: Int) -> Model { ... data.value ... }
/// ```
public struct Named<Value: Codable & Sendable>: Codable, Sendable, CustomContentIdentity {
  /// The name: what the value is.
  public let name: String
  /// The version: which state of it. Equal names and versions must mean
  /// equal values.
  public let version: String
  /// The value.
  public let value: Value

  /// Names a value.
  ///
  /// - Parameters:
  ///   - name: What the value is, such as `mnist-train`.
  ///   - version: Which state of it, such as `2024-05`; change it when the
  ///     value changes.
  ///   - value: The value.
  public init(_ name: String, version: String, _ value: Value) {
    self.name = name
    self.version = version
    self.value = value
  }

  public static var identityScheme: String { "recall.named.v1" }

  public func contentIdentity(into hasher: inout ContentHasher) {
    hasher.combine(name)
    hasher.combine(version)
  }

  /// `name@version`.
  public var identityLabel: String? { "\(name)@\(version)" }
}

extension Store {
  /// The tag that records what a named value's name and version point to:
  /// `recall.named/NAME@VERSION`, with `%` and `@` in either escaped, so no
  /// two pairs share a tag.
  static func registrationTag(name: String, version: String) -> String {
    func escaped(_ text: String) -> String {
      text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "@", with: "%40")
    }
    return StoreTag.registrationPrefix + escaped(name) + "@" + escaped(version)
  }

  /// Records what a named value's name and version point to (its content id,
  /// hashed now), so that other content under the same name and version is
  /// refused; registering the same content again does nothing. The record is
  /// a tag (`recall.named/NAME@VERSION`, listed by `recall tag`) set in one
  /// step, so that of two processes registering at once, one is refused. It
  /// keeps nothing from garbage collection or eviction: the value itself is
  /// not stored.
  ///
  /// - Returns: The value's content id.
  /// - Throws: ``RecallError/invalidValue`` when the name and version were
  ///   registered with other content (give the value a new version), or when
  ///   the value cannot be encoded; another ``RecallError`` when the store
  ///   cannot be read or written.
  @discardableResult
  public func register<Value>(_ named: Named<Value>) throws -> ContentID {
    let label = "\(named.name)@\(named.version)"
    let cid: ContentID
    do {
      cid = try ValueCodec.contentID(of: named.value)
    } catch {
      throw RecallError.invalidValue("\(label) could not be encoded: \(error)")
    }
    let name = Self.registrationTag(name: named.name, version: named.version)
    switch try backend.addTag(StoreTag(name: name, target: .value(cid))) {
    case nil:
      return cid
    case .value(let registered) where registered == cid:
      return cid
    case .value(let registered):
      throw RecallError.invalidValue(
        "\(label) was registered with other content (\(registered)), not this value (\(cid)): "
          + "calls keyed by it would be served results of the other. Give it a new version, "
          + "such as Named(\"\(named.name)\", version: \"…\", value).")
    case .call:
      throw RecallError.invalidValue(
        "the tag '\(name)' names a call, not what \(label) is: remove it "
          + "('recall tag --remove \(name)') to register \(label)")
    }
  }
}
