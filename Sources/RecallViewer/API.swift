import Foundation
import HTTPTypes
import Hummingbird
import RecallCore
import RecallRows

/// `/api/v1/…`: the rows the `recall` tool prints with `--json`, as JSON
/// arrays of the same objects (each with its `"version"`), for the pages'
/// scripts and for programs. Documentation/Viewer.md lists the endpoints.
extension Viewer {
  func api(_ router: Router<BasicRequestContext>) {
    let api = router.group("api/v1")
    api.get("ops") { _, _ in try await self.json { try OpStatsRow.rows(in: self.store) } }
    api.get("usage") { request, _ in
      let query = Query(request)
      return try await self.json {
        let by = try query.text("by").map { text in
          guard let period = UsagePeriod(rawValue: text) else {
            throw ViewerError.badRequest(
              "by takes \(UsagePeriod.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'."
            )
          }
          return period
        }
        let op = try query.text("op").map { try findOp($0, in: self.store) }
        return try PeriodRow.rows(in: self.store, by: by ?? .day, op: op, since: nil)
      }
    }
    api.get("calls") { request, _ in
      let query = Query(request)
      let page = try await Self.blocking { try CallsPage(query, in: self.store) }
      let values = ValueText(store: store)
      let rows = try await Self.blocking { page.calls.map { CallRow($0, values: values) } }
      var response = Self.jsonResponse(JSONLines.array(rows))
      if let next = page.nextURL("/api/v1/calls") {
        response.headers[HTTPField.Name("Link")!] = "<\(next)>; rel=\"next\""
      }
      return response
    }
    api.get("call/:id") { _, context in
      let id = context.parameters.get("id") ?? ""
      return try await self.json { try CallFieldRow.fields(of: try self.call(id), in: self.store) }
    }
    api.get("versions") { request, _ in
      let query = Query(request)
      return try await self.json {
        try VersionRow.rows(
          of: try findOp(try query.required("op", "the op"), in: self.store), in: self.store)
      }
    }
    api.get("diff") { request, _ in
      let query = Query(request)
      return try await self.json {
        let op = try findOp(try query.required("op", "the op"), in: self.store)
        return try VersionComparison(
          op, from: query.text("from"), to: query.text("to"), in: self.store
        )
        .rows
      }
    }
    api.get("running") { _, _ in try await self.json { try ClaimRow.rows(in: self.store) } }
    api.get("graph") { request, _ in
      let query = Query(request)
      let dot = try await Self.blocking { try self.frame(query).frame.dot() }
      return Response(
        status: .ok, headers: [.contentType: "text/vnd.graphviz; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: dot)))
    }
  }

  private func json<Row: Encodable & Sendable>(_ rows: @escaping @Sendable () throws -> [Row])
    async throws -> Response
  {
    Self.jsonResponse(JSONLines.array(try await Self.blocking(rows)))
  }

  private static func jsonResponse(_ text: String) -> Response {
    Response(
      status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }
}
