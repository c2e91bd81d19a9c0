import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall table OP`
enum TableFormat: String, ExpressibleByArgument, CaseIterable {
  case markdown, csv, json
}

struct TableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "table",
    abstract:
      "Print the joint table of an op's computation frame: one row per history, a column per input and op."
  )

  @OptionGroup var options: StoreOptions
  @OptionGroup var frame: FrameOptions
  @Option(help: "markdown, csv or json.")
  var format: TableFormat = .markdown
  @Flag(
    help:
      "After each op's column, its op version, marked (stale) when no current version reuses it.")
  var versions = false
  @Option(
    name: .customLong("fields"),
    help: "Split this column of structs into one column per field (repeat for several).")
  var fieldColumns: [String] = []

  func run() throws {
    let store = try options.open()
    try reporting {
      var table = try frame.frame(store).table(showingVersions: versions)
      for column in fieldColumns { table = try table.splittingFields(of: column) }
      switch format {
      case .markdown: print(table.markdown, terminator: "")
      case .csv: print(table.csv, terminator: "")
      case .json: print(table.json, terminator: "")
      }
    }
  }
}
