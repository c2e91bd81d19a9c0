import Foundation
import Recall
@_exported import RecallTestSupport

/// Runs the test child with arguments and returns its standard output.
@discardableResult
func runChild(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
  try runChildCapturing(arguments, environment: environment).output
}

/// Runs the test child and returns its standard output and standard error.
func runChildCapturing(_ arguments: [String], environment: [String: String] = [:]) throws
  -> (output: String, errors: String)
{
  let process = Process()
  process.executableURL = productsDirectory.appendingPathComponent("recall-test-child")
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment
    .filter { $0.key != "RECALL_QUIET" }.merging(environment) { $1 }
  let output = Pipe()
  let errors = Pipe()
  process.standardOutput = output
  process.standardError = errors
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = errors.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    String(decoding: outputData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
    String(decoding: errorData, as: UTF8.self)
  )
}
