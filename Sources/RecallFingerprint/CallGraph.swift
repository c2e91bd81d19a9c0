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
/// What a component reaches, from what its tokens mention (see
/// ``Component/references``):
///
/// - **A name** reaches every component of that name (a call to `scale`
///   depends on every `scale` in the package) and, when it names a type, the
///   type's declaration, every extension of it, all its members wherever they
///   are declared (methods, properties, initializers, subscripts, `deinit`,
///   nested types such as `CodingKeys`), and every type alias of it. So a
///   type mentioned anywhere, even only in an op's signature, brings in the
///   code the compiler calls without it being named: `description` for
///   `print` and interpolation, `<` for `sorted()`, `hash(into:)` and `==` for
///   `Set`, `encode(to:)` and `init(from:)`, `callAsFunction`,
///   `dynamicallyCall`, `subscript(dynamicMember:)`, a property wrapper's
///   `wrappedValue`, a result builder's `build…` methods.
/// - **A type's declaration** reaches its members, and what it conforms to or
///   inherits from (not, through that, the other conforming types). A type
///   alias reaches what it stands for, and a mention of that reaches the alias.
///   A member of an extension of a type the package does not declare reaches
///   the headers of those extensions (their conformances and `where` clauses).
/// - **Conformances.** Every type that conforms to a protocol, or inherits
///   from a class, is reached from a mention of it in an op (its arguments,
///   generic constraints, existentials may be of any of them) and from the
///   type of a stored property or associated value (`var stages: [any
///   Stage]`), through refinements (`P: Q`), type aliases and common
///   standard-library refinements (`Hashable` of `Equatable`, `Codable` of
///   `Encodable`…). Other code gets its values from code that names their
///   types, so a helper's `T: Codable` does not reach every `Codable` type.
/// - **An op that is a method** reaches its type (`self` is an input) and
///   every type conforming to or inheriting from it.
/// - **`self`, `Self` or `super`** used other than as the base of a named
///   member reaches the enclosing type.
/// - **`.init(…)`, `x[…]` and calls** reach the initializers, subscripts and
///   `callAsFunction` methods declared in extensions of types the package does
///   not declare (`extension Double { init(percent:) }`, `extension Array {
///   subscript(wrapping:) }`), whose type a call may infer without naming it.
/// - **An op** reaches every extension that makes a type the package does not
///   declare conform to a protocol the package does not declare (or to one
///   refining such a protocol), and that type's members: the standard library
///   may call its witnesses on values of a type never named, as `sorted()`
///   calls `<` after `extension Range: @retroactive Comparable`.
///
/// This over-approximates: a change may recompute more than needed, never
/// less. Recursion and cycles are fine. What no source of the package names
/// in any way is not tracked: what macros expand to, build settings and
/// `#if` conditions, other packages' code, files read at run time, and
/// mutable global state set elsewhere.
///
/// The build plugin's tool runs in the client's build configuration, usually
/// debug, at every build; so what a name, or a protocol's conformances, reach
/// is one node of the graph that references point to (not one edge per
/// reference and member), the graph is condensed into strongly connected
/// components once, reachability is propagated as bit sets in topological
/// order (each SCC's set taken in once), and versions combine per-component
/// keys computed when files are summarized, with no hashing per op and
/// component.
public struct CallGraph: Sendable {
  /// The version of the rules by which references become edges (this
  /// type's initializer, and the sets it consults): a tool that keeps op
  /// reaches from one run to the next keys them with it. Change it with any
  /// change to what a component reaches.
  public static let rules = "recall.graph-rules.v2"

  /// Every component.
  public let components: [Component]
  /// The names a reference reaches something by: those of components, of
  /// the types they extend or declare members of, and of what they conform
  /// to or stand for, with the standard-library protocols the graph knows
  /// refinements of; and `.init`, `[]` and `()` when extensions of types the
  /// package does not declare add initializers, subscripts or
  /// `callAsFunction` (see the type's overview). A reference to anything
  /// else adds no edge.
  public let knownNames: Set<String>
  /// Outgoing edges: by component, then of the nodes that stand for what a
  /// name or a protocol's conformances reach.
  private let edges: [[Int]]

  /// Protocols whose conformances add no code to call: a mention of them
  /// reaches no conforming type.
  static let markerProtocols: Set<String> = [
    "Sendable", "SendableMetatype", "Copyable", "Escapable", "BitwiseCopyable",
  ]

  /// Raw-value types, which an enum lists among its conformances without
  /// conforming to them.
  static let rawValueTypes: Set<String> = [
    "Int", "Int8", "Int16", "Int32", "Int64", "Int128", "UInt", "UInt8", "UInt16", "UInt32",
    "UInt64",
    "UInt128", "Double", "Float", "Float16", "Float80", "CGFloat", "String", "Character", "Decimal",
  ]

  /// Standard-library protocols and some of their refinements: a type that
  /// conforms to a refinement conforms to the protocol.
  static let refinements: [String: [String]] = [
    "Equatable": ["Hashable", "Comparable", "SetAlgebra"],
    "Comparable": ["Strideable", "BinaryInteger", "FloatingPoint"],
    "Encodable": ["Codable"],
    "Decodable": ["Codable"],
    "CustomStringConvertible": ["LosslessStringConvertible"],
    "RawRepresentable": ["OptionSet"],
    "SetAlgebra": ["OptionSet"],
    "Sequence": ["Collection"],
    "Collection": ["BidirectionalCollection", "MutableCollection", "RangeReplaceableCollection"],
    "BidirectionalCollection": ["RandomAccessCollection"],
    "AdditiveArithmetic": ["Numeric"],
    "Numeric": ["SignedNumeric", "BinaryInteger"],
    "SignedNumeric": ["SignedInteger", "FloatingPoint"],
    "BinaryInteger": ["FixedWidthInteger", "SignedInteger", "UnsignedInteger"],
    "FloatingPoint": ["BinaryFloatingPoint"],
    "Error": ["LocalizedError", "CustomNSError", "RecoverableError"],
  ]

  /// Builds the graph of a set of files' components.
  public init(_ files: [FileSummary]) {
    let components = files.flatMap(\.components)
    self.components = components
    let count = components.count

    // What a mention of a name reaches, and which components conform to a
    // name (or stand for it, for type aliases).
    var named: [String: [Int]] = [:]
    var conformers: [String: [Int]] = [:]
    var conformances: [String: [String]] = [:]
    var aliased: [String: [String]] = [:]
    var declaredTypes: Set<String> = []
    for index in 0..<count {
      let component = components[index]
      named[component.name, default: []].append(index)
      if let owner = component.owner { named[owner, default: []].append(index) }
      if component.kind == .type { declaredTypes.insert(component.name) }
      Self.forEach(component.references) { reference in
        switch Self.lead(reference) {
        case Self.conformanceLead:
          let name = String(reference.dropFirst())
          guard !Self.markerProtocols.contains(name), !Self.rawValueTypes.contains(name) else {
            return
          }
          conformers[name, default: []].append(index)
          conformances[component.name, default: []].append(name)
        case Self.aliasLead:
          let name = String(reference.dropFirst())
          named[name, default: []].append(index)
          conformers[name, default: []].append(index)
          aliased[component.name, default: []].append(name)
        default: return
        }
      }
    }
    // Whether code outside the package may call a protocol's requirements
    // (or a class's methods): the package does not declare it, or it refines
    // (or inherits from) one the package does not declare.
    var outside: [String: Bool] = [:]
    func isOutside(_ name: String) -> Bool {
      if let known = outside[name] { return known }
      guard declaredTypes.contains(name) else { return true }
      outside[name] = false  // A cycle adds nothing.
      let result = (conformances[name] ?? []).contains { isOutside($0) }
      outside[name] = result
      return result
    }
    // Members of types the package does not declare, which inference may
    // reach without a name; the extensions that declare them; and the types
    // such extensions make conform to protocols the standard library may call.
    var foreignInits: [Int] = []
    var foreignSubscripts: [Int] = []
    var foreignCalls: [Int] = []
    var foreignConformances: Set<String> = []
    var extensions: [String: [Int]] = [:]
    for index in 0..<count {
      let component = components[index]
      if component.kind == .extension, !declaredTypes.contains(component.name) {
        extensions[component.name, default: []].append(index)
        if (conformances[component.name] ?? []).contains(where: isOutside) {
          foreignConformances.insert(component.name)
        }
      }
      guard let owner = component.owner, !declaredTypes.contains(owner) else { continue }
      switch component.kind {
      case .initializer: foreignInits.append(index)
      case .subscript: foreignSubscripts.append(index)
      case .function where component.name == "callAsFunction": foreignCalls.append(index)
      default: break
      }
    }

    var edges = [[Int]](repeating: [], count: count)
    /// A node that reaches `targets`: the target itself when there is one.
    func node(reaching targets: [Int]) -> Int? {
      if targets.count <= 1 { return targets.first }
      edges.append(targets)
      return edges.count - 1
    }
    knownNames = Set(named.keys).union(conformers.keys).union(aliased.keys)
      .union(Self.refinements.keys)
      .union(
        [(".init", foreignInits), ("[]", foreignSubscripts), ("()", foreignCalls)]
          .filter { !$0.1.isEmpty }.map(\.0))
    let nameNodes = named.compactMapValues { node(reaching: $0) }
    let extensionNodes = extensions.compactMapValues { node(reaching: $0) }
    // Conformances: a node per name, which reaches every conforming type (all
    // it reaches by its name) and, through their names, what conforms to them.
    var conformanceNodes: [String: Int] = [:]
    for name in Set(conformers.keys).union(aliased.keys).union(Self.refinements.keys) {
      conformanceNodes[name] = edges.count
      edges.append([])
    }
    for (name, conformanceNode) in conformanceNodes {
      let conforming = Set((conformers[name] ?? []).map { components[$0].name })
      var targets = conforming.compactMap { nameNodes[$0] }
      targets += conforming.compactMap { conformanceNodes[$0] }
      targets += (Self.refinements[name] ?? []).compactMap { conformanceNodes[$0] }
      targets += (aliased[name] ?? []).compactMap { conformanceNodes[$0] }
      edges[conformanceNode] = targets
    }
    let foreignInitsNode = node(reaching: foreignInits)
    let foreignSubscriptsNode = node(reaching: foreignSubscripts)
    let foreignCallsNode = node(reaching: foreignCalls)
    let foreignConformancesNode = node(
      reaching: foreignConformances.sorted().compactMap { nameNodes[$0] })

    for index in 0..<count {
      let component = components[index]
      // What it reaches, unwrapped as it is added: in debug, appending an
      // optional is a generic call, appending an `Int` a specialized one.
      var targets: [Int] = []
      let isDeclaration =
        component.kind == .type || component.kind == .extension || component.kind == .typeAlias
      Self.forEach(component.references) { reference in
        // By the first byte, then the whole text: in debug, comparing every
        // reference with each special name costs more than the graph's edges.
        switch Self.lead(reference) {
        case Self.conformanceLead, Self.aliasLead:
          if let node = nameNodes[String(reference.dropFirst())] { targets.append(node) }
        case Self.storedTypeLead:
          // The type of a stored value: it may be of any conforming type.
          let name = String(reference.dropFirst())
          if name != component.name, let node = conformanceNodes[name] { targets.append(node) }
        case Self.selfLead where reference == "Self":
          if !isDeclaration, let owner = component.owner, let node = nameNodes[owner] {
            targets.append(node)
          }
        case Self.initializerLead where reference == ".init":
          if let node = foreignInitsNode { targets.append(node) }
        case Self.subscriptLead where reference == "[]":
          if let node = foreignSubscriptsNode { targets.append(node) }
        case Self.callLead where reference == "()":
          if let node = foreignCallsNode { targets.append(node) }
        default:
          if isDeclaration, reference == component.name {
            // A type's or extension's mention of its own name: its members
            // are reached through the name, not through the declaration.
            return
          }
          if let node = nameNodes[reference] { targets.append(node) }
          if component.op != nil, let node = conformanceNodes[reference] { targets.append(node) }
        }
      }
      if component.kind == .type || component.kind == .typeAlias {
        // A type reaches its members, an alias what extensions of the alias
        // declare. An extension's header does not: a member reaches its
        // extension's header, not, through it, its siblings.
        if let node = nameNodes[component.name] { targets.append(node) }
      }
      if let owner = component.owner, !isDeclaration {
        // A member of an extension of a type the package does not declare:
        // the extensions' headers (conformances, `where` clauses) count.
        if let node = extensionNodes[owner] { targets.append(node) }
      }
      if component.op != nil {
        if component.kind == .function, let owner = component.owner {
          if let node = nameNodes[owner] { targets.append(node) }
          if let node = conformanceNodes[owner] { targets.append(node) }
        }
        if let node = foreignConformancesNode { targets.append(node) }
      }
      edges[index] = Self.ascendingDistinct(targets)
    }
    self.edges = edges
  }

  /// The first byte of a reference (0 for an empty one), which says what
  /// kind of reference it is: a conformance (`:P`), an alias (`@T`), the
  /// type of a stored value (`#T`), or a name. In debug, where the build
  /// plugin's tool usually runs, `String.first` costs about 470
  /// instructions, `utf8.first` (the generic `Collection.first`) about 390,
  /// and the UTF-8 view's own subscript, as here, about 180.
  static func lead(_ reference: String) -> UInt8 {
    let utf8 = reference.utf8
    return reference.isEmpty ? 0 : utf8[utf8.startIndex]
  }

  /// Calls `body` with each of a component's references, in order, through
  /// a pointer: in debug, where the build plugin's tool usually runs, an
  /// array of strings' iterator costs about 400 instructions per element.
  static func forEach(_ references: [String], _ body: (String) -> Void) {
    references.withUnsafeBufferPointer { references in
      guard let base = references.baseAddress else { return }
      var position = 0
      while position < references.count {
        body(base[position])
        position += 1
      }
    }
  }

  /// The first byte of a conformance reference, `:`.
  static let conformanceLead = UInt8(ascii: ":")
  /// The first byte of an alias reference, `@`.
  static let aliasLead = UInt8(ascii: "@")
  /// The first byte of a stored value's type, `#`.
  static let storedTypeLead = UInt8(ascii: "#")
  /// The first byte of `Self`, a special name a reference is compared with.
  static let selfLead = UInt8(ascii: "S")
  /// The first byte of `.init`, a special name.
  static let initializerLead = UInt8(ascii: ".")
  /// The first byte of `[]`, a special name.
  static let subscriptLead = UInt8(ascii: "[")
  /// The first byte of `()`, a special name.
  static let callLead = UInt8(ascii: "(")

  /// The distinct values among `values`, ascending. A component reaches few
  /// nodes: they are inserted in order into a short array, a third of the
  /// instructions of `Set(...).sorted()` in debug.
  static func ascendingDistinct(_ values: [Int]) -> [Int] {
    guard values.count <= 64 else { return Set(values).sorted() }
    var result: [Int] = []
    result.reserveCapacity(values.count)
    for position in 0..<values.count {
      let value = values[position]
      var slot = result.count
      while slot > 0, result[slot - 1] > value { slot -= 1 }
      if slot == 0 || result[slot - 1] != value { result.insert(value, at: slot) }
    }
    return result
  }

  /// The versions of every op (`@Memoized` function or `#memoized` block).
  public func opVersions() -> [OpVersion] {
    Self.opVersions(of: components, reaches: opReaches())
  }

  /// What an op's version covers: the op's component and every component it
  /// reaches (itself included), as indices into ``components``, ascending.
  public struct OpReach: Hashable, Sendable {
    /// The op's component.
    public var component: Int
    /// The components its version covers, ascending.
    public var covered: [Int]

    /// Creates an op's reach (for caches of reaches).
    public init(component: Int, covered: [Int]) {
      self.component = component
      self.covered = covered
    }
  }

  /// Every op's reach, in the order of their components.
  public func opReaches() -> [OpReach] {
    let reach = reachability()
    var reaches: [OpReach] = []
    // Plain loops through pointers: the tool usually runs in debug, where
    // an enumerated sequence's iterator costs thousands of instructions per
    // element.
    for index in 0..<components.count where components[index].op != nil {
      var covered: [Int] = []
      reach.set(of: index).withUnsafeBufferPointer { buffer in
        guard let words = buffer.baseAddress else { return }
        var wordIndex = 0
        while wordIndex < buffer.count {
          var remaining = words[wordIndex]
          while remaining != 0 {
            covered.append(wordIndex &* 64 &+ remaining.trailingZeroBitCount)
            remaining &= remaining &- 1
          }
          wordIndex += 1
        }
      }
      reaches.append(OpReach(component: index, covered: covered))
    }
    return reaches
  }

  /// The versions of ops whose reaches are known (from ``opReaches()`` of a
  /// graph of components with the same ``FileSummary/graphNodeDigest`` and
  /// ``FileSummary/graphEdgeDigest(knownNames:)``), sorted
  /// by op name: each version combines the keys of the components it covers.
  public static func opVersions(of components: [Component], reaches: [OpReach]) -> [OpVersion] {
    // The keys in one flat array: the build plugin's tool usually runs in
    // debug, where taking a key from its component copies the component.
    var keys: [UInt64] = []
    keys.reserveCapacity(components.count * 4)
    for component in components { keys += component.key }
    var versions: [OpVersion] = []
    for reach in reaches {
      let component = components[reach.component]
      guard let op = component.op else { continue }
      // An order-independent combination of the reachable components' keys
      // (a plain loop over buffers: in debug, an array's iterator costs
      // hundreds of instructions per element).
      var (sum0, sum1, sum2, sum3): (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
      keys.withUnsafeBufferPointer { keys in
        reach.covered.withUnsafeBufferPointer { covered in
          var position = 0
          while position < covered.count {
            let at = covered[position] &* 4
            sum0 = sum0 &+ keys[at]
            sum1 = sum1 &+ keys[at &+ 1]
            sum2 = sum2 &+ keys[at &+ 2]
            sum3 = sum3 &+ keys[at &+ 3]
            position += 1
          }
        }
      }
      let sum = (sum0, sum1, sum2, sum3)
      var hasher = SHA256()
      hasher.update(
        "recall.op-version.v1 \(reach.covered.count) \(sum.0) \(sum.1) \(sum.2) \(sum.3)")
      versions.append(
        OpVersion(
          op: op, fingerprint: component.fingerprint,
          version: SHA256.hexString(hasher.finalize()), component: reach.component,
          reach: reach.covered))
    }
    return versions.sorted { $0.op < $1.op }
  }

  /// The components an op's version covers, sorted by identity.
  public func components(reachableFrom index: Int) -> [Component] {
    let bits = reachability().set(of: index)
    return components.indices.filter { bits[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
      .map { components[$0] }.sorted {
        ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint)
      }
  }

  // MARK: - Reachability

  /// Reachable sets of every node, by strongly connected component: bit sets
  /// over components (the nodes that stand for names are in no set).
  struct Reachability {
    var sccOf: [Int]
    var sets: [[UInt64]]
    func set(of component: Int) -> [UInt64] { sets[sccOf[component]] }
  }

  func reachability() -> Reachability {
    let count = edges.count
    let words = (components.count + 63) / 64
    // Integers in flat arrays, and stacks with their own depths: in debug,
    // where the build plugin's tool usually runs, an `[Int]`'s subscript is
    // a specialized call, and a nested array's, a tuple array's,
    // `removeLast()` and `min(_:_:)` generic ones. A node's targets are
    // `targets[start[node]..<start[node + 1]]`.
    var start: [Int] = []
    start.reserveCapacity(count + 1)
    var targets: [Int] = []
    for node in 0..<count {
      start.append(targets.count)
      targets += edges[node]
    }
    start.append(targets.count)
    // Tarjan's algorithm, iteratively; it emits components in reverse
    // topological order (every SCC after the SCCs it reaches).
    var index = [Int](repeating: -1, count: count)
    var low = [Int](repeating: 0, count: count)
    var onStack = [Int](repeating: 0, count: count)
    var stack = [Int](repeating: 0, count: count)
    var stackDepth = 0
    // The depth-first path: each node on it, and the position of its next edge.
    var pathNode = [Int](repeating: 0, count: count)
    var pathEdge = [Int](repeating: 0, count: count)
    var pathDepth = 0
    var sccOf = [Int](repeating: -1, count: count)
    var sets: [[UInt64]] = []
    // The last SCC whose set took in each SCC's set: each is taken in once.
    var mergedInto: [Int] = []
    var next = 0
    for root in 0..<count where index[root] < 0 {
      index[root] = next
      low[root] = next
      next += 1
      stack[stackDepth] = root
      stackDepth += 1
      onStack[root] = 1
      pathNode[0] = root
      pathEdge[0] = start[root]
      pathDepth = 1
      while pathDepth > 0 {
        let node = pathNode[pathDepth - 1]
        let edge = pathEdge[pathDepth - 1]
        if edge < start[node + 1] {
          pathEdge[pathDepth - 1] = edge + 1
          let target = targets[edge]
          if index[target] < 0 {
            index[target] = next
            low[target] = next
            next += 1
            stack[stackDepth] = target
            stackDepth += 1
            onStack[target] = 1
            pathNode[pathDepth] = target
            pathEdge[pathDepth] = start[target]
            pathDepth += 1
          } else if onStack[target] != 0, index[target] < low[node] {
            low[node] = index[target]
          }
          continue
        }
        pathDepth -= 1
        if pathDepth > 0 {
          let parent = pathNode[pathDepth - 1]
          if low[node] < low[parent] { low[parent] = low[node] }
        }
        guard low[node] == index[node] else { continue }
        // `node` roots an SCC: pop it, then union its members and what they reach.
        let scc = sets.count
        var set = [UInt64](repeating: 0, count: words)
        var member = -1
        while member != node {
          stackDepth -= 1
          member = stack[stackDepth]
          onStack[member] = 0
          sccOf[member] = scc
          if member < components.count { set[member / 64] |= 1 << UInt64(member % 64) }
          for position in start[member]..<start[member + 1] {
            let other = sccOf[targets[position]]
            // Not yet assigned (-1) only within this SCC, which it is in.
            guard other != scc, other >= 0, mergedInto[other] != scc else { continue }
            mergedInto[other] = scc
            // Through pointers: in debug, each subscript of an array is a
            // call, and a buffer's about 75 instructions with its checks.
            set.withUnsafeMutableBufferPointer { set in
              sets[other].withUnsafeBufferPointer { reached in
                guard let set = set.baseAddress, let reached = reached.baseAddress else { return }
                var word = 0
                while word < words {
                  set[word] |= reached[word]
                  word += 1
                }
              }
            }
          }
        }
        sets.append(set)
        mergedInto.append(-1)
      }
    }
    return Reachability(sccOf: sccOf, sets: sets)
  }
}

extension FileSummary {
  /// A digest of what ``CallGraph`` makes its nodes from: each component's
  /// kind, name and owner, whether it is an op, and its conformance (`:P`)
  /// and alias (`@T`) references, in order. With ``graphEdgeDigest(knownNames:)``,
  /// all that the graph reads: files with the same digests, in the same
  /// order, make the same graph, whatever else changed (a body's constants,
  /// its locals, its calls of what the package does not declare), so each op
  /// reaches the same components (``CallGraph/OpReach``).
  public var graphNodeDigest: [UInt8] {
    var hasher = SHA256()
    hasher.update("recall.graph-nodes.v1 \(components.count)\n")
    for component in components {
      hasher.update(component.kind.rawValue + "\u{0}" + component.name + "\u{0}")
      hasher.update(component.owner.map { "1" + $0 } ?? "0")
      hasher.update(component.op == nil ? "\u{0}0" : "\u{0}1")
      CallGraph.forEach(component.references) { reference in
        switch CallGraph.lead(reference) {
        case CallGraph.conformanceLead, CallGraph.aliasLead: hasher.update("\u{0}" + reference)
        default: return
        }
      }
      hasher.update("\n")
    }
    return hasher.finalize()
  }

  /// A digest of the references by which the file's components reach
  /// anything in a graph whose nodes are named by `knownNames`
  /// (``CallGraph/knownNames``): the names among them (`x`, and `T` of
  /// `#T`, and `.init`, `[]` and `()`), and `Self`, which reaches the
  /// component's owner. A reference to a local, or to what the package does
  /// not declare, reaches nothing, and leaves the digest as it was.
  public func graphEdgeDigest(knownNames: Set<String>) -> [UInt8] {
    var hasher = SHA256()
    hasher.update("recall.graph-edges.v1 \(components.count)\n")
    for component in components {
      CallGraph.forEach(component.references) { reference in
        switch CallGraph.lead(reference) {
        case CallGraph.conformanceLead, CallGraph.aliasLead: return
        case CallGraph.storedTypeLead:
          if knownNames.contains(String(reference.dropFirst())) {
            hasher.update(reference + "\u{0}")
          }
        default:
          if reference == "Self" || knownNames.contains(reference) {
            hasher.update(reference + "\u{0}")
          }
        }
      }
      hasher.update("\n")
    }
    return hasher.finalize()
  }
}
