import ArgumentParser
import Foundation
import RecallCore

/// `recall show CALL`
struct Show: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a call (by id or id prefix) with its inputs and output.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The call's id, its first characters, or a tag's name.")
  var id: String

  /// One field of the call: `field` names it (`op_version`, `started_at`,
  /// `input NAME`…), `value` holds it for programs and `text` for people.
  struct Row: TableRow {
    static let columns = ["field", "value"]
    let field: String
    let value: JSONValue
    let text: String

    var cells: [String] { [field, text] }

    private enum CodingKeys: String, CodingKey { case field, value }

    init(_ field: String, _ text: String, value: JSONValue? = nil) {
      self.field = field
      self.text = text
      self.value = value ?? .string(text)
    }
  }

  func run() throws {
    let store = try options.open()
    let values = ValueText(store: store)
    let call = try reporting { try findCall(id, in: store, path: options.path) }
    var rows = [
      Row("id", call.id.hex),
      Row("op", call.op.name),
      Row("op_version", call.opVersion.hex),
      Row("semantic_version", call.semanticVersion.hex),
      Row("trial", trialText(call), value: .integer(Int64(call.trial))),
      Row("started_at", iso(call.startedAt)),
      Row("duration", seconds(call.duration), value: .number(call.duration)),
      Row("host", "\(call.host) (pid \(call.pid))"),
    ]
    for input in call.inputs {
      let value = values.json(input.cid, .full)
      rows.append(
        Row(
          "input \(input.name)", "\(value ?? "(not stored)")  [cid \(input.cid)]",
          value: value.map(JSONValue.init(parsing:)) ?? .null))
    }
    let output = values.json(call.outputCID, .full)
    let missing = call.evictedAt.map { "(evicted \(iso($0)); computed again when next called)" }
    rows.append(
      Row(
        "output",
        "\(output ?? missing ?? "(not stored)")  [cid \(call.outputCID), \(bytes(call.outputSize))]",
        value: output.map(JSONValue.init(parsing:)) ?? .null))
    rows += try reporting { try environmentRows(of: call, in: store, listing: false) }
    let upstream = try reporting { try store.upstream(of: call.id) }
    let downstream = try reporting { try store.downstream(of: call.id) }
    for (field, calls) in [("upstream", upstream), ("downstream", downstream)] {
      rows.append(
        Row(
          field, calls.map { "\($0.op.name) \($0.id)" }.joined(separator: ", "),
          value: .array(calls.map { .string($0.id.hex) })))
    }
    options.print(rows)
  }

  /// The trial, and whether the result is the trial's own or every trial's.
  private func trialText(_ call: CallRecord) -> String {
    switch call.isRandom {
    case true?: "\(call.trial) (random: computed for this trial)"
    case false?: "\(call.trial) (shared by every trial)"
    case nil: "\(call.trial)"
    }
  }
}
