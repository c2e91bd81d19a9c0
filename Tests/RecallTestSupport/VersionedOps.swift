import Foundation
import RecallCore
import Testing

/// An op for tests that call the runtime directly, without the macros.
public func testOp(_ name: String, version: String = "v1") -> Op {
  Op(id: OpID(name), version: CodeFingerprint(hex: version))
}

/// Version `n` of an op `scaled(x:)` that reaches a helper whose code is `helper`.
public func scaledOp(
  _ version: String, helper: String, parameters: [String] = ["x"], added: [String] = []
) -> Op {
  Op(
    id: "Tests.scaled(x:)", version: CodeFingerprint(hex: version), parameters: parameters,
    addedParameters: added,
    components: {
      [
        CodeComponent(
          identity: "func scaled(x:)", fingerprint: "op-\(parameters.count)",
          source: "@Memoized\nfunc scaled(x: Double) -> Double {\n  scale(x)\n}"),
        CodeComponent(identity: "func scale(_:)", fingerprint: "scale-" + helper, source: helper),
      ]
    })
}

public func scaled(_ store: Store, _ op: Op, _ x: Double, factor: Double) -> Double {
  store.memoize(op, [Argument("x", x)]) { x * factor }
}

/// Expects `body` to throw a ``RecallError`` with `code`.
public func expectError<R>(
  _ code: RecallError.Code, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> R
) {
  let error = #expect(throws: RecallError.self, sourceLocation: sourceLocation) { try body() }
  #expect(error?.code == code, sourceLocation: sourceLocation)
}

/// The uncommitted changes ``builtOp(_:)``'s build section records.
public let builtChanges = "diff --git a/Ops.swift b/Ops.swift\n-x * 2\n+x * 3\n"

/// An op `built(x:)` whose module the build plugin built from package `Lab`
/// at commit `c…c` (40 of them) with ``builtChanges``, with Swift 6.3.1 and
/// GRDB 7.10.0 pinned.
public func builtOp(_ version: String = "b1") -> Op {
  Op(
    id: "Tests.built(x:)", version: CodeFingerprint(hex: version), keysResultType: false,
    parameters: ["x"], addedParameters: [], ownIdentity: nil, components: { [] }, keyName: nil,
    storage: nil,
    build:
      "7:package3:Lab6:commit40:cccccccccccccccccccccccccccccccccccccccc14:changes-sha25664:1159fad3860d393634baa477b4714a43890b6380dba9202f85c361ed391cb61e7:changes49:diff --git a/Ops.swift b/Ops.swift\n-x * 2\n+x * 3\n8:compiler41:Swift version 6.3.1 (swift-6.3.1-RELEASE)10:dependency58:grdb.swift\nhttps://github.com/groue/GRDB.swift\n7.10.0\n\nabc"
  )
}
