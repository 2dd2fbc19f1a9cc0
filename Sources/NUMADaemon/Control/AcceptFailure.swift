import NUMASystem

/// What a server does after accept(2) fails: the listening socket is fine
/// and a client came and went (retry), or the process or system is short of
/// descriptors or memory (wait a little, then retry). Never a reason to stop
/// serving (security review 2.6).
enum AcceptFailure: Equatable {
    case retry
    case backOff

    init(errno code: Int32) {
        switch code {
        case Errno.tooManyFiles, Errno.tooManyFilesInSystem, Errno.noBufferSpace, Errno.noMemory: self = .backOff
        default: self = .retry
        }
    }

    /// How long a server waits after a failure of this kind.
    var pauseSeconds: Double { self == .backOff ? 0.1 : 0 }
}
