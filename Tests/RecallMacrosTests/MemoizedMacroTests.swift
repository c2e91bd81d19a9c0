import MacroTesting
import RecallMacros
import Testing

@Suite(
  .macros(["Memoized": MemoizedMacro.self, "memoized": MemoizedBlockMacro.self], record: .missing))
struct MemoizedMacroTests {
  @Test func topLevelFunction() {
    assertMacro {
      """
      @Memoized
      func add(_ a: Int, to b: Int) -> Int {
        a + b
      }
      """
    } expansion: {
      #"""
      func add(_ a: Int, to b: Int) -> Int {
        return __recallMemoized(
          __RecallOpSite(name: "add(_:to:)", fileID: #fileID, fingerprint: "3ca96cec065d92097b40186a411568a268eea02a34624c145666e071769c82b5",
            source: "@Memoized\nfunc add(_ a: Int, to b: Int) -> Int {\n  a + b\n}", parameters: "a\nb",
            typedName: "add(_: Int, to: Int)"),
          __recallFingerprintTable,
          [__recallArgument("a", a), __recallArgument("b", b)]
        ) { () -> Int in
          a + b
        }
      }
      """#
    }
  }

  @Test func asyncThrowingInstanceMethodOfAGenericType() {
    assertMacro {
      """
      struct Trainer<Model: Codable>: Codable {
        @Memoized(version: "2", ignoring: ["verbose"])
        func fit<T: Codable>(_ data: [T], epochs: Int = 10, verbose: Bool) async throws -> Model {
          try await run(data, epochs)
        }
      }
      """
    } expansion: {
      #"""
      struct Trainer<Model: Codable>: Codable {
        func fit<T: Codable>(_ data: [T], epochs: Int = 10, verbose: Bool) async throws -> Model {
          return try await __recallMemoized(
            __RecallOpSite(name: "Trainer.fit(_:epochs:verbose:)", fileID: #fileID, fingerprint: "d4626b5673280fa64a3fcd67bf59b662d0d8e428d54ad89d9fba4acc72e5465b", version: "2",
              source: "@Memoized(version: \"2\", ignoring: [\"verbose\"])\nfunc fit<T: Codable>(_ data: [T], epochs: Int = 10, verbose: Bool) async throws -> Model {\n  try await run(data, epochs)\n}", parameters: "data\nepochs\nverbose",
              typedName: "Trainer.fit(_: [T], epochs: Int, verbose: Bool)"),
            __recallFingerprintTable,
            [__recallSelf(self), __recallArgument("data", data), __recallArgument("epochs", epochs)],
            types: [T.self, Self.self]
          ) { () async throws -> Model in
            try await run(data, epochs)
          }
        }
      }
      """#
    }
  }

  @Test func staticMethodWithTypedThrows() {
    assertMacro {
      """
      enum Parser {
        @Memoized
        static func parse(_ text: String) throws(ParseError) -> Int {
          guard let value = Int(text) else { throw ParseError() }
          return value
        }
      }
      """
    } expansion: {
      #"""
      enum Parser {
        static func parse(_ text: String) throws(ParseError) -> Int {
          return try __recallMemoized(
            __RecallOpSite(name: "Parser.parse(_:)", fileID: #fileID, fingerprint: "17dc83c0f54e0f89cd0b5f6fa019db043acfb83277af2357fbe01af224ae300b",
              source: "@Memoized\nstatic func parse(_ text: String) throws(ParseError) -> Int {\n  guard let value = Int(text) else { throw ParseError() }\n  return value\n}", parameters: "text",
              typedName: "Parser.parse(_: String)"),
            __recallFingerprintTable,
            [__recallArgument("text", text)]
          ) { () throws(ParseError) -> Int in
            guard let value = Int(text) else {
              throw ParseError()
            }
                return value
          }
        }
      }
      """#
    }
  }

  @Test func voidResultIsAnErrorWithAFixIt() {
    assertMacro {
      """
      @Memoized
      func log(_ message: String) {
        print(message)
      }
      """
    } diagnostics: {
      """
      @Memoized
      func log(_ message: String) {
           ┬──
           ╰─ 🛑 '@Memoized' cannot be applied to a function that returns nothing; there is no result to remember
              ✏️ Remove '@Memoized'
        print(message)
      }
      """
    } fixes: {
      """
      func log(_ message: String) {
        print(message)
      }
      """
    } expansion: {
      """
      func log(_ message: String) {
        print(message)
      }
      """
    }
  }

  @Test func everyMisuseIsDiagnosedAtOnce() {
    assertMacro {
      """
      @Memoized(ignoring: ["missing"])
      func bad(_ x: inout Int, transform: (Int) -> Int, _ y: @escaping () -> Void) -> some Equatable {
        x
      }
      """
    } diagnostics: {
      """
      @Memoized(ignoring: ["missing"])
                           ┬────────
                           ╰─ 🛑 'ignoring:' names 'missing', which is not a parameter of this function
                              ✏️ Remove 'missing'
      func bad(_ x: inout Int, transform: (Int) -> Int, _ y: @escaping () -> Void) -> some Equatable {
                                                                                      ┬─────────────
               │                          │                  │                        ╰─ 🛑 '@Memoized' cannot be applied to a function with an opaque result type; return a concrete Codable type instead of 'some Equatable'
                                                             ┬───────────────────
               │                          │                  ╰─ 🛑 '@Memoized' cannot hash the function-typed parameter 'y'; pass the Codable data it depends on instead, or, if it cannot change the result, list it in '@Memoized(ignoring: ["y"])'
                                          ┬───────────
               │                          ╰─ 🛑 '@Memoized' cannot hash the function-typed parameter 'transform'; pass the Codable data it depends on instead, or, if it cannot change the result, list it in '@Memoized(ignoring: ["transform"])'
               ┬──────────────
               ╰─ 🛑 '@Memoized' cannot be applied to a function with 'inout' parameters; return the new value instead
        x
      }
      """
    }
  }

  @Test func addedParametersLeaveTheKeyAtTheirDefault() {
    assertMacro {
      """
      @Memoized(addedParameters: ["useScaling"])
      func train(epochs: Int, useScaling: Bool = false) -> Double {
        useScaling ? 2 : 1
      }
      """
    } expansion: {
      #"""
      func train(epochs: Int, useScaling: Bool = false) -> Double {
        return __recallMemoized(
          __RecallOpSite(name: "train(epochs:)", fileID: #fileID, fingerprint: "71e2e13eb909d857498147cadfda56d6e9dea25aba008d04d5477e3dba29daaa",
            source: "@Memoized(addedParameters: [\"useScaling\"])\nfunc train(epochs: Int, useScaling: Bool = false) -> Double {\n  useScaling ? 2 : 1\n}", parameters: "epochs\nuseScaling", added: "useScaling",
            typedName: "train(epochs: Int)"),
          __recallFingerprintTable,
          [__recallArgument("epochs", epochs), __recallArgument(added: "useScaling", useScaling, default: false)]
        ) { () -> Double in
          useScaling ? 2 : 1
        }
      }
      """#
    }
  }

  @Test func addedParametersAreChecked() {
    assertMacro {
      """
      @Memoized(ignoring: ["verbose"], addedParameters: ["scale", "missing", "verbose"])
      func train(epochs: Int, scale: Double, verbose: Bool = false) -> Double {
        1
      }
      """
    } diagnostics: {
      """
      @Memoized(ignoring: ["verbose"], addedParameters: ["scale", "missing", "verbose"])
                                                                             ┬────────
                                                                  │          ╰─ 🛑 'verbose' is both ignored and added; an ignored parameter is never part of the key, so leave it out of 'addedParameters:'
                                                                  │             ✏️ Remove 'verbose'
                                                                  ┬─────────
                                                                  ╰─ 🛑 'addedParameters:' names 'missing', which is not a parameter of this function
                                                                     ✏️ Remove 'missing'
      func train(epochs: Int, scale: Double, verbose: Bool = false) -> Double {
                              ┬─────────────
                              ╰─ 🛑 added parameter 'scale' needs a default value: the value that calls made before it existed behaved as if they passed; they are found again while callers pass it
        1
      }
      """
    }
  }

  @Test func mutatingMethods() {
    assertMacro {
      """
      struct Counter: Codable {
        @Memoized
        mutating func next() -> Int { 1 }
      }
      """
    } diagnostics: {
      """
      struct Counter: Codable {
        @Memoized
        mutating func next() -> Int { 1 }
        ┬───────
        ╰─ 🛑 '@Memoized' cannot be applied to a 'mutating' method; 'self' is an input of the call and must not change
      }
      """
    }
  }

  @Test func notAFunction() {
    assertMacro {
      """
      struct S {
        @Memoized
        init() {}
      }
      """
    } diagnostics: {
      """
      struct S {
        @Memoized
        ┬────────
        ╰─ 🛑 '@Memoized' can only be applied to functions and methods; use '#memoized("name", inputs...) { ... }' to memoize a block
           ✏️ Remove '@Memoized'
        init() {}
      }
      """
    } fixes: {
      """
      struct S {
        init() {}
      }
      """
    } expansion: {
      """
      struct S {
        init() {}
      }
      """
    }
  }

  @Test func memoizedBlock() {
    assertMacro {
      """
      let table = #memoized("summary", runs, config.threshold) {
        summarize(runs, above: config.threshold)
      }
      """
    } expansion: {
      #"""
      let table = __recallMemoized(
        __RecallOpSite(name: "summary", fileID: #fileID, fingerprint: "c4a00a9c405f8dbc499882e0be418320e52c338e3d0dcf61e885b418834d2e3f", isBlock: true,
          source: "#memoized(\"summary\", runs, config.threshold) {\n  summarize(runs, above: config.threshold)\n}", parameters: "runs\nconfig.threshold"),
        __recallFingerprintTable,
        [__recallArgument("runs", typed: runs), __recallArgument("config.threshold", typed: config.threshold)]
      ) {
        summarize(runs, above: config.threshold)
      }
      """#
    }
  }

  @Test func memoizedBlockNameMustBeALiteral() {
    assertMacro {
      """
      let x = #memoized(name, runs) { runs.count }
      """
    } diagnostics: {
      """
      let x = #memoized(name, runs) { runs.count }
                        ┬───
                        ╰─ 🛑 'name' must be a string literal without interpolation, because it is part of the op's identity
      """
    }
  }
}
