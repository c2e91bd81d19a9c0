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

  @Test func anEditOfAFunctionWithABlockIsCheckedInTheWholeFile() throws {
    let directory = try makeDirectory()
    let source = directory.path + "/Train.swift"
    let code = """
      let scale = 2.0

      func train(data: [Double]) -> Double {
        let lr = 0.1
        return #memoized("fit", data, lr) {
          data.reduce(0, +) * lr
        }
      }

      func evaluate(_ x: Double) -> Double { x * scale }
      """
    try code.write(toFile: source, atomically: true, encoding: .utf8)
    let clean = try runTool(directory.path, sources: [source])
    #expect(clean.status == 0, "\(clean.text)")

    // An edit inside the function (one item) makes the block read a local it
    // does not take: the file is parsed whole, and checked.
    Thread.sleep(forTimeInterval: 0.05)
    try code.replacingOccurrences(of: "* lr\n", with: "* lr * Double(data.count) * momentum\n")
      .replacingOccurrences(of: "let lr = 0.1", with: "let lr = 0.1, momentum = 0.9")
      .write(toFile: source, atomically: true, encoding: .utf8)
    let failed = try runTool(directory.path, sources: [source])
    #expect(failed.status != 0)
    #expect(failed.text.contains("uses local 'momentum'"), "\(failed.text)")
    #expect(failed.text.contains("1 files (1 parsed)"), "\(failed.text)")

    // Fixed, then the other function edited: that edit is summarized by its
    // item, next to the block's function, which stays clean.
    try code.write(toFile: source, atomically: true, encoding: .utf8)
    #expect(try runTool(directory.path, sources: [source]).status == 0)
    Thread.sleep(forTimeInterval: 0.05)
    try code.replacingOccurrences(of: "x * scale", with: "x * scale * 2")
      .write(toFile: source, atomically: true, encoding: .utf8)
    let other = try runTool(directory.path, sources: [source])
    #expect(other.status == 0, "\(other.text)")
    #expect(other.text.contains("1 files (1 parsed, 1 by its edited item)"), "\(other.text)")
  }

  @Test func anEditOfAScriptIsCheckedInTheWholeFile() throws {
    let directory = try makeDirectory()
    let script = directory.path + "/main.swift"
    let helpers = directory.path + "/Helpers.swift"
    try "let scale = 2.0\n".write(toFile: helpers, atomically: true, encoding: .utf8)
    // `scale` is a global of another file: not a local of the script.
    let code = """
      let data = [1.0, 2.0]
      let other = 1.0
      let result = #memoized("fit", data) { data.map { $0 * scale } }
      print(result)
      """
    try code.write(toFile: script, atomically: true, encoding: .utf8)
    let clean = try runTool(directory.path, sources: [script, helpers])
    #expect(clean.status == 0, "\(clean.text)")

    // An edit of another top-level line (one item) makes `scale` a local of
    // the script, which the block reads without taking it: the whole script
    // is checked.
    Thread.sleep(forTimeInterval: 0.05)
    try code.replacingOccurrences(of: "let other = 1.0", with: "let scale = 1.25")
      .write(toFile: script, atomically: true, encoding: .utf8)
    let failed = try runTool(directory.path, sources: [script, helpers])
    #expect(failed.status != 0)
    #expect(failed.text.contains("uses local 'scale'"), "\(failed.text)")
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
