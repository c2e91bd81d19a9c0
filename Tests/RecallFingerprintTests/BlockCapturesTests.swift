import RecallFingerprint
import SwiftParser
import SwiftSyntax
import Testing

/// The names a `#memoized` block reads from the code around it: read from the
/// block alone, and, for the build plugin's tool, resolved in its whole file.
@Suite struct BlockCapturesTests {
  /// The names the (first) block of `source` reads without declaring them or
  /// taking them as inputs.
  func captures(_ source: String) throws -> [String] {
    let file = Parser.parse(source: source)
    let macros = file.tokens(viewMode: .sourceAccurate).compactMap {
      $0.parent?.as(MacroExpansionExprSyntax.self)
    }
    let node = try #require(macros.first)
    let parts = try #require(BlockCaptures.Parts(node))
    let closure = try #require(parts.closure)
    return BlockCaptures.captures(of: closure, inputs: parts.inputs).map(\.name)
  }

  @Test(arguments: [
    // Inputs and member names.
    (#"#memoized("b", lr) { lr * 2 }"#, []),
    (#"#memoized("b", x) { x.count }"#, []),
    (#"#memoized("b", x.count) { x.count + 1 }"#, []),
    (#"#memoized("b", x.count) { x.count.description }"#, []),
    (#"#memoized("b", x.count) { x.first }"#, ["x"]),
    (#"#memoized("b", x?.count) { x?.count }"#, []),
    (#"#memoized("b") { x.count }"#, ["x"]),
    (#"#memoized("b", x) { f(x: 1, y: x) }"#, ["f"]),
    (#"#memoized("b", xs) { xs.map(\.count) }"#, []),
    (#"#memoized("b", xs) { xs.map { $0 * 2 } }"#, []),
    (#"#memoized("b", a) { "\(a) and \(b)" }"#, ["b"]),
    (#"#memoized("b", a) { Double.pi * a }"#, ["Double"]),
    (#"#memoized("b", a) { .init(a) }"#, []),
    // Names declared in the block.
    (#"#memoized("b", a) { let y = a * 2; return y }"#, []),
    (#"#memoized("b", a) { var lr = lr; lr += a; return lr }"#, ["lr"]),
    (#"#memoized("b") { let (p, q) = (1, 2); return p + q }"#, []),
    (#"#memoized("b", xs) { xs.map { v in v * 2 } }"#, []),
    (#"#memoized("b", xs) { xs.map { (v: Int) -> Int in v * k } }"#, ["k"]),
    (#"#memoized("b") { helper(); func helper() -> Int { 1 } }"#, []),
    (#"#memoized("b") { func helper() -> Int { k }; return helper() }"#, ["k"]),
    (#"#memoized("b") { struct S { var v = k }; return S() }"#, []),
    (#"#memoized("b") { y; let y = 1 }"#, ["y"]),
    // Statements that bind names.
    (#"#memoized("b", opt) { if let v = opt { v } else { 0 } }"#, []),
    (#"#memoized("b") { if let opt { opt } else { 0 } }"#, ["opt"]),
    (#"#memoized("b", opt) { if let v = opt { 1 } else { v } }"#, ["v"]),
    (#"#memoized("b", opt) { guard let v = opt else { return 0 }; return v }"#, []),
    (#"#memoized("b", xs) { var s = 0; for x in xs where x > 0 { s += x }; return s }"#, []),
    (#"#memoized("b", xs) { for (i, x) in xs.enumerated() { f(i, x) }; return x }"#, ["f", "x"]),
    (#"#memoized("b", e) { switch e { case let .a(x): x; default: z } }"#, ["z"]),
    (#"#memoized("b", e) { switch e { case .b(let y) where y > 0: y; default: 0 } }"#, []),
    (#"#memoized("b", e) { if case .some(let v) = e { v } else { 0 } }"#, []),
    (#"#memoized("b") { do { try run() } catch { error.code } }"#, ["run"]),
    (#"#memoized("b") { while let v = next() { use(v) } }"#, ["next", "use"]),
    // `self`.
    (#"#memoized("b") { self.rate * 2 }"#, ["self"]),
    (#"#memoized("b", self) { self.rate * 2 }"#, []),
    (#"#memoized("b", rate) { self.rate * 2 }"#, []),
    (#"#memoized("b", self.rate) { self.rate * 2 }"#, []),
    (#"#memoized("b") { super.value }"#, ["self"]),
    (#"#memoized("b", a) { f { [weak self] in a } }"#, ["f", "self"]),
    (#"#memoized("b", a) { f { [c = a] in c } }"#, ["f"]),
    (#"#memoized("b") { Self.unit }"#, []),
  ])
  func whatABlockReads(source: String, expected: [String]) throws {
    #expect(try captures(source) == expected, "\(source)")
  }

  @Test func eachNameIsReportedAtItsFirstUncoveredRead() throws {
    let source = """
      #memoized("b", x.count) {
        x.count + x.first! + x.last!
      }
      """
    let file = Parser.parse(source: source)
    let node = try #require(file.statements.first?.item.as(MacroExpansionExprSyntax.self))
    let parts = try #require(BlockCaptures.Parts(node))
    let captures = BlockCaptures.captures(of: try #require(parts.closure), inputs: parts.inputs)
    #expect(captures.map(\.name) == ["x"])
    #expect(captures.first?.node.parent?.trimmedDescription == "x.first")
  }

  @Test func theCodeCanBePassedAsBody() throws {
    let file = Parser.parse(source: #"#memoized("b", a, body: { a + c })"#)
    let node = try #require(file.statements.first?.item.as(MacroExpansionExprSyntax.self))
    let parts = try #require(BlockCaptures.Parts(node))
    #expect(parts.name == "b")
    #expect(parts.inputs.map(\.trimmedDescription) == ["a"])
    let captures = BlockCaptures.captures(of: try #require(parts.closure), inputs: parts.inputs)
    #expect(captures.map(\.name) == ["c"])
  }

  // MARK: Locals, as the build plugin's tool finds them

  func problems(_ source: String, main: Bool = false) -> [String] {
    BlockCaptures.problems(in: Parser.parse(source: source), topLevelCodeIsLocal: main)
      .map { "\($0.line):\($0.column) \($0.block) \($0.name)" }
  }

  @Test func localsReadByABlockMustBeInputs() {
    let source = """
      func train(data: [Double]) -> Double {
        let lr = 0.1
        var epochs = 3
        epochs += 1
        return #memoized("fit", data) {
          data.reduce(0, +) * lr * Double(epochs)
        }
      }
      """
    #expect(problems(source) == ["6:25 fit lr", "6:37 fit epochs"])
    let listed = source.replacingOccurrences(of: #""fit", data"#, with: #""fit", data, lr, epochs"#)
    #expect(problems(listed) == [])
  }

  @Test func theMessageShowsTheBlockWithTheLocalAdded() throws {
    let source = """
      func f(data: [Double]) -> Double {
        let lr = 0.1
        return #memoized("fit", data) { data.count * lr }
      }
      """
    let problem = try #require(
      BlockCaptures.problems(in: Parser.parse(source: source), topLevelCodeIsLocal: false).first)
    #expect(
      problem.message
        == """
        '#memoized' block 'fit' uses local 'lr', which is not one of its inputs, so its result would \
        be reused when 'lr' changes; add it: #memoized("fit", data, lr) { … }
        """)
  }

  @Test func bindingsOfStatementsAroundTheBlockAreLocals() {
    let source = """
      func f(rates: [Double], maybe: Int?) {
        guard let m = maybe else { return }
        for rate in rates where rate > 0 {
          if let twice = Optional(rate * 2) {
            _ = #memoized("loop", m) { rate + twice + Double(m) }
          }
        }
        do { try g() } catch {
          _ = #memoized("failure") { error.localizedDescription }
        }
      }
      """
    #expect(problems(source) == ["5:34 loop rate", "5:41 loop twice", "9:32 failure error"])
  }

  @Test func parametersAreLeftToTheMacro() {
    let source = """
      func f(lr: Double) -> Double {
        [1.0].map { x in #memoized("b") { x * lr } }.reduce(0, +)
      }
      struct S {
        var rate = 1.0
        subscript(i: Int) -> Double { #memoized("s") { Double(i) * rate } }
        var value: Double { didSet { _ = #memoized("d") { oldValue } } }
      }
      """
    #expect(problems(source) == [])
  }

  @Test func inAMemoizedFunctionParametersAndSelfAreReportedToo() throws {
    // The body macro's expansion holds the block: its macro sees no further.
    let source = """
      struct Model {
        var rate = 1.0
        @Memoized
        func predict(_ x: Double, scale: Double) -> Double {
          [1.0].map { y in #memoized("step", x) { x * y * scale * self.rate } }.reduce(0, +)
        }
        @Memoized
        static func make(seed: Int) -> Double { #memoized("make") { Double(seed) + self.base } }
      }
      @Memoized
      func top(n: Int) -> Int { #memoized("top") { n } }
      """
    #expect(
      problems(source) == [
        "5:53 step scale", "5:61 step self", "8:70 make seed", "11:46 top n",
      ])
    let problem = try #require(
      BlockCaptures.problems(in: Parser.parse(source: source), topLevelCodeIsLocal: false).first)
    #expect(problem.kind == .parameter)
    #expect(
      problem.message
        == """
        '#memoized' block 'step' uses parameter 'scale', which is not one of its inputs, so its \
        result would be reused when 'scale' changes; add it: #memoized("step", x, scale) { … }
        """)
  }

  @Test func globalsMembersAndLaterLocalsAreNotLocals() {
    let source = """
      let scale = 2.0
      struct Model {
        var weights: [Double]
        func predict() -> Double {
          let out = #memoized("predict", weights) { weights.reduce(0, +) * scale }
          let late = 1
          return out + Double(late)
        }
      }
      """
    #expect(problems(source) == [])
  }

  @Test func localFunctionsCaptureTheLocalsAroundThem() {
    let source = """
      func outer() {
        let lr = 0.1
        func inner() -> Double { #memoized("inner") { lr } }
        struct Local {
          func method() -> Double { #memoized("method") { lr } }
        }
      }
      """
    // A local type's members cannot capture `lr` (the compiler says so).
    #expect(problems(source) == ["3:49 inner lr"])
  }

  @Test func aScriptsTopLevelVariablesAreLocalsOfItsTopLevelCode() {
    let source = """
      let seed = Int(CommandLine.arguments[1])!
      let value = #memoized("value") { seed * 2 }
      func helper() -> Int { #memoized("helper") { seed * 3 } }
      """
    #expect(problems(source, main: true) == ["2:34 value seed"])
    // Elsewhere, top-level variables are globals.
    #expect(problems(source, main: false) == [])
  }

  // MARK: Names

  @Test func aBlockNameUsedTwiceInAModuleIsReportedAtTheSecond() throws {
    let first = """
      func f() -> Int { #memoized("total", 1) { 1 } }
      """
    let second = """
      func g() -> Int {
        #memoized("total", 2) { 2 } + #memoized("total-2", 3) { 3 } + #memoized("other", 4) { 4 }
      }
      """
    let duplicates = BlockNames.duplicates(in: [
      ("A.swift", FileSummary(Parser.parse(source: first))),
      ("B.swift", FileSummary(Parser.parse(source: second))),
    ])
    let duplicate = try #require(duplicates.first)
    #expect(duplicates.count == 1)
    #expect(duplicate.name == "total")
    #expect(duplicate.path == "B.swift")
    #expect(duplicate.firstPath == "A.swift")
    #expect(duplicate.suggestion == "total-3")
    #expect(BlockNames.lineAndColumn(of: duplicate.offset, in: Array(second.utf8)) == (2, 3))
    #expect(BlockNames.lineAndColumn(of: duplicate.firstOffset, in: Array(first.utf8)) == (1, 19))
    #expect(
      duplicate.message(first: "A.swift:1")
        == """
        '#memoized' block name 'total' is already used by the block at A.swift:1; a block's name is \
        its op's identity in its module, so the two would share their results; rename this one, \
        such as to 'total-3'
        """)
  }
}
