import Foundation

/// What the current code would not reuse in a store: stored results filed
/// under a semantic version their op's code no longer has, and the results
/// computed from them, grouped by the change that caused it
/// (``Store/outdated(current:)``).
public struct OutdatedReport: Sendable {
  /// A change of an op's code: its calls filed under `from`, its code now at
  /// `to`.
  public struct Change: Sendable, Hashable {
    /// The op whose code changed.
    public var op: OpID
    /// The semantic version the outdated calls are filed under.
    public var from: CodeFingerprint
    /// The op's version in the current code.
    public var to: CodeFingerprint
    /// The identities of the components that differ between one of the
    /// outdated calls' versions and the current one (changed, added or
    /// removed), sorted; empty when either version's components are not
    /// known.
    public var changedComponents: [String]
  }

  /// The calls one change made outdated.
  public struct Group: Sendable {
    /// The change.
    public var change: Change
    /// Calls of the changed op, filed under its old semantic version, that
    /// no call under the current one has replaced yet: the current code
    /// computes them again. Most recent first.
    public var stale: [CallRecord]
    /// Calls whose inputs came, directly or through other calls, from the
    /// stale calls' results (their op's code may be current): the current
    /// code computes them again unless their inputs come out byte for byte
    /// the same. Most recent first.
    public var downstream: [CallRecord]
  }

  /// The changes and their calls, by op name.
  public var groups: [Group]
  /// Outdated calls whose replacement under the current code is stored (a
  /// refresh or a run computed it): not listed in ``groups``.
  public var replaced: Int
  /// Calls downstream of a replaced call whose inputs came out the same,
  /// byte for byte: still reused (early cutoff), not listed.
  public var revalidated: Int
  /// Ops with stored calls that the current versions do not name (another
  /// program's ops, ops removed from the code): not checked.
  public var unknownOps: [OpID]

  /// How many calls are outdated.
  public var count: Int { groups.reduce(0) { $0 + $1.stale.count + $1.downstream.count } }
}

/// An op's version in the current code, resolved in a store.
struct CurrentOp {
  var version: CodeFingerprint
  var semanticVersion: CodeFingerprint
  var components: [CodeComponent]
}

/// The outdated calls, in an order that puts every call after the calls its
/// inputs came from, with what a refresh needs to replay each.
struct OutdatedPlan {
  struct Call {
    var record: CallRecord
    /// The index of the change it descends from in ``changes``.
    var change: Int
    /// Whether it is stale itself (rather than downstream only).
    var isStale: Bool
    /// Whether every input it takes from an outdated call has been replaced,
    /// so that it can be computed now.
    var isReady: Bool
    /// The inputs to pass in place of the recorded ones, by parameter name:
    /// the replacing calls' outputs.
    var substitutions: [String: CallInput]
  }

  var changes: [OutdatedReport.Change] = []
  var calls: [Call] = []
  var replaced = 0
  var revalidated = 0
  var unknownOps: [OpID] = []

  var report: OutdatedReport {
    var groups = changes.map { OutdatedReport.Group(change: $0, stale: [], downstream: []) }
    for call in calls {
      if call.isStale {
        groups[call.change].stale.append(call.record)
      } else {
        groups[call.change].downstream.append(call.record)
      }
    }
    for index in groups.indices {
      groups[index].stale.sort { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
      groups[index].downstream.sort { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
    }
    return OutdatedReport(
      groups: groups.filter { !$0.stale.isEmpty || !$0.downstream.isEmpty }
        .sorted { ($0.change.op, $0.change.from.hex) < ($1.change.op, $1.change.from.hex) },
      replaced: replaced, revalidated: revalidated, unknownOps: unknownOps)
  }
}

extension Store {
  /// Lists the stored results that the current code would not reuse, before
  /// any of it runs: calls filed under a semantic version their op's current
  /// version does not have (stale), and calls whose inputs came from them,
  /// transitively (downstream), grouped by the change that caused it.
  ///
  /// ```swift
  /// let manifests = try CodeVersions.manifests(under: URL(filePath: ".build"))
  /// for group in try store.outdated(current: CodeVersions(contentsOf: manifests)).groups {
  ///   print(group.change.op, group.change.changedComponents, group.stale.count, group.downstream.count)
  /// }
  /// ```
  ///
  /// A stale call whose replacement under the current code is stored (its
  /// key under the current semantic version, with the replaced inputs) is
  /// not outdated; neither is a downstream call whose inputs came out the
  /// same, byte for byte, when the calls they came from were computed again
  /// (early cutoff). ``refresh(_:parallelism:progress:handlesInterrupt:)-(RefreshableOp...,_,_,_)``
  /// computes what is listed.
  ///
  /// A version the store has not seen is filed under itself, or under its
  /// predecessor's semantic version when it only adds parameters
  /// (``VersionRegistration/semanticVersion(among:lastHere:components:componentsOf:)``);
  /// a version accepted as another is filed under that one's.
  ///
  /// - Parameter current: The op versions of the code as it is now.
  /// - Throws: ``RecallError`` when the store cannot be read.
  public func outdated(current: CodeVersions) throws -> OutdatedReport {
    var resolved: [OpID: [CurrentOp]] = [:]
    for summary in try backend.ops() {
      let entries = current.entries(for: summary.op)
      guard !entries.isEmpty else { continue }
      let versions = try backend.versions(of: summary.op, countingCalls: false)
      resolved[summary.op] = try entries.map { entry in
        let semanticVersion: CodeFingerprint
        if let known = versions.first(where: { $0.version == entry.version }) {
          semanticVersion = known.semanticVersion
        } else {
          let registration = VersionRegistration(
            op: summary.op, version: entry.version, parameters: entry.parameters,
            addedParameters: entry.addedParameters, components: { entry.components })
          semanticVersion = try registration.semanticVersion(
            among: versions, lastHere: nil, components: entry.components
          ) { try backend.components(of: summary.op, version: $0.version) }
        }
        return CurrentOp(
          version: entry.version, semanticVersion: semanticVersion, components: entry.components)
      }
    }
    return try outdatedPlan(resolved).report
  }

  /// How many histories one query of the downstream walk asks for.
  static let historiesPerQuery = 2_000

  /// The outdated calls given the current ops' resolutions in this store:
  /// one per op, or several where declarations share an op's name (two
  /// `private` functions with the same signature in two files).
  func outdatedPlan(_ current: [OpID: [CurrentOp]]) throws -> OutdatedPlan {
    var plan = OutdatedPlan()
    // The affected calls, by index: the stale ones first, then what is
    // downstream of them, with the change each descends from.
    var nodes: [CallRecord] = []
    var changeOf: [Int] = []
    var indexOf: [CallID: Int] = [:]
    for summary in try backend.ops() {
      guard let ops = current[summary.op], let op = ops.first else {
        plan.unknownOps.append(summary.op)
        continue
      }
      let currentVersions = Set(ops.map(\.semanticVersion))
      let calls =
        currentVersions.count == 1
        ? try backend.calls(CallQuery(op: summary.op, semanticVersionOtherThan: op.semanticVersion))
        : try backend.calls(CallQuery(op: summary.op)).filter {
          !currentVersions.contains($0.semanticVersion)
        }
      var changeIndex: [CodeFingerprint: Int] = [:]
      for call in calls {
        let index: Int
        if let known = changeIndex[call.semanticVersion] {
          index = known
        } else {
          index = plan.changes.count
          changeIndex[call.semanticVersion] = index
          plan.changes.append(
            OutdatedReport.Change(
              op: summary.op, from: call.semanticVersion, to: op.version,
              changedComponents: try changedComponents(call, op)))
        }
        indexOf[call.id] = nodes.count
        nodes.append(call)
        changeOf.append(index)
      }
    }
    let staleCount = nodes.count
    // Everything downstream of the stale calls, through history ids: the
    // calls that took their outputs, a few thousand histories per query.
    var producers: [[Int]] = Array(repeating: [], count: nodes.count)
    var consumers: [[Int]] = Array(repeating: [], count: nodes.count)
    var frontier = 0..<nodes.count
    while !frontier.isEmpty {
      let level = frontier
      // The level's outputs (a result stored by parts has one per part), a
      // few thousand histories per query.
      var batches: [[Output: [Int]]] = [[:]]
      for node in level {
        for output in try outputs(of: nodes[node]) {
          if batches[batches.count - 1].count >= Self.historiesPerQuery { batches.append([:]) }
          batches[batches.count - 1][output.output, default: []].append(node)
        }
      }
      for byOutput in batches where !byOutput.isEmpty {
        var query = CallQuery()
        query.inputHIDs = Array(Set(byOutput.keys.map(\.hid)))
        for consumer in try backend.calls(query) {
          for input in consumer.inputs {
            for producer in byOutput[Output(input)] ?? [] where nodes[producer].id != consumer.id {
              let node: Int
              if let known = indexOf[consumer.id] {
                node = known
              } else {
                node = nodes.count
                indexOf[consumer.id] = node
                nodes.append(consumer)
                changeOf.append(changeOf[producer])
                producers.append([])
                consumers.append([])
              }
              if !producers[node].contains(producer) {
                producers[node].append(producer)
                consumers[producer].append(node)
              }
            }
          }
        }
      }
      frontier = level.upperBound..<nodes.count
    }
    // In dependency order (Kahn): a call after every call its inputs came
    // from. A cycle (not possible from one clock's histories) is left out.
    var remaining = producers.map(\.count)
    var ready = (0..<staleCount).filter { remaining[$0] == 0 }.reversed().map { $0 }
    var outcomes = [ReplayOutcome?](repeating: nil, count: nodes.count)
    // Whether an op has calls under a semantic version: where it has none, no
    // replacement can be stored, and none is looked up (a change no run has
    // met yet costs no lookup per call).
    var filed: [OpID: [CodeFingerprint: Int]] = [:]
    func mayHaveCalls(_ op: OpID, under semanticVersion: CodeFingerprint) throws -> Bool {
      if filed[op] == nil {
        var counts: [CodeFingerprint: Int] = [:]
        for version in try backend.versions(of: op, countingCalls: true) {
          counts[version.semanticVersion, default: 0] += version.calls
        }
        filed[op] = counts
      }
      return filed[op]![semanticVersion, default: 0] > 0
    }
    while let node = ready.popLast() {
      let record = nodes[node]
      // Ops the current versions do not name are taken as they were filed.
      let semanticVersions =
        current[record.op].map { $0.map(\.semanticVersion) } ?? [record.semanticVersion]
      let outcome = try replayOutcome(
        record, current: semanticVersions.filter { try mayHaveCalls(record.op, under: $0) },
        isCurrent: semanticVersions.contains(record.semanticVersion),
        producers: producers[node].map { (nodes[$0], outcomes[$0] ?? .pending) })
      outcomes[node] = outcome.result
      switch outcome.result {
      case .unchanged:
        if outcome.isCutOff { plan.revalidated += 1 }
      case .replaced:
        plan.replaced += 1
      case .pending:
        plan.calls.append(
          OutdatedPlan.Call(
            record: record, change: changeOf[node], isStale: node < staleCount,
            isReady: outcome.isReady, substitutions: outcome.substitutions))
      }
      for consumer in consumers[node] {
        remaining[consumer] -= 1
        if remaining[consumer] == 0 { ready.append(consumer) }
      }
    }
    return plan
  }

  /// What the current code makes of an affected call.
  enum ReplayOutcome {
    /// Its key is the same under the current code: it is reused.
    case unchanged
    /// Its replacement is stored: its output now.
    case replaced(CallInput)
    /// It is computed again when the code next needs it.
    case pending
  }

  /// What the current code makes of an affected call, given what it made of
  /// the calls its inputs came from.
  ///
  /// - Parameters:
  ///   - current: The semantic versions the call's replacement may be filed
  ///     under (those of its op's current versions that have calls).
  ///   - isCurrent: Whether the call is filed under a current version.
  ///   - producers: The affected calls its inputs came from, with what the
  ///     current code made of them.
  private func replayOutcome(
    _ record: CallRecord, current: [CodeFingerprint], isCurrent: Bool,
    producers: [(call: CallRecord, outcome: ReplayOutcome)]
  ) throws -> (
    result: ReplayOutcome, isReady: Bool, isCutOff: Bool, substitutions: [String: CallInput]
  ) {
    // The outputs of the outdated calls its inputs came from (a whole
    // result, or one of its parts, by label), now.
    var byOutput: [Output: (outcome: ReplayOutcome, part: String?)] = [:]
    for producer in producers {
      for output in try outputs(of: producer.call) {
        byOutput[output.output] = (producer.outcome, output.part)
      }
    }
    var substitutions: [String: CallInput] = [:]
    var isReady = true
    for input in record.inputs {
      guard let found = byOutput[Output(input)] else { continue }
      switch found.outcome {
      case .pending: isReady = false
      case .replaced(let output):
        guard let label = found.part else {
          substitutions[input.name] = CallInput(name: input.name, cid: output.cid, hid: output.hid)
          continue
        }
        // The replacement's part of the same label; without one, the call
        // is computed again when the code next needs it.
        guard let part = try backend.parts(of: output.cid).first(where: { $0.label == label })
        else {
          isReady = false
          continue
        }
        substitutions[input.name] = CallInput(
          name: input.name, cid: part.cid, hid: HistoryID(output: label, of: output.hid))
      case .unchanged: break
      }
    }
    guard isReady else { return (.pending, false, false, [:]) }
    let changed = record.inputs.filter { input in
      substitutions[input.name].map { $0.cid != input.cid } ?? false
    }
    if changed.isEmpty && isCurrent {
      // Cut off when a call its inputs came from was computed again, and
      // came out the same.
      return (.unchanged, true, !substitutions.isEmpty, substitutions)
    }
    guard !current.isEmpty, let fields = record.keyFields,
      let scheme = CallID.scheme(
        of: record.op, for: record.id, semanticVersion: record.semanticVersion,
        trial: record.trial, keyFields: fields)
    else { return (.pending, true, false, substitutions) }
    let newFields = KeyFields.replacing(
      fields,
      inputs: Dictionary(
        uniqueKeysWithValues: changed.map { ($0.name, substitutions[$0.name]!.cid) }))
    // Filed as it was (random in its trial, or shared), or as the other:
    // the current code may draw where the old one did not.
    for semanticVersion in current {
      for isRandom in [scheme.isRandom, !scheme.isRandom] {
        let id = CallID(
          op: scheme.name, semanticVersion: semanticVersion, trial: isRandom ? record.trial : 0,
          keyFields: newFields, isRandom: isRandom)
        if let replacement = try backend.call(id), replacement.evictedAt == nil {
          return (
            .replaced(
              CallInput(name: "", cid: replacement.outputCID, hid: replacement.outputHID)),
            true, false, substitutions
          )
        }
      }
    }
    return (.pending, true, false, substitutions)
  }

  /// A call's outputs as later calls' inputs name them: its whole result,
  /// and each part of one stored by parts (its label).
  private func outputs(of call: CallRecord) throws -> [(part: String?, output: Output)] {
    try resultHistories(of: call).map { ($0.output, Output(hid: $0.hid, cid: $0.cid)) }
  }

  /// The components that differ between a stale call's version and the
  /// current one.
  private func changedComponents(_ call: CallRecord, _ current: CurrentOp) throws -> [String] {
    guard !current.components.isEmpty,
      let old = try backend.components(of: call.op, version: call.opVersion), !old.isEmpty
    else { return [] }
    let before = Dictionary(old.map { ($0.identity, $0.fingerprint) }) { first, _ in first }
    let after = Dictionary(current.components.map { ($0.identity, $0.fingerprint) }) {
      first, _ in first
    }
    return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
  }
}

/// An output as a later call's input names it: its history and its content
/// (a history alone does not tell apart the instances of a generic op).
private struct Output: Hashable {
  let hid: HistoryID
  let cid: ContentID

  init(_ call: CallRecord) {
    hid = call.outputHID
    cid = call.outputCID
  }

  init(_ input: CallInput) {
    hid = input.hid
    cid = input.cid
  }

  init(hid: HistoryID, cid: ContentID) {
    self.hid = hid
    self.cid = cid
  }
}

/// Reads and rewrites a call's recorded key fields (``CallRecord/keyFields``):
/// length-prefixed fields, each input's name followed by its cid.
package enum KeyFields {
  /// The fields with the cids of the named inputs replaced.
  static func replacing(_ fields: [UInt8], inputs: [String: ContentID]) -> [UInt8] {
    guard !inputs.isEmpty else { return fields }
    var result: [UInt8] = []
    result.reserveCapacity(fields.count)
    var offset = 0
    var replacement: ContentID?
    while let (start, end) = field(in: fields, at: offset) {
      let bytes = fields[start..<end]
      if let cid = replacement, bytes.count == 32 {
        var recorder = FieldRecorder()
        recorder.add(cid.digest)
        result += recorder.bytes
        replacement = nil
      } else {
        result += fields[offset..<end]
        replacement = inputs[String(decoding: bytes, as: UTF8.self)]
      }
      offset = end
    }
    // Malformed fields are kept as they were (the key then finds nothing).
    return offset == fields.count ? result : fields
  }

  /// The bounds of the field at `offset`, after its 8-byte little-endian
  /// length, or `nil` past the end or for a length the bytes do not hold.
  package static func field(in fields: [UInt8], at offset: Int) -> (Int, Int)? {
    guard offset + 8 <= fields.count else { return nil }
    var count: UInt64 = 0
    for index in 0..<8 { count |= UInt64(fields[offset + index]) << (8 * UInt64(index)) }
    let start = offset + 8
    guard count <= UInt64(fields.count - start) else { return nil }
    return (start, start + Int(count))
  }
}
