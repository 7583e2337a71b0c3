import Foundation
import Testing
import TraplineTestSupport

/// deploy/kubernetes (issue 28): each shape (node agent, gateway tier, sidecar) rendered as
/// `kubectl kustomize` would (Tests/Scripts/kustomize_render.py: the subset the manifests use,
/// anything else refused) passes PyPI's kubernetes-validate against Kubernetes 1.37 in strict
/// mode, every pipeline its ConfigMaps carry passes `trapline validate`, and the workloads keep
/// the promises the README makes (probes, read-only root, no privilege escalation).
@Suite(.tags(.slow)) struct KubernetesManifestTests {
    static let shapes = ["agent", "gateway", "sidecar"]

    static func render(_ shape: String, to path: String) throws {
        let result = try ProcessRunner.python(
            "kustomize_render.py", [Fixtures.root.appendingPathComponent("deploy/kubernetes/\(shape)").path])
        #expect(result.status == 0, "\(result.standardError)")
        try result.standardOutput.write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: shapes) func manifestsValidateAgainstKubernetes(shape: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        try Self.render(shape, to: directory + "/\(shape).yaml")
        let validated = try ProcessRunner.bash(
            """
            command -v kubernetes-validate >/dev/null || python3 -m pip install -q kubernetes-validate >/dev/null
            kubernetes-validate --strict --quiet -k 1.37.0 '\(directory)/\(shape).yaml'
            """)
        #expect(
            validated.status == 0,
            "\(String(decoding: validated.standardOutput, as: UTF8.self)) \(validated.standardError)")
    }

    @Test(arguments: shapes) func everyEmbeddedPipelineIsValid(shape: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        try Self.render(shape, to: directory + "/\(shape).yaml")
        // The ConfigMaps' pipelines, and what the workloads promise, read with PyYAML.
        let extracted = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                """
                import sys, yaml
                objects = list(yaml.safe_load_all(open(sys.argv[1])))
                for item in objects:
                    if item["kind"] == "ConfigMap":
                        for name, text in item["data"].items():
                            open(sys.argv[2] + "/" + name, "w").write(text)
                            print(name)
                    spec = item.get("spec", {}).get("template", {}).get("spec")
                    for container in (spec or {}).get("containers", []):
                        if container["image"].startswith("trapline"):
                            security = container.get("securityContext", {})
                            assert security.get("readOnlyRootFilesystem") is True, container["name"]
                            assert security.get("allowPrivilegeEscalation") is False, container["name"]
                            assert security.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
                            if container.get("ports"):
                                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", container["name"]
                                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", container["name"]
                            assert "limits" in container.get("resources", {}), container["name"]
                """, directory + "/\(shape).yaml", directory,
            ])
        #expect(extracted.status == 0, "\(extracted.standardError)")
        let pipelines = String(decoding: extracted.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(!pipelines.isEmpty)
        for pipeline in pipelines {
            let result = try ProcessRunner.trapline(["validate", "--config", directory + "/" + pipeline])
            #expect(result.status == 0, "\(shape)/\(pipeline): \(result.standardError)")
        }
    }
}
