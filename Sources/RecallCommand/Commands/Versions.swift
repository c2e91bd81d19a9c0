import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall versions OP`
struct Versions: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List an op's versions: when each was first and last seen, and its calls.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op.")
  var op: String

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try findOp(self.op, in: store)
      options.print(try VersionRow.rows(of: op, in: store))
    }
  }
}
