import NUMAModel
import Testing
@testable import NUMAPolicy

/// numactl's node lists, one syntax for exec's flags and a policy's nodes (issue 18).
@Suite struct NodeListSyntaxTests {
    @Test func numactlForms() throws {
        #expect(try NodeList.parse("all") == .all)
        #expect(try NodeList.parse("0-3,5") == .only([0, 1, 2, 3, 5]))
        #expect(try NodeList.parse(" 1 ") == .only([1]))
        #expect(try NodeList.parse("!1") == .allBut([1]))
        #expect(try NodeList.parse("!0-1").resolve(among: [0, 1, 2, 3]) == [2, 3])
        #expect(try NodeList.parse("all").resolve(among: [2, 0]) == [0, 2])
        #expect(NodeList.format([3, 0, 1, 1]) == "0-1,3" && NodeList.format([]) == "none")
    }

    @Test(arguments: ["", "!", "0-x", "1-0", "a", "0,,1", "1024", "!all"])
    func refused(text: String) {
        #expect(throws: NodeListError.self) { try NodeList.parse(text) }
    }

    @Test func policyNodesTakeTheSameText() throws {
        func placement(_ nodes: String, mode: String = "interleave") throws -> Placement {
            let text = """
                apiVersion: numabalance/v1
                kind: Policy
                name: p
                match: {comm: [x]}
                placement: {mode: \(mode), nodes: \(nodes)}
                """
            return try #require(try PolicyLoader.load(text: text, file: "p.yaml").first).placement
        }
        #expect(try placement("0-1").nodes == .list([0, 1]))
        #expect(try placement("\"0,2\"", mode: "pin").nodes == .list([0, 2]))
        #expect(try placement("1", mode: "pin").nodes == .list([1]))
        #expect(try placement("[0, 1]").nodes == .list([0, 1]))
        #expect(try placement("all").nodes == .all)
        #expect(throws: ConfigErrorList.self) { try placement("\"!0\"") }
    }
}
