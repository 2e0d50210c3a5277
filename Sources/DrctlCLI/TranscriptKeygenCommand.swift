import ArgumentParser
import Foundation
import Journal

struct TranscriptKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an ed25519 key to sign journals with (--sign-key), and its public half (FILE.pub).",
        discussion: HelpText.unwrapped("""
        Keep the key with the operators; give FILE.pub to whoever checks runs later.

        Example:
          drctl transcript keygen --out ~/.drctl/journal.key
          drctl run Runbooks/host-failure.yaml --inventory site.yaml --param failed_host=esxi-01 --sign-key ~/.drctl/journal.key
          drctl transcript verify RUN --public-key ~/.drctl/journal.key.pub
        """)
    )

    @Option(help: "The key file to write (refused if it exists).") var out: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: out) else { throw failInvalidInput(["\(out) exists; a key is never overwritten"]) }
        do {
            let publicKey = try JournalSigner.generate(to: out)
            print("\(out): ed25519 signing key (0600); \(out).pub: its public key \(publicKey)")
        } catch {
            throw failInvalidInput(["drctl transcript keygen: \(error)"])
        }
    }
}
