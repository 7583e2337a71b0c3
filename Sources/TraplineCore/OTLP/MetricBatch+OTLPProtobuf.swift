extension MetricBatch: OTLPContainerBatch {
    @usableFromInline static var containerNames: OTLPContainerNames { .metrics }

    @usableFromInline func markRecordTables(_ mark: inout BatchMark) { mark.metrics = metrics.count }

    @usableFromInline
    mutating func rollbackRecords(to mark: BatchMark) {
        truncateRows(to: mark.rows)
        metrics.truncate(to: mark.metrics)
    }

    @usableFromInline
    func finishRecordTables(of row: inout PointRow, since mark: BatchMark) {}

    /// A changed point: its original fields but its attributes, then the attributes from the table.
    @usableFromInline
    func writeColumns(ofRow row: Int, _ bytes: BatchBytes, into writer: WireWriter) {
        let field = metrics.types[Int(metricIndexes[row])].pointAttributesField
        writer.writeFields(of: bytes[pointBytes[row]], except: field...field)
        writer.writeAttributes(field, attributes, recordAttributes[row], bytes)
    }

    @usableFromInline
    func writeJSON(ofRow row: Int, into writer: inout JSONTextWriter) {
        writer.metricPoint(self, row)
    }

    /// Decodes one `Metric`: its own fields into the metric table, each data point into a row.
    /// A bad point loses that point; a bad metric (its name, its data message's framing) loses
    /// the metric with every point it holds, counted as points.
    @inlinable
    mutating func decodeRecord(_ region: Range<Int>, depth: Int, scopeIndex: UInt32, using decoder: OTLPFieldDecoder) {
        let start = mark
        let metricIndex = metrics.count
        metrics.append(scopeIndex: scopeIndex, firstRow: count)
        var pointsRejected = 0
        do throws(DecodeError) {
            try decoder.checkDepth(depth, at: region.lowerBound)
            var reader = decoder.reader(region)
            while let (tag, tagStart) = try reader.nextField() {
                switch tag.number {
                case 1:
                    metrics.names[metricIndex] = try decoder.string(tag, at: tagStart, &reader, field: "Metric.name")
                case 2:
                    metrics.descriptions[metricIndex] = try decoder.string(
                        tag, at: tagStart, &reader, field: "Metric.description")
                case 3:
                    metrics.units[metricIndex] = try decoder.string(tag, at: tagStart, &reader, field: "Metric.unit")
                case 5, 7, 9, 10, 11:
                    let data = try decoder.message(tag, at: tagStart, &reader, field: "Metric.data")
                    let type = MetricType(rawValue: tag.number) ?? .empty
                    var dataSlice = decoder.slice(data)
                    if metrics.types[metricIndex] != type {
                        // Another case of the oneof: the last one set wins, as protobuf reads it.
                        rollbackPoints(to: start, metricIndex: metricIndex)
                        metrics.types[metricIndex] = type
                    } else if !metrics.dataRaws[metricIndex].isEmpty {
                        // The same case again merges into it: its points add up.
                        dataSlice = storage.appendToArena(joining: metrics.dataRaws[metricIndex], dataSlice)
                    }
                    metrics.dataRaws[metricIndex] = dataSlice
                    try decodeData(
                        data, type: type, metricIndex: metricIndex, scopeIndex: scopeIndex, depth: depth + 1,
                        pointsRejected: &pointsRejected, using: decoder)
                case 12:
                    let range = attributes.growableAtEnd(metrics.metadata[metricIndex])
                    try decoder.attribute(
                        tag, at: tagStart, &reader, field: "Metric.metadata", depth: depth + 1, into: &attributes)
                    metrics.metadata[metricIndex] = RowRange(start: Int(range.start), end: attributes.count)
                default:
                    try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
                }
            }
            metrics.points[metricIndex] = RowRange(start: start.rows, end: count)
            metrics.raws[metricIndex] = decoder.slice(region)
            // A metric that lost points is written from its kept points, not copied: its bytes
            // still hold the rejected ones (a fuzz finding: output read back had more points).
            if pointsRejected > 0 { metrics.isModified[metricIndex] = true }
        } catch {
            rollback(to: start)
            let points = Self.countPoints(in: region, using: decoder)
            rejections.append(error, records: max(points - pointsRejected, 0))
        }
    }

    /// Drops the metric's points decoded so far (its data oneof was set again to another case).
    @inlinable
    mutating func rollbackPoints(to start: BatchMark, metricIndex: Int) {
        truncateRows(to: start.rows)
        attributes.truncate(to: start.attributes)
        metrics.metadata[metricIndex] = .empty
    }

    /// Reads a `Gauge`/`Sum`/`Histogram`/`ExponentialHistogram`/`Summary`: its points into
    /// rows (each rejected alone), its temporality and monotonicity into the metric table.
    @inlinable
    mutating func decodeData(
        _ region: Range<Int>, type: MetricType, metricIndex: Int, scopeIndex: UInt32, depth: Int,
        pointsRejected: inout Int, using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        try decoder.checkDepth(depth, at: region.lowerBound)
        var reader = decoder.reader(region)
        while let (tag, tagStart) = try reader.nextField() {
            switch tag.number {
            case 1:
                let point = try decoder.message(tag, at: tagStart, &reader, field: "data_points")
                if !decodePoint(
                    point, type: type, metricIndex: metricIndex, scopeIndex: scopeIndex, depth: depth + 1,
                    using: decoder)
                {
                    pointsRejected += 1
                }
            case 2 where type == .sum || type == .histogram || type == .exponentialHistogram:
                metrics.temporalities[metricIndex] = try decoder.int32(
                    tag, at: tagStart, &reader, field: "aggregation_temporality")
            case 3 where type == .sum:
                metrics.isMonotonic[metricIndex] =
                    try decoder.int32(tag, at: tagStart, &reader, field: "Sum.is_monotonic") != 0
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }

    /// Decodes one data point into a row (`decodeRow`, as every record); false when it was
    /// rejected.
    @inlinable
    mutating func decodePoint(
        _ region: Range<Int>, type: MetricType, metricIndex: Int, scopeIndex: UInt32, depth: Int,
        using decoder: OTLPFieldDecoder
    ) -> Bool {
        var row = PointRow()
        row.type = type
        row.scopeIndex = scopeIndex
        row.metricIndex = UInt32(truncatingIfNeeded: metricIndex)
        return decodeRow(region, depth: depth, startingWith: row, using: decoder)
    }

    /// Reads a data point's fields (the message `row.type` says) into `row`: times, value,
    /// flags and attributes into columns; exemplars checked (UTF-8, id lengths) and left in
    /// the point's bytes with the other fields.
    @inlinable
    mutating func decodeFields(
        _ reader: inout WireReader, into row: inout PointRow, depth: Int, using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        let attributesField = row.type.pointAttributesField
        let (flagsField, exemplarsField): (UInt32, UInt32) =
            switch row.type {
            case .histogram: (10, 8)
            case .exponentialHistogram: (10, 11)
            case .summary: (8, 0)
            default: (8, 5)
            }
        while let (tag, tagStart) = try reader.nextField() {
            switch tag.number {
            case attributesField:
                try decoder.attribute(
                    tag, at: tagStart, &reader, field: "DataPoint.attributes", depth: depth + 1, into: &attributes)
            case 2:
                row.startTime = try decoder.fixed64(tag, at: tagStart, &reader, field: "DataPoint.start_time_unix_nano")
            case 3: row.time = try decoder.fixed64(tag, at: tagStart, &reader, field: "DataPoint.time_unix_nano")
            case 4 where row.type == .gauge || row.type == .sum:
                row.value = try decoder.fixed64(tag, at: tagStart, &reader, field: "NumberDataPoint.as_double")
                row.valueKind = .double
            case 6 where row.type == .gauge || row.type == .sum:
                row.value = try decoder.fixed64(tag, at: tagStart, &reader, field: "NumberDataPoint.as_int")
                row.valueKind = .int
            case flagsField: row.flags = try decoder.uint32(tag, at: tagStart, &reader, field: "DataPoint.flags")
            case exemplarsField:
                let exemplar = try decoder.message(tag, at: tagStart, &reader, field: "DataPoint.exemplars")
                try checkExemplar(exemplar, depth: depth + 1, using: decoder)
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }

    /// Checks an `Exemplar` as a record is checked (attribute UTF-8 and nesting, id lengths);
    /// it stays in the point's bytes.
    @inlinable
    mutating func checkExemplar(_ region: Range<Int>, depth: Int, using decoder: OTLPFieldDecoder)
        throws(DecodeError)
    {
        try decoder.checkDepth(depth, at: region.lowerBound)
        let attributesBefore = attributes.count
        defer { attributes.truncate(to: attributesBefore) }
        var reader = decoder.reader(region)
        var marks: ZeroIDMarks.Field = []
        while let (tag, tagStart) = try reader.nextField() {
            switch tag.number {
            case 7:
                try decoder.attribute(
                    tag, at: tagStart, &reader, field: "Exemplar.filtered_attributes", depth: depth + 1,
                    into: &attributes)
            case 4:
                _ = try decoder.spanID(
                    tag, at: tagStart, &reader, field: "Exemplar.span_id", mark: .spanID, in: &marks)
            case 5:
                _ = try decoder.traceID(
                    tag, at: tagStart, &reader, field: "Exemplar.trace_id", mark: .traceID, in: &marks)
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }

    /// How many data points a `Metric` holds, read as far as its framing allows (cold: only
    /// for a metric being rejected, whose points are counted as lost).
    @usableFromInline
    static func countPoints(in region: Range<Int>, using decoder: OTLPFieldDecoder) -> Int {
        var points = 0
        var reader = decoder.reader(region)
        while let (tag, _) = try? reader.nextField() {
            if [5, 7, 9, 10, 11].contains(tag.number), tag.wireType == .lengthDelimited,
                let data = try? reader.readLengthDelimited()
            {
                var inner = decoder.reader(data)
                while let (pointTag, _) = try? inner.nextField() {
                    if pointTag.number == 1 { points += 1 }
                    guard (try? inner.skipField(pointTag, depth: 0, maxDepth: decoder.maxDepth)) != nil else { break }
                }
            } else if (try? reader.skipField(tag, depth: 0, maxDepth: decoder.maxDepth)) == nil {
                break
            }
        }
        return points
    }
}
