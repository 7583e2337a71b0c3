import Foundation
public import TraplineCore

/// The `loadbalancing` exporter's own settings: what its records are routed by and where the
/// backends come from. Each backend is an `otlp` (gRPC) exporter made from the
/// `protocol.otlp` template with the backend's address as its endpoint.
@_spi(Plumbing) public struct LoadBalancingSettings: Hashable, Sendable {
    /// Where the list of backends comes from.
    public enum Resolver: Hashable, Sendable {
        /// `static.hostnames`: a fixed list of `host:port` (port 4317 when left out).
        case fixed([String])
        /// `dns`: the addresses `hostname` resolves to, each on `port`, resolved again every
        /// `interval`; a resolution taking longer than `timeout` fails and the list stays.
        case dns(hostname: String, port: Int, intervalSeconds: Double, timeoutSeconds: Double)
        /// `k8s`: the ready addresses of a Service's endpoints (`name.namespace`), once per port,
        /// followed with a watch of the Kubernetes API.
        case kubernetes(service: String, namespace: String, ports: [Int], timeoutSeconds: Double)
    }

    /// `routing_key`: `traceID` (the default), `service`, `resource`, `metric` or `streamID`.
    public var routingKey = OTLPRoutingKey.traceID
    /// `resolver`.
    public var resolver = Resolver.fixed([])

    /// Makes the default settings (traceID over no backend). Allocates nothing.
    public init() {}
}

/// The `loadbalancing` exporter component.
enum LoadBalancingExporter: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "loadbalancing"
    static let aliases: [String] = []
    static let summary =
        "spreads records over otlp backends by trace id, service, resource, metric or stream (consistent hashing; static, dns or k8s resolver)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["routing_key", "protocol", "resolver"]) else {
            return nil
        }
        return decoder.decodeLoadBalancingExporter(component, settings).map { .exporter(.otlp($0)) }
    }
}

extension ConfigDecoder {
    /// `loadbalancing`: `routing_key`, `protocol.otlp` (every setting of the `otlp` exporter but
    /// `endpoint`) and `resolver` (`static`, `dns` or `k8s`; `k8s` first, then `dns`, when
    /// several are given, as the Collector chooses).
    fileprivate mutating func decodeLoadBalancingExporter(_ component: Component, _ settings: [Entry])
        -> OTLPExporterConfig?
    {
        var balancing = LoadBalancingSettings()
        var config = OTLPExporterConfig()
        var resolvers: [String: LoadBalancingSettings.Resolver] = [:]
        var sawProtocol = false
        for setting in settings {
            switch setting.key {
            case "routing_key":
                balancing.routingKey =
                    choice(setting.node, at: setting.location, as: OTLPRoutingKey.self) ?? balancing.routingKey
            case "protocol":
                for entry in entries(setting.node, at: setting.location) ?? [] {
                    guard entry.key == "otlp" else {
                        rejectUnknownKeys([entry], known: ["otlp"])
                        continue
                    }
                    sawProtocol = true
                    for option in entries(entry.node, at: entry.location) ?? [] {
                        switch option.key {
                        case "endpoint":
                            diagnostics.error(
                                "a backend's endpoint comes from the resolver", at: option.location,
                                hint: "list backends under resolver.static.hostnames, dns or k8s")
                        case "balancer_name", "keepalive": break
                        default:
                            rejectUnknownKeys(
                                [option], known: ["balancer_name", "keepalive"] + Self.sharedExporterKeys)
                            decodeSharedExporterSetting(option, into: &config)
                        }
                    }
                }
            case "resolver":
                for entry in entries(setting.node, at: setting.location) ?? [] {
                    if let resolver = decodeResolver(entry) { resolvers[entry.key] = resolver }
                }
            default: break
            }
        }
        if !sawProtocol {
            diagnostics.error(
                "'protocol.otlp' is required", at: component.location,
                hint: "the settings of each backend's otlp exporter, e.g. protocol: {otlp: {tls: {insecure: true}}}")
        }
        guard let resolver = resolvers["k8s"] ?? resolvers["dns"] ?? resolvers["static"] else {
            diagnostics.error(
                "'resolver' needs one of static, dns or k8s", at: component.location,
                hint: "e.g. resolver: {static: {hostnames: [gateway-1:4317, gateway-2:4317]}}")
            return nil
        }
        if config.compression == .zstd {
            diagnostics.error("the otlp backends compress with gzip or none", at: component.location)
        }
        if config.storage != nil {
            diagnostics.error(
                "the loadbalancing exporter keeps its backends' queues in memory in this version",
                at: component.location, hint: "remove protocol.otlp.sending_queue.storage")
        }
        balancing.resolver = resolver
        config.balancing = balancing
        // The template's transport: each backend replaces the endpoint with its own.
        config.transport = .grpc(endpoint: HostPort("127.0.0.1:4317")!)
        return config
    }

    /// One resolver: `static`, `dns` or `k8s`.
    private mutating func decodeResolver(_ entry: Entry) -> LoadBalancingSettings.Resolver? {
        guard let options = entries(entry.node, at: entry.location) else { return nil }
        switch entry.key {
        case "static":
            rejectUnknownKeys(options, known: ["hostnames"])
            var hostnames: [String] = []
            for option in options where option.key == "hostnames" {
                for (name, location) in strings(option.node, at: option.location) {
                    let address = name.contains(":") ? name : name + ":4317"
                    // The name as written places the backend on the ring (as the Collector's).
                    guard let parsed = HostPort(address), parsed.port > 0 else {
                        diagnostics.error("'\(name)' is not host:port", at: location, hint: "e.g. gateway-1:4317")
                        continue
                    }
                    hostnames.append(address)
                }
            }
            if hostnames.isEmpty {
                diagnostics.error("'static.hostnames' needs at least one backend", at: entry.location)
                return nil
            }
            return .fixed(hostnames)
        case "dns":
            rejectUnknownKeys(options, known: ["hostname", "port", "interval", "timeout"])
            var hostname: String?
            var port = 4317
            var interval = 5.0
            var timeout = 1.0
            for option in options {
                switch option.key {
                case "hostname": hostname = string(option.node, at: option.location)
                case "port": port = self.port(option) ?? port
                case "interval": interval = seconds(option).flatMap { $0 > 0 ? $0 : nil } ?? interval
                case "timeout": timeout = seconds(option).flatMap { $0 > 0 ? $0 : nil } ?? timeout
                default: break
                }
            }
            guard let hostname, !hostname.isEmpty else {
                diagnostics.error(
                    "'dns.hostname' is required", at: entry.location, hint: "e.g. gateways.observability.svc")
                return nil
            }
            return .dns(hostname: hostname, port: port, intervalSeconds: interval, timeoutSeconds: timeout)
        case "k8s":
            rejectUnknownKeys(options, known: ["service", "ports", "timeout", "return_hostnames"])
            var service: String?
            var ports: [Int] = []
            var timeout = 1.0
            for option in options {
                switch option.key {
                case "service": service = string(option.node, at: option.location)
                case "ports":
                    for (text, location) in strings(option.node, at: option.location) {
                        guard let value = Int(text), (1...65535).contains(value) else {
                            diagnostics.error("'\(text)' is not a port", at: location)
                            continue
                        }
                        ports.append(value)
                    }
                case "timeout": timeout = seconds(option).flatMap { $0 > 0 ? $0 : nil } ?? timeout
                case "return_hostnames":
                    if bool(option.node, at: option.location) == true {
                        diagnostics.error(
                            "return_hostnames is not supported", at: option.location,
                            hint: "backends are the endpoints' addresses")
                    }
                default: break
                }
            }
            guard let service, !service.isEmpty else {
                diagnostics.error("'k8s.service' is required", at: entry.location, hint: "e.g. gateways.observability")
                return nil
            }
            // `name.namespace`; without a namespace, the pod's own (from its service account) or
            // `default`, as the Collector infers it.
            let parts = service.split(separator: ".", maxSplits: 1).map(String.init)
            let namespace = parts.count > 1 ? parts[1] : KubernetesNamespace.own ?? "default"
            return .kubernetes(
                service: parts[0], namespace: namespace, ports: ports.isEmpty ? [4317] : ports, timeoutSeconds: timeout)
        default:
            rejectUnknownKeys([entry], known: ["static", "dns", "k8s"])
            return nil
        }
    }

    private mutating func port(_ option: Entry) -> Int? {
        guard let text = option.node.scalar, let value = Int(text), (1...65535).contains(value) else {
            diagnostics.error("expected a port (1-65535)", at: option.location)
            return nil
        }
        return value
    }
}

/// The namespace of the pod Trapline runs in, from its service account, if it runs in one.
enum KubernetesNamespace {
    static var own: String? {
        let directory =
            ProcessInfo.processInfo.environment["TRAPLINE_SERVICEACCOUNT_DIR"]
            ?? "/var/run/secrets/kubernetes.io/serviceaccount"
        guard let text = try? String(contentsOfFile: directory + "/namespace", encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
