import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall tag [NAME [TARGET]] [--remove]`
struct TagCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tag",
    abstract:
      "Name a call ('recall tag baseline 3f2a9c'), list tags ('recall tag'), or remove one.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The tag's name.")
  var name: String?
  @ArgumentParser.Argument(
    help: "The call to name: its id or first characters; or a value's full cid.")
  var target: String?
  @Flag(help: "Remove the tag.")
  var remove = false

  struct Row: TableRow {
    static let columns = ["tag", "kind", "target", "created_at"]
    let tag: String
    /// `call` or `value`.
    let kind: String
    /// The call's id or the value's cid.
    let target: String
    let createdAt: Date

    var cells: [String] { [tag, kind, target, iso(createdAt)] }

    private enum CodingKeys: String, CodingKey {
      case tag, kind, target
      case createdAt = "created_at"
    }
  }

  func run() throws {
    if remove {
      guard let name else { throw ValidationError("Name the tag to remove.") }
      let store = try options.open(writing: true)
      let removed = try reporting { try store.removeTag(name) }
      print(removed ? "Removed tag '\(name)'." : "There is no tag '\(name)'.")
      return
    }
    guard let name else {
      let store = try options.open()
      let tags = try reporting { try store.tags() }
      if tags.isEmpty && !options.json {
        print("No tags. Name a call with 'recall tag NAME CALL' (its id or first characters).")
        return
      }
      options.print(
        tags.map { tag in
          switch tag.target {
          case .call(let id):
            Row(tag: tag.name, kind: "call", target: id.hex, createdAt: tag.createdAt)
          case .value(let cid):
            Row(tag: tag.name, kind: "value", target: cid.hex, createdAt: tag.createdAt)
          }
        })
      return
    }
    guard let target else { throw ValidationError("Name the call (or value) to tag.") }
    let store = try options.open(writing: true)
    try reporting {
      if target.count == 64, let cid = ContentID(hex: target),
        try store.encodedValue(cid) != nil,
        try store.calls(matching: CallQuery(idPrefix: target, limit: 1)).isEmpty
      {
        try store.tag(name, value: cid)
        print("Tagged value \(cid) as '\(name)'.")
      } else {
        let call = try findCall(target, in: store, path: options.path)
        try store.tag(name, call: call.id)
        print("Tagged \(call.op.name) call \(call.id) as '\(name)'.")
      }
    }
  }
}
