import Foundation

extension Double {
    /// The value with `places` decimals (`12.5`, `0.125`), as `String(format: "%.Nf")` writes it
    /// but without Foundation's formatter, which cost most of a large report's chart. A value whose
    /// exact decimal lies a hair from a rounding tie may round the other way in its last digit.
    public func fixed(_ places: Int) -> String {
        let factor = [1.0, 10, 100, 1000, 10000, 100_000, 1_000_000][Swift.min(Swift.max(places, 0), 6)]
        let scaled = (abs(self) * factor).rounded(.toNearestOrEven)
        guard isFinite, places <= 6, scaled < 1e15 else { return String(format: "%.\(places)f", self) }
        let units = Int(scaled)
        let whole = String(units / Int(factor))
        let sign = self.sign == .minus ? "-" : ""
        guard places > 0 else { return sign + whole }
        let fraction = String(units % Int(factor))
        return sign + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
