/// The version of an op over the whole package: its own code and every
/// component it can reach through the static call graph.
public struct OpVersion: Hashable, Sendable {
  /// The op's name within its module, as the macros name it.
  public var op: String
  /// The op's own code fingerprint (what the macro computes).
  public var fingerprint: String
  /// The op version: SHA-256 over the identities and fingerprints of every
  /// reachable component, the op included.
  public var version: String
  /// The reachable components, sorted by identity.
  public var components: [Component]
}

/// A name-based static call graph over a package's components.
///
/// A reference to a name reaches every component of that name: a call to
/// `scale` depends on every `scale` in the package, a mention of a type reaches
/// the type (its stored properties and member signatures), its initializers and
/// its subscripts. This over-approximates: a change may recompute more than
/// needed, never less. Recursion and cycles are fine.
public struct CallGraph: Sendable {
  /// Every component.
  public let components: [Component]
  private let byName: [String: [Int]]
  private let byOwner: [String: [Int]]

  /// Builds the graph of a set of files' components.
  public init(_ files: [FileSummary]) {
    components = files.flatMap(\.components)
    var byName: [String: [Int]] = [:]
    var byOwner: [String: [Int]] = [:]
    for (index, component) in components.enumerated() {
      byName[component.name, default: []].append(index)
      if let owner = component.owner, component.kind == .initializer || component.kind == .subscript {
        byOwner[owner, default: []].append(index)
      }
    }
    self.byName = byName
    self.byOwner = byOwner
  }

  /// Returns the indices of the components reachable from one, itself included.
  public func reachable(from start: Int) -> Set<Int> {
    var seen: Set<Int> = [start]
    var queue = [start]
    while let index = queue.popLast() {
      for name in components[index].references {
        var targets = byName[name] ?? []
        // A type is reached through its name; so are its initializers and
        // subscripts, which are called without naming them.
        if byName[name]?.contains(where: { components[$0].kind == .type }) == true {
          targets += byOwner[name] ?? []
        }
        for target in targets where seen.insert(target).inserted {
          queue.append(target)
        }
      }
    }
    return seen
  }

  /// The versions of every op (`@Memoized` function or `#memoized` block).
  public func opVersions() -> [OpVersion] {
    var versions: [OpVersion] = []
    for (index, component) in components.enumerated() {
      guard let op = component.op else { continue }
      let reached = reachable(from: index).map { components[$0] }.sorted {
        ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint)
      }
      var hasher = SHA256()
      for part in reached {
        hasher.update(part.identity)
        hasher.update([0])
        hasher.update(part.fingerprint)
        hasher.update([0x0a])
      }
      versions.append(
        OpVersion(
          op: op, fingerprint: component.fingerprint,
          version: SHA256.hexString(hasher.finalize()), components: reached))
    }
    return versions.sorted { $0.op < $1.op }
  }
}
