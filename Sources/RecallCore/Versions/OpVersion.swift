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
  /// When a process last used this version: recorded at its first miss in a
  /// process, and for hits when the process saves its usage counts (at most
  /// ten seconds later, and at exit): once per op version and process, and
  /// again every five minutes in a long one.
  public var lastSeen: Date
  /// The op's parameter names in this version.
  public var parameters: [String]
  /// How many stored calls were made with this version.
  public var calls: Int
  /// Whether this is a current version: the version some program ran last
  /// (each program — a host and an executable path, so each checkout of a
  /// project — has its own). Calls filed under no current version's semantic
  /// version are stale (``Store/staleCalls(of:unusedFor:startedBefore:)``). A program that has not
  /// run the op for ``OpVersion/programLifetime`` while another one has no
  /// longer counts.
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

/// Where an op version last ran: the version a program (a host and an
/// executable path) used last — the one its most recently started process
/// uses — and when it was last seen.
public struct VersionLocation: Sendable, Hashable {
  /// The program (``VersionRegistration/location``).
  public var location: String
  /// The version it used last.
  public var version: CodeFingerprint
  /// When.
  public var lastSeen: Date

  /// Creates a location.
  public init(location: String, version: CodeFingerprint, lastSeen: Date) {
    self.location = location
    self.version = version
    self.lastSeen = lastSeen
  }
}

/// A process's use of an op version, for ``StoreWriter/sawVersions(_:at:)``.
public struct VersionSighting: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// The version.
  public var version: CodeFingerprint
  /// The program (``VersionRegistration/location``).
  public var location: String
  /// When the process started using the version: a program's last version
  /// is the one its most recently started process uses, so a process still
  /// running older code does not take it back.
  public var since: Date

  /// Creates a sighting.
  public init(op: OpID, version: CodeFingerprint, location: String, since: Date) {
    self.op = op
    self.version = version
    self.location = location
    self.since = since
  }
}

extension OpVersion {
  /// How long a program's last version stays current after another program
  /// ran the op: 30 days.
  public static let programLifetime: TimeInterval = 30 * 24 * 3600

  /// Marks the current versions among an op's versions (``isCurrent``): the
  /// version each program ran last, leaving out programs that have not run
  /// the op for ``programLifetime`` before the latest one did. A store with
  /// no recorded locations (written before they were kept) marks the version
  /// last seen anywhere.
  public static func markingCurrent(_ versions: [OpVersion], locations: [VersionLocation])
    -> [OpVersion]
  {
    var versions = versions
    for index in versions.indices { versions[index].isCurrent = false }
    if let newest = locations.map(\.lastSeen).max() {
      let current = Set(
        locations.filter { $0.lastSeen >= newest.addingTimeInterval(-programLifetime) }.map(
          \.version))
      for index in versions.indices where current.contains(versions[index].version) {
        versions[index].isCurrent = true
      }
      if versions.contains(where: \.isCurrent) { return versions }
    }
    if let latest = versions.indices.max(by: {
      (versions[$0].lastSeen, versions[$0].firstSeen) < (
        versions[$1].lastSeen, versions[$1].firstSeen
      )
    }) {
      versions[latest].isCurrent = true
    }
    return versions
  }
}

/// What a store records about an op version when a process runs it.
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
  /// The identity of the op's own component (``CodeComponent/identity``),
  /// such as `func Trainer.fit(_:epochs:)`: the one component a version that
  /// adds parameters may change and still inherit its predecessor's results.
  public var ownIdentity: String
  /// Where the version runs: the running program (host and executable path),
  /// so that each checkout of a project has its own current version (see
  /// ``OpVersion/isCurrent``).
  public var location: String
  /// The name the op had before op names had parameter types (its
  /// ``OpID/labelName``), when it differs: a store that has versions under
  /// that name and none under the new one renames them, with their calls.
  public var formerName: OpID?
  /// When the registering process started using the store (`nil`: the
  /// registration's date): a program's last version is the one its most
  /// recently started process uses, so a process still running older code
  /// does not take it back at a later miss (``VersionSighting/since``).
  public var since: Date?
  /// The components the version covers, computed only when the store has not
  /// seen the version before.
  public var components: @Sendable () -> [CodeComponent]

  /// Creates a registration.
  public init(
    op: OpID, version: CodeFingerprint, parameters: [String], addedParameters: [String],
    ownIdentity: String? = nil, location: String = VersionRegistration.thisProgram,
    formerName: OpID? = nil,
    components: @escaping @Sendable () -> [CodeComponent]
  ) {
    self.formerName = formerName
    self.op = op
    self.version = version
    self.parameters = parameters
    self.addedParameters = addedParameters
    self.ownIdentity = ownIdentity ?? Self.ownIdentity(of: op)
    self.location = location
    self.components = components
  }

  /// The identity of an op's own component as the macros name it: `func `
  /// and the op's label name (``OpID/labelName``) without its module.
  static func ownIdentity(of op: OpID) -> String {
    let name = op.labelName
    guard let dot = name.firstIndex(of: ".") else { return "func " + name }
    return "func " + name[name.index(after: dot)...]
  }

  /// The program this process runs, as a location of versions: host name and
  /// executable path. Two checkouts of a project build two executables, so
  /// each has its own current version; the same checkout rebuilt from
  /// another branch is the same location, whose current version is the one
  /// it ran last.
  public static let thisProgram: String = {
    // Linux names the running executable in /proc; elsewhere, the bundle's
    // executable path, made absolute and with links resolved.
    // (`readlink` itself: Foundation's file manager is slow the first time
    // in a fresh process; scenario C.)
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let executable =
      (count > 0
        ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil)
      ?? (Bundle.main.executablePath ?? CommandLine.arguments.first).map { path in
        realpath(path, nil).map { resolved in
          defer { free(resolved) }
          return String(cString: resolved)
        } ?? path
      } ?? "unknown"
    return Host.name + ":" + executable
  }()

  /// The semantic version a version the store has not seen is filed under,
  /// among the op's versions: the rule every backend applies, in one place.
  /// The latest version is the one this registration's program ran last
  /// (`lastHere`), else the one last seen anywhere; then
  /// ``semanticVersion(following:components:latestComponents:)``.
  ///
  /// - Parameters:
  ///   - versions: The op's versions the store has.
  ///   - lastHere: The version this program ran last, if the store knows.
  ///   - components: This version's components.
  ///   - componentsOf: Reads a version's recorded components.
  public func semanticVersion(
    among versions: [OpVersion], lastHere: CodeFingerprint?, components: [CodeComponent],
    componentsOf: (OpVersion) throws -> [CodeComponent]?
  ) rethrows -> CodeFingerprint {
    let latest =
      lastHere.flatMap { here in versions.first { $0.version == here } }
      ?? versions.max { ($0.lastSeen, $0.firstSeen) < ($1.lastSeen, $1.firstSeen) }
    return try semanticVersion(following: latest, components: components) {
      try latest.flatMap(componentsOf)
    }
  }

  /// Whether the new version differs from `latest` only by parameters
  /// declared added (none removed): the condition on parameters for
  /// inheriting its semantic version.
  public func addsParameters(to latest: OpVersion?) -> Bool {
    guard let latest else { return false }
    let new = parameters.filter { !latest.parameters.contains($0) }
    let removed = latest.parameters.filter { !parameters.contains($0) }
    return !new.isEmpty && removed.isEmpty && new.allSatisfy(addedParameters.contains)
  }

  /// The semantic version a version the store has not seen is filed under,
  /// given the op's most recently run version and the components of both.
  ///
  /// A version is its own semantic version, except when it only adds
  /// parameters to the latest version: it differs from it by parameters
  /// declared added, and by no removed parameter (``addsParameters(to:)``),
  /// and every component other than the op's own declaration — each helper,
  /// global and type it reaches — is identical in both (same identities, same
  /// fingerprints). Then it is the latest version with those parameters at
  /// their defaults, and inherits its semantic version, so that calls from
  /// before the parameters existed are found. The op's own declaration may
  /// change in the same edit (it must, to use the parameter): declaring a
  /// parameter added asserts that, at its default, the new body computes what
  /// the old one did. A helper edited in the same build makes it an ordinary
  /// code change. Once a version with the parameters has run, a later edit is
  /// an ordinary code change again.
  ///
  /// - Parameters:
  ///   - latest: The op's most recently run version, if any.
  ///   - components: This version's components.
  ///   - latestComponents: Reads the latest version's components (`nil` or
  ///     empty when the store did not record them: then nothing is
  ///     inherited); called only when the parameters allow inheriting.
  public func semanticVersion(
    following latest: OpVersion?, components: [CodeComponent],
    latestComponents: () throws -> [CodeComponent]?
  ) rethrows -> CodeFingerprint {
    guard let latest, addsParameters(to: latest), let old = try latestComponents(), !old.isEmpty
    else {
      return version
    }
    // Overloads share their identity: with two components of it, the one
    // that may change cannot be told from the other.
    guard components.count(where: { $0.identity == ownIdentity }) <= 1,
      old.count(where: { $0.identity == ownIdentity }) <= 1
    else { return version }
    func others(_ components: [CodeComponent]) -> Set<[String]> {
      Set(components.filter { $0.identity != ownIdentity }.map { [$0.identity, $0.fingerprint] })
    }
    return others(components) == others(old) ? latest.semanticVersion : version
  }
}
