import RecallCodeTable
import SwiftSyntax
import SwiftSyntaxMacros

/// The compile-time checks that a memoized function's inputs are
/// `Encodable & Sendable` (they are encoded into the key) and its result
/// `Codable & Sendable` (it is stored and read back), written so that a
/// failure is reported once, at the parameter or result type in the user's
/// source, naming the type.
///
/// A macro cannot ask whether a type conforms; the type checker can. Each check
/// is a pair of local overloads, one constrained to the protocols and
/// one unavailable with a message the macro writes for this type, and a call
/// under `#sourceLocation` at the type's line, padded to its column, so the
/// type checker's error lands there. The checks live in a local function that
/// is never called, so they cost nothing at run time.
struct TypeChecks {
  private var checks: [String] = []

  /// Whether there is nothing to check.
  var isEmpty: Bool { checks.isEmpty }

  /// Checks a parameter's type, which keys the call.
  mutating func parameter(
    _ parameter: FunctionParameterSyntax, name: String, in context: some MacroExpansionContext
  ) {
    let type = Self.checkedType(of: parameter)
    let spelled = type.trimmedDescription
    add(
      function: "memoizedParameter", type: spelled, at: parameter.type,
      constraint: "Encodable & Sendable",
      message:
        "\(Self.quoted(spelled)) is not Encodable & Sendable, so parameter '\(name)' cannot be part of the call's key; "
        + "\(Self.remedy(for: type)). Only a parameter that never changes the result (a logger, a progress callback) "
        + "may be left out of the key, with '@Memoized(ignoring: [\"\(name)\"])': calls that differ in it are then served one result",
      in: context)
  }

  /// Checks the result type, which is stored.
  mutating func result(_ written: TypeSyntax, in context: some MacroExpansionContext) {
    let type = Self.unwrapped(written)
    let spelled = type.trimmedDescription
    add(
      function: "memoizedResult", type: spelled, at: written,
      constraint: "Codable & Sendable",
      message:
        "\(Self.quoted(spelled)) is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; "
        + "\(Self.remedy(for: type)), or return a Codable summary of it",
      in: context)
  }

  /// Checks the receiver of an instance method, an input of every call.
  mutating func receiver(
    of function: FunctionDeclSyntax, typeName: String, in context: some MacroExpansionContext
  ) {
    add(
      function: "memoizedSelf", type: "Self", at: function.name,
      constraint: "Encodable & Sendable",
      message:
        "\(Self.quoted(typeName)) is not Encodable & Sendable, and 'self' is an input of a '@Memoized' instance method; "
        + "add 'Codable, Sendable' to the declaration of '\(typeName)', or make the method 'static' and pass what it needs as parameters",
      in: context)
  }

  /// The local function holding the checks, indented for a function body.
  var declaration: String {
    "  func __recallCheckTypes() {\n" + checks.joined() + "  }\n"
  }

  private mutating func add(
    function: String, type: String, at node: some SyntaxProtocol, constraint: String,
    message: String, in context: some MacroExpansionContext
  ) {
    var check = """
          do {
            @available(*, unavailable, message: \(SwiftLiteral.string(message)))
            func \(function)<__Checked>(_: __Checked.Type) {}
            func \(function)<__Checked: \(constraint)>(_: __Checked.Type) {}

      """
    let call = "\(function)((\(type)).self)\n"
    if let location = context.location(of: node, at: .afterLeadingTrivia, filePathMode: .filePath),
      let column = Int(location.column.trimmedDescription)
    {
      let file = location.file.trimmedDescription
      let line = location.line.trimmedDescription
      let padding = String(repeating: " ", count: max(column - 1, 0))
      check += "#sourceLocation(file: \(file), line: \(line))\n\(padding)\(call)#sourceLocation()\n"
    } else {
      check += "      " + call
    }
    checks.append(check + "    }\n")
  }

  /// The type a parameter's argument has: without `borrowing`, `sending` and
  /// attributes, an implicitly unwrapped optional as an optional, and a
  /// variadic parameter as an array.
  static func checkedType(of parameter: FunctionParameterSyntax) -> TypeSyntax {
    let type = unwrapped(parameter.type)
    guard parameter.ellipsis != nil else { return type }
    return TypeSyntax(ArrayTypeSyntax(element: type))
  }

  static func unwrapped(_ type: TypeSyntax) -> TypeSyntax {
    if let attributed = type.as(AttributedTypeSyntax.self) {
      return unwrapped(attributed.baseType)
    }
    if let optional = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
      return TypeSyntax(OptionalTypeSyntax(wrappedType: unwrapped(optional.wrappedType)))
    }
    return type.trimmed
  }

  private static func quoted(_ type: String) -> String { "'\(type)'" }

  /// What to do about a type: conform it, when it is a plain name; replace
  /// it, when it is a tuple; else conform the types inside it.
  private static func remedy(for type: TypeSyntax) -> String {
    if let identifier = type.as(IdentifierTypeSyntax.self), identifier.genericArgumentClause == nil
    {
      return "add 'Codable, Sendable' to the declaration of '\(identifier.name.text)'"
    }
    if type.is(TupleTypeSyntax.self) {
      return "a tuple cannot conform to protocols: use a struct with Codable & Sendable fields"
    }
    return "make the types in it Codable & Sendable"
  }
}
