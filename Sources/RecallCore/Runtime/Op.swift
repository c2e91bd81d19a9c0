import Synchronization

/// An op as the runtime sees it: its identity, its current version and what a
/// store records about that version.
public struct Op: Sendable, Hashable, CustomStringConvertible {
  /// The op's identity.
  public var id: OpID { details.id }
  /// The op version: the fingerprint of its code (and, with the build plugin,
  /// of the code it reaches).
  public var version: CodeFingerprint { details.version }
  /// Whether the result type is part of the key: for blocks, whose result type
  /// is inferred and so not part of their code fingerprint.
  public let keysResultType: Bool
  /// The op's parameter names.
  public var parameters: [String] { details.parameters }
  /// Parameters declared with `@Memoized(addedParameters:)`.
  public var addedParameters: [String] { details.addedParameters }
  /// The components the version covers, for the store's record of versions.
  public var components: @Sendable () -> [CodeComponent] { details.components }
  /// What is kept of the op's results, over the store's policy (`nil`: the
  /// store's ``Store/Configuration/storage``).
  public var storage: StoragePolicy? { details.storage }

  /// A digest of the id and version, so that stores find their record of the
  /// op's semantic version without hashing strings on every call.
  let identity: Digest
  /// Everything but the identity and ``keysResultType``, in one reference,
  /// so that copying an op (every call does) retains one object rather than
  /// one per field.
  let details: OpDetails
  /// The op's resolution in the store it was last used with, shared by the
  /// copies of this op (a macro's op is made once per site).
  var state: OpState { details.state }
  /// The resolution a store assumes until it has looked up the version's
  /// semantic version: calls filed under the version itself.
  var assumedResolution: ResolvedOp { details.assumedResolution }

  /// Creates an op.
  ///
  /// - Parameters:
  ///   - id: The op's identity.
  ///   - version: The op version.
  ///   - keysResultType: Whether the result type is part of the key.
  ///   - parameters: The op's parameter names, recorded with the version.
  ///   - addedParameters: Parameters added after results were stored: when
  ///     they and the op's own declaration are the only difference from the
  ///     op's latest version, the new version inherits that version's results
  ///     (see ``VersionRegistration/semanticVersion(following:components:latestComponents:)``).
  ///   - ownIdentity: The identity of the op's own component among
  ///     `components` (by default `func ` and the op's name without its
  ///     module): the one component a version that adds parameters may change.
  ///   - components: The code the version covers, recorded (once per version)
  ///     so that versions can be compared.
  ///   - keyName: The name the op's call keys are made with (by default
  ///     `id`): for functions, the name with labels only
  ///     (``OpID/labelName``), as before op names had types, so that stored
  ///     results keep their ids.
  ///   - storage: What is kept of the op's results, over the store's
  ///     ``Store/Configuration/storage`` (`nil`: the store's).
  public init(
    id: OpID, version: CodeFingerprint, keysResultType: Bool = false, parameters: [String] = [],
    addedParameters: [String] = [], ownIdentity: String? = nil,
    components: @escaping @Sendable () -> [CodeComponent] = { [] }, keyName: OpID? = nil,
    storage: StoragePolicy? = nil
  ) {
    self.init(
      id: id, version: version, keysResultType: keysResultType, parameters: parameters,
      addedParameters: addedParameters, ownIdentity: ownIdentity, components: components,
      keyName: keyName, storage: storage, build: "")
  }

  /// Creates an op whose module's table has a build section (``FingerprintTable/build``).
  package init(
    id: OpID, version: CodeFingerprint, keysResultType: Bool, parameters: [String],
    addedParameters: [String], ownIdentity: String?,
    components: @escaping @Sendable () -> [CodeComponent], keyName: OpID?,
    storage: StoragePolicy?, build: StaticString
  ) {
    let keyName = keyName ?? id
    self.keysResultType = keysResultType
    var builder = DigestBuilder(domain: "recall.op.v1")
    builder.add(id.name)
    builder.add(version.hex)
    identity = builder.finalize()
    details = OpDetails(
      id: id, version: version, parameters: parameters, addedParameters: addedParameters,
      ownIdentity: ownIdentity ?? VersionRegistration.ownIdentity(of: keyName), keyName: keyName,
      components: components, storage: storage, build: build,
      assumedResolution: ResolvedOp(
        semanticVersion: version,
        keyPrefix: CallID.keyPrefix(op: keyName, semanticVersion: version, trial: 0),
        isConfirmed: false))
  }

  public static func == (lhs: Op, rhs: Op) -> Bool { lhs.identity == rhs.identity }

  public func hash(into hasher: inout Hasher) { hasher.combine(identity) }

  public var description: String { "\(id.name)@\(version)" }

  /// What a store records the first time it sees this version.
  var registration: VersionRegistration {
    VersionRegistration(
      op: id, version: version, parameters: parameters, addedParameters: addedParameters,
      ownIdentity: details.ownIdentity, formerName: details.keyName == id ? nil : details.keyName,
      components: components)
  }
}

/// The parts of an op that calls do not copy field by field.
final class OpDetails: Sendable {
  let id: OpID
  let version: CodeFingerprint
  let parameters: [String]
  let addedParameters: [String]
  let ownIdentity: String
  /// The name call keys are made with (``Op/init(id:version:keysResultType:parameters:addedParameters:ownIdentity:components:keyName:storage:)``).
  let keyName: OpID
  let components: @Sendable () -> [CodeComponent]
  let storage: StoragePolicy?
  /// The build section of the op's module's table (``FingerprintTable/build``),
  /// read when a store records the op's first call in a process.
  let build: StaticString
  /// ``StoragePolicy/expiresAfter`` of the op's policy, in seconds, read by
  /// every hit.
  let expirySeconds: Double?
  let assumedResolution: ResolvedOp
  let state = OpState()
  /// The ids of its warm calls, by warm key (``WarmCalls``).
  let warm = WarmCalls()
  /// The content ids of added parameters' defaults, by parameter name and
  /// type (a generic function's instances have defaults of several types):
  /// hashed at the first call with them, not at every call.
  let defaultIDs = Mutex<[DefaultKey: ContentID]>([:])
  /// Whether the op version's calls are random, as far as this process has
  /// seen (a ``Randomness`` raw value): which key a call is looked up under
  /// first. Only a hint: a call found under neither key runs, and is filed by
  /// what it did.
  let randomness = Atomic<UInt8>(Randomness.unknown.rawValue)
  /// The traits of the result type its calls were last looked up with
  /// (``resultTraits(_:)``): the type's address shifted left by 8 bits, and
  /// the traits with ``ResultTraits/known`` in the low byte; 0 before.
  private let lastResultTraits = Atomic<UInt64>(0)
  /// The key prefixes of random calls, by trial (under the semantic version
  /// they were made for), so that a hit in a trial hashes no more than any
  /// other hit.
  let randomPrefixes = Mutex<[Int: RandomPrefix]>([:])

  struct DefaultKey: Hashable {
    let name: String
    let type: ObjectIdentifier
  }

  struct RandomPrefix {
    let semanticVersion: CodeFingerprint
    let prefix: DigestBuilder
  }

  /// What this process has seen of an op version's calls.
  enum Randomness: UInt8 {
    /// None ran or was found yet.
    case unknown
    /// Its calls ran or were found as calls that every trial shares.
    case shared
    /// A call of it was random: it drew from ``RandomSource``, or used a
    /// random call's result.
    case random
  }

  var knownRandomness: Randomness {
    Randomness(rawValue: randomness.load(ordering: .relaxed)) ?? .unknown
  }

  /// Notes what a call of the op version turned out to be: a random call
  /// makes the version random; a shared one makes an unknown version shared.
  func note(random: Bool) {
    if random {
      randomness.store(Randomness.random.rawValue, ordering: .relaxed)
    } else if knownRandomness == .unknown {
      _ = randomness.compareExchange(
        expected: Randomness.unknown.rawValue, desired: Randomness.shared.rawValue,
        ordering: .relaxed)
    }
  }

  /// The key prefix of the op's random calls in `trial` under `semanticVersion`.
  func randomPrefix(_ semanticVersion: CodeFingerprint, trial: Int) -> DigestBuilder {
    if let known = randomPrefixes.withLock({ $0[trial] }), known.semanticVersion == semanticVersion
    {
      return known.prefix
    }
    let prefix = CallID.keyPrefix(
      op: keyName, semanticVersion: semanticVersion, trial: trial, isRandom: true)
    randomPrefixes.withLock { prefixes in
      // Bounded: a program that runs very many trials hashes again.
      if prefixes.count >= 4096 { prefixes.removeAll(keepingCapacity: true) }
      prefixes[trial] = RandomPrefix(semanticVersion: semanticVersion, prefix: prefix)
    }
    return prefix
  }

  init(
    id: OpID, version: CodeFingerprint, parameters: [String], addedParameters: [String],
    ownIdentity: String, keyName: OpID, components: @escaping @Sendable () -> [CodeComponent],
    storage: StoragePolicy?, build: StaticString, assumedResolution: ResolvedOp
  ) {
    self.id = id
    self.version = version
    self.storage = storage
    self.build = build
    self.expirySeconds = storage?.expiresAfter?.inSeconds
    self.parameters = parameters
    self.addedParameters = addedParameters
    self.ownIdentity = ownIdentity
    self.keyName = keyName
    self.components = components
    self.assumedResolution = assumedResolution
  }
}

/// The op's resolution in the store it was last used with: a hit checks it
/// with one uncontended lock and two comparisons, instead of hashing.
final class OpState: Sendable {
  struct Entry {
    var store: UInt64
    var generation: UInt64
    var resolved: ResolvedOp
  }

  let entry = Mutex<Entry?>(nil)
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
  public init<Value: Encodable & Sendable>(_ name: String, _ value: Value, keyingType: Bool = false)
  {
    self.name = name
    self.value = value
    self.keyedType = keyingType ? Value.self : nil
    self.defaultValue = nil
  }

  /// Creates an argument of a parameter added after results were stored: while
  /// its value equals `defaultValue` it is left out of the key (and of the
  /// call's recorded inputs), so the call is the one made before the parameter
  /// existed.
  ///
  /// - Parameters:
  ///   - name: The parameter name.
  ///   - value: The value.
  ///   - defaultValue: The parameter's default: the value calls made before
  ///     the parameter existed behaved as if they passed.
  ///   - keyingType: Whether the value's type is part of the key.
  public init<Value: Encodable & Sendable>(
    added name: String, _ value: Value, default defaultValue: Value, keyingType: Bool = false
  ) {
    self.init(name, value, keyingType: keyingType)
    self.defaultValue = defaultValue
    self.hasDefault = true
  }

  /// The default of an added parameter, whose value is left out of the key.
  public private(set) var defaultValue: (any Encodable & Sendable)?

  /// Whether the parameter has a default (``defaultValue``), read by a warm
  /// hit without copying the default out.
  private(set) var hasDefault = false
}

/// What a lookup of a stored result needs to know of its type: three
/// conformance checks, which the runtime answers from a cache in about 400
/// instructions each (a cached sweep's point made three).
struct ResultTraits: OptionSet {
  let rawValue: UInt64
  /// A `Lazy` result (``LazyHandle``).
  static let lazy = ResultTraits(rawValue: 1)
  /// A numeric array or `Data`, which decodes from any bytes
  /// (``RawBuffer/decodesAnyBytes``).
  static let decodesAnyBytes = ResultTraits(rawValue: 2)
  /// A result of several outputs or a collection stored by element.
  static let storedByParts = ResultTraits(rawValue: 4)
  /// A type whose values never hold a tracked file
  /// (``FileCollection/cannotHold(_:)``).
  static let holdsNoFiles = ResultTraits(rawValue: 8)
  /// Set in a cached value: the traits were found.
  static let known = ResultTraits(rawValue: 0x80)

  /// Traits from their bits.
  init(rawValue: UInt64) { self.rawValue = rawValue }

  /// The traits of `type`, asked of the runtime.
  init(of type: any Any.Type) {
    var traits: ResultTraits = .known
    if type is any LazyHandle.Type { traits.insert(.lazy) }
    if (type as? any RawBuffer.Type)?.decodesAnyBytes == true { traits.insert(.decodesAnyBytes) }
    if type is any _StoredByParts.Type { traits.insert(.storedByParts) }
    if FileCollection.cannotHold(type) { traits.insert(.holdsNoFiles) }
    self = traits
  }
}

extension OpDetails {
  /// The traits of `type`, a result type of the op's calls: found once, and
  /// again only when a call asks for another type (a generic function's).
  func resultTraits(_ type: any Any.Type) -> ResultTraits {
    let address = UInt64(UInt(bitPattern: ObjectIdentifier(type)))
    // An address that does not fit in 56 bits (none does in user space
    // today) is not cached.
    guard address >> 56 == 0 else { return ResultTraits(of: type) }
    let cached = lastResultTraits.load(ordering: .relaxed)
    if cached >> 8 == address, cached & ResultTraits.known.rawValue != 0 {
      return ResultTraits(rawValue: cached & 0xff)
    }
    let traits = ResultTraits(of: type)
    lastResultTraits.store(address << 8 | traits.rawValue, ordering: .relaxed)
    return traits
  }
}
