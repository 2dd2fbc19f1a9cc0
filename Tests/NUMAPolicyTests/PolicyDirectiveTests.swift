import NUMAModel
import NUMAPolicy
import Testing

/// A policy's placement as the directive the planner gets.
@Suite("Policy directives")
struct PolicyDirectiveTests {
    func load(_ placement: String, extra: String = "") throws -> Policy {
        try #require(try PolicyLoader.load(text: policyText(placement: placement, extra: extra), file: "t.yaml").first)
    }

    @Test("pin: cpuNodes default to its nodes that have CPUs; given cpuNodes are kept")
    func pin() throws {
        let topology = TestTopology.twoNodesAndCXL
        #expect(try load("mode: pin, nodes: [0, 2]").directive(topology: topology)
                    == .pin(cpuNodes: [0], memoryNodes: [0, 2]))
        #expect(try load("mode: pin, nodes: [2], cpuNodes: [1]").directive(topology: topology)
                    == .pin(cpuNodes: [1], memoryNodes: [2]))
    }

    @Test("interleave: nodes all is every node with memory")
    func interleaveAll() throws {
        #expect(try load("mode: interleave, nodes: all").directive(topology: TestTopology.memorylessNode1)
                    == .interleave(nodes: [0]))
        #expect(try load("mode: interleave, nodes: all").directive(topology: TestTopology.twoNodesAndCXL)
                    == .interleave(nodes: [0, 1, 2]))
    }

    @Test("preferred keeps its nodes; auto and ignore are no directive")
    func others() throws {
        let topology = TestTopology.twoNodesAndCXL
        #expect(try load("mode: preferred, nodes: [1]").directive(topology: topology) == .preferred(nodes: [1]))
        let auto = try load("mode: auto")
        #expect(auto.directive(topology: topology) == nil && !auto.ignores)
        let ignore = try load("mode: ignore")
        #expect(ignore.directive(topology: topology) == nil && ignore.ignores)
    }
}
