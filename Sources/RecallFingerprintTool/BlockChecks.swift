import Foundation
import RecallFingerprint
import SwiftSyntax

/// The errors the tool finds in the target's `#memoized` blocks that the
/// macro cannot see: locals a block reads without taking them as inputs (the
/// macro sees the declarations around a block without their bodies), and
/// block names used twice in the module (the macro sees one block at a time).
///
/// They are compiler-style lines (`/path/File.swift:12:5: error: …`), which
/// SwiftPM and Xcode show at their place; the tool prints them on stderr and
/// exits non-zero, so the build fails.
final class BlockChecks {
  /// The error lines found so far, with notes.
  private(set) var errors: [String] = []

  /// Checks the blocks of one of the target's files for locals they read
  /// without taking them as inputs.
  ///
  /// - Returns: Whether the file has no such errors; a file with errors is
  ///   kept out of the summary cache, so that it is checked again at the next
  ///   build, until it is fixed.
  func check(_ tree: SourceFileSyntax, source: String, path: String) -> Bool {
    guard source.contains("#memoized") else { return true }
    // A `main.swift` is a script: its top-level variables are set as it runs.
    let isScript = URL(fileURLWithPath: path).lastPathComponent == "main.swift"
    let problems = BlockCaptures.problems(in: tree, topLevelCodeIsLocal: isScript)
    for problem in problems {
      errors.append("\(path):\(problem.line):\(problem.column): error: \(problem.message)")
    }
    return problems.isEmpty
  }

  /// Checks that no two blocks of the target have one name: the second is
  /// an error, with a note at the first.
  func checkNames(_ files: [(path: String, summary: FileSummary)]) {
    var bytes: [String: [UInt8]] = [:]
    func location(_ path: String, _ offset: Int) -> (line: Int, column: Int) {
      if bytes[path] == nil {
        bytes[path] = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
      }
      return BlockNames.lineAndColumn(of: offset, in: bytes[path]!)
    }
    for duplicate in BlockNames.duplicates(in: files) {
      let here = location(duplicate.path, duplicate.offset)
      let first = location(duplicate.firstPath, duplicate.firstOffset)
      let firstName = URL(fileURLWithPath: duplicate.firstPath).lastPathComponent
      errors.append(
        "\(duplicate.path):\(here.line):\(here.column): error: "
          + duplicate.message(first: "\(firstName):\(first.line)"))
      errors.append(
        "\(duplicate.firstPath):\(first.line):\(first.column): note: "
          + "the block named '\(duplicate.name)' is here")
    }
  }
}
