import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// The frame the table and graph commands show: an op's calls and everything
/// connected to them.
struct FrameOptions: ParsableArguments {
  @ArgumentParser.Argument(help: "The op whose calls start the frame.")
  var op: String
  @Flag(help: "Only calls that the current versions of their ops reuse.")
  var current = false
  @Flag(help: "Do not add the calls upstream of them.")
  var noBack = false
  @Flag(help: "Do not add the calls downstream of them.")
  var noForward = false

  func frame(_ store: Store) throws -> ComputationFrame {
    var frame = try ComputationFrame(op: findOp(op, in: store), currentOnly: current, in: store)
    if !noBack { frame = try frame.expandBack() }
    if !noForward { frame = try frame.expandForward() }
    // Expanding brings back stale calls connected to current ones.
    return current ? try frame.currentOnly() : frame
  }
}
