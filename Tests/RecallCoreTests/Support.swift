import Foundation
@_exported import RecallTestSupport

@testable import RecallCore

/// An op for tests that call the runtime directly, without the macros.
func testOp(_ name: String, version: String = "v1") -> Op {
  Op(id: OpID(name), version: CodeFingerprint(hex: version))
}
