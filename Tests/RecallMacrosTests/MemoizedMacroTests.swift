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

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'Int' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Int', or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                       memoizedResult((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'a' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"a\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                    memoizedParameter((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'b' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"b\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                               memoizedParameter((Int).self)
      #sourceLocation()
          }
        }

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

      /// The call `add` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      func $add(_ a: Int, to b: Int) -> MemoizedCall<Int> {
        __recallCall(
          __RecallOpSite(name: "add(_:to:)", fileID: #fileID, fingerprint: "3ca96cec065d92097b40186a411568a268eea02a34624c145666e071769c82b5",
          source: "@Memoized\nfunc add(_ a: Int, to b: Int) -> Int {\n  a + b\n}", parameters: "a\nb",
          typedName: "add(_: Int, to: Int)"),
        __recallFingerprintTable,
        [__recallArgument("a", a), __recallArgument("b", b)]
        )
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

          func __recallCheckTypes() {
            do {
              @available(*, unavailable, message: "'Trainer' is not Encodable & Sendable, and 'self' is an input of a '@Memoized' instance method; add 'Codable, Sendable' to the declaration of 'Trainer', or make the method 'static' and pass what it needs as parameters")
              func memoizedSelf<__Checked>(_: __Checked.Type) {}
              func memoizedSelf<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
               memoizedSelf((Self).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'Model' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Model', or return a Codable summary of it")
              func memoizedResult<__Checked>(_: __Checked.Type) {}
              func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                                                                             memoizedResult((Model).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'[T]' is not Encodable & Sendable, so parameter 'data' cannot be part of the call's key; make the types in it Codable & Sendable. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"data\"])': calls that differ in it are then served one result")
              func memoizedParameter<__Checked>(_: __Checked.Type) {}
              func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                       memoizedParameter(([T]).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'epochs' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"epochs\"])': calls that differ in it are then served one result")
              func memoizedParameter<__Checked>(_: __Checked.Type) {}
              func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                                    memoizedParameter((Int).self)
        #sourceLocation()
            }
          }

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

        /// The call `fit` makes with these arguments, named without
        /// running it: ask whether it is stored, read its stored result, or
        /// store one computed elsewhere.
        func $fit<T: Codable>(_ data: [T], epochs: Int = 10, verbose: Bool) -> MemoizedCall<Model> {
          __recallCall(
            __RecallOpSite(name: "Trainer.fit(_:epochs:verbose:)", fileID: #fileID, fingerprint: "d4626b5673280fa64a3fcd67bf59b662d0d8e428d54ad89d9fba4acc72e5465b", version: "2",
            source: "@Memoized(version: \"2\", ignoring: [\"verbose\"])\nfunc fit<T: Codable>(_ data: [T], epochs: Int = 10, verbose: Bool) async throws -> Model {\n  try await run(data, epochs)\n}", parameters: "data\nepochs\nverbose",
            typedName: "Trainer.fit(_: [T], epochs: Int, verbose: Bool)"),
          __recallFingerprintTable,
          [__recallSelf(self), __recallArgument("data", data), __recallArgument("epochs", epochs)],
            types: [T.self, Self.self]
          )
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

          func __recallCheckTypes() {
            do {
              @available(*, unavailable, message: "'Int' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Int', or return a Codable summary of it")
              func memoizedResult<__Checked>(_: __Checked.Type) {}
              func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                                                  memoizedResult((Int).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'String' is not Encodable & Sendable, so parameter 'text' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'String'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"text\"])': calls that differ in it are then served one result")
              func memoizedParameter<__Checked>(_: __Checked.Type) {}
              func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                    memoizedParameter((String).self)
        #sourceLocation()
            }
          }

          return try __recallMemoized(
            __RecallOpSite(name: "Parser.parse(_:)", fileID: #fileID, fingerprint: "17dc83c0f54e0f89cd0b5f6fa019db043acfb83277af2357fbe01af224ae300b",
            source: "@Memoized\nstatic func parse(_ text: String) throws(ParseError) -> Int {\n  guard let value = Int(text) else { throw ParseError() }\n  return value\n}", parameters: "text",
            typedName: "Parser.parse(_: String)"),
          __recallFingerprintTable,
          [__recallArgument("text", text)]
          ) { () throws(ParseError) -> Int in
            guard let value = Int(text) else { throw ParseError() }
            return value
          }

        }

        /// The call `parse` makes with these arguments, named without
        /// running it: ask whether it is stored, read its stored result, or
        /// store one computed elsewhere.
        static func $parse(_ text: String) -> MemoizedCall<Int> {
          __recallCall(
            __RecallOpSite(name: "Parser.parse(_:)", fileID: #fileID, fingerprint: "17dc83c0f54e0f89cd0b5f6fa019db043acfb83277af2357fbe01af224ae300b",
            source: "@Memoized\nstatic func parse(_ text: String) throws(ParseError) -> Int {\n  guard let value = Int(text) else { throw ParseError() }\n  return value\n}", parameters: "text",
            typedName: "Parser.parse(_: String)"),
          __recallFingerprintTable,
          [__recallArgument("text", text)]
          )
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
               │                          │                  ╰─ 🛑 '@Memoized' cannot hash the function-typed parameter 'y'; pass the Codable data it depends on instead, or, only if it never changes the result (a progress callback, a logger), leave it out of the key with '@Memoized(ignoring: ["y"])': calls that differ in it are then served one result
               │                          │                     ✏️ Leave 'y' out of the key (only if it never changes the result)
                                          ┬───────────
               │                          ╰─ 🛑 '@Memoized' cannot hash the function-typed parameter 'transform'; pass the Codable data it depends on instead, or, only if it never changes the result (a progress callback, a logger), leave it out of the key with '@Memoized(ignoring: ["transform"])': calls that differ in it are then served one result
               │                             ✏️ Leave 'transform' out of the key (only if it never changes the result)
               ┬──────────────
               ╰─ 🛑 '@Memoized' cannot be applied to a function with 'inout' parameters; return the new value instead
        x
      }
      """
    }
  }

  @Test func aFunctionParameterCanBeLeftOutOfTheKeyByAFixIt() {
    assertMacro {
      """
      @Memoized(version: "2", addedParameters: ["scale"])
      func run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {
        n * scale
      }
      """
    } diagnostics: {
      """
      @Memoized(version: "2", addedParameters: ["scale"])
      func run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {
                                                   ┬─────────────────────────
                                                   ╰─ 🛑 '@Memoized' cannot hash the function-typed parameter 'progress'; pass the Codable data it depends on instead, or, only if it never changes the result (a progress callback, a logger), leave it out of the key with '@Memoized(ignoring: ["progress"])': calls that differ in it are then served one result
                                                      ✏️ Leave 'progress' out of the key (only if it never changes the result)
        n * scale
      }
      """
    } fixes: {
      """
      @Memoized(version: "2", ignoring: ["progress"], addedParameters: ["scale"])
      func run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {
        n * scale
      }
      """
    } expansion: {
      #"""
      func run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'Int' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Int', or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                                                                  memoizedResult((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'n' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"n\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                    memoizedParameter((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'scale' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"scale\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                memoizedParameter((Int).self)
      #sourceLocation()
          }
        }

        return __recallMemoized(
          __RecallOpSite(name: "run(_:progress:)", fileID: #fileID, fingerprint: "a5b3abf95b80cd1902d07cd9f32fab580b346c37745bf0a585915c3b3fcc6e36", version: "2",
          source: "@Memoized(version: \"2\", ignoring: [\"progress\"], addedParameters: [\"scale\"])\nfunc run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {\n  n * scale\n}", parameters: "n\nscale\nprogress", added: "scale",
          typedName: "run(_: Int, progress: @Sendable(Double) -> Void)"),
        __recallFingerprintTable,
        [__recallArgument("n", n), __recallArgument(added: "scale", scale, default: 1)]
        ) { () -> Int in
        n * scale
        }

      }

      /// The call `run` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      func $run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> MemoizedCall<Int> {
        __recallCall(
          __RecallOpSite(name: "run(_:progress:)", fileID: #fileID, fingerprint: "a5b3abf95b80cd1902d07cd9f32fab580b346c37745bf0a585915c3b3fcc6e36", version: "2",
          source: "@Memoized(version: \"2\", ignoring: [\"progress\"], addedParameters: [\"scale\"])\nfunc run(_ n: Int, scale: Int = 1, progress: @Sendable (Double) -> Void) -> Int {\n  n * scale\n}", parameters: "n\nscale\nprogress", added: "scale",
          typedName: "run(_: Int, progress: @Sendable(Double) -> Void)"),
        __recallFingerprintTable,
        [__recallArgument("n", n), __recallArgument(added: "scale", scale, default: 1)]
        )
      }
      """#
    }
  }

  @Test func anUnnamedParameterIsGivenAPlaceholderName() {
    assertMacro {
      """
      @Memoized
      func run(_: Int) -> Int { 1 }
      """
    } diagnostics: {
      """
      @Memoized
      func run(_: Int) -> Int { 1 }
               ┬─────
               ╰─ 🛑 '@Memoized' needs every parameter to have a name, because the argument is part of the key
                  ✏️ Name the parameter
      """
    } fixes: {
      """
      @Memoized
      func run(_ <#name#>: Int) -> Int { 1 }
      """
    } expansion: {
      #"""
      func run(_ <#name#>: Int) -> Int {

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'Int' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Int', or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                   memoizedResult((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter '<#name#>' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"<#name#>\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                           memoizedParameter((Int).self)
      #sourceLocation()
          }
        }

        return __recallMemoized(
          __RecallOpSite(name: "run(_:)", fileID: #fileID, fingerprint: "f28a955e478ba7583353d640b73172e367b78808ec0e90ec9566e0882395d59f",
          source: "@Memoized\nfunc run(_ <#name#>: Int) -> Int { 1 }", parameters: "<#name#>",
          typedName: "run(_: Int)"),
        __recallFingerprintTable,
        [__recallArgument("<#name#>", <#name#>)]
        ) { () -> Int in 1
        }

      }

      /// The call `run` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      func $run(_ <#name#>: Int) -> MemoizedCall<Int> {
        __recallCall(
          __RecallOpSite(name: "run(_:)", fileID: #fileID, fingerprint: "f28a955e478ba7583353d640b73172e367b78808ec0e90ec9566e0882395d59f",
          source: "@Memoized\nfunc run(_ <#name#>: Int) -> Int { 1 }", parameters: "<#name#>",
          typedName: "run(_: Int)"),
        __recallFingerprintTable,
        [__recallArgument("<#name#>", <#name#>)]
        )
      }
      """#
    }
  }

  @Test func aStoragePolicyIsMadeWhenTheOpIsFirstDeclared() {
    assertMacro {
      """
      @Memoized(storage: StoragePolicy(minimumDuration: .seconds(1)))
      func embed(_ text: String) -> [Float] {
        []
      }
      """
    } expansion: {
      #"""
      func embed(_ text: String) -> [Float] {

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'[Float]' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; make the types in it Codable & Sendable, or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                    memoizedResult(([Float]).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'String' is not Encodable & Sendable, so parameter 'text' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'String'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"text\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                         memoizedParameter((String).self)
      #sourceLocation()
          }
        }

        return __recallMemoized(
          __RecallOpSite(name: "embed(_:)", fileID: #fileID, fingerprint: "deb9e808832c1130ac41125f876c0c111ebc4800ec5083a79a154b8d69380e96",
          source: "@Memoized(storage: StoragePolicy(minimumDuration: .seconds(1)))\nfunc embed(_ text: String) -> [Float] {\n  []\n}", parameters: "text",
          typedName: "embed(_: String)",
            storage: { StoragePolicy(minimumDuration: .seconds(1)) }),
        __recallFingerprintTable,
        [__recallArgument("text", text)]
        ) { () -> [Float] in
        []
        }

      }

      /// The call `embed` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      func $embed(_ text: String) -> MemoizedCall<[Float]> {
        __recallCall(
          __RecallOpSite(name: "embed(_:)", fileID: #fileID, fingerprint: "deb9e808832c1130ac41125f876c0c111ebc4800ec5083a79a154b8d69380e96",
          source: "@Memoized(storage: StoragePolicy(minimumDuration: .seconds(1)))\nfunc embed(_ text: String) -> [Float] {\n  []\n}", parameters: "text",
          typedName: "embed(_: String)",
            storage: { StoragePolicy(minimumDuration: .seconds(1)) }),
        __recallFingerprintTable,
        [__recallArgument("text", text)]
        )
      }
      """#
    }
  }

  @Test func theCompanionKeepsWhereAndHowTheFunctionIsDeclared() {
    assertMacro {
      """
      final class Lab: Codable, Sendable {
        @MainActor @Memoized
        public static func read(_ name: String) -> Int! { 1 }
        @Memoized
        override func describe(_ x: Int) -> String { "" }
      }
      """
    } expansion: {
      #"""
      final class Lab: Codable, Sendable {
        @MainActor
        public static func read(_ name: String) -> Int! {

          func __recallCheckTypes() {
            do {
              @available(*, unavailable, message: "'Int?' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; make the types in it Codable & Sendable, or return a Codable summary of it")
              func memoizedResult<__Checked>(_: __Checked.Type) {}
              func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                                     memoizedResult((Int?).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'String' is not Encodable & Sendable, so parameter 'name' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'String'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"name\"])': calls that differ in it are then served one result")
              func memoizedParameter<__Checked>(_: __Checked.Type) {}
              func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 3)
                                          memoizedParameter((String).self)
        #sourceLocation()
            }
          }

          return __recallMemoized(
            __RecallOpSite(name: "Lab.read(_:)", fileID: #fileID, fingerprint: "26bbc6962c881ffac27677d97143a1ebb54e52a35b6e5f3960e7ffcafef0a3fc",
            source: "@MainActor @Memoized\npublic static func read(_ name: String) -> Int! { 1 }", parameters: "name",
            typedName: "Lab.read(_: String)"),
          __recallFingerprintTable,
          [__recallArgument("name", name)]
          ) { () -> Int! in 1
          }

        }

        /// The call `read` makes with these arguments, named without
        /// running it: ask whether it is stored, read its stored result, or
        /// store one computed elsewhere.
        @MainActor public static func $read(_ name: String) -> MemoizedCall<Int?> {
          __recallCall(
            __RecallOpSite(name: "Lab.read(_:)", fileID: #fileID, fingerprint: "26bbc6962c881ffac27677d97143a1ebb54e52a35b6e5f3960e7ffcafef0a3fc",
            source: "@MainActor @Memoized\npublic static func read(_ name: String) -> Int! { 1 }", parameters: "name",
            typedName: "Lab.read(_: String)"),
          __recallFingerprintTable,
          [__recallArgument("name", name)]
          )
        }
        override func describe(_ x: Int) -> String {

          func __recallCheckTypes() {
            do {
              @available(*, unavailable, message: "'Lab' is not Encodable & Sendable, and 'self' is an input of a '@Memoized' instance method; add 'Codable, Sendable' to the declaration of 'Lab', or make the method 'static' and pass what it needs as parameters")
              func memoizedSelf<__Checked>(_: __Checked.Type) {}
              func memoizedSelf<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 5)
                        memoizedSelf((Self).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'String' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'String', or return a Codable summary of it")
              func memoizedResult<__Checked>(_: __Checked.Type) {}
              func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 5)
                                              memoizedResult((String).self)
        #sourceLocation()
            }
            do {
              @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'x' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"x\"])': calls that differ in it are then served one result")
              func memoizedParameter<__Checked>(_: __Checked.Type) {}
              func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
        #sourceLocation(file: "Test.swift", line: 5)
                                      memoizedParameter((Int).self)
        #sourceLocation()
            }
          }

          return __recallMemoized(
            __RecallOpSite(name: "Lab.describe(_:)", fileID: #fileID, fingerprint: "f517fd58966c7b0dedc68cf76d5cf349d18ef76eec96be7f8e15fedebe638661",
            source: "@Memoized\noverride func describe(_ x: Int) -> String { \"\" }", parameters: "x",
            typedName: "Lab.describe(_: Int)"),
          __recallFingerprintTable,
          [__recallSelf(self), __recallArgument("x", x)]
          ) { () -> String in ""
          }

        }
      }
      """#
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

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'Double' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; add 'Codable, Sendable' to the declaration of 'Double', or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                                           memoizedResult((Double).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Int' is not Encodable & Sendable, so parameter 'epochs' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Int'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"epochs\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                         memoizedParameter((Int).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'Bool' is not Encodable & Sendable, so parameter 'useScaling' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Bool'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"useScaling\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                          memoizedParameter((Bool).self)
      #sourceLocation()
          }
        }

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

      /// The call `train` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      func $train(epochs: Int, useScaling: Bool = false) -> MemoizedCall<Double> {
        __recallCall(
          __RecallOpSite(name: "train(epochs:)", fileID: #fileID, fingerprint: "71e2e13eb909d857498147cadfda56d6e9dea25aba008d04d5477e3dba29daaa",
          source: "@Memoized(addedParameters: [\"useScaling\"])\nfunc train(epochs: Int, useScaling: Bool = false) -> Double {\n  useScaling ? 2 : 1\n}", parameters: "epochs\nuseScaling", added: "useScaling",
          typedName: "train(epochs: Int)"),
        __recallFingerprintTable,
        [__recallArgument("epochs", epochs), __recallArgument(added: "useScaling", useScaling, default: false)]
        )
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
      let table = __recallMemoizedBlock(
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

  @Test func aTupleResultStoresEachElementAsAnOutput() {
    assertMacro {
      """
      @Memoized
      public func split(_ rows: [Double]) throws -> (train: [Double], test: [Double]) {
        let cut = rows.count / 2
        return (Array(rows[..<cut]), Array(rows[cut...]))
      }
      """
    } expansion: {
      #"""
      public func split(_ rows: [Double]) throws -> (train: [Double], test: [Double]) {

        func __recallCheckTypes() {
          do {
            @available(*, unavailable, message: "'[Double]' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; make the types in it Codable & Sendable, or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                                            memoizedResult(([Double]).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'[Double]' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; make the types in it Codable & Sendable, or return a Codable summary of it")
            func memoizedResult<__Checked>(_: __Checked.Type) {}
            func memoizedResult<__Checked: Codable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                                                            memoizedResult(([Double]).self)
      #sourceLocation()
          }
          do {
            @available(*, unavailable, message: "'[Double]' is not Encodable & Sendable, so parameter 'rows' cannot be part of the call's key; make the types in it Codable & Sendable. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"rows\"])': calls that differ in it are then served one result")
            func memoizedParameter<__Checked>(_: __Checked.Type) {}
            func memoizedParameter<__Checked: Encodable & Sendable>(_: __Checked.Type) {}
      #sourceLocation(file: "Test.swift", line: 2)
                                memoizedParameter(([Double]).self)
      #sourceLocation()
          }
        }

        return try __recallMemoized(
          __RecallOpSite(name: "split(_:)", fileID: #fileID, fingerprint: "5b5d61a0c739388fd9cf9a3f7c8cb8281758c4b94421374830d2cc42cfca9ebe",
          source: "@Memoized\npublic func split(_ rows: [Double]) throws -> (train: [Double], test: [Double]) {\n  let cut = rows.count / 2\n  return (Array(rows[..<cut]), Array(rows[cut...]))\n}", parameters: "rows",
          typedName: "split(_: [Double])"),
        __recallFingerprintTable,
        [__recallArgument("rows", rows)]
        ) { () throws -> __RecallOutputs_split in __RecallOutputs_split(try { () throws -> (train: [Double], test: [Double]) in
        let cut = rows.count / 2
        return (Array(rows[..<cut]), Array(rows[cut...]))
        }())
        }.__recallTuple

      }

      /// The outputs of `split`, each stored as a value of its own.
      public struct __RecallOutputs_split: _TupleOutputs {
        public var train: [Double]
        public var test: [Double]
        public init(_ tuple: (train: [Double], test: [Double])) {
          self.train = tuple.train
          self.test = tuple.test
        }
        public var __recallTuple: (train: [Double], test: [Double]) { (train: train, test: test) }
      }

      /// The call `split` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      public func $split(_ rows: [Double]) -> MemoizedCall<__RecallOutputs_split> {
        __recallCall(
          __RecallOpSite(name: "split(_:)", fileID: #fileID, fingerprint: "5b5d61a0c739388fd9cf9a3f7c8cb8281758c4b94421374830d2cc42cfca9ebe",
          source: "@Memoized\npublic func split(_ rows: [Double]) throws -> (train: [Double], test: [Double]) {\n  let cut = rows.count / 2\n  return (Array(rows[..<cut]), Array(rows[cut...]))\n}", parameters: "rows",
          typedName: "split(_: [Double])"),
        __recallFingerprintTable,
        [__recallArgument("rows", rows)]
        )
      }
      """#
    }
  }

  @Test func aTupleOfOutputsNeedsLabelsAndAConcreteFunction() {
    assertMacro {
      """
      @Memoized
      func split(_ rows: [Double]) -> ([Double], test: [Double]) {
        (rows, rows)
      }

      @Memoized
      func pair<T: Codable & Sendable>(_ value: T) -> (first: T, second: T) {
        (value, value)
      }
      """
    } diagnostics: {
      """
      @Memoized
      func split(_ rows: [Double]) -> ([Double], test: [Double]) {
                                      ┬─────────────────────────
                                      ╰─ 🛑 a '@Memoized' function returning a tuple stores each element as an output named by its label; label every element of '([Double], test: [Double])', as in '(loss: Double, model: Model)', or return a struct conforming to MultipleOutputs
        (rows, rows)
      }

      @Memoized
      func pair<T: Codable & Sendable>(_ value: T) -> (first: T, second: T) {
                                                      ┬────────────────────
                                                      ╰─ 🛑 a generic '@Memoized' function cannot return a tuple of outputs; return a struct conforming to MultipleOutputs instead
        (value, value)
      }
      """
    }
  }
}
