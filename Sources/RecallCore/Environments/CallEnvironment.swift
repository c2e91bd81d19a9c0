import Foundation
import RecallCodeTable

/// What a call ran in: the code's git commit and uncommitted changes, the
/// compiler, the resolved dependencies, the operating system and
/// architecture, and Recall's version.
///
/// The build plugin records what it knows of the build (the package, its
/// commit and changes, the compiler, `Package.resolved`) in the module's
/// table; the runtime adds the rest. A store keeps one record per distinct
/// environment, and each call names its own (``CallRecord/environment``):
///
/// ```swift
/// let call = try store.calls(of: "Experiments.train(_:epochs:)").first!
/// if let environment = try store.environment(of: call) {
///   print(environment.commit ?? "not a git checkout", environment.isDirty == true ? "(dirty)" : "")
/// }
/// ```
///
/// Without the build plugin a call's environment has no commit, changes,
/// compiler or dependencies.
public struct CallEnvironment: Sendable, Hashable, Codable {
  /// The name of the package whose module declares the op.
  public var package: String?
  /// The git commit the package's tree was at when the module was built, or
  /// `nil` when it is not a git checkout (or was built without the plugin).
  public var commit: String?
  /// The SHA-256 (hex) of the changes the tree had over ``commit`` (the
  /// diff of tracked files, and the untracked Swift sources the build read),
  /// or `nil` when it had none. The changes themselves are stored once per
  /// digest (``Store/uncommittedChanges(of:)``).
  public var changesDigest: String?
  /// The compiler, as `swiftc --version` names it.
  public var compiler: String?
  /// The package's dependencies as `Package.resolved` pinned them.
  public var dependencies: [ResolvedDependency]
  /// The operating system the call ran on, such as
  /// `Debian GNU/Linux 12 (bookworm), Linux 6.8.0` or `macOS 15.1.0`.
  public var operatingSystem: String
  /// The processor architecture, such as `x86_64` or `arm64`.
  public var architecture: String
  /// Recall's version.
  public var recallVersion: String

  /// Creates an environment.
  public init(
    package: String? = nil, commit: String? = nil, changesDigest: String? = nil,
    compiler: String? = nil, dependencies: [ResolvedDependency] = [],
    operatingSystem: String, architecture: String, recallVersion: String
  ) {
    self.package = package
    self.commit = commit
    self.changesDigest = changesDigest
    self.compiler = compiler
    self.dependencies = dependencies
    self.operatingSystem = operatingSystem
    self.architecture = architecture
    self.recallVersion = recallVersion
  }

  /// Whether the tree had uncommitted changes; `nil` when its commit is
  /// not known.
  public var isDirty: Bool? { commit == nil ? nil : changesDigest != nil }

  /// The environment's id: a digest of its canonical encoding (``body``),
  /// the same in every store.
  public var id: EnvironmentID { EnvironmentID(body: body) }

  /// The canonical encoding a store keeps: JSON with sorted keys.
  public var body: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Strings, optionals and arrays of them always encode.
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
  }

  /// Reads an environment from its ``body``, or `nil` when it is not one.
  public init?(body: String) {
    guard let decoded = try? JSONDecoder().decode(Self.self, from: Data(body.utf8)) else {
      return nil
    }
    self = decoded
  }
}

/// A package dependency as `Package.resolved` pinned it.
public struct ResolvedDependency: Sendable, Hashable, Codable {
  /// The package's identity, such as `swift-numerics`.
  public var identity: String
  /// Where it comes from: a URL or a path.
  public var location: String
  /// The version it was resolved to, when it is pinned to one.
  public var version: String?
  /// The branch, when it is pinned to one.
  public var branch: String?
  /// The commit.
  public var revision: String?

  /// Creates a dependency.
  public init(
    identity: String, location: String, version: String? = nil, branch: String? = nil,
    revision: String? = nil
  ) {
    self.identity = identity
    self.location = location
    self.version = version
    self.branch = branch
    self.revision = revision
  }

  /// What it was resolved to: its version, else its branch and revision.
  public var resolution: String {
    if let version { return version }
    let revision = revision.map { String($0.prefix(12)) }
    return [branch, revision].compactMap { $0 }.joined(separator: " @ ")
  }
}

/// An environment's id: the first 64 bits of the SHA-256 of its canonical
/// encoding, shown as 16 hexadecimal digits.
public struct EnvironmentID: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The id's bits.
  public let rawValue: UInt64

  /// Creates an id from its bits.
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// Parses an id from its 16 hexadecimal digits.
  public init?(hex: String) {
    guard hex.utf8.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
    rawValue = value
  }

  init(body: String) {
    var builder = DigestBuilder(domain: "recall.environment.v1")
    builder.add(body)
    rawValue = builder.finalize().bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
  }

  /// The id as a store's 64-bit integer column holds it (its bits, signed).
  package var storedValue: Int64 { Int64(bitPattern: rawValue) }

  /// An id read from a store's 64-bit integer column.
  package init(storedValue: Int64) { rawValue = UInt64(bitPattern: storedValue) }

  /// The 16 hexadecimal digits.
  public var hex: String {
    let digits = String(rawValue, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  public var description: String { hex }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension CallEnvironment {
  /// Recall's version, recorded with every call.
  public static let recallVersion = "0.13.0"

  /// An environment from a module's build section (``BuildTable``) and this
  /// process: the environment, and the uncommitted changes the table holds.
  static func current(build: StaticString) -> (environment: CallEnvironment, changes: String?) {
    var environment = CallEnvironment(
      operatingSystem: thisOperatingSystem, architecture: thisArchitecture,
      recallVersion: recallVersion)
    var changes: String?
    let fields = build.withUTF8Buffer { BuildTable.parse($0) } ?? []
    for (name, value) in fields {
      switch name {
      case BuildTable.package: environment.package = value
      case BuildTable.commit: environment.commit = value
      case BuildTable.changesDigest: environment.changesDigest = value
      case BuildTable.changes: changes = value
      case BuildTable.compiler: environment.compiler = value
      case BuildTable.dependency:
        let parts = value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 else { continue }
        func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
        environment.dependencies.append(
          ResolvedDependency(
            identity: parts[0], location: parts[1], version: nonEmpty(parts[2]),
            branch: nonEmpty(parts[3]), revision: nonEmpty(parts[4])))
      default: continue
      }
    }
    return (environment, environment.changesDigest == nil ? nil : changes)
  }

  /// This process's operating system.
  static let thisOperatingSystem: String = {
    let version = ProcessInfo.processInfo.operatingSystemVersion
    let numbers = "\(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"
    #if os(Linux)
      // The distribution's name, and the kernel's version.
      return "\(ProcessInfo.processInfo.operatingSystemVersionString), Linux \(numbers)"
    #elseif os(macOS)
      return "macOS \(numbers)"
    #else
      return ProcessInfo.processInfo.operatingSystemVersionString
    #endif
  }()

  /// This process's architecture.
  static let thisArchitecture: String = {
    #if arch(x86_64)
      "x86_64"
    #elseif arch(arm64)
      "arm64"
    #elseif arch(i386)
      "i386"
    #elseif arch(arm)
      "arm"
    #else
      "unknown"
    #endif
  }()
}
