import Foundation
@_exported import RecallTestSupport

@testable import RecallCore
