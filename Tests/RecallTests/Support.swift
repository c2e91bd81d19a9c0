import Foundation
import Recall
@_exported import RecallTestSupport

/// The directory holding the test bundle and the other built products.
let productsDirectory: URL = {
  URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}()

/// Runs the test child with arguments and returns its standard output.
@discardableResult
func runChild(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
  let process = Process()
  process.executableURL = productsDirectory.appendingPathComponent("recall-test-child")
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
