import MacroTesting
import RecallMacros
import Testing

/// A `#memoized` block's key is made from its inputs only: the macro reports
/// the parameters (and `self`) of the code around a block that the block reads
/// without taking them as inputs, each with a fix-it that adds it.
@Suite(.macros(["memoized": MemoizedBlockMacro.self], record: .missing))
struct MemoizedBlockInputsTests {
  @Test func aParameterReadByTheBlockMustBeAnInput() {
    assertMacro {
      """
      func train(data: [Double], lr: Double) -> Double {
        #memoized("fit", data) {
          data.reduce(0, +) * lr
        }
      }
      """
    } diagnostics: {
      """
      func train(data: [Double], lr: Double) -> Double {
        #memoized("fit", data) {
          data.reduce(0, +) * lr
                              ┬─
                              ╰─ 🛑 '#memoized' block uses 'lr', which is not one of its inputs; its result would be reused when 'lr' changes
                                 ✏️ Add 'lr' to the inputs
        }
      }
      """
    } fixes: {
      """
      func train(data: [Double], lr: Double) -> Double {
        #memoized("fit", data, lr) {
          data.reduce(0, +) * lr
        }
      }
      """
    } expansion: {
      #"""
      func train(data: [Double], lr: Double) -> Double {
        __recallMemoizedBlock(
          __RecallOpSite(name: "fit", fileID: #fileID, fingerprint: "e8d6bc54aa3533c673382f97921e5c9814ce895efc6ec18c8b9fa4a6369f04db", isBlock: true,
            source: "#memoized(\"fit\", data, lr) {\n  data.reduce(0, +) * lr\n}", parameters: "data\nlr"),
          __recallFingerprintTable,
          [__recallArgument("data", typed: data), __recallArgument("lr", typed: lr)]
        ) {
            data.reduce(0, +) * lr
          }
      }
      """#
    }
  }

  @Test func listedInputsNamesDeclaredInTheBlockMembersAndGlobalsAreFine() {
    assertMacro {
      """
      func train(data: [Double], lr: Double, model: Model) -> Double {
        #memoized("fit", data, lr, model.rate) {
          let count = Double(data.count)
          let scaled = data.map { x in x * lr * model.rate }
          return scaled.reduce(0, +) / count * globalScale + data.map(\\.magnitude).count
        }
      }
      """
    } expansion: {
      #"""
      func train(data: [Double], lr: Double, model: Model) -> Double {
        __recallMemoizedBlock(
          __RecallOpSite(name: "fit", fileID: #fileID, fingerprint: "df40e0f1a4ac0ae40696fd0da18b7928ee1647d33a8aaeff9179c25297108c27", isBlock: true,
            source: "#memoized(\"fit\", data, lr, model.rate) {\n  let count = Double(data.count)\n  let scaled = data.map { x in x * lr * model.rate }\n  return scaled.reduce(0, +) / count * globalScale + data.map(\\.magnitude).count\n}", parameters: "data\nlr\nmodel.rate"),
          __recallFingerprintTable,
          [__recallArgument("data", typed: data), __recallArgument("lr", typed: lr), __recallArgument("model.rate", typed: model.rate)]
        ) {
            let count = Double(data.count)
            let scaled = data.map { x in
              x * lr * model.rate
            }
            return scaled.reduce(0, +) / count * globalScale + data.map(\.magnitude).count
          }
      }
      """#
    }
  }

  @Test func aNameDeclaredInTheBlockShadowsTheParameter() {
    assertMacro {
      """
      func train(lr: Double) -> Double {
        #memoized("fit") {
          let lr = 0.1
          return lr * 2
        }
      }
      """
    } expansion: {
      #"""
      func train(lr: Double) -> Double {
        __recallMemoizedBlock(
          __RecallOpSite(name: "fit", fileID: #fileID, fingerprint: "0dd3dc8948b9c766155792cc9b80d39ad8ade257bfbe68dbd8879619a964533e", isBlock: true,
            source: "#memoized(\"fit\") {\n  let lr = 0.1\n  return lr * 2\n}"),
          __recallFingerprintTable,
          []
        ) {
            let lr = 0.1
            return lr * 2
          }
      }
      """#
    }
  }

  @Test func aMemberOfAListedInputIsNotAParameter() {
    assertMacro {
      """
      func total(runs: [Int], count: Int) -> Int {
        #memoized("total", runs) { runs.count }
      }
      """
    } expansion: {
      #"""
      func total(runs: [Int], count: Int) -> Int {
        __recallMemoizedBlock(
          __RecallOpSite(name: "total", fileID: #fileID, fingerprint: "cb5acab1d5dfa1e20016b633367efbe69f9d419a86816ef0bb047d47ebc49238", isBlock: true,
            source: "#memoized(\"total\", runs) { runs.count }", parameters: "runs"),
          __recallFingerprintTable,
          [__recallArgument("runs", typed: runs)]
        ) {
          runs.count
        }
      }
      """#
    }
  }

  @Test func parametersOfClosuresInitializersSubscriptsAndAccessorsToo() {
    assertMacro {
      """
      func scaled(xs: [Double]) -> [Double] {
        xs.map { x in #memoized("scale") { x * 2 } }
      }
      struct Table {
        var rows: [Int]
        init(seed: Int) {
          rows = #memoized("rows") { [seed] }
        }
        subscript(i: Int) -> Int {
          #memoized("cell", rows) { rows[i] }
        }
        var first: Int {
          get { 0 }
          set { _ = #memoized("set") { newValue } }
        }
      }
      """
    } diagnostics: {
      """
      func scaled(xs: [Double]) -> [Double] {
        xs.map { x in #memoized("scale") { x * 2 } }
                                           ┬
                                           ╰─ 🛑 '#memoized' block uses 'x', which is not one of its inputs; its result would be reused when 'x' changes
                                              ✏️ Add 'x' to the inputs
      }
      struct Table {
        var rows: [Int]
        init(seed: Int) {
          rows = #memoized("rows") { [seed] }
                                      ┬───
                                      ╰─ 🛑 '#memoized' block uses 'seed', which is not one of its inputs; its result would be reused when 'seed' changes
                                         ✏️ Add 'seed' to the inputs
        }
        subscript(i: Int) -> Int {
          #memoized("cell", rows) { rows[i] }
                                         ┬
                                         ╰─ 🛑 '#memoized' block uses 'i', which is not one of its inputs; its result would be reused when 'i' changes
                                            ✏️ Add 'i' to the inputs
        }
        var first: Int {
          get { 0 }
          set { _ = #memoized("set") { newValue } }
                                       ┬───────
                                       ╰─ 🛑 '#memoized' block uses 'newValue', which is not one of its inputs; its result would be reused when 'newValue' changes
                                          ✏️ Add 'newValue' to the inputs
        }
      }
      """
    } fixes: {
      """
      func scaled(xs: [Double]) -> [Double] {
        xs.map { x in #memoized("scale", x) { x * 2 } }
      }
      struct Table {
        var rows: [Int]
        init(seed: Int) {
          rows = #memoized("rows", seed) { [seed] }
        }
        subscript(i: Int) -> Int {
          #memoized("cell", rows, i) { rows[i] }
        }
        var first: Int {
          get { 0 }
          set { _ = #memoized("set", newValue) { newValue } }
        }
      }
      """
    } expansion: {
      #"""
      func scaled(xs: [Double]) -> [Double] {
        xs.map { x in __recallMemoizedBlock(
          __RecallOpSite(name: "scale", fileID: #fileID, fingerprint: "ac2f1d0556151d31c15b1f146fa2c7be647dea8860f55cb09236d7099529e0f3", isBlock: true,
            source: "#memoized(\"scale\", x) { x * 2 }", parameters: "x"),
          __recallFingerprintTable,
          [__recallArgument("x", typed: x)]
        ) {
          x * 2
        } }
      }
      struct Table {
        var rows: [Int]
        init(seed: Int) {
          rows = __recallMemoizedBlock(
            __RecallOpSite(name: "rows", fileID: #fileID, fingerprint: "b50524b7064c86ce93bbea63651270d00571a74a8cef4d5728fb7a7b5ddc3940", isBlock: true,
              source: "#memoized(\"rows\", seed) { [seed] }", parameters: "seed"),
            __recallFingerprintTable,
            [__recallArgument("seed", typed: seed)]
          ) {
            [seed]
          }
        }
        subscript(i: Int) -> Int {
          __recallMemoizedBlock(
            __RecallOpSite(name: "cell", fileID: #fileID, fingerprint: "5c6d01e823bb000755ea8cad25cbe9b95d69e9332c3415b516f82d1d660c2873", isBlock: true,
              source: "#memoized(\"cell\", rows, i) { rows[i] }", parameters: "rows\ni"),
            __recallFingerprintTable,
            [__recallArgument("rows", typed: rows), __recallArgument("i", typed: i)]
          ) {
            rows[i]
          }
        }
        var first: Int {
          get { 0 }
          set { _ = __recallMemoizedBlock(
            __RecallOpSite(name: "set", fileID: #fileID, fingerprint: "9061d6b4e0155c23a80811e23d94f7d709d88c7b0aa93b6800535bb03c0a34e1", isBlock: true,
              source: "#memoized(\"set\", newValue) { newValue }", parameters: "newValue"),
            __recallFingerprintTable,
            [__recallArgument("newValue", typed: newValue)]
          ) {
            newValue
          } }
        }
      }
      """#
    }
  }

  @Test func explicitSelfMustBeAnInputInAnInstanceMember() {
    assertMacro {
      """
      struct Model: Codable {
        var rate: Double
        func predict(_ x: Double) -> Double {
          #memoized("predict", x) { x * self.rate }
        }
        func listed(_ x: Double) -> Double {
          #memoized("listed", x, self) { x * self.rate }
        }
        func member(_ x: Double) -> Double {
          #memoized("member", x, rate) { x * self.rate }
        }
        static func make() -> Double {
          #memoized("make") { self.defaultRate }
        }
      }
      """
    } diagnostics: {
      """
      struct Model: Codable {
        var rate: Double
        func predict(_ x: Double) -> Double {
          #memoized("predict", x) { x * self.rate }
                                        ┬───
                                        ╰─ 🛑 '#memoized' block uses 'self', which is not one of its inputs; its result would be reused when 'self' changes
                                           ✏️ Add 'self' to the inputs
        }
        func listed(_ x: Double) -> Double {
          #memoized("listed", x, self) { x * self.rate }
        }
        func member(_ x: Double) -> Double {
          #memoized("member", x, rate) { x * self.rate }
        }
        static func make() -> Double {
          #memoized("make") { self.defaultRate }
        }
      }
      """
    } fixes: {
      """
      struct Model: Codable {
        var rate: Double
        func predict(_ x: Double) -> Double {
          #memoized("predict", x, self) { x * self.rate }
        }
        func listed(_ x: Double) -> Double {
          #memoized("listed", x, self) { x * self.rate }
        }
        func member(_ x: Double) -> Double {
          #memoized("member", x, rate) { x * self.rate }
        }
        static func make() -> Double {
          #memoized("make") { self.defaultRate }
        }
      }
      """
    } expansion: {
      #"""
      struct Model: Codable {
        var rate: Double
        func predict(_ x: Double) -> Double {
          __recallMemoizedBlock(
            __RecallOpSite(name: "predict", fileID: #fileID, fingerprint: "bf7cd9053c44b8eb380989c6466c3fc4213ad849ea7599d49ef6871545d8ff80", isBlock: true,
              source: "#memoized(\"predict\", x, self) { x * self.rate }", parameters: "x\nself"),
            __recallFingerprintTable,
            [__recallArgument("x", typed: x), __recallArgument("self", typed: self)]
          ) {
            x * self.rate
          }
        }
        func listed(_ x: Double) -> Double {
          __recallMemoizedBlock(
            __RecallOpSite(name: "listed", fileID: #fileID, fingerprint: "668e24c5c1e7b340059aa0556ba8dd0e06cd18ddd162c5e965584c03db7635ed", isBlock: true,
              source: "#memoized(\"listed\", x, self) { x * self.rate }", parameters: "x\nself"),
            __recallFingerprintTable,
            [__recallArgument("x", typed: x), __recallArgument("self", typed: self)]
          ) {
            x * self.rate
          }
        }
        func member(_ x: Double) -> Double {
          __recallMemoizedBlock(
            __RecallOpSite(name: "member", fileID: #fileID, fingerprint: "61ca0358a826743d0ea16a903139ab5dd005f5e163f2402bec171ad41d4c39c7", isBlock: true,
              source: "#memoized(\"member\", x, rate) { x * self.rate }", parameters: "x\nrate"),
            __recallFingerprintTable,
            [__recallArgument("x", typed: x), __recallArgument("rate", typed: rate)]
          ) {
            x * self.rate
          }
        }
        static func make() -> Double {
          __recallMemoizedBlock(
            __RecallOpSite(name: "make", fileID: #fileID, fingerprint: "46c24238cc7a965edaa7163cff250d5b610580e1206993716e275066f27486e2", isBlock: true,
              source: "#memoized(\"make\") { self.defaultRate }"),
            __recallFingerprintTable,
            []
          ) {
            self.defaultRate
          }
        }
      }
      """#
    }
  }

  @Test func everyUnlistedParameterIsReportedOnceWithItsOwnFixIt() {
    // Applied together, the fix-its overlap: the first one wins.
    assertMacro {
      """
      func f(a: Int, b: Int, c: Int) -> Int {
        #memoized("sum", a) { a + b + c + b }
      }
      """
    } diagnostics: {
      """
      func f(a: Int, b: Int, c: Int) -> Int {
        #memoized("sum", a) { a + b + c + b }
                                      ┬
                                  │   ╰─ 🛑 '#memoized' block uses 'c', which is not one of its inputs; its result would be reused when 'c' changes
                                  │      ✏️ Add 'c' to the inputs
                                  ┬
                                  ╰─ 🛑 '#memoized' block uses 'b', which is not one of its inputs; its result would be reused when 'b' changes
                                     ✏️ Add 'b' to the inputs
      }
      """
    } fixes: {
      """
      func f(a: Int, b: Int, c: Int) -> Int {
        #memoized("sum", a, b) { a + b + c + b }
      }
      """
    } expansion: {
      #"""
      func f(a: Int, b: Int, c: Int) -> Int {
        __recallMemoizedBlock(
          __RecallOpSite(name: "sum", fileID: #fileID, fingerprint: "b09540e4eadcaf9f6d6bcce24c97f82ed29f9383669d7d98c7b34bddd358f2a2", isBlock: true,
            source: "#memoized(\"sum\", a, b) { a + b + c + b }", parameters: "a\nb"),
          __recallFingerprintTable,
          [__recallArgument("a", typed: a), __recallArgument("b", typed: b)]
        ) {
          a + b + c + b
        }
      }
      """#
    }
  }

  @Test func theFixItAddsTheInputBeforeACodeArgument() {
    assertMacro {
      """
      func f(a: Int, b: Int) -> Int {
        #memoized("sum", a, body: { a + b })
      }
      """
    } diagnostics: {
      """
      func f(a: Int, b: Int) -> Int {
        #memoized("sum", a, body: { a + b })
                                        ┬
                                        ╰─ 🛑 '#memoized' block uses 'b', which is not one of its inputs; its result would be reused when 'b' changes
                                           ✏️ Add 'b' to the inputs
      }
      """
    } fixes: {
      """
      func f(a: Int, b: Int) -> Int {
        #memoized("sum", a, b, body: { a + b })
      }
      """
    } expansion: {
      #"""
      func f(a: Int, b: Int) -> Int {
        __recallMemoizedBlock(
          __RecallOpSite(name: "sum", fileID: #fileID, fingerprint: "783aa7605d4f0570cacf385382ad1c13250ad233af8aff6d773049f08f05189e", isBlock: true,
            source: "#memoized(\"sum\", a, b, body: { a + b })", parameters: "a\nb"),
          __recallFingerprintTable,
          [__recallArgument("a", typed: a), __recallArgument("b", typed: b)]
        ) {
          a + b
        }
      }
      """#
    }
  }

  @Test func localsOfTheBodyAroundAreLeftToTheBuildPlugin() {
    // The macro's lexical context holds the function without its body: it
    // cannot see `local`. RecallPlugin's tool reports it.
    assertMacro {
      """
      func f(a: Int) -> Int {
        let local = 2
        return #memoized("product", a) { a * local }
      }
      """
    } expansion: {
      #"""
      func f(a: Int) -> Int {
        let local = 2
        return __recallMemoizedBlock(
          __RecallOpSite(name: "product", fileID: #fileID, fingerprint: "a28a2812c9cedd4904fba78d3b2dfd5c37c16feeca2737473768b844f372b9e2", isBlock: true,
            source: "#memoized(\"product\", a) { a * local }", parameters: "a"),
          __recallFingerprintTable,
          [__recallArgument("a", typed: a)]
        ) {
          a * local
        }
      }
      """#
    }
  }
}
