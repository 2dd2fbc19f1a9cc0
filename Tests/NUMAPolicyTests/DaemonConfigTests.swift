import Foundation
import Testing
@testable import NUMAPolicy

@Suite struct DaemonConfigTests {
    func errors(_ text: String) -> [String] {
        do {
            _ = try DaemonConfig.parse(text: text, file: "c.yaml")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func anEmptyFileIsTheDefaults() throws {
        #expect(try DaemonConfig.parse(text: "", file: "c.yaml") == DaemonConfig())
        #expect(try DaemonConfig.parse(text: "# only a comment\n", file: "c.yaml") == DaemonConfig())
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        let config = DaemonConfig()
        #expect(config.kernelBalancing == .warn)
        #expect(config.stateDirectory == "/var/lib/numabalance")
        #expect(config.runtimeDirectory == "/run/numabalance")
        #expect(config.policyDirectory == "/etc/numabalance/policies.d")
        #expect(config.scanPeriod.min == .seconds(1) && config.scanPeriod.max == .seconds(60))
        #expect(config.scanPeriod.secondLook == .milliseconds(300))
        #expect(config.balancing.cooldown == .seconds(30))
        #expect(config.migration.reserveMargin == 1.0 / 32)
        #expect(config.metrics.listen == nil)
    }

    @Test func noFileAtTheDefaultPathMeansDefaultsButAGivenPathMustExist() throws {
        // The default path is absent on a build host; a named one must exist.
        if !FileManager.default.fileExists(atPath: DaemonConfig.defaultPath) {
            let (config, file) = try DaemonConfig.load(path: nil)
            #expect(config == DaemonConfig() && file == nil)
        }
        #expect(throws: ConfigErrorList.self) { _ = try DaemonConfig.load(path: "/nonexistent/numabalance.yaml") }
    }

    @Test func everyKeyReads() throws {
        let text = """
            kernelBalancing: disable
            dryRun: true
            logLevel: debug
            stateDirectory: /srv/numabalance/
            runtimeDirectory: /run/nb
            policyDirectory: /etc/nb/policies.d
            watchdog: false
            scanPeriod: {min: 500ms, max: 2m, secondLook: 150ms}
            sampling: {maxSamplesPerSecond: 5000, maxSamplesPerRound: 8192, halfWidth: 0.03, roundBudget: 5ms}
            balancing: {localityTarget: 0.8, margin: 0.2, cooldown: 1m}
            migration: {maxRateMBps: 256, reserveMargin: 0.05}
            metrics: {listen: "[::1]:9464"}
            """
        let config = try DaemonConfig.parse(text: text, file: "c.yaml")
        #expect(config.kernelBalancing == .disable && config.dryRun && config.logLevel == .debug)
        #expect(config.stateDirectory == "/srv/numabalance")
        #expect(config.scanPeriod.min == .milliseconds(500) && config.scanPeriod.max == .seconds(120))
        #expect(config.scanPeriod.secondLook == .milliseconds(150))
        #expect(config.sampling.maxSamplesPerSecond == 5000 && config.sampling.roundBudget == .milliseconds(5))
        #expect(config.balancing.cooldown == .seconds(60) && config.balancing.margin == 0.2)
        #expect(config.migration.maxRateMBps == 256 && config.migration.reserveMargin == 0.05)
        #expect(config.metrics.listen == ListenAddress(host: "::1", port: 9464))
        #expect(!config.watchdog)
    }

    @Test func theRenderedYAMLReadsBackTheSame() throws {
        #expect(try DaemonConfig.parse(text: DaemonConfig().yaml, file: "c.yaml") == DaemonConfig())
        var config = DaemonConfig()
        config.kernelBalancing = .leave
        config.scanPeriod.min = .milliseconds(250)
        config.scanPeriod.secondLook = .milliseconds(120)
        config.sampling.halfWidth = 0.015
        config.migration.reserveMargin = 0.1
        config.metrics.listen = ListenAddress(host: "127.0.0.1", port: 9464)
        config.policyDirectory = "/etc/numa balance/policies"
        #expect(try DaemonConfig.parse(text: config.yaml, file: "c.yaml") == config)
    }

    @Test func metricsAreLoopbackOnly() {
        for good in ["127.0.0.1:9464", "127.0.0.53:1", "[::1]:9464", "localhost:9464"] {
            #expect(errors("metrics: {listen: \"\(good)\"}").isEmpty, "\(good)")
        }
        #expect(errors("metrics: {listen: off}").isEmpty)
        #expect(errors("metrics: {listen: \"10.0.0.5:9464\"}") == [
            "c.yaml:1:19: metrics.listen: 10.0.0.5 is not a loopback address; metrics are served on loopback only "
                + "(127.0.0.1 or [::1]): put a proxy in front to expose them",
        ])
        #expect(errors("metrics: {listen: \"127.0.0.1\"}").count == 1)
        #expect(errors("metrics: {listen: \"127.0.0.1:0\"}").count == 1)
        #expect(errors("metrics: {listen: \"::1:9464\"}") == [
            "c.yaml:1:19: metrics.listen: an IPv6 address goes in brackets: [::1]:9464",
        ])
    }

    @Test func severalErrorsAreReportedAtOnce() {
        let found = errors("""
            kernelBalancing: always
            logLevel: 3
            scanPeriod: {min: fast}
            """)
        #expect(found.count == 3)
        #expect(found.first?.hasPrefix("c.yaml:1:18: kernelBalancing: unknown value \"always\"") == true)
    }

    @Test func aSecondDocumentIsAnError() {
        #expect(errors("dryRun: true\n---\ndryRun: false\n") == [
            "c.yaml:3:1: a config file holds one YAML document; remove the second",
        ])
    }

    @Test func scanPeriodBoundsAreCheckedAgainstTheDefaults() {
        #expect(errors("scanPeriod: {max: 500ms}") == [
            "c.yaml:1:19: scanPeriod.max: scanPeriod.min (1s) is greater than scanPeriod.max (500ms)",
        ])
        #expect(errors("scanPeriod: {min: 10ms}").count == 1)
        let soon = errors("scanPeriod: {secondLook: 10ms}")
        #expect(soon.count == 1 && soon.first?.hasPrefix("c.yaml:1:26: scanPeriod.secondLook") == true, "\(soon)")
    }
}
