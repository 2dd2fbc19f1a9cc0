/// Why a benchmark could not run, in words (ArgumentParser prints it).
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
