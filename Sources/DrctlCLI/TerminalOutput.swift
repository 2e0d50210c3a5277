import DrctlCore
import Foundation

// Everything the CLI shows goes through here, so no surface can forget: names and outputs from
// hosts, runbooks, inventories and scenarios are shown with their control characters made visible
// (`VisibleText`). drctl writes no escape sequences of its own. This `print` shadows the standard
// library's inside this module on purpose; the simulator's `sim exec`, which plays a host's shell,
// writes raw bytes with FileHandle instead.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(VisibleText.escape(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}

func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(VisibleText.escape(text).utf8))
}
