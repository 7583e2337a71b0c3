import TraplineCore

extension MetricBatch: RuleBatch {
    func eventOwners() -> [Int32] { [] }

    func metricIndex(ofPoint row: Int) -> Int { Int(metricIndexes[row]) }
    func scopeIndex(ofMetric metric: Int) -> Int { Int(metrics.scopeIndexes[metric]) }
    func pointRows(ofMetric metric: Int) -> Range<Int> { metrics.points[metric].range }
    var metricCount: Int { metrics.count }
    mutating func markMetricModified(_ metric: Int) { metrics.isModified[metric] = true }

    /// OTTL's number for each metric type (`pmetric.MetricType`).
    static func ottlTypeNumber(_ type: MetricType) -> Int64 {
        switch type {
        case .empty: 0
        case .gauge: 1
        case .sum: 2
        case .histogram: 3
        case .exponentialHistogram: 4
        case .summary: 5
        }
    }

    func readRecordField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue {
        let metric = position.metric
        let row = position.row
        switch field {
        case .metricName: return .text(metrics.names[metric])
        case .metricDescription: return .text(metrics.descriptions[metric])
        case .metricUnit: return .text(metrics.units[metric])
        case .metricType: return .int(Self.ottlTypeNumber(metrics.types[metric]))
        case .aggregationTemporality: return .int(Int64(metrics.temporalities[metric]))
        case .isMonotonic: return .bool(metrics.isMonotonic[metric])
        case .pointStartTime(let unixNano): return .time(startTimes[row], unixNano: unixNano)
        case .pointTime(let unixNano): return .time(times[row], unixNano: unixNano)
        case .valueDouble: return valueKinds[row] == .double ? .double(Double(bitPattern: values[row])) : .double(0)
        case .valueInt: return valueKinds[row] == .int ? .int(Int64(bitPattern: values[row])) : .int(0)
        default: return .null
        }
    }

    mutating func writeRecordField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)
    {
        let metric = position.metric
        switch field {
        case .metricName: metrics.names[metric] = try storedString(value, &storage, field: "name")
        case .metricDescription: metrics.descriptions[metric] = try storedString(value, &storage, field: "description")
        case .metricUnit: metrics.units[metric] = try storedString(value, &storage, field: "unit")
        default: throw RuleRuntimeError("this path cannot be set")
        }
        metrics.isModified[metric] = true
    }

    // Data points have no events: the event owner is the point itself.
    var eventAttributeTable: AttributeTable { attributes }

    func eventAttributeRange(at position: RulePosition) -> RowRange { recordAttributes[position.row] }

    mutating func editEventAttributes<Result>(
        at position: RulePosition, _ body: (inout AttributeTable, inout RowRange, inout SliceStorage) -> Result
    ) -> Result {
        body(&attributes, &recordAttributes[position.row], &storage)
    }

    mutating func editTables<Result>(_ body: TableEditor<Result>) -> Result {
        body(&attributes, &recordAttributes, &resources, &scopes, &storage)
    }

    mutating func removeEvents(ofRow row: Int, where drop: [Bool]) -> Int { 0 }

    func gather(
        _ field: RuleField, _ items: [Int32], _ context: RuleContext, _ eventOwners: [Int32],
        into column: inout [Int64]
    ) -> Bool {
        switch (context, field) {
        case (.datapoint, .pointTime): for item in items { column.append(Int64(bitPattern: times[Int(item)])) }
        case (.datapoint, .pointStartTime):
            for item in items { column.append(Int64(bitPattern: startTimes[Int(item)])) }
        case (.datapoint, .flags): for item in items { column.append(Int64(flags[Int(item)])) }
        case (.metric, .metricType):
            for item in items { column.append(Self.ottlTypeNumber(metrics.types[Int(item)])) }
        default: return false
        }
        return true
    }
}
