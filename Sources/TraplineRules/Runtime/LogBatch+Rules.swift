import TraplineCore

extension LogBatch: RuleBatch {
    func eventOwners() -> [Int32] { [] }

    mutating func writeRecordField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)
    {
        let row = position.row
        switch field {
        case .droppedAttributesCount:
            droppedAttributesCounts[row] = UInt32(clamping: try storedInt(value, field: "dropped_attributes_count"))
        case .logTime: times[row] = UInt64(bitPattern: try storedInt(value, field: "time"))
        case .observedTime: observedTimes[row] = UInt64(bitPattern: try storedInt(value, field: "observed_time"))
        case .severityNumber: severityNumbers[row] = Int32(clamping: try storedInt(value, field: "severity_number"))
        case .severityText: severityTexts[row] = try storedString(value, &storage, field: "severity_text")
        case .body:
            if let stored = storedValue(value, &storage) { bodies[row] = stored }
        case .logEventName: eventNames[row] = try storedString(value, &storage, field: "event_name")
        default: throw RuleRuntimeError("this path cannot be set")
        }
    }

    func readRecordField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue {
        let row = position.row
        switch field {
        case .droppedAttributesCount: return .int(Int64(droppedAttributesCounts[row]))
        case .logTime(let unixNano): return .time(times[row], unixNano: unixNano)
        case .observedTime(let unixNano): return .time(observedTimes[row], unixNano: unixNano)
        case .severityNumber: return .int(Int64(severityNumbers[row]))
        case .severityText: return .text(severityTexts[row])
        case .body: return RuleValue(bodies[row])
        case .logEventName: return .text(eventNames[row])
        default: return .null
        }
    }

    // Log records have no events: the event owner is the record itself.
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
        guard context == .log else { return false }
        func rows(_ value: (Int) -> Int64) { for item in items { column.append(value(Int(item))) } }
        switch field {
        case .logTime: times.withUnsafeBufferPointer { times in rows { Int64(bitPattern: times[$0]) } }
        case .observedTime: observedTimes.withUnsafeBufferPointer { times in rows { Int64(bitPattern: times[$0]) } }
        case .severityNumber: severityNumbers.withUnsafeBufferPointer { numbers in rows { Int64(numbers[$0]) } }
        case .flags: flags.withUnsafeBufferPointer { flags in rows { Int64(flags[$0]) } }
        case .droppedAttributesCount(.record): rows { Int64(droppedAttributesCounts[$0]) }
        default: return false
        }
        return true
    }
}
