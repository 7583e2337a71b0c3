import TraplineCore

extension LogBatch: RuleBatch {
    func scopeIndex(ofRow row: Int) -> Int { Int(scopeIndexes[row]) }

    func eventOwners() -> [Int32] { [] }

    func readField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue {
        if let value = readContainerField(field, at: position) { return value }
        let row = position.row
        switch field {
        case .droppedAttributesCount: return .int(Int64(droppedAttributesCounts[row]))
        case .logTime(let unixNano):
            let time = Int64(bitPattern: times[row])
            return unixNano ? .int(time) : .time(time)
        case .observedTime(let unixNano):
            let time = Int64(bitPattern: observedTimes[row])
            return unixNano ? .int(time) : .time(time)
        case .severityNumber: return .int(Int64(severityNumbers[row]))
        case .severityText: return .text(severityTexts[row])
        case .body: return RuleValue(bodies[row])
        case .logEventName: return .text(eventNames[row])
        default: return .null
        }
    }

    mutating func writeField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)
    {
        if try writeContainerField(field, at: position, value) { return }
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

    func attributeTable(_ owner: AttributeOwner) -> AttributeTable { attributes }

    func attributeRange(_ owner: AttributeOwner, at position: RulePosition) -> RowRange {
        switch owner {
        case .resource: resources[position.resource].attributes
        case .scope: scopes[position.scope].attributes
        case .record, .event: recordAttributes[position.row]
        }
    }

    @inline(__always)
    func attribute(_ owner: AttributeOwner, at position: RulePosition, key: UnsafeRawBufferPointer, _ bytes: BatchBytes)
        -> AnyValueRef?
    {
        findAttribute(attributes, attributeRange(owner, at: position), key: key, bytes)
    }

    mutating func editRecordAttributes<Result>(
        _ body: (inout AttributeTable, inout [RowRange], inout SliceStorage) -> Result
    ) -> Result {
        body(&attributes, &recordAttributes, &storage)
    }

    mutating func editAttributes<Result>(
        _ owner: AttributeOwner, at position: RulePosition,
        _ body: (inout AttributeTable, inout RowRange, inout SliceStorage) -> Result
    ) -> Result {
        switch owner {
        case .resource: body(&attributes, &resources[position.resource].attributes, &storage)
        case .scope: body(&attributes, &scopes[position.scope].attributes, &storage)
        case .record, .event: body(&attributes, &recordAttributes[position.row], &storage)
        }
    }

    mutating func markModified(_ context: RuleContext, at position: RulePosition) {
        switch context {
        case .resource: resources[position.resource].isModified = true
        case .scope: scopes[position.scope].isModified = true
        case .span, .spanevent, .log: markModified(position.row)
        }
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
