import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall export --to STORE`
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Copy calls, with their values, versions, code and environments, into another store (created if needed)."
  )

  @OptionGroup var options: StoreOptions
  @Option(help: "The store to copy into.")
  var to: String
  @Option(name: .customLong("op"), help: "Only this op's calls (repeatable); all ops by default.")
  var ops: [String] = []

  func run() throws {
    try transfer(from: options.open(), to: to, creating: true, ops: ops)
  }
}
