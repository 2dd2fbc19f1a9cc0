import Foundation
import Yams

/// Collects the errors of one file while it is read, so a reader can go on
/// after a bad value and report every problem at once. Lives for one load,
/// on one thread.
final class Diagnostics {
    let file: String
    private(set) var errors: [ConfigError] = []

    init(file: String) { self.file = file }

    func report(_ message: String, at location: SourceLocation, path: String) {
        errors.append(ConfigError(message, at: location, path: path))
    }

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }
}

/// The documents of one YAML text as typed readers, or the syntax error that
/// stopped libyaml. Documents before a syntax error are still returned, so
/// their own errors are reported too.
enum YAMLDocument {
    static func documents(in text: String, diagnostics: Diagnostics) -> [YAMLValue] {
        var roots: [YAMLValue] = []
        // Bounded before libyaml and Yams, whose recursion a deep file crashes.
        let size = text.utf8.count
        guard size <= YAMLNesting.maxBytes else {
            diagnostics.report("the file is \(size) bytes; a config or policy file is at most \(YAMLNesting.maxBytes) bytes",
                               at: diagnostics.location(line: 1, column: 1), path: "")
            return roots
        }
        if let deep = YAMLNesting.firstTooDeep(in: text) {
            diagnostics.report("nested \(deep.depth) levels deep here; a config or policy file nests at most "
                + "\(YAMLNesting.maxDepth) (numabalance's own need 5)",
                               at: diagnostics.location(line: deep.line, column: deep.column), path: "")
            return roots
        }
        do {
            let parser = try Parser(yaml: text, resolver: .default, constructor: .default, encoding: .utf8)
            while let node = try parser.nextRoot() {
                let location = diagnostics.location(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
                roots.append(YAMLValue(node: node, path: "", location: location, diagnostics: diagnostics))
            }
        } catch let error as YamlError {
            report(error, in: text, diagnostics: diagnostics)
        } catch {
            diagnostics.report("cannot parse YAML: \(error)", at: diagnostics.location(line: 1, column: 1), path: "")
        }
        return roots
    }

    /// Reads a file as UTF-8 text, checked by `rule` on the descriptor it is
    /// read from; a refused, unreadable, oversized or non-UTF-8 file is an
    /// error at 1:1.
    static func readText(path: String, rule: TrustedFile.Rule = .readable, diagnostics: Diagnostics) -> String? {
        let start = diagnostics.location(line: 1, column: 1)
        let bytes: [UInt8]
        switch TrustedFile.read(path, rule: rule, limit: YAMLNesting.maxBytes) {
        case .success(let read): bytes = read
        case .failure(let refusal):
            diagnostics.report(refusal.description, at: start, path: "")
            return nil
        }
        guard bytes.count <= YAMLNesting.maxBytes else {
            diagnostics.report("the file is larger than \(YAMLNesting.maxBytes) bytes, the most a config or policy file may be",
                               at: start, path: "")
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            diagnostics.report("the file is not UTF-8 text", at: start, path: "")
            return nil
        }
        return text
    }

    /// libyaml's problem, with its context ("while parsing a block mapping
    /// started at 2:1") when it has one. A tab in the indentation gets a plain
    /// explanation, since libyaml's "cannot start any token" puzzles people.
    private static func report(_ error: YamlError, in text: String, diagnostics: Diagnostics) {
        let (problem, mark, context): (String, (line: Int, column: Int), YamlError.Context?)
        switch error {
        case let .scanner(ctx, p, m, _), let .parser(ctx, p, m, _), let .composer(ctx, p, m, _):
            (problem, mark, context) = (p, (m.line, m.column), ctx)
        case let .reader(p, offset, _, _):
            (problem, mark, context) = (p, offset.map { lineAndColumn(ofCharacter: $0, in: text) } ?? (1, 1), nil)
        default:
            (problem, mark, context) = ("\(error)", (1, 1), nil)
        }
        if let tab = indentationTab(in: text, upTo: mark.line) {
            diagnostics.report("YAML syntax error: tab character in indentation; YAML indents with spaces only",
                               at: diagnostics.location(line: tab.line, column: tab.column), path: "")
            return
        }
        var message = "YAML syntax error: \(problem)"
        if let context {
            message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
        }
        diagnostics.report(message, at: diagnostics.location(line: mark.line, column: mark.column), path: "")
    }

    /// The first tab in the leading whitespace of the lines up to `line`, or
    /// just after it: libyaml may notice the tab only on the next token.
    static func indentationTab(in text: String, upTo line: Int) -> (line: Int, column: Int)? {
        var number = 0
        for row in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if number > line + 1 { break }
            let indentation = row.unicodeScalars.prefix { $0 == " " || $0 == "\t" }
            if let tab = indentation.firstIndex(of: "\t") {
                let rest = row.unicodeScalars[indentation.endIndex...]
                if rest.isEmpty || rest.first == "#" { continue }  // blank or comment line
                return (number, indentation.distance(from: indentation.startIndex, to: tab) + 1)
            }
        }
        return nil
    }

    private static func lineAndColumn(ofCharacter offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for character in text.prefix(offset) {
            if character == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}
