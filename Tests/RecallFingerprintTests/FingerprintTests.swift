import Foundation
import RecallCodeTable
import RecallFingerprint
import SwiftParser
import SwiftSyntax
import Testing

func fingerprint(_ source: String) -> Fingerprint {
  let file = Parser.parse(source: source)
  let function = file.statements.first!.item.as(DeclSyntax.self)!
  return Fingerprint(of: function, excludingAttributes: ["Memoized"])
}

@Suite struct FingerprintTests {
  let original = """
    @Memoized
    func train(_ data: [Double], epochs: Int) -> Double {
      // Sum the data.
      var total = 0.0
      for _ in 0..<epochs { total += data.reduce(0, +) }
      return total
    }
    """

  @Test func stringLiteralsEscapeWhatSwiftRequiresAndKeepTheRest() throws {
    let value = "a\"b\\c\nd\re\tf\u{1}\u{1f}\u{7f}é🙂 #x"
    let literal = SwiftLiteral.string(value)
    #expect(literal == #""a\"b\\c\nd\re\tf\u{1}\u{1f}\u{7f}é🙂 #x""#)
    // Swift reads it back as the same string.
    let parsed = Parser.parse(source: "let x = " + literal)
    let expression = try #require(
      parsed.statements.first?.item.as(VariableDeclSyntax.self)?.bindings.first?.initializer?.value)
    #expect(expression.as(StringLiteralExprSyntax.self)?.representedLiteralValue == value)
    // Text with nothing to escape comes back as it is; a NUL anywhere, or
    // one escaped byte after a long plain run, is escaped.
    #expect(SwiftLiteral.body("func Model.predict(_:) é🙂") == "func Model.predict(_:) é🙂")
    #expect(SwiftLiteral.body("a\u{0}b\"") == #"a\u{0}b\""#)
    // Escapes first, last, next to each other, and a NUL alone.
    #expect(SwiftLiteral.body("\n\"x\t\t") == #"\n\"x\t\t"#)
    #expect(SwiftLiteral.body("\u{0}") == #"\u{0}"#)
    #expect(SwiftLiteral.body("\u{0}\u{0}é\u{0}") == #"\u{0}\u{0}é\u{0}"#)
    let (xs, ys) = (String(repeating: "x", count: 40), String(repeating: "y", count: 40))
    #expect(SwiftLiteral.body(xs + "\u{0}" + ys + "\n") == xs + #"\u{0}"# + ys + #"\n"#)
    #expect(SwiftLiteral.body(String(repeating: "x", count: 300) + "\u{7f}").hasSuffix(#"\u{7f}"#))
    // Each ASCII byte alone after plain text: escaped exactly when Swift
    // requires it.
    for byte in UInt8(0)...0x7f {
      let escaped = SwiftLiteral.body("x" + String(UnicodeScalar(byte)))
      let expected: String =
        switch byte {
        case 0x22: #"x\""#
        case 0x5c: #"x\\"#
        case 0x0a: #"x\n"#
        case 0x0d: #"x\r"#
        case 0x09: #"x\t"#
        case 0..<0x20, 0x7f: "x\\u{" + String(byte, radix: 16) + "}"
        default: "x" + String(UnicodeScalar(byte))
        }
      #expect(escaped == expected, "\(byte)")
    }
  }

  @Test func reformattingAndCommentsKeepTheFingerprint() {
    let reformatted = """
      /// Trains.
      @Memoized func train(
        _ data: [Double],
        epochs: Int
      ) -> Double {
        var total = 0.0   /* accumulator */
        for _ in 0..<epochs {
          total += data.reduce(0, +)
        }

        return total
      }
      """
    #expect(fingerprint(original) == fingerprint(reformatted))
  }

  @Test func anyTokenChangeChangesTheFingerprint() {
    let edits = [
      original.replacingOccurrences(of: "total += data", with: "total -= data"),
      original.replacingOccurrences(of: "epochs: Int", with: "epochs: Int32"),
      original.replacingOccurrences(of: "0.0", with: "0.5"),
      original.replacingOccurrences(of: "func train", with: "func fit"),
    ]
    for edit in edits {
      #expect(fingerprint(edit) != fingerprint(original), "\(edit)")
    }
  }

  @Test func theMemoizedAttributeIsLeftOut() {
    let withOptions = original.replacingOccurrences(
      of: "@Memoized", with: "@Memoized(version: \"2\")")
    #expect(fingerprint(withOptions) == fingerprint(original))
    let otherAttribute = original.replacingOccurrences(
      of: "@Memoized", with: "@Memoized @inlinable")
    #expect(fingerprint(otherAttribute) != fingerprint(original))
  }

  @Test func normalizedSourceIsTokensSeparatedBySpaces() {
    let print = fingerprint("func f(x: Int) -> Int { x+1 } // done")
    #expect(print.normalizedSource == "func f ( x : Int ) -> Int { x + 1 }")
  }

  @Test func sha256MatchesKnownAnswers() {
    #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let long = String(repeating: "a", count: 1_000)
    #expect(SHA256.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
  }

  @Test func displaySourceIsTheCodeWithoutComments() {
    let file = Parser.parse(
      source: """
        struct Model {
          /// The weights.
          var weights: [Double]  // one per feature
          func predict(_ x: [Double]) -> Double {
            // Dot product.
            zip(weights, x).map(*).reduce(0, +)
          }
          struct Nested { var a = 1 }
        }
        """)
    let summary = FileSummary(file)
    let text = Array(file.syntaxTextBytes)
    let sources = Dictionary(
      uniqueKeysWithValues: summary.components.map {
        ($0.identity, DisplaySource.text(of: $0.span, in: text))
      })
    #expect(
      sources["type Model"] == """
        struct Model {
          var weights: [Double]
          func predict(_ x: [Double]) -> Double { … }
        }
        """)
    #expect(
      sources["func Model.predict(_:)"] == """
        func predict(_ x: [Double]) -> Double {
          zip(weights, x).map(*).reduce(0, +)
        }
        """)
    #expect(sources["type Model.Nested"] == "struct Nested { var a = 1 }")
  }
}
