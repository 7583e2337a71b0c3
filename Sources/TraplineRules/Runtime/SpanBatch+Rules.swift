import TraplineCore

extension SpanBatch: RuleBatch {
    func eventOwners() -> [Int32] {
        var owners = [Int32](repeating: 0, count: events.count)
        for row in 0..<count {
            for event in eventRanges[row].range { owners[event] = Int32(row) }
        }
        return owners
    }

    func readRecordField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue {
        let row = position.row
        switch field {
        case .droppedAttributesCount(.record): return .int(Int64(droppedCounts[row].attributes))
        case .droppedAttributesCount(.event): return .int(Int64(events.droppedAttributesCounts[position.event]))
        case .parentSpanID(let hex):
            let id = parentSpanIDs[row]
            return hex ? .string(id.isZero ? "" : id.description) : .spanID(id)
        case .traceState: return .text(traceStates[row])
        case .name: return .text(names[row])
        case .kind: return .int(Int64(kinds[row]))
        case .kindString:
            let names = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"]
            let kind = Int(kinds[row])
            return .string(kind >= 0 && kind < names.count ? names[kind] : "")
        case .statusCode: return .int(Int64(statuses[row].code))
        case .statusMessage: return .text(statuses[row].message)
        case .droppedEventsCount: return .int(Int64(droppedCounts[row].events))
        case .droppedLinksCount: return .int(Int64(droppedCounts[row].links))
        case .startTime(let unixNano): return .time(startTimes[row], unixNano: unixNano)
        case .endTime(let unixNano): return .time(endTimes[row], unixNano: unixNano)
        case .eventName: return .text(events.names[position.event])
        case .eventTime(let unixNano): return .time(events.times[position.event], unixNano: unixNano)
        case .events:
            return .list(
                eventRanges[row].range.map { event in
                    var map = RuleMap()
                    map["name"] = .string(bytes.string(events.names[event]))
                    map["time_unix_nano"] = .int(Int64(bitPattern: events.times[event]))
                    return .map(map)
                })
        case .links:
            return .list(
                linkRanges[row].range.map { link in
                    var map = RuleMap()
                    map["trace_id"] = .string(links.traceIDs[link].description)
                    map["span_id"] = .string(links.spanIDs[link].description)
                    return .map(map)
                })
        default: return .null
        }
    }

    mutating func writeRecordField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)
    {
        let row = position.row
        switch field {
        case .droppedAttributesCount(.record):
            droppedCounts[row].attributes = UInt32(clamping: try storedInt(value, field: "dropped_attributes_count"))
        case .droppedAttributesCount(.event):
            events.droppedAttributesCounts[position.event] = UInt32(
                clamping: try storedInt(value, field: "dropped_attributes_count"))
        case .parentSpanID:
            parentSpanIDs[row] = try storage.reading { bytes throws(RuleRuntimeError) in
                try spanIDValue(from: value, bytes)
            }
        case .traceState: traceStates[row] = try storedString(value, &storage, field: "trace_state")
        case .name: names[row] = try storedString(value, &storage, field: "name")
        case .kind: kinds[row] = Int32(clamping: try storedInt(value, field: "kind"))
        case .statusCode:
            statuses[row].code = Int32(clamping: try storedInt(value, field: "status.code"))
            statuses[row].isPresent = true
        case .statusMessage:
            statuses[row].message = try storedString(value, &storage, field: "status.message")
            statuses[row].isPresent = true
        case .droppedEventsCount:
            droppedCounts[row].events = UInt32(clamping: try storedInt(value, field: "dropped_events_count"))
        case .droppedLinksCount:
            droppedCounts[row].links = UInt32(clamping: try storedInt(value, field: "dropped_links_count"))
        case .startTime: startTimes[row] = UInt64(bitPattern: try storedInt(value, field: "start_time"))
        case .endTime: endTimes[row] = UInt64(bitPattern: try storedInt(value, field: "end_time"))
        case .eventName: events.names[position.event] = try storedString(value, &storage, field: "name")
        case .eventTime: events.times[position.event] = UInt64(bitPattern: try storedInt(value, field: "time"))
        default: throw RuleRuntimeError("this path cannot be set")
        }
    }

    var eventAttributeTable: AttributeTable { events.attributeTable }

    func eventAttributeRange(at position: RulePosition) -> RowRange { events.attributes[position.event] }

    mutating func editEventAttributes<Result>(
        at position: RulePosition, _ body: (inout AttributeTable, inout RowRange, inout SliceStorage) -> Result
    ) -> Result {
        body(&events.attributeTable, &events.attributes[position.event], &storage)
    }

    func gather(
        _ field: RuleField, _ items: [Int32], _ context: RuleContext, _ eventOwners: [Int32],
        into column: inout [Int64]
    ) -> Bool {
        if context == .spanevent, case .eventTime = field {
            for item in items { column.append(Int64(bitPattern: events.times[Int(item)])) }
            return true
        }
        func rows(_ value: (Int) -> Int64) {
            if context == .spanevent {
                for item in items { column.append(value(Int(eventOwners[Int(item)]))) }
            } else {
                for item in items { column.append(value(Int(item))) }
            }
        }
        guard context == .span || context == .spanevent else { return false }
        switch field {
        case .startTime: startTimes.withUnsafeBufferPointer { times in rows { Int64(bitPattern: times[$0]) } }
        case .endTime: endTimes.withUnsafeBufferPointer { times in rows { Int64(bitPattern: times[$0]) } }
        case .kind: kinds.withUnsafeBufferPointer { kinds in rows { Int64(kinds[$0]) } }
        case .statusCode: rows { Int64(statuses[$0].code) }
        case .flags: flags.withUnsafeBufferPointer { flags in rows { Int64(flags[$0]) } }
        case .droppedAttributesCount(.record): rows { Int64(droppedCounts[$0].attributes) }
        case .droppedEventsCount: rows { Int64(droppedCounts[$0].events) }
        case .droppedLinksCount: rows { Int64(droppedCounts[$0].links) }
        default: return false
        }
        return true
    }

    mutating func editTables<Result>(_ body: TableEditor<Result>) -> Result {
        body(&attributes, &spanAttributes, &resources, &scopes, &storage)
    }

    mutating func removeEvents(ofRow row: Int, where drop: [Bool]) -> Int {
        let range = eventRanges[row].range
        var write = range.lowerBound
        for event in range where !drop[event] {
            if write != event {
                events.times[write] = events.times[event]
                events.names[write] = events.names[event]
                events.attributes[write] = events.attributes[event]
                events.droppedAttributesCounts[write] = events.droppedAttributesCounts[event]
            }
            write += 1
        }
        let removed = range.upperBound - write
        if removed > 0 {
            eventRanges[row] = RowRange(start: range.lowerBound, end: write)
            markModified(row)
        }
        return removed
    }
}
