import RecallCodeTable
import Testing

/// The build plugin's table format: what the tool writes, the runtime reads.
@Suite struct CodeTableTests {
  static let components = [
    (
      identity: "func scale(_:)", fingerprint: "ab12",
      source: "func scale(_ x: Double) -> Double {\n  x * \"two\".count\t// é\n}"
    ),
    (identity: "var rate", fingerprint: "cd34", source: "let rate = \"\\(1)\""),
    (identity: CodeTable.blockIdentity("fit"), fingerprint: "ef56", source: ""),
  ]
  static let ops = [(name: "run(_:)", reach: [0, 1]), (name: "other()", reach: [1, 2])]

  @Test func whatTheToolWritesTheRuntimeReads() throws {
    let text = CodeTable.encode(components: Self.components, ops: Self.ops)
    let table = try #require(Array(text.utf8).withUnsafeBufferPointer { CodeTable.parse($0) })
    #expect(table.keys.sorted() == ["other()", "run(_:)"])
    for op in Self.ops {
      let read = try #require(table[op.name])
      #expect(read.map(\.identity) == op.reach.map { Self.components[$0].identity })
      #expect(read.map(\.fingerprint) == op.reach.map { Self.components[$0].fingerprint })
      #expect(read.map(\.source) == op.reach.map { Self.components[$0].source })
    }
    #expect(table["other()"]?.last?.identity == "#memoized(\"fit\")")
  }

  @Test func theCodeTableLiteralIsTheEscapedTable() {
    // With a field longer than 1,000 bytes, and an op that reaches nothing.
    let components =
      Self.components + [
        (identity: "func long()", fingerprint: "0f", source: String(repeating: "é\"x", count: 400))
      ]
    let ops = Self.ops + [(name: "long()", reach: [3]), (name: "empty()", reach: [])]
    let escaped = components.map {
      ($0.identity, $0.fingerprint, CodeTable.EscapedSource($0.source))
    }
    #expect(
      CodeTable.literal(components: escaped, ops: ops)
        == SwiftLiteral.string(CodeTable.encode(components: components, ops: ops)))
  }

  @Test func numbersAreWrittenAsStringAndJoinedWriteThem() {
    let lists: [[Int]] = [
      [], [0], [7], [9, 10, 11], [99, 100, 101, 999, 1000, 65_535],
      [Int.max, 0, 1_234_567_890_123], Array(0..<1_200),
    ]
    for numbers in lists {
      #expect(
        CodeTable.commaSeparated(numbers) == numbers.map(String.init).joined(separator: ","))
    }
  }

  @Test func hexadecimalIsTwoLowercaseDigitsPerByte() {
    let bytes = (0...255).map(UInt8.init)
    let expected = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    #expect(bytes.withUnsafeBytes(Hexadecimal.string) == expected)
    #expect([UInt8]().withUnsafeBytes(Hexadecimal.string) == "")
  }

  @Test func malformedTableCodeIsIgnored() {
    for text in ["C3:abc", "X", "C99:x", "O1:a1:7", "C1:a1:b1:cO1:o3:0,9"] {
      let bytes = Array(text.utf8)
      #expect(bytes.withUnsafeBufferPointer { CodeTable.parse($0) } == nil, "\(text)")
    }
  }

  @Test func theBuildSectionReadsBackInOrderWithRepeatedNames() throws {
    let fields: [(name: String, value: String)] = [
      (BuildTable.package, "Lab"), (BuildTable.commit, String(repeating: "a", count: 40)),
      (BuildTable.changes, "diff --git a/x b/x\n+é \"quoted\" 1:2\n"),
      (BuildTable.dependency, "grdb\nhttps://example.com/grdb\n7.1.0\n\nabc"),
      (BuildTable.dependency, "numerics\n../numerics\n\nmain\ndef"), ("a-later-field", ""),
    ]
    let text = BuildTable.encode(fields)
    let read = try #require(Array(text.utf8).withUnsafeBufferPointer { BuildTable.parse($0) })
    #expect(read.map(\.name) == fields.map(\.name))
    #expect(read.map(\.value) == fields.map(\.value))
    #expect(Array("".utf8).withUnsafeBufferPointer { BuildTable.parse($0) }?.isEmpty == true)
    // A name without a value, a count past the end, a count that is not one.
    for text in ["7:package", "7:package9:Lab", "x:package3:Lab"] {
      #expect(Array(text.utf8).withUnsafeBufferPointer { BuildTable.parse($0) } == nil, "\(text)")
    }
  }
}
