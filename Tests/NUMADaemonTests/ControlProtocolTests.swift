import Foundation
import Testing
@testable import NUMADaemon

@Suite struct ControlClientTests {
    @Test func noDaemonIsSaidPlainly() {
        let client = ControlClient(runtimeDirectory: "/nonexistent-numabalance-\(getpid())")
        #expect(throws: ControlError.self) { try client.send(.status) }
        do { _ = try client.send(.status) } catch { #expect(error.description.contains("no numabalance daemon")) }
    }
}
