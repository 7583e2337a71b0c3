import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The map editors (Sources/TraplineRules/Functions/MapEditing).
@Suite struct MapEditorsTests {
    @Test func limitKeepsPriorityKeysFirstAndTruncateCutsValues() throws {
        let views = try RuleFixtures.transformedSpans([
            #"limit(span.attributes, 2, ["retries"])"#, "truncate_all(span.attributes, 4)",
        ])
        let app = try #require(views.first { $0.name == "app_3" })
        #expect(app.attributes == ["http.request.method": "POST", "retries": "3"])
        #expect(views.first { $0.name == "db query" }?.attributes == ["db.system": "post"])
    }

    @Test func renameByCopyAndDelete() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(resource.attributes["namespace"], resource.attributes["k8s.namespace.name"])"#,
            #"delete_key(resource.attributes, "k8s.namespace.name")"#,
        ])
        let checkout = try #require(views.first)
        #expect(checkout.resourceAttributes["namespace"] == "shop")
        #expect(checkout.resourceAttributes["k8s.namespace.name"] == nil)
        #expect(views.last?.resourceAttributes["namespace"] == nil)
    }

    @Test func copyMatchingAttributesThroughTheCache() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(resource.cache["attrs"], resource.attributes)"#,
            #"keep_matching_keys(resource.cache["attrs"], "pod_labels_.*")"#,
            #"set(resource.attributes["kubernetes.labels"], resource.cache["attrs"])"#,
        ])
        #expect(views.first?.resourceAttributes["kubernetes.labels"] == "{pod_labels_app:cart,pod_labels_tier:web}")
        #expect(views.last?.resourceAttributes["kubernetes.labels"] == "{}")
    }

    @Test func parseJSONBodiesThroughTheCache() throws {
        // IsMatch reads a map body as its JSON text (as the Collector's string-like getter does),
        // so the map body passes the where clause and ParseJSON then fails on it: one error.
        let views = try RuleFixtures.transformedLogs(
            [
                #"merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")"#,
                #"set(log.attributes["attr1"], log.cache["attr1"])"#,
                #"set(log.attributes["attr2"], log.cache["attr2"])"#,
                #"set(log.attributes["nested.attr3"], log.cache["nested"]["attr3"])"#,
            ], errors: 1)
        #expect(views[2].attributes == ["attr1": "foo", "attr2": "bar", "nested.attr3": "example"])
        #expect(views[0].attributes["attr1"] == nil)
    }

    @Test(
        arguments: [
            ("insert", "localhost", "z1"), ("update", "new", nil), ("upsert", "new", "z1"),
        ] as [(String, String, String?)])
    func mergeMapsFollowsItsStrategy(strategy: String, host: String, zone: String?) throws {
        let views = try RuleFixtures.transformedSpans([
            #"merge_maps(resource.attributes, ParseJSON("{\"host.name\":\"new\",\"zone\":\"z1\"}"), ""#
                + strategy + #"")"#
        ])
        #expect(views[0].resourceAttributes["host.name"] == host)
        #expect(views[0].resourceAttributes["zone"] == zone)
    }

    @Test func flattenPrefixesKeysAndStopsAtTheDepth() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(span.attributes["nested"], ParseJSON("{\"a\":{\"b\":{\"c\":\"d\"}}}"))"#,
            #"flatten(span.attributes, "p", 1)"#,
        ])
        #expect(Set(views[0].attributes.keys) == ["p.http.request.method", "p.container.name", "p.nested.a"])
        #expect(views[0].attributes["p.nested.a"] == "{b:{c:d}}")
    }

    @Test func deleteMatchingKeysRemovesEveryMatch() throws {
        let views = try RuleFixtures.transformedSpans([#"delete_matching_keys(span.attributes, "^http\\.")"#])
        #expect(views[0].attributes == ["container.name": "app_container_1"])
        #expect(views.allSatisfy { $0.attributes["http.request.method"] == nil })
    }
}
