/// The version of an op over the whole package: its own code and every
/// component it can reach through the static call graph.
public struct OpVersion: Hashable, Sendable {
  /// The op's name within its module, as the macros name it.
  public var op: String
  /// The op's own code fingerprint (what the macro computes).
  public var fingerprint: String
  /// The op version, over the identities and fingerprints of every reachable
  /// component, the op included.
  public var version: String
  /// The op's component, an index into ``CallGraph/components``.
  public var component: Int
  /// The components the version covers (the op's included), as indices into
  /// ``CallGraph/components``, ascending.
  public var reach: [Int]
}

/// A name-based static call graph over a package's components.
///
/// A reference to a name reaches every component of that name: a call to
/// `scale` depends on every `scale` in the package, a mention of a type reaches
/// the type (its stored properties and member signatures), its initializers and
/// its subscripts. This over-approximates: a change may recompute more than
/// needed, never less. Recursion and cycles are fine.
///
/// The build plugin's tool runs in the client's build configuration, usually
/// debug, at every build; so the graph is condensed into strongly connected
/// components once, reachability is propagated as bit sets in topological
/// order, and versions combine per-component keys computed when files are
/// summarized, with no hashing per op and component.
public struct CallGraph: Sendable {
  /// Every component.
  public let components: [Component]
  /// Outgoing edges by component.
  private let edges: [[Int]]

  /// Builds the graph of a set of files' components.
  public init(_ files: [FileSummary]) {
    components = files.flatMap(\.components)
    var byName: [String: [Int]] = [:]
    var byOwner: [String: [Int]] = [:]
    var typeNames: Set<String> = []
    for (index, component) in components.enumerated() {
      byName[component.name, default: []].append(index)
      if component.kind == .type { typeNames.insert(component.name) }
      if let owner = component.owner, component.kind == .initializer || component.kind == .subscript {
        byOwner[owner, default: []].append(index)
      }
    }
    edges = components.map { component in
      var targets: Set<Int> = []
      for name in component.references {
        targets.formUnion(byName[name] ?? [])
        // A type's initializers and subscripts are called without naming them.
        if typeNames.contains(name) { targets.formUnion(byOwner[name] ?? []) }
      }
      return Array(targets)
    }
  }

  /// The versions of every op (`@Memoized` function or `#memoized` block).
  public func opVersions() -> [OpVersion] {
    let reach = reachability()
    let keys = components.map(\.key)
    var versions: [OpVersion] = []
    for (index, component) in components.enumerated() {
      guard let op = component.op else { continue }
      // An order-independent combination of the reachable components' keys.
      var sum: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
      var count: UInt64 = 0
      var covered: [Int] = []
      let bits = reach.set(of: index)
      for (wordIndex, word) in bits.enumerated() where word != 0 {
        var remaining = word
        while remaining != 0 {
          let bit = remaining.trailingZeroBitCount
          remaining &= remaining - 1
          covered.append(wordIndex * 64 + bit)
          let key = keys[wordIndex * 64 + bit]
          sum = (sum.0 &+ key[0], sum.1 &+ key[1], sum.2 &+ key[2], sum.3 &+ key[3])
          count += 1
        }
      }
      var hasher = SHA256()
      hasher.update("recall.op-version.v1 \(count) \(sum.0) \(sum.1) \(sum.2) \(sum.3)")
      versions.append(
        OpVersion(
          op: op, fingerprint: component.fingerprint,
          version: SHA256.hexString(hasher.finalize()), component: index, reach: covered))
    }
    return versions.sorted { $0.op < $1.op }
  }

  /// The components an op's version covers, sorted by identity.
  public func components(reachableFrom index: Int) -> [Component] {
    let bits = reachability().set(of: index)
    return components.indices.filter { bits[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
      .map { components[$0] }.sorted { ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint) }
  }

  // MARK: - Reachability

  /// Reachable sets of every component, by strongly connected component.
  struct Reachability {
    var sccOf: [Int]
    var sets: [[UInt64]]
    func set(of component: Int) -> [UInt64] { sets[sccOf[component]] }
  }

  func reachability() -> Reachability {
    let count = components.count
    let words = (count + 63) / 64
    // Tarjan's algorithm, iteratively; it emits components in reverse
    // topological order (every SCC after the SCCs it reaches).
    var index = [Int](repeating: -1, count: count)
    var low = [Int](repeating: 0, count: count)
    var onStack = [Bool](repeating: false, count: count)
    var stack: [Int] = []
    var sccOf = [Int](repeating: -1, count: count)
    var sets: [[UInt64]] = []
    var next = 0
    for root in 0..<count where index[root] < 0 {
      var work: [(node: Int, edge: Int)] = [(root, 0)]
      index[root] = next
      low[root] = next
      next += 1
      stack.append(root)
      onStack[root] = true
      while let (node, edge) = work.last {
        if edge < edges[node].count {
          work[work.count - 1].edge += 1
          let target = edges[node][edge]
          if index[target] < 0 {
            index[target] = next
            low[target] = next
            next += 1
            stack.append(target)
            onStack[target] = true
            work.append((target, 0))
          } else if onStack[target] {
            low[node] = min(low[node], index[target])
          }
          continue
        }
        work.removeLast()
        if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
        guard low[node] == index[node] else { continue }
        // `node` roots an SCC: pop it, then union its members and what they reach.
        let scc = sets.count
        var members: [Int] = []
        while let member = stack.popLast() {
          onStack[member] = false
          sccOf[member] = scc
          members.append(member)
          if member == node { break }
        }
        var set = [UInt64](repeating: 0, count: words)
        for member in members {
          set[member / 64] |= 1 << UInt64(member % 64)
          for target in edges[member] where sccOf[target] != scc && sccOf[target] >= 0 {
            let other = sets[sccOf[target]]
            for word in 0..<words { set[word] |= other[word] }
          }
        }
        sets.append(set)
      }
    }
    return Reachability(sccOf: sccOf, sets: sets)
  }
}
