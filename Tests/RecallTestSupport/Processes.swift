import Foundation

/// The directory holding the test bundle and the other built products.
public let productsDirectory: URL = {
  URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}()

/// Runs a program and returns its exit status and combined output: in
/// `directory` (else this process's), with this process's environment changed
/// by `environment` and without the variables in `unsetting`.
public func run(
  _ executable: String, _ arguments: [String], environment: [String: String],
  unsetting: Set<String> = [], in directory: URL? = nil
) throws -> (status: Int32, text: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment
    .filter { !unsetting.contains($0.key) }.merging(environment) { $1 }
  if let directory { process.currentDirectoryURL = directory }
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
