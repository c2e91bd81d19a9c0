import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall why OP [CALL] [--limit N]`
struct Why: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Say why calls of an op were computed rather than reused.",
    discussion: """
      For the op's most recent calls (or one call, by id, id prefix or tag), what the store held \
      when each started: the same inputs under another version (and what changed in the code), \
      or in another trial; else the nearest stored call and the arguments that differ (with the \
      call that returned an argument, when another op did); else no call of the op at all. A \
      call recomputed after its result was evicted, expired or forgotten has a new record, and \
      is explained by the calls that remain; one that ran because its stored result expired, \
      no longer decoded or was recomputed on request says so. With --input, the call with those \
      arguments, whether or not it ever ran: whether the op's current version would reuse it, \
      and if not, why. In Swift: store.explainRun(of:), and store.explain(_:) for a call before \
      it runs.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op (its name, or a unique part of it).")
  var op: String
  @ArgumentParser.Argument(help: "One call: its id, the first characters of it, or a tag.")
  var call: String?
  @Option(help: "How many of the op's most recent calls to explain.")
  var limit = 5
  @Option(
    name: .customLong("input"),
    help: ArgumentHelp(
      "Explain the call with this argument instead (repeat for each): its name and its value as JSON, or as text for a string.",
      valueName: "name=value"))
  var inputs: [String] = []

  func validate() throws {
    if !inputs.isEmpty && call != nil {
      throw ValidationError("Give a call or its inputs (--input), not both.")
    }
    for input in inputs where (input.firstIndex(of: "=") ?? input.startIndex) == input.startIndex {
      throw ValidationError(
        "--input takes name=value, such as x=3 or name='\"run\"'; got '\(input)'.")
    }
  }

  /// One call explained; a call given by its inputs (`--input`), which may
  /// never have run, has no id or start.
  struct Row: TableRow {
    static let columns = ["id", "started_at", "inputs", "reason", "why"]
    @Nullable var id: String?
    @Nullable var startedAt: Date?
    /// Each input's content id, by parameter name.
    let inputs: [String: String]
    /// `never_computed`, `other_version`, `other_trial`, `other_inputs`,
    /// `evicted`, `expired` or `stored`; or what its lookup saw when it ran:
    /// `expired`, `undecodable`, `corrupt`, `unreadable`, `recomputing`,
    /// `claim_timed_out`, `file_changed` (a file its stored result holds
    /// changed).
    let reason: String
    /// The call the explanation compares with, if any.
    @Nullable var compared: String?
    /// The arguments that differ from the compared call's (`other_inputs`).
    let differing: [String]
    let why: String
    let inputsText: String

    var cells: [String] {
      [id.map(short) ?? "", startedAt.map(iso) ?? "", inputsText, reason, why]
    }

    init(
      _ explanation: MissExplanation, id: String?, startedAt: Date?, inputs: [String: String],
      inputsText: String
    ) {
      self.id = id
      self.startedAt = startedAt
      self.inputs = inputs
      self.inputsText = inputsText
      reason = Why.code(of: explanation)
      compared = Why.compared(in: explanation)?.id.hex
      differing = Why.differing(in: explanation)
      why = explanation.description
    }

    private enum CodingKeys: String, CodingKey {
      case id, inputs, reason, compared, differing, why
      case startedAt = "started_at"
    }
  }

  func run() throws {
    let store = try options.open()
    let values = ValueText(store: store)
    try reporting {
      let op = try findOp(self.op, in: store)
      guard inputs.isEmpty else { return try explainInputs(of: op, in: store, values) }
      let calls =
        try call.map { [try findCall($0, in: store, path: options.path)] }
        ?? store.calls(of: op, limit: max(0, limit))
      let rows = try calls.map { call in
        let explanation = try store.explainRun(of: call.id)
        return Row(
          explanation, id: call.id.hex, startedAt: call.startedAt,
          inputs: Dictionary(uniqueKeysWithValues: call.inputs.map { ($0.name, $0.cid.hex) }),
          inputsText: values.inputs(call))
      }
      if rows.isEmpty && !options.json {
        print("No calls of \(op.name) are stored.")
      } else {
        options.print(rows)
      }
    }
  }

  /// One row for the call given by `--input`: its arguments are found among
  /// the values the op's calls took (an argument no stored call took
  /// differs from every call).
  private func explainInputs(of op: OpID, in store: Store, _ values: ValueText) throws {
    let given = inputs.map { input in
      let equals = input.firstIndex(of: "=")!  // checked by validate()
      return (
        name: String(input[..<equals]),
        value: JSONValue(parsing: String(input[input.index(after: equals)...]))
      )
    }
    var cids: [String: ContentID] = [:]
    for call in try store.calls(of: op, limit: Store.explainedCalls) {
      for input in call.inputs where cids[input.name] == nil {
        guard let wanted = given.first(where: { $0.name == input.name })?.value,
          Self.same(values.jsonValue(input.cid, whole: true), wanted)
        else { continue }
        cids[input.name] = input.cid
      }
    }
    for (name, _) in given where cids[name] == nil {
      // A value no call took: a content id no value has.
      cids[name] = ContentID(Digest(bytes: [UInt8](repeating: 0, count: 32))!)
    }
    let explanation = try store.explain(op: op, inputs: cids)
    options.print([
      Row(
        explanation, id: nil, startedAt: nil, inputs: cids.mapValues(\.hex),
        inputsText: inputs.joined(separator: " "))
    ])
  }

  /// Whether a stored value, rendered, is the value given: numbers compare
  /// by value (`3` is `3.0`).
  static func same(_ stored: JSONValue, _ given: JSONValue) -> Bool {
    switch (stored, given) {
    case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): Double(a) == b
    case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy(same)
    default: stored == given
    }
  }

  static func code(of explanation: MissExplanation) -> String {
    switch explanation {
    case .stored: "stored"
    case .neverComputed: "never_computed"
    case .otherVersion: "other_version"
    case .otherTrial: "other_trial"
    case .otherKey: "other_key"
    case .undecodable: "undecodable"
    case .otherInputs: "other_inputs"
    case .evicted: "evicted"
    case .expired: "expired"
    case .fileChanged, .sawWhenItRan(.fileChanged): "file_changed"
    case .sawWhenItRan(.claimTimedOut): "claim_timed_out"
    case .sawWhenItRan(let cause): cause.rawValue
    }
  }

  static func compared(in explanation: MissExplanation) -> CallRecord? {
    switch explanation {
    case .otherVersion(let stored, _), .otherTrial(let stored), .otherKey(let stored): stored
    case .otherInputs(let nearest, _, _): nearest
    case .stored, .neverComputed, .evicted, .expired, .sawWhenItRan, .undecodable, .fileChanged:
      nil
    }
  }

  static func differing(in explanation: MissExplanation) -> [String] {
    if case .otherInputs(_, let differing, _) = explanation { differing } else { [] }
  }
}
