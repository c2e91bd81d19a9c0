import Foundation
import RecallCodeTable

/// The op versions a build of the code has: what ``Store/outdated(current:)``
/// compares a store with, before any of the code runs.
///
/// The build plugin writes them for every module it fingerprints
/// (`RecallVersions.json`, next to the module's generated table in
/// `.build/plugins/outputs/`); `recall outdated` finds those files under
/// a package's build directory (``manifests(under:)``). A program knows its
/// own ops' versions too (``init(ops:)``).
///
/// ```swift
/// let current = try CodeVersions(contentsOf: CodeVersions.manifests(under: buildDirectory))
/// let report = try store.outdated(current: current)
/// ```
public struct CodeVersions: Sendable {
  /// One op's current version.
  public struct Entry: Sendable, Hashable {
    /// The op, named with parameter types as stores name it.
    public var op: OpID
    /// The op version the code has now: what its next call is filed under
    /// (or, when a store accepted it as another, under that one's).
    public var version: CodeFingerprint
    /// The op's parameter names, in order (empty when not known).
    public var parameters: [String]
    /// Parameters declared added (`@Memoized(addedParameters:)`).
    public var addedParameters: [String]
    /// The identity and fingerprint of each component the version covers
    /// (sources are not kept): what a store compares with an older version's
    /// components to say what changed. Empty when not known.
    public var components: [CodeComponent]

    /// Creates an entry.
    public init(
      op: OpID, version: CodeFingerprint, parameters: [String] = [],
      addedParameters: [String] = [], components: [CodeComponent] = []
    ) {
      self.op = op
      self.version = version
      self.parameters = parameters
      self.addedParameters = addedParameters
      self.components = components
    }
  }

  /// The name of the files the build plugin writes (`RecallVersions.json`).
  public static let fileName = VersionManifest.fileName

  /// The entries, one per op.
  public var entries: [Entry]

  /// Creates versions from entries.
  public init(_ entries: [Entry]) {
    self.entries = entries
  }

  /// The versions of ops as this process declared them (their
  /// ``Op/version``, components and parameters).
  public init(ops: [Op]) {
    self.init(
      ops.map {
        Entry(
          op: $0.id, version: $0.version, parameters: $0.parameters,
          addedParameters: $0.addedParameters, components: $0.components())
      })
  }

  /// Reads the version files the build plugin wrote.
  ///
  /// - Throws: ``RecallError/invalidValue(_:)`` when a file cannot be read,
  ///   is not such a file, or was written by a newer Recall.
  public init(contentsOf files: [URL]) throws {
    var entries: [Entry] = []
    for file in files {
      let manifest = try Self.read(file)
      entries += manifest.ops.map { op in
        Entry(
          op: OpID("\(manifest.module).\(op.typedName)"),
          version: CodeFingerprint(
            hex: Self.version(op.version, manual: op.manualVersion ?? "")),
          parameters: op.parameters, addedParameters: op.addedParameters,
          components: op.components.compactMap { pair in
            pair.count == 2
              ? CodeComponent(identity: pair[0], fingerprint: pair[1], source: "") : nil
          } + (op.manualVersion.flatMap { $0.isEmpty ? nil : [Self.manualComponent($0)] } ?? []))
      }
    }
    self.init(entries)
  }

  /// The version files the build plugin wrote under a package's build
  /// directory (`.build` by default): each module's newest, whatever the
  /// configuration or platform it was built for.
  ///
  /// - Throws: ``RecallError/invalidValue(_:)`` when no file there can be
  ///   read, and one is not a file the build plugin wrote, or was written
  ///   by a newer Recall (files that cannot be read are left out when
  ///   others can).
  public static func manifests(under buildDirectory: URL) throws -> [URL] {
    let outputs = buildDirectory.appending(path: "plugins/outputs")
    guard
      let walker = FileManager.default.enumerator(
        at: outputs, includingPropertiesForKeys: [.contentModificationDateKey])
    else { return [] }
    var newest: [String: (url: URL, date: Date)] = [:]
    var unreadable: (any Error)?
    for case let url as URL in walker where url.lastPathComponent == VersionManifest.fileName {
      // Several builds of one module (debug and release, two platforms):
      // the most recently written one is the code as it is now.
      let date =
        (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate)
        ?? .distantPast
      let manifest: VersionManifest
      do {
        manifest = try read(url)
      } catch {
        // A leftover of another toolchain or configuration: the others say
        // what the code is, unless there are none.
        unreadable = unreadable ?? error
        continue
      }
      if let known = newest[manifest.module], known.date >= date { continue }
      newest[manifest.module] = (url, date)
    }
    if newest.isEmpty, let unreadable { throw unreadable }
    return newest.keys.sorted().map { newest[$0]!.url }
  }

  /// Reads one version file.
  private static func read(_ file: URL) throws -> VersionManifest {
    struct Format: Decodable { var format: Int }
    let data: Data
    do {
      data = try Data(contentsOf: file)
    } catch {
      throw RecallError.invalidValue(
        "\(file.path) cannot be read (\(error.localizedDescription)); check the path")
    }
    if let format = try? JSONDecoder().decode(Format.self, from: data).format,
      format > VersionManifest.currentFormat
    {
      throw RecallError.invalidValue(
        "\(file.path) was written by a newer Recall (format \(format)); use that Recall's "
          + "`recall` tool")
    }
    do {
      return try JSONDecoder().decode(VersionManifest.self, from: data)
    } catch {
      throw RecallError.invalidValue(
        "\(file.path) is not a version file the build plugin wrote (\(error)); build the "
          + "package again (`swift build`) to write it anew")
    }
  }

  /// The entries for a stored op: by its full name, else by its label name
  /// when one entry has it (a store that named it before names had types).
  /// Several entries share a name when declarations do (two `private`
  /// functions with the same signature in two files): the op's calls under
  /// either version are current.
  public func entries(for op: OpID) -> [Entry] {
    let named = entries.filter { $0.op == op }
    if !named.isEmpty { return named }
    let labelled = entries.filter { $0.op.labelName == op.labelName }
    return Set(labelled.map(\.op)).count == 1 ? labelled : []
  }

  /// The component a hand-written version adds to an op's, so that a diff
  /// shows it changed.
  static func manualComponent(_ manual: String) -> CodeComponent {
    CodeComponent(
      identity: "@Memoized(version:)", fingerprint: Digest.sha256(manual).hex,
      source: CodeTable.quoted(manual))
  }

  /// A version with a hand-written version (`@Memoized(version:)`) mixed in,
  /// as ``Op/declared(at:_:)`` makes it.
  static func version(_ version: String, manual: String) -> String {
    guard !manual.isEmpty else { return version }
    var builder = DigestBuilder(domain: "recall.manual-version.v1")
    builder.add(version)
    builder.add(manual)
    return builder.finalize().hex
  }
}
