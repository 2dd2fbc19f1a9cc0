import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct NodeFilesTests {
    @Test func parsesTheHostsNodeMeminfo() throws {
        let meminfo = try NodeFiles.parseMeminfo(try Fixture.text("host/node0-meminfo"))
        let total = try #require(meminfo["MemTotal"])
        #expect(total == 5_857_860 * 1024)
        #expect((meminfo["MemFree"] ?? .max) < total)
        #expect(meminfo["Active(anon)"] != nil)
        #expect(meminfo["HugePages_Total"] == 0)  // a count, not bytes
        #expect(try NodeFiles.parseDistance(try Fixture.text("host/node0-distance")) == [10])
    }

    @Test(arguments: [
        ("two-node", [0, 1], [0, 1]),
        ("four-node-cpuless", [0, 1, 2, 3], [0, 1, 2]),
        ("sparse-0-2", [0, 2], [0, 2]),
    ])
    func nodeTrees(name: String, online: [Int], withCPUs: [Int]) throws {
        let root = "sys/\(name)/devices/system/node"
        let nodes = try NodeFiles.parseNodeList(try Fixture.text(root + "/online"))
        #expect(nodes == online.map { NodeID($0) })
        #expect(try NodeFiles.parseNodeList(try Fixture.text(root + "/has_cpu")) == withCPUs.map { NodeID($0) })
        for node in nodes {
            #expect(NodeFiles.nodeDirectory(node, sysRoot: "/sys") == "/sys/devices/system/node/node\(node)")
            let folder = "sys/\(name)/devices/system/node/node\(node)"
            let meminfo = try NodeFiles.parseMeminfo(try Fixture.text(folder + "/meminfo"), source: folder)
            #expect((meminfo["MemTotal"] ?? 0) >= 4 << 30)
            let distances = try NodeFiles.parseDistance(try Fixture.text(folder + "/distance"))
            // One distance per online node, by position; local is 10.
            #expect(distances.count == nodes.count)
            #expect(distances[nodes.firstIndex(of: node) ?? -1] == 10)
            let cpus = try CPUSet(listFormat: try Fixture.text(folder + "/cpulist"))
            #expect(cpus.isEmpty == !withCPUs.contains(node.rawValue))
        }
    }

    @Test func meminfoWithoutNodePrefix() throws {
        let meminfo = try NodeFiles.parseMeminfo("MemTotal:       16281996 kB\nHugePages_Total:       8\n")
        #expect(meminfo == ["MemTotal": 16_281_996 * 1024, "HugePages_Total": 8])
    }

    @Test(arguments: [
        "",
        "Node 0 MemTotal 12 kB",
        "Node x MemTotal: 12 kB",
        "Node 0 MemTotal: twelve kB",
        "Node 0 MemTotal: 12 MB",
        "Node 0 MemTotal: 12 kB extra",
        "Node 0 MemTotal: 99999999999999999999 kB",
        "Node 0 MemTotal: 18014398509481984 kB",
        "Node 0 : 12 kB",
    ])
    func rejectsBadMeminfo(text: String) {
        #expect(throws: ProcParseError.self) { _ = try NodeFiles.parseMeminfo(text) }
    }

    @Test(arguments: ["", "\n", "10 x", "10 -1", "10 256", "10 21\n21 10\n"])
    func rejectsBadDistances(text: String) {
        #expect(throws: ProcParseError.self) { _ = try NodeFiles.parseDistance(text) }
    }

    @Test func nodeListsAndTheirErrors() throws {
        #expect(try NodeFiles.parseNodeList("0-1,3\n") == [0, 1, 3])
        #expect(try NodeFiles.parseNodeList("\n").isEmpty)
        #expect(throws: ProcParseError.self) { _ = try NodeFiles.parseNodeList("0-") }
    }

    /// Found by the cpu_list fuzzer (Tests/fuzz/crashes/cpu_list/): each
    /// range under the old bound of 2^20 ids, together 1.7 million, which
    /// took over 10 s. No kernel has ids at 65,536 or above.
    @Test func idListsBeyondAnyKernelAreRefused() throws {
        #expect(throws: ListFormatError.self) { _ = try CPUSet(listFormat: "0-35,0-83585,7-835855,7-8\n") }
        #expect(throws: ListFormatError.self) { _ = try CPUSet(listFormat: "65536") }
        let widest = try CPUSet(listFormat: "0-65535")
        #expect(widest.count == 65_536)
        // Each range within bounds, together far beyond any machine.
        #expect(throws: ListFormatError.self) {
            _ = try CPUSet(listFormat: Array(repeating: "0-65535", count: 1000).joined(separator: ","))
        }
    }
}
