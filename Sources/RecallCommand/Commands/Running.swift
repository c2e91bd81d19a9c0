import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall running`
struct Running: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the calls processes are computing now (their claims), oldest first.")

  @OptionGroup var options: StoreOptions

  func run() throws {
    let store = try options.open()
    let rows = try reporting { try ClaimRow.rows(in: store) }
    if rows.isEmpty && !options.json {
      print("No call is being computed.")
    } else {
      options.print(rows)
    }
  }
}
