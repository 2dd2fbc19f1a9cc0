import NUMABalanceCLI

await NumaBalanceCommand.runMain()
