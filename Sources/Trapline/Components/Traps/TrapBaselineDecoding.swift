import TraplineRules
public import TraplineStages

/// A rule's `baseline:` as written: the settings, and `failed_when` for a success baseline
/// (compiled with the rule).
@_spi(Plumbing) public struct TrapBaselineConfig: Hashable, Sendable {
    /// What the baseline measures.
    public var settings: TrapBaselineSettings
    /// `success.failed_when`: OTTL conditions over spans, ORed; empty takes an error status.
    public var failedWhen: [RuleText] = []

    /// Makes a baseline config. Allocates nothing.
    public init(settings: TrapBaselineSettings) { self.settings = settings }
}

extension ConfigDecoder {
    /// `baseline`: one of `latency` and `success`, each with its settings.
    mutating func trapBaseline(_ setting: Entry) -> TrapBaselineConfig? {
        guard let kinds = entries(setting.node, at: setting.location) else { return nil }
        rejectUnknownKeys(kinds, known: ["latency", "success"])
        let known = kinds.filter { $0.key == "latency" || $0.key == "success" }
        guard known.count == 1, let kind = known.first else {
            if known.count > 1 || kinds.isEmpty {
                diagnostics.error(
                    "a baseline measures one thing", at: setting.location,
                    hint: "write 'latency:' or 'success:', each in a rule of its own")
            }
            return nil
        }
        guard let keys = entries(kind.node, at: kind.location) else { return nil }
        if kind.key == "latency" {
            return latencyBaseline(keys).map { TrapBaselineConfig(settings: .latency($0)) }
        }
        return successBaseline(keys)
    }

    private mutating func latencyBaseline(_ keys: [Entry]) -> LatencyBaselineSettings? {
        rejectUnknownKeys(keys, known: ["window", "percentile", "factor", "min_samples", "objective", "max_series"])
        var settings = LatencyBaselineSettings()
        for key in keys {
            switch key.key {
            case "window": settings.windowNanoseconds = positiveDuration(key) ?? settings.windowNanoseconds
            case "percentile":
                settings.percentile =
                    number(key, in: 0...100, excludingLowest: true, expected: "a percentile above 0, at most 100")
                    ?? settings.percentile
            case "factor":
                settings.factor =
                    number(key, in: 1...1e9, excludingLowest: false, expected: "a factor of 1 or more")
                    ?? settings.factor
            case "min_samples": settings.minSamples = positiveInteger(key) ?? settings.minSamples
            case "objective": settings.objectiveNanoseconds = positiveDuration(key)
            case "max_series": settings.maxSeries = positiveInteger(key) ?? settings.maxSeries
            default: break
            }
        }
        return settings
    }

    private mutating func successBaseline(_ keys: [Entry]) -> TrapBaselineConfig? {
        rejectUnknownKeys(
            keys,
            known: ["window", "recent", "min_samples", "max_drop", "floor", "failed_when", "counts", "max_series"])
        var settings = SuccessBaselineSettings()
        var failedWhen: [RuleText] = []
        var windowLocation: ConfigLocation?
        for key in keys {
            switch key.key {
            case "window":
                settings.windowNanoseconds = positiveDuration(key) ?? settings.windowNanoseconds
                windowLocation = key.location
            case "recent":
                settings.recentNanoseconds = positiveDuration(key) ?? settings.recentNanoseconds
                windowLocation = windowLocation ?? key.location
            case "min_samples": settings.minSamples = positiveInteger(key) ?? settings.minSamples
            case "max_drop":
                settings.maxDrop =
                    number(key, in: 0...1, excludingLowest: false, expected: "a drop in success rate from 0 to 1")
                    ?? settings.maxDrop
            case "floor":
                settings.floor = number(
                    key, in: 0...1, excludingLowest: true, expected: "a success rate above 0, at most 1")
            case "failed_when": failedWhen = ruleTexts(key)
            case "counts":
                guard let counts = entries(key.node, at: key.location) else { continue }
                rejectUnknownKeys(counts, known: ["ok", "failed"])
                for count in counts {
                    let name = string(count.node, at: count.location)
                    if count.key == "ok" {
                        settings.okCountAttribute = name
                    } else {
                        settings.failedCountAttribute = name
                    }
                }
                if settings.okCountAttribute == nil || settings.failedCountAttribute == nil {
                    diagnostics.error(
                        "counts need both 'ok' and 'failed'", at: key.location,
                        hint: "name the span attributes that count what succeeded and what failed")
                }
            case "max_series": settings.maxSeries = positiveInteger(key) ?? settings.maxSeries
            default: break
            }
        }
        if let location = windowLocation {
            if settings.recentNanoseconds >= settings.windowNanoseconds {
                diagnostics.error(
                    "'recent' must be shorter than 'window'", at: location,
                    hint: "the recent rate is judged against the rest of the window")
            } else if settings.slotCount > SuccessBaselineSettings.maxSlots {
                diagnostics.error(
                    "'window' holds \(settings.slotCount) intervals of 'recent', more than \(SuccessBaselineSettings.maxSlots)",
                    at: location, hint: "lengthen 'recent' or shorten 'window'")
            }
        }
        if settings.countsByAttribute, let first = failedWhen.first {
            diagnostics.error(
                "'failed_when' judges spans one by one; with 'counts' the attributes say what failed",
                at: first.location, hint: "remove one of the two")
        }
        var config = TrapBaselineConfig(settings: .success(settings))
        config.failedWhen = failedWhen
        return config
    }

    private mutating func positiveDuration(_ key: Entry) -> UInt64? {
        guard let text = key.node.scalar, let nanoseconds = DurationText.parse(text), nanoseconds > 0 else {
            diagnostics.error("expected a positive duration like 15m, 30s or 2s", at: key.location)
            return nil
        }
        return UInt64(nanoseconds)
    }

    private mutating func positiveInteger(_ key: Entry) -> Int? {
        guard let text = key.node.scalar, let value = Int(text), value > 0 else {
            diagnostics.error("expected a whole number above 0", at: key.location)
            return nil
        }
        return value
    }

    private mutating func number(
        _ key: Entry, in range: ClosedRange<Double>, excludingLowest: Bool, expected: String
    ) -> Double? {
        guard let text = key.node.scalar, let value = Double(text), range.contains(value),
            !(excludingLowest && value == range.lowerBound)
        else {
            diagnostics.error("expected \(expected)", at: key.location)
            return nil
        }
        return value
    }
}
