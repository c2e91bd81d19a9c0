import Foundation
import RecallCore

/// One stored call of an op: a row of `recall calls` and of the viewer's op
/// page (`/api/v1/calls`).
package struct CallRow: TableRow {
  package static let columns = [
    "id", "op_version", "trial", "started_at", "duration", "inputs", "output",
  ]
  package let id: String
  package let opVersion: String
  /// The trial the result belongs to (0 when every trial shares it).
  package let trial: Int
  package let startedAt: Date
  package let duration: Double
  /// Each input's content id, by parameter name.
  package let inputs: [String: String]
  package let output: JSONValue
  package let text: (inputs: String, output: String)

  package var cells: [String] {
    [
      short(id), short(opVersion), String(trial),
      iso(startedAt), seconds(duration), text.inputs, text.output,
    ]
  }

  private enum CodingKeys: String, CodingKey {
    case id, trial, duration, inputs, output
    case opVersion = "op_version"
    case startedAt = "started_at"
  }

  /// The row of `call`, its values rendered from `values`' store.
  package init(_ call: CallRecord, values: ValueText) {
    id = call.id.hex
    opVersion = call.opVersion.hex
    trial = call.trial
    startedAt = call.startedAt
    duration = call.duration
    inputs = Dictionary(uniqueKeysWithValues: call.inputs.map { ($0.name, $0.cid.hex) })
    output = values.jsonValue(call.outputCID)
    text = (
      values.inputs(call),
      values.json(call.outputCID, .row) ?? (call.evictedAt == nil ? "?" : "(evicted)")
    )
  }
}

/// One field of a call: `field` names it (`op_version`, `started_at`,
/// `input NAME`…), `value` holds it for programs and `text` for people. The
/// rows of `recall show` and `recall environment`, and of the viewer's
/// `/api/v1/call/ID`.
package struct CallFieldRow: TableRow {
  package static let columns = ["field", "value"]
  package let field: String
  package let value: JSONValue
  package let text: String

  package var cells: [String] { [field, text] }

  private enum CodingKeys: String, CodingKey { case field, value }

  package init(_ field: String, _ text: String, value: JSONValue? = nil) {
    self.field = field
    self.text = text
    self.value = value ?? .string(text)
  }

  /// The fields `recall show` prints: the call's record, its inputs and
  /// output, its environment, and the calls upstream and downstream.
  package static func fields(of call: CallRecord, in store: Store) throws -> [CallFieldRow] {
    let values = ValueText(store: store)
    var rows = [
      CallFieldRow("id", call.id.hex),
      CallFieldRow("op", call.op.name),
      CallFieldRow("op_version", call.opVersion.hex),
      CallFieldRow("semantic_version", call.semanticVersion.hex),
      CallFieldRow("trial", trialText(call), value: .integer(Int64(call.trial))),
      CallFieldRow("started_at", iso(call.startedAt)),
      CallFieldRow("duration", seconds(call.duration), value: .number(call.duration)),
      CallFieldRow("host", "\(call.host) (pid \(call.pid))"),
    ]
    for input in call.inputs {
      let value = values.json(input.cid, .full)
      rows.append(
        CallFieldRow(
          "input \(input.name)", "\(value ?? "(not stored)")  [cid \(input.cid)]",
          value: value.map(JSONValue.init(parsing:)) ?? .null))
    }
    let output = values.json(call.outputCID, .full)
    let missing = call.evictedAt.map { "(evicted \(iso($0)); computed again when next called)" }
    rows.append(
      CallFieldRow(
        "output",
        "\(output ?? missing ?? "(not stored)")  [cid \(call.outputCID), \(bytes(call.outputSize))]",
        value: output.map(JSONValue.init(parsing:)) ?? .null))
    rows += try environment(of: call, in: store, listing: false)
    for (field, calls) in [
      ("upstream", try store.upstream(of: call.id)),
      ("downstream", try store.downstream(of: call.id)),
    ] {
      rows.append(
        CallFieldRow(
          field, calls.map { "\($0.op.name) \($0.id)" }.joined(separator: ", "),
          value: .array(calls.map { .string($0.id.hex) })))
    }
    return rows
  }

  /// The trial, and whether the result is the trial's own or every trial's.
  package static func trialText(_ call: CallRecord) -> String {
    switch call.isRandom {
    case true?: "\(call.trial) (random: computed for this trial)"
    case false?: "\(call.trial) (shared by every trial)"
    case nil: "\(call.trial)"
    }
  }

  /// The rows of a call's environment, as `recall show` and `recall
  /// environment` print them: the dependencies in one row, or (`listing`) one
  /// row each.
  package static func environment(of call: CallRecord, in store: Store, listing: Bool) throws
    -> [CallFieldRow]
  {
    guard let id = call.environment else {
      return [
        CallFieldRow(
          "environment", "(not recorded: the call is older than environment records)",
          value: .null)
      ]
    }
    guard let environment = try store.environment(id) else {
      return [CallFieldRow("environment", "\(id) (not in the store)")]
    }
    let unknown = "(unknown: built without RecallPlugin)"
    let commit: String
    switch (environment.commit, environment.changesDigest) {
    case (nil, _): commit = "(not a git checkout, or built without RecallPlugin)"
    case (let sha?, nil): commit = "\(sha) (clean)"
    case (let sha?, let digest?):
      commit =
        "\(sha) with uncommitted changes \(digest.prefix(12)) (recall environment \(call.id) --diff)"
    }
    var rows = [
      CallFieldRow("environment", id.hex),
      CallFieldRow(
        "package", environment.package ?? unknown,
        value: environment.package.map(JSONValue.string) ?? .null),
      CallFieldRow("commit", commit, value: environment.commit.map(JSONValue.string) ?? .null),
      CallFieldRow(
        "uncommitted_changes",
        environment.changesDigest ?? (environment.commit == nil ? "(unknown)" : "(none)"),
        value: environment.changesDigest.map(JSONValue.string) ?? .null),
      CallFieldRow(
        "compiler", environment.compiler ?? unknown,
        value: environment.compiler.map(JSONValue.string) ?? .null),
      CallFieldRow("system", "\(environment.operatingSystem), \(environment.architecture)"),
      CallFieldRow("recall", environment.recallVersion),
    ]
    let dependencies = environment.dependencies
    if listing {
      rows += dependencies.map {
        CallFieldRow(
          "dependency \($0.identity)", "\($0.resolution)  [\($0.location)]",
          value: .string($0.resolution))
      }
    } else {
      rows.append(
        CallFieldRow(
          "dependencies",
          dependencies.isEmpty
            ? (environment.package == nil ? unknown : "(none)")
            : dependencies.map { "\($0.identity) \($0.resolution)" }.joined(separator: ", "),
          value: .array(dependencies.map { .string("\($0.identity) \($0.resolution)") })))
    }
    return rows
  }
}

/// A call being computed now (a claim): a row of `recall running` and of the
/// viewer's running page (`/api/v1/running`).
package struct ClaimRow: TableRow {
  package static let columns = ["id", "op", "host", "pid", "running", "expires_in"]
  package let id: String
  package let op: String
  package let host: String
  package let pid: Int
  /// Seconds since the call was claimed.
  package let running: Double
  /// Seconds until the claim's lease runs out, unless its holder renews it.
  package let expiresIn: Double

  package var cells: [String] {
    [short(id), op, host, "\(pid)", seconds(running), seconds(expiresIn)]
  }

  private enum CodingKeys: String, CodingKey {
    case id, op, host, pid, running
    case expiresIn = "expires_in"
  }

  /// The claims live at `now`, oldest first.
  package static func rows(in store: Store, at now: Date = Date()) throws -> [ClaimRow] {
    try store.claims(at: now).map { claim in
      ClaimRow(
        id: claim.call.hex, op: claim.op.name, host: claim.claimant.host, pid: claim.claimant.pid,
        running: now.timeIntervalSince(claim.claimedAt),
        expiresIn: claim.expiresAt.timeIntervalSince(now))
    }
  }
}
