import Testing

@testable import RecallCore

@Suite struct VersionDiffTests {
  @Test func whitespaceAndBlankLinesAreNotChanges() {
    let old = "func scale(_ x: Double) -> Double {\n  x * 2\n}\n"
    let new = "func scale(_ x: Double)   -> Double {\n\n    x * 3\n}\n"
    let diff = UnifiedDiff.render(
      old: old, new: new, oldName: "a", newName: "b", ignoringWhitespace: true)
    #expect(
      diff == """
        --- a
        +++ b
        @@ -1,3 +1,4 @@
         func scale(_ x: Double)   -> Double {
        -  x * 2
        +
        +    x * 3
         }
        """)
    // Spacing within a line is whitespace too.
    #expect(
      UnifiedDiff.render(
        old: "x*2\n", new: "x * 2\n", oldName: "a", newName: "b", ignoringWhitespace: true
      ).isEmpty)
    // Without the option, every differing line shows.
    let plain = UnifiedDiff.render(old: old, new: new, oldName: "a", newName: "b")
    #expect(plain.contains("-func scale(_ x: Double) -> Double {"))
    #expect(plain.contains("+\n"), "the blank line is an insertion")
    #expect(
      UnifiedDiff.render(
        old: "let a = 1\n", new: "let  a = 1\n\n", oldName: "a", newName: "b",
        ignoringWhitespace: true
      ).isEmpty)
  }

  @Test func aConstantIsCalledALet() {
    func change(_ source: String, identity: String = "var factor") -> VersionDiff.Change {
      .changed(
        from: CodeComponent(identity: identity, fingerprint: "1", source: source),
        to: CodeComponent(identity: identity, fingerprint: "2", source: source + " "))
    }
    #expect(change("let factor = 2").summary == "let factor changed")
    #expect(change("private static let factor = 2").summary == "let factor changed")
    #expect(change("var factor = 2").summary == "var factor changed")
    #expect(change("let x = 1", identity: "func f()").summary == "func f() changed")
  }
}
