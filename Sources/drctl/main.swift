import DrctlCLI

await Drctl.runFromCommandLine()
