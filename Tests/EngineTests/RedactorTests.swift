import Engine
import Testing

@Suite("redactor")
struct RedactorTests {
    @Test("every occurrence of every secret is masked whole, wherever it sits, in any script")
    func secrets() {
        let redactor = Redactor()
        #expect(redactor.redact("nothing registered: Hunter2") == "nothing registered: Hunter2")
        redactor.register("Hunter2")
        redactor.register("Hunter2-long")
        redactor.register("пароль🙂")
        let mask = Redactor.mask
        #expect(redactor.redact("Hunter2") == mask)
        #expect(redactor.redact("Hunter2Hunter2 x") == mask + " x", "adjacent occurrences join into one mask")
        #expect(redactor.redact("a Hunter2-long b") == "a \(mask) b", "the longer secret is masked whole")
        #expect(redactor.redact("é Hunter2 日本 пароль🙂!") == "é \(mask) 日本 \(mask)!")
        #expect(redactor.redact("HHunter Hunter") == "HHunter Hunter", "a partial match is not a secret")
    }

    @Test("patterns and secrets together; an overlap is one mask")
    func patterns() {
        let redactor = Redactor(patterns: [#"token=\w+"#])
        redactor.register("abc123")
        #expect(redactor.redact("token=abc123 and abc123, token=zz") == "\(Redactor.mask) and \(Redactor.mask), \(Redactor.mask)")
    }
}
