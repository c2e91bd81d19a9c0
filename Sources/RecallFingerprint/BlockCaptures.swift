import RecallCodeTable
import SwiftSyntax

/// What a `#memoized` block reads from the code around it.
///
/// A block's call key is made from its listed inputs only, so every value it
/// reads from the function around it must be one of them: a local that is not
/// listed can change while the key stays the same, and the block's old result
/// is served. Globals, types and functions are covered by the op's version
/// instead (their code, not their run-time values).
///
/// Two tools look, each with what it can see:
/// - the macro sees the declarations around a block with their bodies removed
///   (`MacroExpansionContext.lexicalContext`): the parameters of enclosing
///   functions, initializers, subscripts, accessors and closures, and whether
///   `self` is a value there, but none of the locals of their bodies;
/// - the build plugin's tool parses whole files, so it sees every local
///   declared before a block (`let`, `var`, `if let`, `guard let`, `for`,
///   `catch`, `case let`), and reports those; parameters are left to the
///   macro, whose error comes with a fix-it, except in a `@Memoized`
///   function: its body is the body macro's expansion, and a block in an
///   expansion has a lexical context that ends there (a closure without
///   parameters), so the tool reports the function's parameters and `self`.
///
/// A read is covered when its name is an input, or when an input's source
/// text is the member access it starts (`config.threshold` covers
/// `config.threshold.description`, not `config.limit`).
public enum BlockCaptures {
  /// A name a block reads but does not declare.
  public struct Capture {
    /// The name; `self` for `self` and `super`.
    public var name: String
    /// The name's first read that no input covers.
    public var node: Syntax
  }

  /// The names a block reads without declaring them and that its inputs do
  /// not cover, each with its first such read, in source order.
  ///
  /// Member names after a dot, argument labels, key-path components, `Self`
  /// and anonymous closure parameters are not reads of names; everything else
  /// (globals, functions and types included) is, and the caller decides which
  /// of them are values from the code around the block.
  ///
  /// - Parameters:
  ///   - closure: The block's code.
  ///   - inputs: The block's inputs, as written.
  public static func captures(of closure: ClosureExprSyntax, inputs: [ExprSyntax]) -> [Capture] {
    let inputTexts = Set(inputs.map(sourceText))
    let walker = ScopeWalker(mode: .block)
    walker.walk(closure)
    var first: [String: Syntax] = [:]
    for (name, node) in walker.freeReads where !isCovered(node, name: name, by: inputTexts) {
      if let known = first[name], known.position <= node.position { continue }
      first[name] = node
    }
    return first.map { Capture(name: $0.key, node: $0.value) }
      .sorted { $0.node.position < $1.node.position }
  }

  /// The parameters around a block, from its macro's lexical context
  /// (innermost first): those of the functions, initializers, subscripts,
  /// accessors and closures it is in, up to the nearest type.
  public struct Parameters: Equatable, Sendable {
    /// The parameter names, with closures' capture-list names and the implicit
    /// `newValue` and `oldValue` of accessors.
    public var names: Set<String> = []
    /// Whether `self` is a value there: the block is in a member of a type
    /// that is not `static` or `class`.
    public var hasSelf = false

    /// Reads the parameters from a macro's lexical context.
    public init(lexicalContext: [Syntax]) {
      var member: Syntax?
      for context in lexicalContext {
        if OpNaming.typeName(of: context) != nil {
          if let member { hasSelf = !ScopeWalker.isStatic(member) }
          return
        }
        if context.is(ClosureExprSyntax.self) {
          names.formUnion(ScopeWalker.parameters(of: context))
        } else if ScopeWalker.isDeclarationWithParameters(context) {
          names.formUnion(ScopeWalker.parameters(of: context))
          member = context
        } else if context.is(PatternBindingSyntax.self) {
          member = context
        }
      }
    }
  }

  /// A value that a block reads and does not take as an input, which the
  /// build plugin's tool reports because the macro cannot see it.
  public struct Problem: Hashable, Sendable {
    /// What the value is.
    public enum Kind: String, Hashable, Sendable {
      /// A variable or constant declared in the code around the block.
      case local
      /// A parameter of a `@Memoized` function around the block (or of code
      /// around that function).
      case parameter
      /// `self`, in a `@Memoized` instance method.
      case `self`
    }

    /// The block's name (its string literal's value, else its source).
    public var block: String
    /// What the value is.
    public var kind: Kind
    /// The value's name.
    public var name: String
    /// The read's line, from 1.
    public var line: Int
    /// The read's column, from 1, in UTF-8 bytes.
    public var column: Int
    /// The block's inputs, as written.
    public var inputs: [String]

    /// The error, in the compiler's voice, with the corrected block's head.
    public var message: String {
      let arguments = ([SwiftLiteral.string(block)] + inputs + [name]).joined(separator: ", ")
      let what = kind == .self ? "'self'" : "\(kind.rawValue) '\(name)'"
      return "'#memoized' block '\(block)' uses \(what), which is not one of its inputs, "
        + "so its result would be reused when '\(name)' changes; add it: #memoized(\(arguments)) { … }"
    }
  }

  /// The locals that the `#memoized` blocks of a file read without taking
  /// them as inputs: one problem per block and name, at its first read.
  ///
  /// Parameters of the code around a block, and `self`, are left to the
  /// macro, which reports them with a fix-it, unless the block is in a
  /// `@Memoized` function, where the macro cannot see them.
  ///
  /// - Parameters:
  ///   - file: The parsed file.
  ///   - topLevelCodeIsLocal: Whether the file's top-level code is a script
  ///     (`main.swift`), whose variables are set as it runs, like a function's
  ///     locals; elsewhere top-level variables are globals, which the op's
  ///     version covers.
  public static func problems(in file: SourceFileSyntax, topLevelCodeIsLocal: Bool) -> [Problem] {
    let converter = SourceLocationConverter(fileName: "", tree: file)
    let walker = ScopeWalker(mode: .file(topLevelCodeIsLocal: topLevelCodeIsLocal))
    var problems: [Problem] = []
    walker.onBlock = { [unowned walker] node in
      guard node.macroName.text == "memoized", let parts = Parts(node), let closure = parts.closure
      else { return }
      for capture in captures(of: closure, inputs: parts.inputs) {
        let kind: Problem.Kind
        if capture.name == "self" {
          guard walker.selfIsHiddenFromMacro else { continue }
          kind = .self
        } else {
          switch walker.resolve(capture.name) {
          case (.local, _)?: kind = .local
          case (.parameter, false)?: kind = .parameter
          default: continue
          }
        }
        let location = converter.location(for: capture.node.positionAfterSkippingLeadingTrivia)
        problems.append(
          Problem(
            block: parts.name, kind: kind, name: capture.name, line: location.line,
            column: location.column, inputs: parts.inputs.map(\.trimmedDescription)))
      }
    }
    walker.walk(file)
    return problems
  }

  /// A `#memoized` expansion taken apart: its name, inputs and code.
  public struct Parts {
    /// The name's string value, or the first argument's source when it is not
    /// a plain string literal.
    public var name: String
    /// The inputs, as written.
    public var inputs: [ExprSyntax]
    /// The code: the trailing closure, or a closure passed as `body:`.
    public var closure: ClosureExprSyntax?

    /// Takes an expansion apart; `nil` when it has no arguments.
    public init?(_ node: some FreestandingMacroExpansionSyntax) {
      var arguments = Array(node.arguments)
      closure = node.trailingClosure
      if closure == nil, let last = arguments.last, last.label?.text == "body",
        let explicit = last.expression.as(ClosureExprSyntax.self)
      {
        closure = explicit
        arguments.removeLast()
      }
      guard let first = arguments.first else { return nil }
      name = OpNaming.blockName(of: node) ?? first.expression.trimmedDescription
      inputs = arguments.dropFirst().map(\.expression)
    }
  }

  /// An expression's tokens without trivia: how inputs are compared.
  static func sourceText(_ node: some SyntaxProtocol) -> String {
    node.tokens(viewMode: .sourceAccurate).map(\.text).joined()
  }

  /// Whether an input covers a read: the input is the name, or the member
  /// access (through `?` and `!`) that the read starts. `self.x` is also
  /// covered by an input `x`, the same value written without `self`.
  static func isCovered(_ read: Syntax, name: String, by inputs: Set<String>) -> Bool {
    if inputs.contains(name) { return true }
    var current = read
    while let parent = current.parent {
      if let member = parent.as(MemberAccessExprSyntax.self), member.base?.id == current.id {
        current = parent
      } else if parent.is(OptionalChainingExprSyntax.self)
        || parent.is(ForceUnwrapExprSyntax.self)
      {
        current = parent
        continue
      } else {
        return false
      }
      let text = sourceText(current)
      if inputs.contains(text) { return true }
      if name == "self", text.hasPrefix("self."), inputs.contains(String(text.dropFirst(5))) {
        return true
      }
    }
    return false
  }
}

/// Walks code in source order with the names in scope at each point, as Swift
/// resolves unqualified names: a local is visible after its declaration, a
/// local function or type anywhere in its block, an `if let` binding in the
/// `if`'s body, a `guard let` binding after the `guard`.
///
/// In `.block` mode it records every read of a name declared nowhere in the
/// walked code (`freeReads`); local types are skipped, since their members
/// cannot capture anything. In `.file` mode it calls `onBlock` at every
/// freestanding macro, where `resolve(_:)` tells what a name is there; types
/// and the file's top level (unless it is script code) are barriers past
/// which names are not locals.
final class ScopeWalker: SyntaxVisitor {
  enum Mode {
    case block
    case file(topLevelCodeIsLocal: Bool)
  }

  /// What a name in scope is.
  enum Binding {
    /// A parameter of a function, initializer, subscript, accessor or closure
    /// (or a closure's capture).
    case parameter
    /// A variable or constant declared in a body.
    case local
    /// A local function or type.
    case declaration
  }

  private struct Scope {
    var names: [String: Binding] = [:]
    /// Whether names declared further out are not locals here: the scope of
    /// a type's members, of a file's top level, or of a declaration at the
    /// top level of a script.
    var isBarrier = false
    /// Whether the scope holds a type's members or a file's globals, which
    /// are not locals.
    var holdsMembers = false
    /// Whether the scope holds a type's members.
    var isType = false
    /// Whether the scope holds the parameters of a `@Memoized` function,
    /// whose body the macro replaces: a block inside is expanded within that
    /// expansion, where the macro sees nothing outside the body.
    var isMacroBody = false
    /// Whether that function is an instance method, so its `self` is a value.
    var macroBodyHasSelf = false
  }

  private let mode: Mode
  private var scopes: [Scope]
  /// In `.block` mode, the reads of names declared nowhere in the walked code.
  private(set) var freeReads: [(name: String, node: Syntax)] = []
  /// In `.file` mode, called at each freestanding macro before its arguments
  /// are walked.
  var onBlock: ((any FreestandingMacroExpansionSyntax) -> Void)?

  init(mode: Mode) {
    self.mode = mode
    switch mode {
    case .block: scopes = [Scope()]
    case .file(let topLevelCodeIsLocal):
      scopes = [Scope(isBarrier: true, holdsMembers: !topLevelCodeIsLocal)]
    }
    super.init(viewMode: .sourceAccurate)
  }

  /// What a name is at the current point, and whether a block's macro here
  /// sees it; `nil` when it is not a local or parameter of the code being
  /// walked (a global, a member, a type, or unknown).
  func resolve(_ name: String) -> (binding: Binding, isSeenByMacro: Bool)? {
    var isSeenByMacro = true
    for scope in scopes.reversed() {
      if !scope.holdsMembers, let binding = scope.names[name] {
        return (binding, isSeenByMacro && !scope.isMacroBody)
      }
      if scope.isMacroBody { isSeenByMacro = false }
      if scope.isBarrier { return nil }
    }
    return nil
  }

  /// Whether the walk is in the body of a `@Memoized` instance method, where
  /// `self` is a value that a block's macro cannot see.
  var selfIsHiddenFromMacro: Bool {
    for scope in scopes.reversed() {
      if scope.isMacroBody { return scope.macroBodyHasSelf }
      if scope.isBarrier { return false }
    }
    return false
  }

  private var isFileMode: Bool {
    if case .file = mode { return true }
    return false
  }

  private func push(barrier: Bool = false) { scopes.append(Scope(isBarrier: barrier)) }
  private func pop() { scopes.removeLast() }

  /// Enters a declaration's body: in a file, one at the top level cannot see
  /// the script's variables as locals.
  private func pushDeclaration() { push(barrier: isFileMode && scopes.count == 1) }

  private func declare(_ token: TokenSyntax, as binding: Binding) {
    guard let name = token.identifier?.name, name != "_" else { return }
    scopes[scopes.count - 1].names[name] = binding
  }

  private func declare(_ name: String, as binding: Binding) {
    scopes[scopes.count - 1].names[name] = binding
  }

  private func read(_ token: TokenSyntax, at node: some SyntaxProtocol) {
    let name: String
    switch token.tokenKind {
    case .identifier: name = token.identifier?.name ?? token.text
    case .keyword(.self): name = "self"
    default: return
    }
    if case .block = mode, resolve(name) == nil {
      freeReads.append((name, Syntax(node)))
    }
  }

  // MARK: Reads

  override func visit(_ node: DeclReferenceExprSyntax) -> SyntaxVisitorContinueKind {
    if let parent = node.parent {
      if let member = parent.as(MemberAccessExprSyntax.self), member.declName.id == node.id {
        return .skipChildren
      }
      if parent.is(KeyPathPropertyComponentSyntax.self) { return .skipChildren }
    }
    read(node.baseName, at: node)
    return .skipChildren
  }

  override func visit(_ node: SuperExprSyntax) -> SyntaxVisitorContinueKind {
    read(.keyword(.self), at: node)
    return .skipChildren
  }

  override func visit(_ node: IdentifierPatternSyntax) -> SyntaxVisitorContinueKind {
    declare(node.identifier, as: .local)
    return .skipChildren
  }

  // Attributes and `#if` conditions hold no reads of values.
  override func visit(_ node: AttributeSyntax) -> SyntaxVisitorContinueKind { .skipChildren }

  override func visit(_ node: IfConfigClauseSyntax) -> SyntaxVisitorContinueKind {
    if let elements = node.elements { walk(elements) }
    return .skipChildren
  }

  // MARK: Macros

  override func visit(_ node: MacroExpansionExprSyntax) -> SyntaxVisitorContinueKind {
    onBlock?(node)
    return .visitChildren
  }

  override func visit(_ node: MacroExpansionDeclSyntax) -> SyntaxVisitorContinueKind {
    onBlock?(node)
    return .visitChildren
  }

  // MARK: Scopes of statements

  override func visit(_ node: CodeBlockItemListSyntax) -> SyntaxVisitorContinueKind {
    // Local functions and types are visible in their whole block.
    for item in node {
      guard case .decl(let decl) = item.item else { continue }
      if let function = decl.as(FunctionDeclSyntax.self) {
        declare(function.name, as: .declaration)
      } else if let name = OpNaming.typeName(of: decl), !decl.is(ExtensionDeclSyntax.self) {
        declare(name, as: .declaration)
      }
    }
    return .visitChildren
  }

  override func visit(_ node: CodeBlockSyntax) -> SyntaxVisitorContinueKind {
    push()
    return .visitChildren
  }

  override func visitPost(_ node: CodeBlockSyntax) { pop() }

  override func visit(_ node: PatternBindingSyntax) -> SyntaxVisitorContinueKind {
    // `let x = x + 1` reads the outer `x`.
    if let initializer = node.initializer { walk(initializer) }
    if let accessors = node.accessorBlock { walk(accessors) }
    walk(node.pattern)
    return .skipChildren
  }

  override func visit(_ node: AccessorBlockSyntax) -> SyntaxVisitorContinueKind {
    pushDeclaration()
    return .visitChildren
  }

  override func visitPost(_ node: AccessorBlockSyntax) { pop() }

  override func visit(_ node: OptionalBindingConditionSyntax) -> SyntaxVisitorContinueKind {
    if let initializer = node.initializer {
      walk(initializer)
    } else if let pattern = node.pattern.as(IdentifierPatternSyntax.self) {
      // `if let x {` reads the outer `x`.
      read(pattern.identifier, at: pattern)
    }
    walk(node.pattern)
    return .skipChildren
  }

  override func visit(_ node: MatchingPatternConditionSyntax) -> SyntaxVisitorContinueKind {
    walk(node.initializer)
    walk(node.pattern)
    return .skipChildren
  }

  override func visit(_ node: IfExprSyntax) -> SyntaxVisitorContinueKind {
    push()
    walk(node.conditions)
    walk(node.body)
    pop()
    if let elseBody = node.elseBody { walk(elseBody) }
    return .skipChildren
  }

  override func visit(_ node: WhileStmtSyntax) -> SyntaxVisitorContinueKind {
    push()
    walk(node.conditions)
    walk(node.body)
    pop()
    return .skipChildren
  }

  override func visit(_ node: ForStmtSyntax) -> SyntaxVisitorContinueKind {
    walk(node.sequence)
    push()
    walk(node.pattern)
    if let whereClause = node.whereClause { walk(whereClause) }
    walk(node.body)
    pop()
    return .skipChildren
  }

  override func visit(_ node: SwitchCaseSyntax) -> SyntaxVisitorContinueKind {
    push()
    return .visitChildren
  }

  override func visitPost(_ node: SwitchCaseSyntax) { pop() }

  override func visit(_ node: CatchClauseSyntax) -> SyntaxVisitorContinueKind {
    push()
    if node.catchItems.isEmpty { declare("error", as: .local) }
    return .visitChildren
  }

  override func visitPost(_ node: CatchClauseSyntax) { pop() }

  // MARK: Closures and declarations with parameters

  override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind {
    // Captures are evaluated where the closure is written.
    for capture in node.signature?.capture?.items ?? [] {
      if let initializer = capture.initializer {
        walk(initializer)
      } else {
        read(capture.name, at: capture)
      }
    }
    push()
    for name in Self.parameters(of: Syntax(node)) { declare(name, as: .parameter) }
    walk(node.statements)
    pop()
    return .skipChildren
  }

  override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
    declare(node.name, as: .declaration)
    let isMemoized = node.attributes.contains {
      $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription == "Memoized"
    }
    pushDeclaration()
    if isMemoized {
      scopes[scopes.count - 1].isMacroBody = true
      scopes[scopes.count - 1].macroBodyHasSelf =
        scopes[scopes.count - 2].isType && !Self.isStatic(Syntax(node))
    }
    for name in Self.parameters(of: Syntax(node)) { declare(name, as: .parameter) }
    if let body = node.body { walk(body) }
    pop()
    return .skipChildren
  }

  override func visit(_ node: InitializerDeclSyntax) -> SyntaxVisitorContinueKind {
    enterDeclaration(node, body: node.body)
    return .skipChildren
  }

  override func visit(_ node: DeinitializerDeclSyntax) -> SyntaxVisitorContinueKind {
    enterDeclaration(node, body: node.body)
    return .skipChildren
  }

  override func visit(_ node: SubscriptDeclSyntax) -> SyntaxVisitorContinueKind {
    enterDeclaration(node, body: node.accessorBlock)
    return .skipChildren
  }

  override func visit(_ node: AccessorDeclSyntax) -> SyntaxVisitorContinueKind {
    enterDeclaration(node, body: node.body)
    return .skipChildren
  }

  private func enterDeclaration(_ node: some SyntaxProtocol, body: (some SyntaxProtocol)?) {
    pushDeclaration()
    for name in Self.parameters(of: Syntax(node)) { declare(name, as: .parameter) }
    if let body { walk(body) }
    pop()
  }

  // MARK: Types

  /// Enters a type: in a file, a barrier (its members cannot capture the
  /// locals around it); inside a block, skipped.
  private func enterType(_ node: some DeclSyntaxProtocol) -> SyntaxVisitorContinueKind {
    guard isFileMode else { return .skipChildren }
    scopes.append(Scope(isBarrier: true, holdsMembers: true, isType: true))
    return .visitChildren
  }

  override func visit(_ node: StructDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: StructDeclSyntax) { if isFileMode { pop() } }
  override func visit(_ node: ClassDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: ClassDeclSyntax) { if isFileMode { pop() } }
  override func visit(_ node: EnumDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: EnumDeclSyntax) { if isFileMode { pop() } }
  override func visit(_ node: ActorDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: ActorDeclSyntax) { if isFileMode { pop() } }
  override func visit(_ node: ProtocolDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: ProtocolDeclSyntax) { if isFileMode { pop() } }
  override func visit(_ node: ExtensionDeclSyntax) -> SyntaxVisitorContinueKind { enterType(node) }
  override func visitPost(_ node: ExtensionDeclSyntax) { if isFileMode { pop() } }

  // MARK: Parameters, shared with the macro

  /// Whether a node is a function, initializer, subscript or accessor.
  static func isDeclarationWithParameters(_ node: Syntax) -> Bool {
    node.is(FunctionDeclSyntax.self) || node.is(InitializerDeclSyntax.self)
      || node.is(SubscriptDeclSyntax.self) || node.is(AccessorDeclSyntax.self)
  }

  /// The names a function, initializer, subscript, accessor or closure binds
  /// for its body: parameters (an accessor's implicit `newValue` or
  /// `oldValue` included) and a closure's captures.
  static func parameters(of node: Syntax) -> [String] {
    func name(_ token: TokenSyntax) -> String? {
      guard let name = token.identifier?.name, name != "_" else { return nil }
      return name
    }
    if let closure = node.as(ClosureExprSyntax.self) {
      let signature = closure.signature
      var names = (signature?.capture?.items ?? []).compactMap { name($0.name) }
      switch signature?.parameterClause {
      case .simpleInput(let list): names += list.compactMap { name($0.name) }
      case .parameterClause(let clause):
        names += clause.parameters.compactMap { name($0.secondName ?? $0.firstName) }
      case nil: break
      }
      return names
    }
    if let accessor = node.as(AccessorDeclSyntax.self) {
      if let parameter = accessor.parameters { return name(parameter.name).map { [$0] } ?? [] }
      switch accessor.accessorSpecifier.tokenKind {
      case .keyword(.set), .keyword(.willSet): return ["newValue"]
      case .keyword(.didSet): return ["oldValue"]
      default: return []
      }
    }
    let clause: FunctionParameterListSyntax?
    if let function = node.as(FunctionDeclSyntax.self) {
      clause = function.signature.parameterClause.parameters
    } else if let initializer = node.as(InitializerDeclSyntax.self) {
      clause = initializer.signature.parameterClause.parameters
    } else if let subscriptDecl = node.as(SubscriptDeclSyntax.self) {
      clause = subscriptDecl.parameterClause.parameters
    } else {
      clause = nil
    }
    return (clause ?? []).compactMap { name($0.secondName ?? $0.firstName) }
  }

  /// Whether a member is `static` or `class` (so `self` is its type, not a
  /// value). A property's modifiers are not part of a macro's lexical context:
  /// such a member counts as an instance member.
  static func isStatic(_ member: Syntax) -> Bool {
    let modifiers: DeclModifierListSyntax?
    if let function = member.as(FunctionDeclSyntax.self) {
      modifiers = function.modifiers
    } else if let subscriptDecl = member.as(SubscriptDeclSyntax.self) {
      modifiers = subscriptDecl.modifiers
    } else {
      modifiers = nil
    }
    return (modifiers ?? []).contains {
      $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class)
    }
  }
}
