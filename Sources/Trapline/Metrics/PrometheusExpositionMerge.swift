/// Joins expositions in the Prometheus text format that may declare the same families (two
/// `otlp` exporters, a load balancer's backends): each family's `HELP` and `TYPE` once, with
/// the samples of every text under it, families in the order first seen. A second `TYPE` line
/// for one name is what `promtool check metrics` and a scrape refuse.
@_spi(Plumbing) public enum PrometheusExpositionMerge {
    /// The merged text (ending in a newline when not empty). Allocates the text.
    public static func merge(_ texts: [String]) -> String {
        var order: [String] = []
        var families: [String: (header: [Substring], samples: [Substring])] = [:]
        for text in texts {
            var current = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                    let name = String(line.dropFirst(7).prefix { $0 != " " })
                    current = name
                    if families[name] == nil {
                        order.append(name)
                        families[name] = ([], [])
                    }
                    if !families[name]!.header.contains(where: { $0.prefix(7) == line.prefix(7) }) {
                        families[name]!.header.append(line)
                    }
                } else if line.hasPrefix("#") {
                    continue
                } else {
                    let name = String(line.prefix { $0 != "{" && $0 != " " })
                    // A sample of the family declared above it (a histogram's _bucket, _sum,
                    // _count), or of a family of its own.
                    let family = name.hasPrefix(current) && !current.isEmpty ? current : name
                    if families[family] == nil {
                        order.append(family)
                        families[family] = ([], [])
                    }
                    families[family]!.samples.append(line)
                }
            }
        }
        var result = ""
        for name in order {
            let family = families[name]!
            for line in family.header + family.samples {
                result += line
                result += "\n"
            }
        }
        return result
    }
}
