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
