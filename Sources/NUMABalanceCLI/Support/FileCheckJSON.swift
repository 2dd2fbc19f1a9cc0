import NUMAPolicy

/// What `policy validate --json` and `config check --json` print per file:
/// a verdict and every error with its place, for a fleet's CI to read.
struct FileCheckJSON: Encodable {
    struct Problem: Encodable {
        var file: String
        var line: Int
        var column: Int
        /// The key's path (`placement.nodes[1]`); empty for the document itself.
        var path: String
        var message: String

        init(_ error: ConfigError) {
            file = error.location.file
            line = error.location.line
            column = error.location.column
            path = error.path
            message = error.message
        }

        /// As ConfigError prints it: `file:line:column: path: message`
        /// (`file: message` for a problem with no place in the file).
        var text: String {
            guard line > 0 else { return "\(file): \(message)" }
            return ConfigError(message, at: SourceLocation(file: file, line: line, column: column), path: path).description
        }
    }

    var path: String
    var ok: Bool
    /// Policies loaded (policy files), nil for a config file or a failed load.
    var policies: Int?
    /// Files of a folder, nil for one file.
    var files: Int?
    var errors: [Problem]

    init(path: String, policies: Int? = nil, files: Int? = nil) {
        self.path = path
        ok = true
        self.policies = policies
        self.files = files
        errors = []
    }

    init(path: String, failed: Error) {
        self.path = path
        ok = false
        let list = (failed as? ConfigErrorList)?.errors
        errors = list?.map(Problem.init) ?? [Problem(ConfigError("\(failed)", at: SourceLocation(file: path, line: 0, column: 0)))]
    }
}
