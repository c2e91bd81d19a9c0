import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall show CALL`
struct Show: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a call (by id or id prefix) with its inputs and output.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The call's id, its first characters, or a tag's name.")
  var id: String

  func run() throws {
    let store = try options.open()
    let call = try reporting { try findCall(id, in: store, path: options.path) }
    options.print(try reporting { try CallFieldRow.fields(of: call, in: store) })
  }
}
