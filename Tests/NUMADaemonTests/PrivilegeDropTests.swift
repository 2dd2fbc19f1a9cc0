import CNUMA
import Testing
@testable import NUMAPrivileges

/// Privileges.keepOnly itself is not unit-tested: it would drop the test
/// process's own capabilities for every test after it. The lab test checks
/// CapEff, CapBnd and NoNewPrivs of the running daemon instead.
@Suite struct PrivilegeDropTests {
    @Test func theDaemonKeepsWhatDesignSaysAndSysAdminOnlyToDisable() {
        #expect(Privileges.daemonNeeds(disableKernelBalancing: false)
            == [.sysPtrace, .sysNice, .checkpointRestore, .dacReadSearch])
        #expect(Privileges.daemonNeeds(disableKernelBalancing: true)
            == [.sysPtrace, .sysNice, .checkpointRestore, .dacReadSearch, .sysAdmin])
        #expect(!Privileges.daemonNeeds(disableKernelBalancing: true).map(\.rawValue).contains("CAP_DAC_OVERRIDE"))
    }

    @Test func capabilityNamesAndTheKernelsLastOne() {
        #expect(Privileges.name(CAP_DAC_OVERRIDE) == "CAP_DAC_OVERRIDE")
        #expect(Privileges.name(40) == "CAP_CHECKPOINT_RESTORE")
        // Every kernel this runs on (5.9+) knows CAP_CHECKPOINT_RESTORE (40).
        #expect(Privileges.lastCapability() >= 40)
        for capability in Capability.allCases {
            #expect(Privileges.name(capability.value) == capability.rawValue)
        }
    }
}
