import Foundation
import Testing
import TraplineTestSupport

/// The `k8sattributes` processor reading pods from the Kubernetes API (no `pod_list_file`): list
/// and watch over HTTPS with a service account token and CA, against a loopback server replaying
/// a real pod list (Fixtures/k8s/kubelet-pods.json) in a script with a closed stream, a 410 Gone
/// and a line that is not JSON.
@Suite(.tags(.slow)) struct KubernetesWatchCommandTests {
    @Test func listWatchSurvivesAClosedStreamGoneAndBadJSONKeepingTheTable() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let account = try InClusterTrapline.serviceAccount(in: directory, token: "test-token-42")
        let log = directory + "/api.log"
        let (api, apiPort) = try InClusterTrapline.startAPI(
            "kube_api_replay.py", in: directory, account: account, token: "test-token-42",
            ["--pods", Fixtures.path("k8s/kubelet-pods.json"), "--log", log])
        try """
        receivers:
          otlp:
            protocols: {http: {endpoint: "127.0.0.1:0"}}
        processors:
          k8sattributes:
            auth_type: serviceAccount
            pod_association:
              - sources:
                  - {from: resource_attribute, name: k8s.pod.name}
                  - {from: resource_attribute, name: k8s.namespace.name}
            extract:
              metadata: [k8s.pod.uid, k8s.deployment.name]
              labels:
                - {key: changed}
        exporters:
          file/out: {path: "\(directory)/out.json"}
        service:
          pipelines:
            traces: {receivers: [otlp], processors: [k8sattributes], exporters: [file/out]}
        """.write(toFile: directory + "/sidecar.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try InClusterTrapline.run(
            config: directory + "/sidecar.yaml", apiPort: apiPort, account: account)
        func metrics() -> [String: Double] { InClusterTrapline.metrics(port: port) }
        let label = "{processor=\"k8sattributes\"}"
        // The script ends with list 2 (items 1…21) less item 1, deleted on the third watch: 20 pods.
        let settled = FileChanges.eventually(seconds: 30) {
            let now = metrics()
            return now["trapline_k8s_api_lists_total\(label)"] == 2
                && now["trapline_k8s_api_watches_total\(label)"] == 2
                && now["trapline_k8s_api_pods\(label)"] == 20 && now["trapline_k8s_api_events_total\(label)"] == 3
        }
        let now = metrics()
        #expect(settled, "\(now.filter { $0.key.hasPrefix("trapline_k8s_api") }) \(trapline.standardError)")
        #expect(now["trapline_k8s_api_bad_events_total\(label)"] == 1)
        #expect(now["trapline_k8s_api_relists_total\(label)"] == 1)
        // The closed stream was watched again from the last event's resourceVersion (1002), and
        // after 410 Gone a new list's (2000).
        let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(requests == ["LIST", "WATCH 1000", "WATCH 1002", "LIST", "WATCH 2000"])

        let pods = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("k8s/kubelet-pods.json")))
                as? [String: Any])
        let items = try #require(pods["items"] as? [[String: Any]])
        func identity(_ index: Int) -> (name: String, namespace: String, uid: String) {
            let metadata = items[index]["metadata"] as? [String: Any] ?? [:]
            return (
                metadata["name"] as? String ?? "", metadata["namespace"] as? String ?? "",
                metadata["uid"] as? String ?? ""
            )
        }
        // Item 21 came with the second list, item 20 with the first watch; item 0 left with the
        // relist and item 1 was deleted on the last watch.
        for index in [21, 20, 0, 1] {
            let pod = identity(index)
            let span =
                #"{"resourceSpans":[{"resource":{"attributes":[{"key":"k8s.pod.name","value":{"stringValue":""#
                + pod.name + #""}},{"key":"k8s.namespace.name","value":{"stringValue":""# + pod.namespace
                + #""}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","#
                + #""spanId":"0102030405060708","name":"op"}]}]}]}"#
            let (status, _, _) = try SidecarCommandTests.request(
                "http://127.0.0.1:\(port)/v1/traces", method: "POST", headers: ["Content-Type": "application/json"],
                body: Array(span.utf8))
            #expect(status == 200)
        }
        #expect(trapline.stop() == 0)
        let lines = try String(contentsOfFile: directory + "/out.json", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        func enriched(_ line: Substring, _ index: Int) -> Bool {
            line.contains(#"{"key":"k8s.pod.uid","value":{"stringValue":"\#(identity(index).uid)"}}"#)
        }
        #expect(enriched(lines[0], 21))
        #expect(enriched(lines[1], 20))
        #expect(!lines[2].contains("k8s.pod.uid"))
        #expect(!lines[3].contains("k8s.pod.uid"))
        _ = api.stop(SIGKILL)  // the test runner's signal mask may block SIGTERM for Python
    }
}
