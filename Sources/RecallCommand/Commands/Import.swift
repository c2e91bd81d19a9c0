import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall import STORE`
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Copy calls, with their values, versions, code and environments, from another store into this one."
  )

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The store to copy from.")
  var from: String
  @Option(name: .customLong("op"), help: "Only this op's calls (repeatable); all ops by default.")
  var ops: [String] = []

  func run() throws {
    var sourceOptions = options
    sourceOptions.store = from
    try transfer(from: sourceOptions.open(), to: options.path, creating: false, ops: ops)
  }
}
