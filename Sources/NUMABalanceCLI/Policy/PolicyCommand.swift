import ArgumentParser

/// `numabalance policy`: the policy files operators ship (DESIGN.md "Policies").
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Work with policy files: which processes get which placement.",
        discussion: """
            A policy file holds one or more policies (YAML documents separated by \
            ---), each with apiVersion: numabalance/v1, kind: Policy, a name, a match \
            and a placement. The daemon reads every *.yaml file of its policy folder \
            (/etc/numabalance/policies.d) in lexical order of the names; the first \
            policy that matches a process wins, then the built-in default. The stock \
            policies in the source tree's Policies/ folder are commented examples.

              numabalance policy validate my.yaml        check a file
              numabalance policy plan my.yaml            what it would do, changing nothing
              numabalance policy apply my.yaml           install it, reload the daemon
              numabalance policy list                    the installed set, in order
              numabalance policy remove my-policy        uninstall, reload the daemon
            """,
        subcommands: [PolicyValidateCommand.self, PolicyPlanCommand.self, PolicyApplyCommand.self,
                      PolicyListCommand.self, PolicyRemoveCommand.self]
    )
}
