import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall graph OP`
enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
  case dot, svg
}

struct Graph: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draw an op's computation frame as Graphviz DOT, or as SVG through Graphviz's dot.")

  @OptionGroup var options: StoreOptions
  @OptionGroup var frame: FrameOptions
  @Option(help: "dot or svg (needs Graphviz).")
  var format: GraphFormat = .dot

  func run() throws {
    let store = try options.open()
    try reporting {
      let frame = try frame.frame(store)
      print(format == .dot ? frame.dot() : try frame.svg(), terminator: "")
    }
  }
}
