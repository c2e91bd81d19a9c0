import ArgumentParser
import Foundation
import RecallCore

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
      is explained by the calls that remain. In Swift: store.explainRun(of:), and \
      store.explain(_:) for a call before it runs.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op (its name, or a unique part of it).")
  var op: String
  @ArgumentParser.Argument(help: "One call: its id, the first characters of it, or a tag.")
  var call: String?
  @Option(help: "How many of the op's most recent calls to explain.")
  var limit = 5

  struct Row: TableRow {
    static let columns = ["id", "started_at", "inputs", "reason", "why"]
    let id: String
    let startedAt: Date
    /// Each input's content id, by parameter name.
    let inputs: [String: String]
    /// `never_computed`, `other_version`, `other_trial`, `other_inputs`,
    /// `evicted`, `expired` or `stored`.
    let reason: String
    /// The call the explanation compares with, if any.
    @Nullable var compared: String?
    /// The arguments that differ from the compared call's (`other_inputs`).
    let differing: [String]
    let why: String
    let inputsText: String

    var cells: [String] { [short(id), iso(startedAt), inputsText, reason, why] }

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
      let calls =
        try call.map { [try findCall($0, in: store, path: options.path)] }
        ?? store.calls(of: op, limit: max(0, limit))
      let rows = try calls.map { call in
        let explanation = try store.explainRun(of: call.id)
        return Row(
          id: call.id.hex, startedAt: call.startedAt,
          inputs: Dictionary(uniqueKeysWithValues: call.inputs.map { ($0.name, $0.cid.hex) }),
          reason: Self.code(of: explanation), compared: Self.compared(in: explanation)?.id.hex,
          differing: Self.differing(in: explanation), why: explanation.description,
          inputsText: values.inputs(call))
      }
      if rows.isEmpty && !options.json {
        print("No calls of \(op.name) are stored.")
      } else {
        options.print(rows)
      }
    }
  }

  static func code(of explanation: MissExplanation) -> String {
    switch explanation {
    case .stored: "stored"
    case .neverComputed: "never_computed"
    case .otherVersion: "other_version"
    case .otherTrial: "other_trial"
    case .otherInputs: "other_inputs"
    case .evicted: "evicted"
    case .expired: "expired"
    }
  }

  static func compared(in explanation: MissExplanation) -> CallRecord? {
    switch explanation {
    case .otherVersion(let stored, _), .otherTrial(let stored): stored
    case .otherInputs(let nearest, _, _): nearest
    case .stored, .neverComputed, .evicted, .expired: nil
    }
  }

  static func differing(in explanation: MissExplanation) -> [String] {
    if case .otherInputs(_, let differing, _) = explanation { differing } else { [] }
  }
}
