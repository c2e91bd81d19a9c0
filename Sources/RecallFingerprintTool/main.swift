// RecallFingerprintTool: run by RecallPlugin during a build. It parses the
// target's sources and those of the package targets it depends on, builds the
// name-based call graph, and writes the module's fingerprint table: each op's
// version over its own code and everything it can reach.
//
//   RecallFingerprintTool --output FILE --cache FILE [--module NAME]
//     [--package-name NAME --package-directory DIR --swiftc PATH --resolved FILE]
//     [--omit-changes] [--track-dependencies --module-packages MODULE=PACKAGE,... ...]
//     --sources A.swift B.swift ... --dependency-sources C.swift ...
//
// Files are summarized once and cached by path, size and modification time,
// so an edit re-parses only the edited file, and only its edited top-level
// item when the edit lies inside one (see `edit(_:to:)`); the call graph is
// built again only when what it reads changed (decision 0119). The table is
// rewritten only when its content changes, and holds no timestamp, so an
// unchanged table recompiles nothing.
//
// With --module, it also writes the module's op versions as JSON next to the
// table (RecallVersions.json, see VersionManifest), for `recall outdated`, on
// every run.
//
// It also fails the build, with compiler-style errors, when a `#memoized` block
// of the target reads a local without taking it as an input, or shares its
// name with another block (see BlockChecks.swift).
//
// The table's build section records the package's git commit and uncommitted
// changes, the compiler and the resolved dependencies (see BuildFacts.swift).
// With --track-dependencies, the versions of the packages an op reaches are
// part of its version (see DependencyVersions.swift).

import Foundation
import RecallCodeTable
import RecallFingerprint
import SwiftParser
import SwiftSyntax

struct Arguments {
  var output = ""
  var cache = ""
  var module: String?
  var sources: [String] = []
  var dependencySources: [String] = []
  var packageName: String?
  var packageDirectory: String?
  var swiftc: String?
  var resolved: String?
  var tracksDependencies = false
  var omitsChanges = false
  var dependencies = DependencyVersions()

  init(_ arguments: [String]) throws {
    var list: WritableKeyPath<Arguments, [String]>?
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
      switch argument {
      case "--output": output = iterator.next() ?? ""
      case "--cache": cache = iterator.next() ?? ""
      case "--module": module = iterator.next()
      case "--package-name": packageName = iterator.next()
      case "--package-directory": packageDirectory = iterator.next()
      case "--swiftc": swiftc = iterator.next()
      case "--resolved": resolved = iterator.next()
      case "--track-dependencies": tracksDependencies = true
      case "--omit-changes": omitsChanges = true
      case "--module-packages": dependencies.add(module: iterator.next() ?? "")
      case "--sources": list = \.sources
      case "--dependency-sources": list = \.dependencySources
      default:
        guard let list else { throw ToolError("unexpected argument '\(argument)'") }
        self[keyPath: list].append(argument)
      }
    }
    guard !output.isEmpty, !cache.isEmpty else {
      throw ToolError(
        "usage: RecallFingerprintTool --output FILE --cache FILE --sources ... --dependency-sources ..."
      )
    }
  }
}

struct ToolError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Summarizes files, from the cache when unchanged; with `checks`, also
/// checks the `#memoized` blocks of each file it parses.
func summarize(
  _ paths: [String], cache: inout SummaryCache, reparsed: inout Int, byItem: inout Int,
  checks: BlockChecks? = nil
) throws -> [SummaryCache.Entry] {
  try paths.map { path in
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
    if let entry = cache.files[path], entry.size == size, entry.modified == modified {
      return entry
    }
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    // A script's top-level locals span items, so an edit of one item can
    // make a block in another read a new local: the target's `main.swift`
    // is always parsed and checked whole.
    let isCheckedScript =
      checks != nil && URL(fileURLWithPath: path).lastPathComponent == "main.swift"
    if !isCheckedScript, let cached = cache.files[path], let edited = edit(cached, to: bytes) {
      let entry = SummaryCache.Entry(
        size: size, modified: modified, summary: edited.summary, sources: edited.sources,
        text: bytes)
      cache.files[path] = entry
      reparsed += 1
      byItem += 1
      return entry
    }
    let source = String(decoding: bytes, as: UTF8.self)
    let clock = ContinuousClock()
    let t0 = clock.now
    let tree = Parser.parse(source: source)
    let t1 = clock.now
    let summary = FileSummary(tree)
    let sources = summary.components.map {
      CodeTable.EscapedSource(DisplaySource.text(of: $0.span, in: bytes))
    }
    if ProcessInfo.processInfo.environment["RECALL_PLUGIN_VERBOSE"] == "3" {
      FileHandle.standardError.write(Data("parse \(t1 - t0) summarize \(clock.now - t1)\n".utf8))
    }
    let entry = SummaryCache.Entry(
      size: size, modified: modified, summary: summary, sources: sources, text: bytes)
    let isClean = checks?.check(tree, source: source, path: path) ?? true
    cache.files[path] = isClean ? entry : nil
    reparsed += 1
    return entry
  }
}

/// A cached file's summary and display sources after an edit inside one of
/// its top-level items, made by parsing that item and its neighbours; `nil`
/// when the whole file must be parsed (``FileSummary/updated(from:to:)``), or
/// when the edited item has a `#memoized` block, which ``BlockChecks`` checks
/// in the whole file's tree. (The other items were checked when the file was
/// cached: a file with errors is not. The caller parses a `main.swift` whole:
/// its top-level code is a scope that spans items.)
func edit(_ cached: SummaryCache.Entry, to bytes: [UInt8]) -> (
  summary: FileSummary, sources: [CodeTable.EscapedSource]
)? {
  guard let edited = cached.summary.updated(from: cached.text, to: bytes),
    !cached.summary.components[edited.replaced].contains(where: { $0.kind == .block }),
    !edited.summary.components[edited.inserted].contains(where: { $0.kind == .block })
  else { return nil }
  var sources = cached.sources
  sources.replaceSubrange(
    edited.replaced,
    with: edited.summary.components[edited.inserted].map {
      CodeTable.EscapedSource(DisplaySource.text(of: $0.span, in: bytes))
    })
  return (edited.summary, sources)
}

/// Each file's edge digest (``FileSummary/graphEdgeDigest(knownNames:)``)
/// against `knownNames`, by path. `kept` holds digests made against the same
/// names: a file read from the cache keeps its own.
func edgeDigests(
  _ paths: [String], _ entries: [SummaryCache.Entry], knownNames: Set<String>,
  kept: [String: [UInt8]] = [:]
) -> [String: [UInt8]] {
  var edges: [String: [UInt8]] = [:]
  for (path, entry) in zip(paths, entries) {
    edges[path] =
      (entry.isFromCache ? kept[path] : nil)
      ?? entry.summary.graphEdgeDigest(knownNames: knownNames)
  }
  return edges
}

/// The code section of the table, as a string literal: the display source of
/// every component the ops reach, escaped when its file was summarized.
func codeLiteral(
  _ versions: [TableEntry], components: [Component], sources: [CodeTable.EscapedSource]
)
  -> String
{
  // Each component's index in the table, -1 until it is in: an array, not
  // a dictionary, as the tool usually runs in debug and looks up every
  // op's every component.
  var indexOf = [Int](repeating: -1, count: components.count)
  var packageIndex: [String: Int] = [:]
  var entries: [(identity: String, fingerprint: String, source: CodeTable.EscapedSource)] = []
  var ops: [(name: String, reach: [Int])] = []
  for entry in versions {
    let version = entry.version
    var reach: [Int] = []
    reach.reserveCapacity(version.reach.count + entry.packages.count)
    // Over the range of positions: in debug, an array's iterator costs
    // hundreds of instructions per element, a range's a dozen.
    for position in 0..<version.reach.count {
      let component = version.reach[position]
      let index = indexOf[component]
      if index >= 0 {
        reach.append(index)
        continue
      }
      let found = components[component]
      indexOf[component] = entries.count
      reach.append(entries.count)
      entries.append((found.identity, found.fingerprint, sources[component]))
    }
    for package in entry.packages {
      let key = package.identity + "\n" + package.fingerprint
      if let index = packageIndex[key] {
        reach.append(index)
        continue
      }
      packageIndex[key] = entries.count
      reach.append(entries.count)
      entries.append(
        (package.identity, package.fingerprint, CodeTable.EscapedSource(package.source)))
    }
    ops.append((entry.key, reach))
  }
  return CodeTable.literal(components: entries, ops: ops)
}

/// An op's key in the table: its name and its own fingerprint, so that
/// overloads with the same labels, and blocks with the same name, have entries
/// of their own (a dictionary literal with a key twice traps at run time).
func tableKey(_ version: OpVersion) -> String { version.op + "\n" + version.fingerprint }

/// One op's entry in the table.
struct TableEntry {
  var key: String
  var version: OpVersion
  /// The pinned packages the op reaches, when the target tracks them.
  var packages: [(identity: String, fingerprint: String, source: String)] = []

  /// Makes the packages the files of the op's reach import part of its
  /// version: their components, and a version over its own and theirs.
  mutating func track(_ dependencies: DependencyVersions, importsOf: (Int) -> [String]) {
    packages = dependencies.packages(importing: version.reach.flatMap(importsOf)).compactMap {
      dependencies.component($0)
    }
    guard !packages.isEmpty else { return }
    version.version = SHA256.hex(
      ([version.version] + packages.map { $0.identity + "\u{0}" + $0.fingerprint })
        .joined(separator: "\n"))
  }
}

/// The table's entries: one per key, except for declarations with the same
/// name and tokens in different files (two `private` functions): they may
/// reach different private code that the name-based graph cannot tell apart,
/// so each gets an entry keyed by its file name too, with its file name
/// mixed into its version, and their calls never share keys.
func tableEntries(_ versions: [OpVersion], fileOf: (Int) -> String) -> [TableEntry] {
  var files: [String: Set<String>] = [:]
  for version in versions {
    files[tableKey(version), default: []].insert(fileOf(version.component))
  }
  var seen: Set<String> = []
  var entries: [TableEntry] = []
  for var version in versions {
    var key = tableKey(version)
    if files[key]!.count > 1 {
      let file = fileOf(version.component)
      key += "\n" + file
      version.version = SHA256.hex(version.version + "\n" + file)
    }
    if seen.insert(key).inserted { entries.append(TableEntry(key: key, version: version)) }
  }
  return entries
}

/// The module's op versions for tools that do not run the program.
func manifest(
  _ versions: [TableEntry], components: [Component], module: String, package: String?
) -> VersionManifest {
  VersionManifest(
    module: module, package: package,
    ops: versions.map { entry in
      let version = entry.version
      let component = components[version.component]
      return VersionManifest.Op(
        name: version.op, typedName: component.declaration?.typedName ?? version.op,
        fingerprint: version.fingerprint, version: version.version,
        manualVersion: component.declaration?.manualVersion,
        parameters: component.declaration?.parameters ?? [],
        addedParameters: component.declaration?.addedParameters ?? [],
        components: version.reach.map {
          [components[$0].identity, components[$0].fingerprint]
        }
          + entry.packages.map { [$0.identity, $0.fingerprint] })
    })
}

func render(_ versions: [TableEntry], codeLiteral: String, build: [(name: String, value: String)])
  -> String
{
  var lines = [
    "// Generated by RecallPlugin from this target's sources and those of the package",
    "// targets it depends on. Do not edit.",
    "//",
    "// Each op's version covers its own code and every function, initializer,",
    "// property, global and type of the package it can reach. This table is internal:",
    "// it shadows the untracked one that the Recall module declares. `code` holds the",
    "// source of what each op reaches, recorded by a store the first time it sees a version;",
    "// `build` what was built (the commit, uncommitted changes, compiler, dependencies),",
    "// recorded with every call the module's ops record.",
    "",
    "import Recall",
    "",
    "internal let __recallFingerprintTable: __RecallFingerprintTable = __RecallFingerprintTable(",
    "  versions: [",
  ]
  for entry in versions {
    let version = entry.version
    lines.append(
      "    \(SwiftLiteral.string(entry.key)): (\(SwiftLiteral.string(version.fingerprint)), \(SwiftLiteral.string(version.version))),"
    )
  }
  if versions.isEmpty { lines.append("    :") }
  lines += [
    "  ],", "  code: \(codeLiteral),", "  build: \(SwiftLiteral.string(BuildTable.encode(build))),",
    "  isGenerated: true", ")", "",
  ]
  return lines.joined(separator: "\n")
}

do {
  let clock = ContinuousClock()
  let start = clock.now
  let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
  var cache = SummaryCache(contentsOf: arguments.cache)
  let loaded = clock.now
  var reparsed = 0
  var byItem = 0
  let checks = BlockChecks()
  let ownEntries = try summarize(
    arguments.sources, cache: &cache, reparsed: &reparsed, byItem: &byItem, checks: checks)
  let dependencyEntries = try summarize(
    arguments.dependencySources, cache: &cache, reparsed: &reparsed, byItem: &byItem)
  let own = ownEntries.map(\.summary)
  checks.checkNames(Array(zip(arguments.sources, own)))
  // Forget files that are no longer inputs.
  let inputs = Set(arguments.sources + arguments.dependencySources)
  let cachedFiles = cache.files.count
  cache.files = cache.files.filter { inputs.contains($0.key) }
  let removed = cache.files.count != cachedFiles

  let summarized = clock.now
  let summaries = (ownEntries + dependencyEntries).map(\.summary)
  let components = summaries.flatMap(\.components)
  // The graph is built only when what it reads of the files changed: an
  // edit of a function's constants, comments, layout, locals or calls of
  // what the package does not declare keeps every op's reach, and changes
  // only the versions.
  let entries = ownEntries + dependencyEntries
  let paths = arguments.sources + arguments.dependencySources
  let nodeKey = SummaryCache.nodeKey(entries.map(\.graphNodeDigest))
  var graphKept = false
  // Each file's edge digest against the kept known names, once brought up
  // to date.
  var keptEdges: (knownNames: Set<String>, edges: [String: [UInt8]])?
  if var kept = cache.graph, kept.nodes == nodeKey {
    // The same nodes, so the same known names: only the files summarized
    // in this run have new edge digests.
    kept.edges = edgeDigests(paths, entries, knownNames: kept.knownNames, kept: kept.edges)
    keptEdges = (kept.knownNames, kept.edges)
    graphKept =
      kept.edgeKey == SummaryCache.edgeKey(paths.map { kept.edges[$0]! })
      && kept.reaches.allSatisfy { reach in
        reach.component < components.count
          && reach.covered.last.map { $0 < components.count } != false
      }
    if graphKept { cache.graph = kept }
  }
  if !graphKept {
    let graph = CallGraph(summaries)
    // With the same known names, the edge digests just brought up to date
    // are the new graph's: each is made against those names.
    let edges =
      keptEdges.flatMap { $0.knownNames == graph.knownNames ? $0.edges : nil }
      ?? edgeDigests(paths, entries, knownNames: graph.knownNames)
    cache.graph = SummaryCache.Graph(
      nodes: nodeKey, knownNames: graph.knownNames, edges: edges,
      edgeKey: SummaryCache.edgeKey(paths.map { edges[$0]! }), reaches: graph.opReaches())
  }
  let opVersions = CallGraph.opVersions(of: components, reaches: cache.graph!.reaches)
  let ownOps = Set(own.flatMap(\.components).compactMap(\.op))
  // The file each of the target's own components is in (they come first).
  var fileNames: [String] = []
  for (path, summary) in zip(arguments.sources, own) {
    fileNames += Array(
      repeating: URL(fileURLWithPath: path).lastPathComponent, count: summary.components.count)
  }
  let pins = BuildFacts.resolvedPins(arguments.resolved)
  var versions = tableEntries(opVersions.filter { ownOps.contains($0.op) }) {
    $0 < fileNames.count ? fileNames[$0] : ""
  }
  if arguments.tracksDependencies {
    var dependencies = arguments.dependencies
    for pin in pins {
      dependencies.pins[pin[0]] = Array(pin.dropFirst())
    }
    // The imports of the file each component is in, in the graph's order.
    let importsOfComponent = summaries.flatMap { summary in
      Array(repeating: summary.imports, count: summary.components.count)
    }
    for index in versions.indices {
      versions[index].track(dependencies) { importsOfComponent[$0] }
    }
  }
  let graphed = clock.now
  let sources = (ownEntries + dependencyEntries).flatMap(\.sources)
  let facts = BuildFacts(
    packageName: arguments.packageName, packageDirectory: arguments.packageDirectory,
    swiftc: arguments.swiftc, pins: pins, omitsChanges: arguments.omitsChanges,
    compilerCache: arguments.cache + ".compiler")
  let build = facts.fields(sources: arguments.sources + arguments.dependencySources)
  let built = clock.now
  let table = render(
    versions, codeLiteral: codeLiteral(versions, components: components, sources: sources),
    build: build)
  let rendered = clock.now

  if (try? String(contentsOfFile: arguments.output, encoding: .utf8)) != table {
    try table.write(toFile: arguments.output, atomically: true, encoding: .utf8)
  }
  if let module = arguments.module {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let file = URL(fileURLWithPath: arguments.output).deletingLastPathComponent()
      .appending(path: VersionManifest.fileName)
    let json = try encoder.encode(
      manifest(versions, components: components, module: module, package: arguments.packageName))
    // Written on every run, changed or not: its date says which build of the
    // module (debug or release, one platform or another) ran last, and it is
    // no input of anything.
    try json.write(to: file, options: .atomic)
  }
  if reparsed > 0 || removed || !graphKept {
    try Data(cache.encoded()).write(to: URL(fileURLWithPath: arguments.cache), options: .atomic)
  }
  if ProcessInfo.processInfo.environment["RECALL_PLUGIN_VERBOSE"] == "2" {
    for version in versions.map(\.version) {
      let parts = version.reach.map { components[$0] }
        .sorted { ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint) }.map(\.identity)
        .joined(separator: ", ")
      FileHandle.standardError.write(
        Data("RecallFingerprintTool: \(version.op) reaches \(parts)\n".utf8))
    }
  }
  if ProcessInfo.processInfo.environment["RECALL_PLUGIN_VERBOSE"] != nil {
    let elapsed = clock.now - start
    FileHandle.standardError.write(
      Data(
        ("RecallFingerprintTool: \(versions.count) ops, \(inputs.count) files (\(reparsed) parsed"
          + (byItem > 0 ? ", \(byItem) by its edited item" : "") + ")"
          + (graphKept ? ", call graph kept," : "") + " in \(elapsed)"
          + " (cache \(loaded - start), parse \(summarized - loaded), graph \(graphed - summarized),"
          + " build \(built - graphed), code \(rendered - built))\n").utf8))
  }
  // Errors in the target's blocks fail the build (after the cache is saved,
  // which leaves out the files they are in).
  if !checks.errors.isEmpty {
    FileHandle.standardError.write(Data(checks.errors.map { $0 + "\n" }.joined().utf8))
    exit(1)
  }
} catch {
  FileHandle.standardError.write(Data("RecallFingerprintTool: error: \(error)\n".utf8))
  exit(1)
}
