import NUMAModel
import Testing
@testable import NUMAPolicy

/// The rules of nodes against a machine, as a kernel engineer expects them.
@Suite struct PolicyValidationTests {
    let machine = TestTopology.twoNodesAndCXL

    @Test func aCPULessNodeMayTakeMemory() {
        #expect(policyErrors(policyText(placement: "mode: preferred, nodes: [2]"), topology: machine).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: interleave, nodes: [0, 1, 2]"), topology: machine).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [0, 2]"), topology: machine).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [2], cpuNodes: [0]"), topology: machine).isEmpty)
    }

    @Test func butNeverThreads() {
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [2], cpuNodes: [2]"), topology: machine) == [
            "t.yaml:5:47: placement.cpuNodes[0]: node 2 has no CPUs (a memory-only node such as CXL or PMEM): "
                + "threads cannot run there",
        ])
    }

    /// A pin to a CPU-less node alone, with no cpuNodes, leaves its threads
    /// nowhere to run (review F19: the golden file has this error too).
    @Test func aPinToACPULessNodeAloneIsRefused() {
        let errors = policyErrors(policyText(placement: "mode: pin, nodes: [2]"), topology: machine)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("placement.nodes: node 2 has no CPUs (memory-only): pin needs CPUs") == true,
                "\(errors)")
    }

    @Test func memoryGoesOnlyToNodesWithMemory() {
        let errors = policyErrors(policyText(placement: "mode: interleave, nodes: [0, 1]"),
                                  topology: TestTopology.memorylessNode1)
        #expect(errors == [
            "t.yaml:5:42: placement.nodes[1]: node 1 has no memory (a CPU-only node): "
                + "interleave places memory only on nodes with memory",
        ])
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [0, 1]"),
                             topology: TestTopology.memorylessNode1).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [1]"),
                             topology: TestTopology.memorylessNode1).count == 1)
    }

    @Test func withoutATopologyOnlyTheFormIsChecked() {
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [9]")).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [1024]")) == [
            "t.yaml:5:32: placement.nodes[0]: node 1024 is beyond the kernel's limit of 1024 nodes",
        ])
    }

    @Test func nodeListsReadLikeTheKernels() {
        #expect(NodeList.format([0, 1]) == "0-1")
        #expect(NodeList.format([0, 2, 3, 4, 7]) == "0,2-4,7")
        #expect(NodeList.format([]) == "none")
    }

    @Test func policyNames() {
        #expect(PolicyValidation.nameProblem("postgres-shared-buffers") == nil)
        #expect(PolicyValidation.nameProblem("jvm.g1") == nil)
        #expect(PolicyValidation.nameProblem("Postgres") != nil)
        #expect(PolicyValidation.nameProblem("-x") != nil)
        #expect(PolicyValidation.nameProblem(String(repeating: "a", count: 64)) != nil)
    }

    @Test func modeRules() {
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: all")) == [
            "t.yaml:5:31: placement.nodes: nodes: all is for interleave; pin needs a list of nodes",
        ])
        #expect(policyErrors(policyText(placement: "mode: auto, cpuNodes: [0]")).count == 1)
        #expect(policyErrors(policyText(placement: "mode: pin, nodes: [0], group: cgroup")).count == 1)
        #expect(policyErrors(policyText(placement: "mode: auto, group: parent, spread: one-per-node")).isEmpty)
        #expect(policyErrors(policyText(placement: "mode: preferred, nodes: [0]",
                                        extra: "balancing: {margin: 0.2}")).count == 1)
    }
}
