import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall diff OP [FROM] [TO]`
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show what changed between two versions of an op, component by component.",
    discussion: """
      Without versions, it compares the current version with the other version used last. A version \
      that shares its results with the older one (accepted, or adding parameters) says so.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The op.")
  var op: String
  @ArgumentParser.Argument(
    help: "The older version (a prefix is enough; default: the other one used last).")
  var from: String?
  @ArgumentParser.Argument(
    help: "The newer version (a prefix is enough; default: the current one).")
  var to: String?

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try findOp(self.op, in: store)
      let comparison = try VersionComparison(op, from: from, to: to, in: store)
      guard !options.json else {
        options.print(comparison.rows)
        return
      }
      if let reason = comparison.sharing {
        print(
          "\(comparison.to) shares the results of \(comparison.from) (\(reason)): the edit below did not make them recompute."
        )
      }
      print(comparison.diff)
    }
  }
}
