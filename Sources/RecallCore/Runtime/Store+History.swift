import Foundation
import Synchronization

extension Store {
  /// The history id of a call's output: its op's key name and semantic
  /// version, its inputs' histories and, for a random call, its trial (two
  /// trials of one call are two histories).
  func historyID(_ call: PreparedCall, _ inputs: [CallInput]) -> HistoryID {
    var builder = DigestBuilder(domain: "recall.hid.v1")
    // The name with labels only, as before op names had types: the same
    // computation keeps its history id (overloads differ by version).
    builder.add(call.op.details.keyName.name)
    builder.add(call.semanticVersion.hex)
    for input in inputs {
      builder.add(input.name)
      builder.add(input.hid.digest)
    }
    builder.add(0)  // output index
    if call.isRandom {
      builder.add("trial")
      builder.add(call.trial)
    }
    return HistoryID(builder.finalize())
  }
}

extension HistoryID {
  /// The history id of one output of a result of several outputs
  /// (``MultipleOutputs``): the call's history id with the output's label.
  public init(output label: String, of call: HistoryID) {
    var builder = DigestBuilder(domain: "recall.hid.output.v1")
    builder.add(call.digest)
    builder.add(label)
    self.init(builder.finalize())
  }
}

/// Which history an input has (Design §23, "Provenance"): the history of an
/// output equal to it returned earlier *in the same scope* — the body of the
/// memoized call being computed (seeded with that call's own inputs), or,
/// outside any memoized call, the process. An input equal to no such output,
/// or to outputs of different histories, starts a history of its own (its
/// cid). So a call's recorded provenance depends only on what ran before it
/// in its scope, never on what else the process did, and equal outputs of
/// different calls are never guessed between.
final class HistoryMap: Sendable {
  /// At most this many values are remembered per scope (about 10 MB): the
  /// ones recorded or read most recently, in two generations of half as
  /// many (a full one becomes the older one, and the older one is let go).
  static let scopeLimit = 100_000

  private enum Entry {
    case history(HistoryID)
    /// Outputs of different histories had this content.
    case ambiguous
  }

  /// One scope's values, newer and older.
  private struct Scope {
    var current: [ContentID: Entry] = [:]
    var previous: [ContentID: Entry] = [:]
    /// How many times the newer values became the older ones.
    var turns = 0

    var count: Int { current.count + previous.count }
    var isEmpty: Bool { current.isEmpty && previous.isEmpty }

    /// The entry for `cid`, kept among the newer values.
    mutating func read(_ cid: ContentID) -> Entry? {
      if let entry = current[cid] { return entry }
      guard let entry = previous[cid] else { return nil }
      insert(cid, entry)
      return entry
    }

    /// Adds a value that is not among the newer ones; a full generation
    /// becomes the older one first.
    mutating func insert(_ cid: ContentID, _ entry: Entry) {
      if current.count >= HistoryMap.scopeLimit / 2 {
        swap(&previous, &current)
        // Room for a whole generation at once, rather than growing (under
        // the lock) as it fills.
        current.removeAll(keepingCapacity: true)
        current.reserveCapacity(previous.count)
        turns += 1
      }
      current[cid] = entry
    }
  }

  private struct Scopes {
    /// Outside any memoized call.
    var topLevel = Scope()
    /// By the memoized call whose body is running.
    var bodies: [CallID: Scope] = [:]
  }

  private let scopes = Mutex(Scopes())
  /// The top level's ``Scope/turns``, read without the lock
  /// (``recordAtTopLevel(_:)``).
  private let topLevelTurns = Atomic<Int>(0)

  /// Remembers that an output (or reused result) with content `cid` has
  /// history `hid` in `scope`.
  func record(_ cid: ContentID, _ hid: HistoryID, in scope: CallID?) {
    scopes.withLock { scopes in
      guard let scope else {
        Self.add(cid, hid, to: &scopes.topLevel)
        return topLevelTurns.store(scopes.topLevel.turns, ordering: .releasing)
      }
      // A call's scope exists while its body runs in this store; a task that
      // outlives the body, or a body that calls into another store, links
      // nothing (and must not make a scope no one closes).
      guard scopes.bodies[scope] != nil else { return }
      Self.add(cid, hid, to: &scopes.bodies[scope]!)
    }
  }

  private static func add(_ cid: ContentID, _ hid: HistoryID, to map: inout Scope) {
    // Among the newer values: changed in place, with one probe.
    if let index = map.current.index(forKey: cid) {
      if case .history(let known) = map.current.values[index], known != hid {
        map.current.values[index] = .ambiguous
      }
      return
    }
    // Among the newer values from now on, as it was among the older ones
    // (or ambiguous, if the older one's history was another).
    let entry: Entry
    switch map.previous[cid] {
    case .history(let known): entry = known == hid ? .history(hid) : .ambiguous
    case .ambiguous: entry = .ambiguous
    case nil: entry = .history(hid)
    }
    map.insert(cid, entry)
  }

  /// Remembers a call's result: its history and, for a result of several
  /// outputs, each output's (``HistoryID/init(output:of:)``).
  func record(result cid: ContentID, _ hid: HistoryID, parts: [ValuePart], in scope: CallID?) {
    record(cid, hid, in: scope)
    for part in parts { record(part.cid, HistoryID(output: part.label, of: hid), in: scope) }
  }

  /// Remembers a result a hit outside any memoized call reused from the
  /// memory layer, unless the hit's entry was recorded at the top level
  /// since its newer values last became the older ones. Then its content is
  /// still among the newer values, with its history (or as ambiguous, which
  /// it stays), and recording it again would change nothing: a repeated
  /// warm hit takes no lock here.
  func recordAtTopLevel(_ entry: MemoryLayer.Entry) {
    let turns = topLevelTurns.load(ordering: .acquiring)
    if entry.recordedTurn.load(ordering: .relaxed) == turns { return }
    record(result: entry.cid, entry.hid, parts: entry.parts, in: nil)
    // The turn its record was made in (or an older one: recorded again).
    entry.recordedTurn.store(turns, ordering: .relaxed)
  }

  /// The history of an input with content `cid` in `scope`.
  func hid(for cid: ContentID, in scope: CallID?) -> HistoryID {
    let entry = scopes.withLock { scopes -> Entry? in
      // Read, it stays among the newer values.
      if let scope { return scopes.bodies[scope]?.read(cid) }
      defer { topLevelTurns.store(scopes.topLevel.turns, ordering: .releasing) }
      return scopes.topLevel.read(cid)
    }
    if case .history(let hid) = entry { return hid }
    return HistoryID(external: cid)
  }

  /// Makes room at the top level for `count` more values at once (at most a
  /// generation's), so that they are recorded without the map growing under
  /// the lock: a sweep's results.
  func reserveTopLevel(_ count: Int) {
    scopes.withLock { scopes in
      let current = scopes.topLevel.current.count
      scopes.topLevel.current.reserveCapacity(min(current + count, Self.scopeLimit / 2))
    }
  }

  /// Starts the scope of a call's body, which knows the call's inputs and
  /// the parts of those stored by parts, by input cid.
  func open(_ call: CallID, inputs: [CallInput], parts: [ContentID: [ValuePart]] = [:]) {
    let map = Self.seed(inputs, parts)
    scopes.withLock { $0.bodies[call] = map }
  }

  /// A body's scope at its start: the histories of its inputs, and of the
  /// outputs or elements of those stored by parts (a body that takes a
  /// whole result of several outputs, or a list, links what it does with
  /// one of them).
  private static func seed(_ inputs: [CallInput], _ parts: [ContentID: [ValuePart]]) -> Scope {
    var map = Scope()
    for input in inputs where input.hid != HistoryID(external: input.cid) {
      add(input.cid, input.hid, to: &map)
      for part in parts[input.cid] ?? [] {
        add(part.cid, HistoryID(output: part.label, of: input.hid), to: &map)
      }
    }
    return map
  }

  /// Starts the scope of a call's body unless one is open already (another
  /// body of the same call runs); returns whether it started one.
  func openIfClosed(_ call: CallID, inputs: [CallInput], parts: [ContentID: [ValuePart]]) -> Bool {
    let map = Self.seed(inputs, parts)
    return scopes.withLock { scopes in
      guard scopes.bodies[call] == nil else { return false }
      scopes.bodies[call] = map
      return true
    }
  }

  /// Ends the scope of a call's body.
  func close(_ call: CallID) {
    _ = scopes.withLock { $0.bodies.removeValue(forKey: call) }
  }

  /// How many times the top level's newer values became the older ones.
  var topLevelTurnCount: Int { topLevelTurns.load(ordering: .acquiring) }

  /// How many scopes are in use: the top level (once it has a value) and
  /// the bodies running.
  var scopeCount: Int { scopes.withLock { ($0.topLevel.isEmpty ? 0 : 1) + $0.bodies.count } }
}
