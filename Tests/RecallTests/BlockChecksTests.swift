import Foundation
import Testing

/// The build plugin's tool fails the build on `#memoized` blocks that the
/// macro cannot check: a block reading a local it does not take as an input,
/// and two blocks with one name.
@Suite struct BlockChecksTests {
  /// A fresh directory, created.
  func makeDirectory() throws -> TemporaryDirectory {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    return directory
  }

  /// Runs the tool as the plugin runs it; returns its exit status and output.
  func runTool(_ directory: String, sources: [String]) throws -> (status: Int32, text: String) {
    try run(
      productsDirectory.appendingPathComponent("RecallFingerprintTool").path,
      ["--output", directory + "/Table.swift", "--cache", directory + "/cache.bin", "--sources"]
        + sources + ["--dependency-sources"],
      environment: ["RECALL_PLUGIN_VERBOSE": "1"])
  }

  @Test func aLocalReadByABlockFailsTheBuildUntilItIsAnInput() throws {
    let directory = try makeDirectory()
    let source = directory.path + "/Train.swift"
    let code = """
      func train(data: [Double]) -> Double {
        let lr = 0.1
        return #memoized("fit", data) {
          data.reduce(0, +) * lr
        }
      }
      """
    try code.write(toFile: source, atomically: true, encoding: .utf8)

    let failed = try runTool(directory.path, sources: [source])
    #expect(failed.status != 0)
    #expect(
      failed.text.contains(
        "\(source):4:25: error: '#memoized' block 'fit' uses local 'lr', which is not one of its "
          + "inputs, so its result would be reused when 'lr' changes; "
          + "add it: #memoized(\"fit\", data, lr) { … }"), "\(failed.text)")
    // Unchanged, the file is checked again: it was kept out of the cache.
    let again = try runTool(directory.path, sources: [source])
    #expect(again.status != 0)
    #expect(again.text.contains("1 files (1 parsed)"), "\(again.text)")

    try code.replacingOccurrences(of: #"("fit", data)"#, with: #"("fit", data, lr)"#)
      .write(toFile: source, atomically: true, encoding: .utf8)
    let fixed = try runTool(directory.path, sources: [source])
    #expect(fixed.status == 0, "\(fixed.text)")
    #expect(!fixed.text.contains("error:"), "\(fixed.text)")
  }

  @Test func twoBlocksWithOneNameFailTheBuild() throws {
    let directory = try makeDirectory()
    let first = directory.path + "/First.swift"
    let second = directory.path + "/Second.swift"
    let firstCode = """
      func f() -> Int { #memoized("total", 1) { 1 } }
      """
    let secondCode = """
      func g() -> Int {
        #memoized("total", 2) { 2 }
      }
      """
    try firstCode.write(toFile: first, atomically: true, encoding: .utf8)
    try secondCode.write(toFile: second, atomically: true, encoding: .utf8)

    let failed = try runTool(directory.path, sources: [first, second])
    #expect(failed.status != 0)
    #expect(
      failed.text.contains(
        "\(second):2:3: error: '#memoized' block name 'total' is already used by the block at "
          + "First.swift:1;"), "\(failed.text)")
    #expect(failed.text.contains("such as to 'total-2'"), "\(failed.text)")
    #expect(
      failed.text.contains("\(first):1:19: note: the block named 'total' is here"),
      "\(failed.text)")
    // The check covers every file, cached or not.
    #expect(try runTool(directory.path, sources: [first, second]).status != 0)
  }
}
