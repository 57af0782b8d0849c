// `mpirun -np 2 diffuse train-vae` with the two ranks in two network namespaces joined by a
// veth pair: the ranks talk over TCP as on two hosts, and give one process's weights.
import Foundation
import XCTest

final class MPINetworkNamespaceTests: XCTestCase {
    /// Runs a command, failing the test with its output when it fails.
    @discardableResult
    func shell(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandRunFailure(description: "`\(command)` failed (\(process.terminationStatus)): \(output) — network namespaces need root and iproute2 (scripts/setup.sh)")
        }
        return output
    }

    func testTwoRanksInTwoNetworkNamespacesOverTCPMatchOneProcess() throws {
        let work = try MPIWorkspace.make()
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let (a, b) = ("dfa\(tag)", "dfb\(tag)")
        // A free /24 per run, so that runs side by side do not collide.
        let subnet = "10.\(200 + Int.random(in: 0..<50)).\(Int.random(in: 0..<250))"
        defer { _ = try? shell("ip netns del \(a); ip netns del \(b)") }
        try shell("""
            ip netns add \(a) && ip netns add \(b) && ip link add v\(a) type veth peer name v\(b) && \
            ip link set v\(a) netns \(a) && ip link set v\(b) netns \(b) && \
            ip -n \(a) addr add \(subnet).1/24 dev v\(a) && ip -n \(b) addr add \(subnet).2/24 dev v\(b) && \
            ip -n \(a) link set v\(a) up && ip -n \(b) link set v\(b) up && ip -n \(a) link set lo up && ip -n \(b) link set lo up
            """)
        // mpirun starts each "host" through this agent instead of ssh: HOST CMD → CMD in namespace HOST.
        let agent = work.appendingPathComponent("netns-agent.sh")
        try "#!/bin/sh\nhost=$1; shift\nexec ip netns exec \"$host\" sh -c \"$*\"\n".write(to: agent, atomically: true, encoding: .utf8)
        try shell("chmod +x \(agent.path)")
        let hosts = work.appendingPathComponent("hosts")
        try "\(a) slots=1\n\(b) slots=1\n".write(to: hosts, atomically: true, encoding: .utf8)

        let one = try DiffuseBinary.run(MPIWorkspace.vaeArguments(work, out: "one", steps: 4) + ["--quiet"])
        assertSuccess(one, "train-vae, one process")
        let mpirun = try MPIJob.mpirun().path, binary = try DiffuseBinary.url().path
        let arguments = ([binary] + MPIWorkspace.vaeArguments(work, out: "two", steps: 4)).joined(separator: " ")
        let output = try shell("""
            timeout 60 ip netns exec \(a) \(mpirun) --allow-run-as-root --hostfile \(hosts.path) -np 2 --map-by node \
            --mca plm_rsh_agent \(agent.path) --mca plm_rsh_no_tree_spawn 1 --mca btl tcp,self \
            --mca btl_tcp_if_include \(subnet).0/24 --mca oob_tcp_if_include \(subnet).0/24 \(arguments) < /dev/null > \(work.path)/netns.log 2>&1; status=$?; cat \(work.path)/netns.log; exit $status
            """)
        XCTAssertTrue(output.contains("all-reduce: 2 ranks, 4 calls"), output)
        let weights = "diffusion_pytorch_model.safetensors"
        XCTAssertLessThan(try relativeDistance(work.appendingPathComponent("one/\(weights)"), work.appendingPathComponent("two/\(weights)")), 1e-4,
                          "2 ranks over TCP vs 1 process")
    }
}
