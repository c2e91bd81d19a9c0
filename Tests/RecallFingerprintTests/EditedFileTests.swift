import RecallFingerprint
import RecallTestSupport
import SwiftParser
import Testing

/// Summarizing an edit by parsing only the top-level item it lies inside
/// (``FileSummary/updated(from:to:)``) gives what parsing the whole file
/// gives, or declines.
@Suite struct EditedFileTests {
  let original = """
    import Foundation

    /// The learning rate.
    let rate = 0.1

    struct Model: Codable {
      var weights: [Double]
      func predict(_ x: Double) -> Double { weights.reduce(0, +) * x }  // linear
    }

    extension Model {
      static let empty = Model(weights: [])
    }

    #if DEBUG
    func trace(_ message: String) { print(message) }
    #endif

    @Memoized
    func train(_ data: [Double], epochs: Int) -> Model {
      var model = Model.empty
      for _ in 0..<epochs { model.weights.append(data.reduce(0, +) * rate) }
      return model
    }

    func evaluate(_ model: Model) -> Double { model.predict(2) }

    """

  func summary(_ source: String) -> FileSummary {
    FileSummary(Parser.parse(source: source))
  }

  func edit(_ old: String, _ new: String) -> EditedSummary? {
    summary(old).updated(from: Array(old.utf8), to: Array(new.utf8))
  }

  @Test func anEditInsideOneItemGivesTheWholeFilesSummary() throws {
    let edits = [
      ("epochs { model", "epochs where epochs > 0 { model"),  // the op's body
      ("* x }", "* x + 1 }"),  // a method, with the type after it moved
      ("print(message)", "debugPrint(message, message)"),  // inside #if
      ("weights: [])", "weights: [0])"),  // an extension's member
      ("// linear", "// linear, for now"),  // a comment
      ("let rate = 0.1", "let rate = 0.25"),  // a global
      ("model.predict(2)", "model.predict(2) / 2"),  // the last item
      ("/// The learning rate.", "/// The rate."),  // a doc comment, inside its item
      // A comment after an item's closing brace: the item's trailing trivia.
      ("  return model\n}", "  return model\n}  // trained"),
      ("model.predict(2) }", "model.predict(2) }  // the last item's end"),
    ]
    let old = summary(original)
    for (target, replacement) in edits {
      let new = original.replacingOccurrences(of: target, with: replacement)
      #expect(new != original, "\(target)")
      let edited = try #require(edit(original, new), "\(target)")
      #expect(edited.summary == summary(new), "\(target)")
      // Only the edited item's components are new; those before it are the
      // old ones, and those after it the old ones moved.
      #expect(edited.replaced.lowerBound == edited.inserted.lowerBound)
      #expect(
        Array(edited.summary.components[..<edited.inserted.lowerBound])
          == Array(old.components[..<edited.replaced.lowerBound]))
      let after = edited.summary.components[edited.inserted.upperBound...]
      #expect(
        after.map(\.fingerprint) == old.components[edited.replaced.upperBound...].map(\.fingerprint)
      )
      #expect(
        after.map(\.span.start)
          == old.components[edited.replaced.upperBound...].map {
            $0.span.start + new.utf8.count - original.utf8.count
          })
    }
  }

  @Test func anEditAtOrAcrossAnItemsBoundaryIsLeftToAWholeParse() {
    let declined = [
      // A new function after another: a new item.
      original.replacingOccurrences(
        of: "\n\nfunc evaluate", with: "\n\nfunc helper() {}\n\nfunc evaluate"),
      // Two functions edited at once.
      original.replacingOccurrences(of: "0.1", with: "0.2").replacingOccurrences(
        of: "predict(2)", with: "predict(3)"),
      // A brace removed: the item runs into the next one.
      original.replacingOccurrences(of: "* x }", with: "* x"),
      // An import inside #if, where there was none.
      original.replacingOccurrences(of: "func trace", with: "import Darwin\nfunc trace"),
      // Text after the last item (the end-of-file token's trivia).
      original + "// the end\n",
    ]
    for new in declined {
      #expect(edit(original, new) == nil)
    }
  }

  @Test func anUnchangedFileKeepsItsSummary() throws {
    let edited = try #require(edit(original, original))
    #expect(edited.summary == summary(original))
    #expect(edited.replaced.isEmpty && edited.inserted.isEmpty)
  }

  /// Random edits of random places: each is declined or summarized as a
  /// whole parse summarizes it.
  @Test func anyEditIsDeclinedOrSummarizedAsAWholeParseWould() {
    var generator = SplitMix(seed: 7)
    let insertions = [
      "", "x", "}", "{", "\n", " ", "// c\n", "/* c */", "\"", "func g() {}\n", "import Foo\n",
      "@Memoized\n", "#if X\n", "#endif\n", "(", ")", "let y = 1\n", "0",
    ]
    let bytes = Array(original.utf8)
    let old = summary(original)
    var summarized = 0
    var clean = 0
    var keptGraphs = 0
    for _ in 0..<400 {
      let position = Int(generator.next() % UInt64(bytes.count + 1))
      let removed = min(Int(generator.next() % 4), bytes.count - position)
      let inserted = insertions[Int(generator.next() % UInt64(insertions.count))]
      var newBytes = bytes
      newBytes.replaceSubrange(position..<(position + removed), with: Array(inserted.utf8))
      let new = String(decoding: newBytes, as: UTF8.self)
      let whole = Parser.parse(source: new)
      if !whole.hasError { clean += 1 }
      // Equal graph digests make equal graphs: every op reaches the same.
      if !whole.hasError {
        let newSummary = FileSummary(whole)
        let names = CallGraph([old]).knownNames
        if newSummary.graphNodeDigest == old.graphNodeDigest,
          newSummary.graphEdgeDigest(knownNames: names)
            == old.graphEdgeDigest(knownNames: names)
        {
          #expect(CallGraph([newSummary]).opReaches() == CallGraph([old]).opReaches())
          keptGraphs += 1
        }
      }
      guard let edited = old.updated(from: bytes, to: newBytes) else { continue }
      #expect(!whole.hasError)
      #expect(
        edited.summary == FileSummary(whole), "\(position) \(removed) \(inserted.debugDescription)")
      summarized += 1
    }
    // Most edits that leave the file without errors are summarized by item.
    #expect(summarized * 4 > clean * 3)
    #expect(keptGraphs > 0)
  }
}
