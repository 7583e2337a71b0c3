import Foundation

/// The JSON report `--report-file` writes, as tests read it.
public enum ReportJSON {
    /// The report at `path` as an object.
    ///
    /// - Throws: when the file cannot be read or is no JSON object.
    public static func load(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let report = object as? [String: Any] else { throw CocoaError(.fileReadCorruptFile) }
        return report
    }

    /// The accounting (`received`, `forwarded`, `filtered`, `blocked`, `rejected`).
    public static func records(_ report: [String: Any]) -> [String: Int]? {
        report["records"] as? [String: Int]
    }

    /// received = forwarded + filtered + blocked + rejected.
    public static func isBalanced(_ records: [String: Int]) -> Bool {
        guard let received = records["received"], let forwarded = records["forwarded"],
            let filtered = records["filtered"], let blocked = records["blocked"], let rejected = records["rejected"]
        else { return false }
        return received == forwarded + filtered + blocked + rejected
    }
}
