import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall accept OP VERSION --as BASE`
struct Accept: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Accept a code change as not changing results: serve the old results to the new version.")

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op.")
  var op: String
  @ArgumentParser.Argument(help: "The version to accept (a prefix is enough).")
  var version: String
  @Option(
    name: .customLong("as"), help: "The version whose results it shares (a prefix is enough).")
  var base: String

  func run() throws {
    let store = try options.open(writing: true)
    try reporting {
      let op = try findOp(self.op, in: store)
      let version = try store.version(of: op, matching: self.version)
      let base = try store.version(of: op, matching: self.base)
      try store.accept(op, version: version, as: base)
      print("\(op): \(version) now shares the results of \(base).")
    }
  }
}
